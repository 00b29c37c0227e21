#include "opencl/tunables.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* Overrides of the .cl defaults. A row applies when its type matches (OTHER: any type) and its
 * vendor and device strings are substrings of the device's (NULL: any). Rows are searched in
 * order and the first one naming a tunable wins, so put the most specific rows first. */
typedef struct tunable_row {
    clseg_device_type type;
    const char *vendor;
    const char *device;
    const char *program;
    const char *name;
    long value;
} tunable_row;

static const tunable_row table[] = {
    /* GPUs: one work-group per compute unit is too few to hide memory latency. */
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "basic", "EW_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "basic", "REDUCE_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "basic", "REDUCE_GROUPS", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "activation", "ACT_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "conv", "CONV_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "conv", "CONV_REDUCE_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "loss", "LOSS_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "loss", "LOSS_GROUPS", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "loss", "CONF_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "norm", "NORM_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "norm", "NORM_CHUNKS", 32},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "norm", "NORM_EW_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "optim", "OPTIM_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "pool", "POOL_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "pool", "GAP_WG", 256},
    {CLSEG_DEVICE_TYPE_GPU, NULL, NULL, "upsample", "UPS_WG", 256},
    /* CPUs (PoCL): a work-group runs as a loop on one core, so few, wide groups. */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "basic", "REDUCE_WG", 64},
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "basic", "REDUCE_GROUPS", 16},
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "loss", "LOSS_GROUPS", 16},
    /* a channel's values split into a few wide chunks, enough to fill the cores */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "norm", "NORM_CHUNKS", 4},
    /* ... each walked by one work-item with vector loads */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "norm", "NORM_SERIAL", 1},
    /* CLBlast reaches 4-17% of a CPU's peak; the packed kernels about 60% */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "gemm", "GEMM_PACKED", 1},
};

static bool row_applies(const tunable_row *r, const clseg_device_info *d, const char *program, const char *name)
{
    return (r->type == CLSEG_DEVICE_TYPE_OTHER || r->type == d->type) &&
           (r->vendor == NULL || strstr(d->vendor, r->vendor) != NULL) &&
           (r->device == NULL || strstr(d->name, r->device) != NULL) && strcmp(r->program, program) == 0 &&
           strcmp(r->name, name) == 0;
}

static long clamp_work_group(long v, size_t device_max)
{
    long limit = device_max > 0 && device_max < (size_t)v ? (long)device_max : v;
    long p = 1;
    while (p * 2 <= limit)
        p *= 2;
    return p;
}

/* Reads one identifier at p into name; returns the character after it. */
static const char *read_ident(const char *p, const char *end, char *name, size_t size)
{
    size_t n = 0;
    while (p < end && (isalnum((unsigned char)*p) || *p == '_')) {
        if (n + 1 < size)
            name[n++] = *p;
        p++;
    }
    name[n] = '\0';
    return p;
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

clseg_status clseg_tunables_resolve(const clseg_device_info *device, const char *program, const char *source,
                                    size_t source_size, clseg_tunable_set *out, char *err, size_t err_size)
{
    out->count = 0;
    const char *end = source + source_size;
    /* Finds each "#ifndef NAME" directly followed by "#define NAME value". */
    for (const char *p = source; p < end; p++) {
        if (!(p == source || p[-1] == '\n'))
            continue;
        const char *q = skip_blanks(p, end);
        if ((size_t)(end - q) < 8 || strncmp(q, "#ifndef", 7) != 0)
            continue;
        char name[48], name2[48];
        q = read_ident(skip_blanks(q + 7, end), end, name, sizeof name);
        while (q < end && *q != '\n')
            q++;
        q = skip_blanks(q + (q < end), end);
        if ((size_t)(end - q) < 8 || strncmp(q, "#define", 7) != 0)
            continue;
        q = read_ident(skip_blanks(q + 7, end), end, name2, sizeof name2);
        if (strcmp(name, name2) != 0 || name[0] == '\0')
            continue;
        char *num_end;
        long value = strtol(skip_blanks(q, end), &num_end, 10);
        if (num_end == skip_blanks(q, end))
            continue; /* not a numeric tunable (e.g. a type); left to the source */
        if (out->count == CLSEG_MAX_TUNABLES) {
            clseg_errbuf_set(err, err_size, "program %s declares more than %d tunables", program,
                             CLSEG_MAX_TUNABLES);
            return CLSEG_STATUS_INTERNAL;
        }
        for (size_t r = 0; r < sizeof table / sizeof table[0]; r++)
            if (row_applies(&table[r], device, program, name)) {
                value = table[r].value;
                break;
            }
        size_t len = strlen(name);
        if (len > 3 && strcmp(name + len - 3, "_WG") == 0)
            value = clamp_work_group(value, device->max_work_group_size);
        clseg_tunable *t = &out->items[out->count++];
        memcpy(t->name, name, len + 1);
        t->value = value;
    }
    return CLSEG_STATUS_SUCCESS;
}
