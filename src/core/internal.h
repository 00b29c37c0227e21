/* What the context and tensor handles hold, shared by the library's own files. */
#ifndef CLSEG_INTERNAL_H
#define CLSEG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "clseg/context.h"
#include "clseg/tensor.h"

#if defined(__GNUC__)
#define CLSEG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLSEG_PRINTF(fmt, args)
#endif

struct clseg_context {
    const clseg_backend_iface *iface;
    clseg_backend *backend;
    clseg_device_info device;
    clseg_log_fn log;
    void *log_user;
    char *cache_dir;  /* NULL: no disk cache */
    char *kernel_dir; /* NULL: embedded sources */
    /* The layers above the per-device table (src/opencl/context_tunables.c); NULL: none. */
    struct clseg_tunable_settings *overrides;
    struct clseg_tunable_settings *tuned;
    char *tuned_dir;  /* NULL: tuned files off */
    char *tuned_file; /* this device's tuned file (present or not); NULL: none */
    uint64_t memory_limit;
    clseg_memory_stats mem;
    clseg_cache_stats cache;
    char error[16384];
};

/* A device buffer shared by a tensor and its views. */
typedef struct clseg_storage {
    clseg_buffer *buf;
    size_t bytes;
    int refs;
} clseg_storage;

struct clseg_tensor {
    clseg_context *ctx;
    clseg_storage *storage;
    size_t offset; /* elements */
    clseg_shape shape;
};

/* Records a failure as the context's last error ("what: details") and returns status. */
clseg_status clseg_fail(clseg_context *ctx, clseg_status status, const char *fmt, ...) CLSEG_PRINTF(3, 4);
void clseg_log(const clseg_context *ctx, clseg_log_level level, const char *fmt, ...) CLSEG_PRINTF(3, 4);

/* Writes into a caller's (err, err_size) buffer, which may be NULL. */
void clseg_errbuf_set(char *err, size_t err_size, const char *fmt, ...) CLSEG_PRINTF(3, 4);
void clseg_errbuf_vset(char *err, size_t err_size, const char *fmt, va_list ap) CLSEG_PRINTF(3, 0);
/* clseg_errbuf_set, returning status: `return clseg_errbuf_fail(err, size, STATUS, "...", ...);` */
clseg_status clseg_errbuf_fail(char *err, size_t err_size, clseg_status status, const char *fmt, ...)
    CLSEG_PRINTF(4, 5);

/* Byte offset of the tensor's first element in its buffer. */
static inline size_t clseg_tensor_byte_offset(const clseg_tensor *t) { return t->offset * sizeof(float); }
static inline clseg_buffer *clseg_tensor_buffer(const clseg_tensor *t) { return t->storage->buf; }

/* Runs op on ctx's backend. */
static inline clseg_status clseg_launch(clseg_context *ctx, const clseg_op *op, const void *params,
                                        clseg_tensor *const *tensors)
{
    return ctx->iface->launch(ctx, op, params, tensors);
}

/* The context's tunable overrides and tuned-file folder from the options (before the backend
 * exists; a bad override fails with err naming it), then the device's tuned file (after; a bad
 * file is a warning), and what they hold freed (src/opencl/context_tunables.c). */
clseg_status clseg_context_tunables_setup(clseg_context *ctx, const clseg_context_options *o, char *err,
                                          size_t err_size);
void clseg_context_tunables_load(clseg_context *ctx);
void clseg_context_tunables_free(clseg_context *ctx);

/* A malloc'd copy of s; NULL for NULL, "" or no memory. */
char *clseg_strdup_or_null(const char *s);

/* A per-user folder: opt, else $env, else $xdg_env + xdg_suffix, else $HOME + home_suffix
 * (malloc'd); NULL when the value is "off" or nothing is set (or out of memory). */
char *clseg_resolve_user_dir(const char *opt, const char *env, const char *xdg_env, const char *xdg_suffix,
                             const char *home_suffix);

/* Formats a byte count as "1073741824 bytes (1.0 GiB)". */
const char *clseg_format_bytes(char *buf, size_t size, uint64_t bytes);

#endif
