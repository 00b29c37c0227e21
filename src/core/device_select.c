#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

const char *clseg_device_type_str(clseg_device_type type)
{
    switch (type) {
    case CLSEG_DEVICE_TYPE_REF: return "REF";
    case CLSEG_DEVICE_TYPE_CPU: return "CPU";
    case CLSEG_DEVICE_TYPE_GPU: return "GPU";
    case CLSEG_DEVICE_TYPE_ACCEL: return "ACCEL";
    case CLSEG_DEVICE_TYPE_OTHER: return "OTHER";
    }
    return "OTHER";
}

static bool iequal(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

static bool icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* "P:D" with both parts plain decimal numbers. */
static bool parse_pd(const char *s, int *p, int *d)
{
    const char *colon = strchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0')
        return false;
    for (const char *c = s; *c != '\0'; c++)
        if (c != colon && !isdigit((unsigned char)*c))
            return false;
    long lp = strtol(s, NULL, 10), ld = strtol(colon + 1, NULL, 10);
    if (lp > 9999 || ld > 9999)
        return false;
    *p = (int)lp;
    *d = (int)ld;
    return true;
}

static size_t find_type(const clseg_device_info *devices, size_t count, clseg_device_type type)
{
    for (size_t i = 0; i < count; i++)
        if (devices[i].type == type)
            return i;
    return count;
}

static void list_available(const clseg_device_info *devices, size_t count, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "available devices:");
    for (size_t i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "\n  %d:%d  %-5s %s (%s)", devices[i].platform_index,
                                 devices[i].device_index, clseg_device_type_str(devices[i].type), devices[i].name,
                                 devices[i].platform_name);
    if (used < size)
        snprintf(buf + used, size - used, "\n  ref   REF   plain-C reference backend");
}

clseg_status clseg_device_select(const clseg_device_info *devices, size_t count, const char *selector,
                                 size_t *index, char *err, size_t err_size)
{
    if (index == NULL || (devices == NULL && count > 0)) {
        clseg_errbuf_set(err, err_size, "clseg_device_select: NULL argument");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    char avail[4096];
    list_available(devices, count, avail, sizeof avail);
    if (selector == NULL || selector[0] == '\0') {
        if (count == 0) {
            clseg_errbuf_set(err, err_size,
                             "no OpenCL device found: install an OpenCL driver (for the CPU: the Debian package "
                             "pocl-opencl-icd), or choose the plain-C reference backend with --device ref");
            return CLSEG_STATUS_DEVICE_NOT_FOUND;
        }
        size_t gpu = find_type(devices, count, CLSEG_DEVICE_TYPE_GPU);
        *index = gpu < count ? gpu : 0;
        return CLSEG_STATUS_SUCCESS;
    }
    if (iequal(selector, "ref")) {
        *index = (size_t)-1;
        return CLSEG_STATUS_SUCCESS;
    }
    int p, d;
    if (parse_pd(selector, &p, &d)) {
        for (size_t i = 0; i < count; i++)
            if (devices[i].platform_index == p && devices[i].device_index == d) {
                *index = i;
                return CLSEG_STATUS_SUCCESS;
            }
        clseg_errbuf_set(err, err_size, "device '%s': there is no platform %d device %d; %s", selector, p, d, avail);
        return CLSEG_STATUS_UNKNOWN_DEVICE;
    }
    static const struct {
        const char *word;
        clseg_device_type type;
    } words[] = {{"cpu", CLSEG_DEVICE_TYPE_CPU}, {"gpu", CLSEG_DEVICE_TYPE_GPU}, {"accel", CLSEG_DEVICE_TYPE_ACCEL}};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        if (!iequal(selector, words[w].word))
            continue;
        size_t i = find_type(devices, count, words[w].type);
        if (i < count) {
            *index = i;
            return CLSEG_STATUS_SUCCESS;
        }
        clseg_errbuf_set(err, err_size, "device '%s': no device of type %s; %s", selector,
                         clseg_device_type_str(words[w].type), avail);
        return CLSEG_STATUS_UNKNOWN_DEVICE;
    }
    for (size_t i = 0; i < count; i++)
        if (icontains(devices[i].name, selector)) {
            *index = i;
            return CLSEG_STATUS_SUCCESS;
        }
    clseg_errbuf_set(err, err_size,
                     "device '%s': matches no device (a selector is P:D, cpu, gpu, accel, ref, or part of a "
                     "device name); %s",
                     selector, avail);
    return CLSEG_STATUS_UNKNOWN_DEVICE;
}
