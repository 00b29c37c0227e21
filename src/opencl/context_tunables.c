/* The context's layers of tunable values above the per-device table: the overrides a user gives
 * and the tuned file `clseg tune` wrote for the device; and the public queries of the values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tunable_settings.h"
#include "kernels.h"
#include "opencl/program_cache.h"
#include "opencl/tuned_file.h"

/* The tuned-file folder from the option, the environment, or the XDG default; NULL when off. */
static char *resolve_tuned_dir(const char *opt)
{
    return clseg_resolve_user_dir(opt, "CLSEG_TUNED_DIR", "XDG_CONFIG_HOME", "/clseg/tuned", "/.config/clseg/tuned");
}

clseg_status clseg_context_tunables_setup(clseg_context *ctx, const clseg_context_options *o, char *err,
                                          size_t err_size)
{
    const char *from = o->tunables != NULL ? "the tunables option" : "CLSEG_TUNABLES";
    const char *text = o->tunables != NULL ? o->tunables : getenv("CLSEG_TUNABLES");
    if (text != NULL && text[0] != '\0') {
        ctx->overrides = malloc(sizeof *ctx->overrides);
        if (ctx->overrides == NULL)
            return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
        char why[1024];
        if (clseg_tunable_settings_parse_list(text, ctx->overrides, why, sizeof why) != CLSEG_STATUS_SUCCESS)
            return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, "kernel tunables (%s): %s", from,
                                     why);
        /* a mistyped name would otherwise be ignored, and the user would time the wrong thing */
        for (size_t i = 0; i < ctx->overrides->count; i++) {
            const clseg_tunable_setting *e = &ctx->overrides->items[i];
            if (!clseg_tunables_known(ctx->kernel_dir, e->program, e->name, why, sizeof why))
                return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT,
                                         "kernel tunables (%s): '%s.%s=%ld': %s", from, e->program, e->name, e->value,
                                         why);
        }
    }
    ctx->tuned_dir = resolve_tuned_dir(o->tuned_dir);
    return CLSEG_STATUS_SUCCESS;
}

void clseg_context_tunables_load(clseg_context *ctx)
{
    if (ctx->tuned_dir == NULL || ctx->device.type == CLSEG_DEVICE_TYPE_REF)
        return;
    char path[4200], err[1024];
    clseg_tuned_file_path(ctx->tuned_dir, &ctx->device, path, sizeof path);
    ctx->tuned_file = clseg_strdup_or_null(path);
    clseg_tunable_settings *s = malloc(sizeof *s);
    if (ctx->tuned_file == NULL || s == NULL) {
        free(s);
        clseg_log(ctx, CLSEG_LOG_WARN, "out of host memory reading the tuned file: using the built-in values");
        return;
    }
    bool found = false;
    if (clseg_tuned_file_read(path, s, &found, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        clseg_log(ctx, CLSEG_LOG_WARN, "%s; ignoring it (run clseg tune again, or delete it)", err);
        free(s);
        return;
    }
    if (!found) {
        free(s);
        return;
    }
    /* settings for tunables that no longer exist (an older clseg wrote the file) are dropped */
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++) {
        char why[1024];
        if (clseg_tunables_known(ctx->kernel_dir, s->items[i].program, s->items[i].name, why, sizeof why))
            s->items[kept++] = s->items[i];
        else
            clseg_log(ctx, CLSEG_LOG_WARN, "tuned file %s, line %d: %s; ignoring that line", path, s->items[i].line,
                      why);
    }
    s->count = kept;
    ctx->tuned = s;
    clseg_log(ctx, CLSEG_LOG_INFO, "kernel tunables: %zu from the tuned file %s", kept, path);
}

void clseg_context_tunables_free(clseg_context *ctx)
{
    free(ctx->overrides);
    free(ctx->tuned);
    free(ctx->tuned_dir);
    free(ctx->tuned_file);
}

const char *clseg_context_tuned_file(const clseg_context *ctx)
{
    return ctx->tuned_file;
}

static clseg_status no_tunables_on_ref(clseg_context *ctx)
{
    return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "the plain-C reference backend has no kernel tunables");
}

clseg_status clseg_context_tunable(clseg_context *ctx, const char *program, const char *name, long *value)
{
    if (ctx == NULL || program == NULL || name == NULL || value == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_context_tunable: a NULL argument");
    if (ctx->device.type == CLSEG_DEVICE_TYPE_REF)
        return no_tunables_on_ref(ctx);
    char why[1024];
    if (!clseg_tunables_known(ctx->kernel_dir, program, name, why, sizeof why))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_context_tunable: %s", why);
    const clseg_tunable_set *set = NULL;
    clseg_status st = clseg_program_cache_tunables(ctx, program, &set);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].name, name) == 0) {
            *value = set->items[i].value;
            return CLSEG_STATUS_SUCCESS;
        }
    return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_context_tunable: program '%s' has no tunable %s",
                      program, name);
}

clseg_status clseg_context_tunables(clseg_context *ctx, clseg_tunable_info *out, size_t capacity, size_t *count)
{
    if (ctx == NULL || count == NULL || (out == NULL && capacity > 0))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_context_tunables: a NULL argument");
    *count = 0;
    if (ctx->device.type == CLSEG_DEVICE_TYPE_REF)
        return no_tunables_on_ref(ctx);
    for (size_t p = 0; p < clseg_kernel_source_count; p++) {
        const char *program = clseg_kernel_sources[p].program;
        const clseg_tunable_set *set = NULL;
        clseg_status st = clseg_program_cache_tunables(ctx, program, &set);
        if (st != CLSEG_STATUS_SUCCESS)
            return st;
        for (size_t i = 0; i < set->count; i++, (*count)++) {
            if (*count >= capacity)
                continue;
            clseg_tunable_info *t = &out[*count];
            snprintf(t->program, sizeof t->program, "%s", program);
            snprintf(t->name, sizeof t->name, "%s", set->items[i].name);
            t->value = set->items[i].value;
            t->origin = clseg_tunable_origin_str(set->items[i].origin);
        }
    }
    return CLSEG_STATUS_SUCCESS;
}
