#include "opencl/tunables.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "kernels.h"
#include "util/files.h"

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
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "loss", "LOSS_SERIAL", 1}, /* a share per work-item, 16 values a step */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "loss", "LOSS_VEC", 1},
    /* a channel's values split into a few wide chunks, enough to fill the cores */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "norm", "NORM_CHUNKS", 4},
    /* ... each walked by one work-item with vector loads */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "norm", "NORM_SERIAL", 1},
    /* ... and the per-element kernels 16 elements at a time: 3-7x faster on PoCL */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "norm", "NORM_VEC", 1},
    /* concatenation 16 values per work-item */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "activation", "ACT_VEC", 1},
    /* ... and so the bias gradient's */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "conv", "CONV_REDUCE_SERIAL", 1},
    /* im2col and col2im a row per work-item: the index divisions once per row */
    {CLSEG_DEVICE_TYPE_CPU, NULL, NULL, "conv", "CONV_COL_ROWS", 1},
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

const char *clseg_tunable_origin_str(clseg_tunable_origin origin)
{
    switch (origin) {
    case CLSEG_TUNABLE_FROM_TABLE: return "table";
    case CLSEG_TUNABLE_FROM_TUNED: return "tuned";
    case CLSEG_TUNABLE_FROM_OVERRIDE: return "override";
    default: return "default";
    }
}

clseg_status clseg_tunables_declared(const char *program, const char *source, size_t source_size,
                                     clseg_tunable_set *out, char *err, size_t err_size)
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
            clseg_errbuf_set(err, err_size, "program %s declares more than %d tunables", program, CLSEG_MAX_TUNABLES);
            return CLSEG_STATUS_INTERNAL;
        }
        clseg_tunable *t = &out->items[out->count++];
        memcpy(t->name, name, strlen(name) + 1);
        t->value = value;
        t->origin = CLSEG_TUNABLE_FROM_DEFAULT;
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_tunables_resolve(const clseg_device_info *device, const clseg_tunable_layers *layers,
                                    const char *program, const char *source, size_t source_size, clseg_tunable_set *out,
                                    char *err, size_t err_size)
{
    clseg_status st = clseg_tunables_declared(program, source, source_size, out, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    for (size_t i = 0; i < out->count; i++) {
        clseg_tunable *t = &out->items[i];
        for (size_t r = 0; r < sizeof table / sizeof table[0]; r++)
            if (row_applies(&table[r], device, program, t->name)) {
                t->value = table[r].value;
                t->origin = CLSEG_TUNABLE_FROM_TABLE;
                break;
            }
        const clseg_tunable_setting *s = NULL;
        if (layers != NULL && (s = clseg_tunable_settings_find(layers->tuned, program, t->name)) != NULL) {
            t->value = s->value;
            t->origin = CLSEG_TUNABLE_FROM_TUNED;
        }
        if (layers != NULL && (s = clseg_tunable_settings_find(layers->overrides, program, t->name)) != NULL) {
            t->value = s->value;
            t->origin = CLSEG_TUNABLE_FROM_OVERRIDE;
        }
        size_t len = strlen(t->name);
        if (len > 3 && strcmp(t->name + len - 3, "_WG") == 0)
            t->value = clamp_work_group(t->value, device->max_work_group_size);
    }
    return CLSEG_STATUS_SUCCESS;
}

/* "activation, basic, ..." */
static void list_programs(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < clseg_kernel_source_count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", clseg_kernel_sources[i].program);
}

static void list_tunables(const clseg_tunable_set *set, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < set->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", set->items[i].name);
}

bool clseg_tunables_known(const char *kernel_dir, const char *program, const char *name, char *why, size_t why_size)
{
    const clseg_kernel_source *embedded = NULL;
    for (size_t i = 0; i < clseg_kernel_source_count; i++)
        if (strcmp(clseg_kernel_sources[i].program, program) == 0)
            embedded = &clseg_kernel_sources[i];
    char names[512];
    if (embedded == NULL) {
        list_programs(names, sizeof names);
        clseg_errbuf_set(why, why_size, "there is no kernel program '%s' (there are: %s)", program, names);
        return false;
    }
    const char *text = embedded->text;
    size_t size = embedded->size;
    unsigned char *owned = NULL;
    if (kernel_dir != NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.cl", kernel_dir, program);
        if (clseg_read_file(path, (size_t)16 << 20, &owned, &size, why, why_size) != CLSEG_STATUS_SUCCESS)
            return false;
        text = (const char *)owned;
    }
    clseg_tunable_set set;
    bool found = false;
    if (clseg_tunables_declared(program, text, size, &set, why, why_size) == CLSEG_STATUS_SUCCESS) {
        for (size_t i = 0; i < set.count && !found; i++)
            found = strcmp(set.items[i].name, name) == 0;
        if (!found) {
            list_tunables(&set, names, sizeof names);
            clseg_errbuf_set(why, why_size, "kernel program '%s' declares no tunable %s (it has: %s)", program, name,
                             set.count > 0 ? names : "none");
        }
    }
    free(owned);
    return found;
}
