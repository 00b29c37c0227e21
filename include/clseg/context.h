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
    /* Kernel tunables to set, e.g. "gemm.GEMM_PACKED=0,basic.EW_WG=128" (entries separated by
     * commas or blanks); above every other source of their values. NULL: $CLSEG_TUNABLES. A
     * malformed entry, or one naming a tunable no kernel program declares, fails
     * clseg_context_create with CLSEG_STATUS_INVALID_ARGUMENT. */
    const char *tunables;
    /* Folder of the tuned files `clseg tune` writes (one per device and driver); NULL:
     * $CLSEG_TUNED_DIR, else $XDG_CONFIG_HOME/clseg/tuned or ~/.config/clseg/tuned. The value
     * "off" (here or in the environment) ignores tuned files. */
    const char *tuned_dir;
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

/* The tuned file of this context's device: <tuned_dir>/<hash of device, driver and platform
 * version>.txt, whether it exists or not; NULL for the ref backend or when tuned files are off. */
CLSEG_API const char *clseg_context_tuned_file(const clseg_context *ctx);

/* The value a kernel program is built with on this context, e.g. ("gemm", "GEMM_MR"): its
 * .cl default, overridden by clseg's per-device table, the tuned file and the tunables option,
 * in that order (names ending in _WG then rounded to a power of two the device allows). Builds
 * the program if needed. CLSEG_STATUS_INVALID_ARGUMENT for an unknown program or tunable,
 * CLSEG_STATUS_NOT_SUPPORTED on the ref backend, which has none. */
CLSEG_API clseg_status clseg_context_tunable(clseg_context *ctx, const char *program, const char *name, long *value);

typedef struct clseg_tunable_info {
    char program[32];
    char name[48];
    long value;
    /* where the value comes from: "default" (the .cl file), "table" (clseg's per-device table),
     * "tuned" (the tuned file) or "override" (the tunables option or $CLSEG_TUNABLES) */
    const char *origin;
} clseg_tunable_info;

/* Every tunable of every kernel program, in program order, as clseg_context_tunable reports it
 * (so every program is built): the first `capacity` go to out, *count receives how many there
 * are. CLSEG_STATUS_NOT_SUPPORTED on the ref backend. */
CLSEG_API clseg_status clseg_context_tunables(clseg_context *ctx, clseg_tunable_info *out, size_t capacity,
                                              size_t *count);

#ifdef __cplusplus
}
#endif
#endif
