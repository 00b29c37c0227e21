#include "opencl/tuned_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "util/files.h"
#include "util/hash.h"

/* A tuned file holds a few dozen short lines; anything much larger is not one. */
#define MAX_TUNED_FILE_BYTES ((size_t)1 << 20)

void clseg_tuned_file_path(const char *dir, const clseg_device_info *device, char *buf, size_t size)
{
    uint64_t h = CLSEG_FNV_SEED;
    const char *parts[] = {device->name, device->driver_version, device->platform_version};
    for (size_t i = 0; i < 3; i++)
        h = clseg_fnv1a64(parts[i], strlen(parts[i]) + 1, h); /* with the NUL, so fields cannot run together */
    snprintf(buf, size, "%s/%016" PRIx64 ".txt", dir, h);
}

clseg_status clseg_tuned_file_parse(const char *text, size_t size, clseg_tunable_settings *out, int *bad_line,
                                    char *err, size_t err_size)
{
    out->count = 0;
    *bad_line = 0;
    const char *p = text, *end = text + size;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        const char *q = p;
        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < eol && *q != '#') {
            clseg_tunable_setting e;
            char why[128];
            if (!clseg_tunable_setting_parse(q, (size_t)(eol - q), &e, why, sizeof why)) {
                *bad_line = line;
                return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, "%s", why);
            }
            e.line = line;
            if (clseg_tunable_settings_put(out, &e) != CLSEG_STATUS_SUCCESS) {
                *bad_line = line;
                return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, "more than %d settings",
                                         CLSEG_MAX_TUNABLE_SETTINGS);
            }
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return CLSEG_STATUS_SUCCESS;
}

char *clseg_tuned_file_format(const clseg_device_info *device, const clseg_tunable_settings *s, time_t when)
{
    char date[32] = "unknown date";
    struct tm tm;
    if (gmtime_r(&when, &tm) != NULL)
        strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    size_t cap = 2048 + s->count * 96;
    char *text = malloc(cap);
    if (text == NULL)
        return NULL;
    size_t used = (size_t)snprintf(text, cap,
                                   "# %s, driver %s, %s, written by clseg tune\n"
                                   "# platform %s\n"
                                   "# the fastest kernel settings found on this device; delete this file (or run\n"
                                   "# clseg tune --reset) to go back to the built-in values\n",
                                   device->name, device->driver_version, date, device->platform_version);
    for (size_t i = 0; i < s->count && used < cap; i++)
        used += (size_t)snprintf(text + used, cap - used, "%s.%s=%ld\n", s->items[i].program, s->items[i].name,
                                 s->items[i].value);
    return text;
}

/* The folder part of path ("." when there is none). */
static void parent_dir(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(buf, size, ".");
    else if (slash == path)
        snprintf(buf, size, "/");
    else
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

clseg_status clseg_tuned_file_write(const char *path, const clseg_device_info *device, const clseg_tunable_settings *s,
                                    char *err, size_t err_size)
{
    char dir[4096];
    parent_dir(path, dir, sizeof dir);
    clseg_status st = clseg_mkdir_p(dir, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    char *text = clseg_tuned_file_format(device, s, time(NULL));
    if (text == NULL)
        return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    const void *parts[] = {text};
    const size_t sizes[] = {strlen(text)};
    st = clseg_write_file_atomic(path, parts, sizes, 1, err, err_size);
    free(text);
    return st;
}

clseg_status clseg_tuned_file_read(const char *path, clseg_tunable_settings *out, bool *found, char *err,
                                   size_t err_size)
{
    out->count = 0;
    *found = false;
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return CLSEG_STATUS_SUCCESS;
    unsigned char *data = NULL;
    size_t size = 0;
    char why[512];
    clseg_status st = clseg_read_file(path, MAX_TUNED_FILE_BYTES, &data, &size, why, sizeof why);
    if (st != CLSEG_STATUS_SUCCESS)
        return clseg_errbuf_fail(err, err_size, st, "tuned file: %s", why);
    *found = true;
    int line = 0;
    st = clseg_tuned_file_parse((const char *)data, size, out, &line, why, sizeof why);
    free(data);
    if (st != CLSEG_STATUS_SUCCESS)
        clseg_errbuf_set(err, err_size, "tuned file %s, line %d: %s", path, line, why);
    return st;
}
