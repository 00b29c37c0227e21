/* The context: one device, its queue, its program cache, its allocator and a log callback. */
#ifndef CLSEG_CONTEXT_H
#define CLSEG_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/device.h"
#include "clseg/export.h"
#include "clseg/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_context clseg_context;

typedef enum clseg_log_level {
    CLSEG_LOG_DEBUG = 0,
    CLSEG_LOG_INFO,
    CLSEG_LOG_WARN,
    CLSEG_LOG_ERROR
} clseg_log_level;

typedef void (*clseg_log_fn)(clseg_log_level level, const char *message, void *user);

typedef struct clseg_context_options {
    /* Device selector (see clseg_device_select); NULL: $CLSEG_DEVICE, else the default. */
    const char *device;
    /* Kernel binary cache folder; NULL: $CLSEG_CACHE_DIR, else $XDG_CACHE_HOME/clseg or
     * ~/.cache/clseg. The value "off" (here or in the environment) turns the cache off. */
    const char *cache_dir;
    /* Read kernel sources from <dir>/<program>.cl instead of the embedded copies;
     * NULL: $CLSEG_KERNEL_DIR, else embedded. */
    const char *kernel_dir;
    /* Refuse allocations that would take the context's total above this; 0: no limit. */
    uint64_t memory_limit_bytes;
    clseg_log_fn log;
    void *log_user;
} clseg_context_options;

/* Options with every field zero/NULL: the defaults above. */
CLSEG_API clseg_context_options clseg_context_options_default(void);

/* Creates a context on the selected device. opts may be NULL. On failure *ctx is NULL and err
 * (may be NULL) receives the message, e.g. the list of devices for an unknown selector. */
CLSEG_API clseg_status clseg_context_create(const clseg_context_options *opts, clseg_context **ctx, char *err,
                                  size_t err_size);
CLSEG_API void clseg_context_destroy(clseg_context *ctx);

CLSEG_API const clseg_device_info *clseg_context_device(const clseg_context *ctx);

/* The message of the last failed call on this context: which call, which kernel or file, and
 * the build log after a failed kernel build. "" when nothing has failed. */
CLSEG_API const char *clseg_context_last_error(const clseg_context *ctx);

/* Waits until everything enqueued on the context's queue has run; reports asynchronous failures. */
CLSEG_API clseg_status clseg_context_finish(clseg_context *ctx);

typedef struct clseg_memory_stats {
    uint64_t in_use_bytes;
    uint64_t peak_bytes;
    uint64_t allocations; /* buffers created so far */
} clseg_memory_stats;

CLSEG_API clseg_memory_stats clseg_context_memory_stats(const clseg_context *ctx);

/* How kernel programs were obtained: from memory, from the disk cache, or compiled. */
typedef struct clseg_cache_stats {
    uint32_t memory_hits; /* program lookups answered from memory */
    uint32_t disk_hits;
    uint32_t compiled;
    uint32_t disk_writes;
    uint32_t disk_rejected; /* cache files found but unusable (corrupt, stale): recompiled */
} clseg_cache_stats;

CLSEG_API clseg_cache_stats clseg_context_cache_stats(const clseg_context *ctx);

/* The folder of the kernel binary cache, or NULL when it is off (or for the ref backend). */
CLSEG_API const char *clseg_context_cache_dir(const clseg_context *ctx);

#ifdef __cplusplus
}
#endif
#endif
