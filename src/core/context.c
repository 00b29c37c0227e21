#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

clseg_context_options clseg_context_options_default(void)
{
    clseg_context_options o;
    memset(&o, 0, sizeof o);
    return o;
}

char *clseg_strdup_or_null(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

char *clseg_resolve_user_dir(const char *opt, const char *env, const char *xdg_env, const char *xdg_suffix,
                             const char *home_suffix)
{
    const char *dir = opt != NULL && opt[0] != '\0' ? opt : getenv(env);
    if (dir != NULL && dir[0] != '\0')
        return strcmp(dir, "off") == 0 ? NULL : clseg_strdup_or_null(dir);
    const char *base = getenv(xdg_env);
    const char *suffix = xdg_suffix;
    if (base == NULL || base[0] == '\0') {
        base = getenv("HOME");
        suffix = home_suffix;
    }
    if (base == NULL || base[0] == '\0')
        return NULL;
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *d = malloc(n);
    if (d != NULL)
        snprintf(d, n, "%s%s", base, suffix);
    return d;
}

/* The cache folder from the option, the environment, or the XDG default; NULL when off. */
static char *resolve_cache_dir(const char *opt)
{
    return clseg_resolve_user_dir(opt, "CLSEG_CACHE_DIR", "XDG_CACHE_HOME", "/clseg", "/.cache/clseg");
}

static clseg_status pick_device(const char *selector, clseg_device_info *chosen, bool *is_ref, char *err,
                                size_t err_size)
{
    *is_ref = selector != NULL && strcmp(selector, "ref") == 0;
    if (*is_ref)
        return CLSEG_STATUS_SUCCESS;
    clseg_device_info *list = NULL;
    size_t count = 0;
    clseg_status st = clseg_device_list(&list, &count, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t index = 0;
    st = clseg_device_select(list, count, selector, &index, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS) {
        *is_ref = index == (size_t)-1;
        if (!*is_ref)
            *chosen = list[index];
    }
    clseg_device_list_free(list);
    return st;
}

clseg_status clseg_context_create(const clseg_context_options *opts, clseg_context **out, char *err,
                                  size_t err_size)
{
    if (out == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_context_create: the output pointer is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    clseg_context_options o = opts != NULL ? *opts : clseg_context_options_default();
    const char *selector = o.device != NULL ? o.device : getenv("CLSEG_DEVICE");

    clseg_context *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_context_create: out of host memory");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    ctx->log = o.log;
    ctx->log_user = o.log_user;
    ctx->memory_limit = o.memory_limit_bytes;
    ctx->cache_dir = resolve_cache_dir(o.cache_dir);
    ctx->kernel_dir = clseg_strdup_or_null(o.kernel_dir != NULL ? o.kernel_dir : getenv("CLSEG_KERNEL_DIR"));

    clseg_device_info device;
    bool is_ref = false;
    clseg_status st = clseg_context_tunables_setup(ctx, &o, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = pick_device(selector, &device, &is_ref, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS) {
        st = is_ref ? clseg_ref_backend_create(ctx) : clseg_opencl_backend_create(ctx, &device);
        if (st != CLSEG_STATUS_SUCCESS)
            clseg_errbuf_set(err, err_size, "%s", ctx->error);
        else
            clseg_context_tunables_load(ctx);
    }
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_context_destroy(ctx);
        return st;
    }
    clseg_log(ctx, CLSEG_LOG_INFO, "using device %s (%s)", ctx->device.name, ctx->iface->name);
    *out = ctx;
    return CLSEG_STATUS_SUCCESS;
}

void clseg_context_destroy(clseg_context *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->iface != NULL)
        ctx->iface->destroy(ctx->backend);
    free(ctx->cache_dir);
    free(ctx->kernel_dir);
    clseg_context_tunables_free(ctx);
    free(ctx);
}

const clseg_device_info *clseg_context_device(const clseg_context *ctx) { return &ctx->device; }
const char *clseg_context_last_error(const clseg_context *ctx) { return ctx->error; }
clseg_memory_stats clseg_context_memory_stats(const clseg_context *ctx) { return ctx->mem; }
clseg_cache_stats clseg_context_cache_stats(const clseg_context *ctx) { return ctx->cache; }

const char *clseg_context_cache_dir(const clseg_context *ctx)
{
    return ctx->device.type == CLSEG_DEVICE_TYPE_REF ? NULL : ctx->cache_dir;
}

clseg_status clseg_context_finish(clseg_context *ctx)
{
    if (ctx == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    return ctx->iface->finish(ctx);
}

clseg_status clseg_fail(clseg_context *ctx, clseg_status status, const char *fmt, ...)
{
    if (ctx == NULL)
        return status;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : ((size_t)n < sizeof ctx->error ? (size_t)n : sizeof ctx->error - 1);
    snprintf(ctx->error + used, sizeof ctx->error - used, " [%s]", clseg_status_str(status));
    clseg_log(ctx, CLSEG_LOG_DEBUG, "%s", ctx->error);
    return status;
}

void clseg_log(const clseg_context *ctx, clseg_log_level level, const char *fmt, ...)
{
    if (ctx == NULL || ctx->log == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log(level, msg, ctx->log_user);
}

void clseg_errbuf_vset(char *err, size_t err_size, const char *fmt, va_list ap)
{
    if (err != NULL && err_size > 0)
        vsnprintf(err, err_size, fmt, ap);
}

void clseg_errbuf_set(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    clseg_errbuf_vset(err, err_size, fmt, ap);
    va_end(ap);
}

clseg_status clseg_errbuf_fail(char *err, size_t err_size, clseg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    clseg_errbuf_vset(err, err_size, fmt, ap);
    va_end(ap);
    return status;
}

const char *clseg_format_bytes(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%" PRIu64 " bytes", bytes);
    else
        snprintf(buf, size, "%" PRIu64 " bytes (%.1f %s)", bytes, v, units[u]);
    return buf;
}
