/* Per-device values of the kernels' tunables. Each tunable is declared once, in its .cl file,
 * as `#ifndef NAME` / `#define NAME default`; the table in tunables.c holds only the values
 * that differ for a vendor, device or device type, and the host reads back the same value it
 * passes to the compiler, so no number is written twice. Above the table come the device's
 * tuned file (written by `clseg tune`) and the user's overrides. */
#ifndef CLSEG_TUNABLES_H
#define CLSEG_TUNABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "clseg/device.h"
#include "clseg/status.h"
#include "core/tunable_settings.h"

#define CLSEG_MAX_TUNABLES 32

/* Where a value comes from, lowest precedence first. */
typedef enum clseg_tunable_origin {
    CLSEG_TUNABLE_FROM_DEFAULT = 0, /* the .cl file's #define */
    CLSEG_TUNABLE_FROM_TABLE,       /* the per-device table in tunables.c */
    CLSEG_TUNABLE_FROM_TUNED,       /* the device's tuned file */
    CLSEG_TUNABLE_FROM_OVERRIDE     /* the context's tunables option or $CLSEG_TUNABLES */
} clseg_tunable_origin;

typedef struct clseg_tunable {
    char name[48];
    long value;
    clseg_tunable_origin origin;
} clseg_tunable;

typedef struct clseg_tunable_set {
    clseg_tunable items[CLSEG_MAX_TUNABLES];
    size_t count;
} clseg_tunable_set;

/* The settings above the table; either may be NULL. */
typedef struct clseg_tunable_layers {
    const clseg_tunable_settings *tuned;
    const clseg_tunable_settings *overrides;
} clseg_tunable_layers;

/* "default", "table", "tuned" or "override". */
const char *clseg_tunable_origin_str(clseg_tunable_origin origin);

/* Every tunable a program's source declares, with its .cl default. */
clseg_status clseg_tunables_declared(const char *program, const char *source, size_t source_size,
                                     clseg_tunable_set *out, char *err, size_t err_size);

/* Every tunable of a program's source with its value for this device: the .cl default, then
 * the table, the tuned file and the overrides, each above the one before. Names ending in _WG
 * are work-group sizes: at the end rounded down to a power of two within the device's limit. */
clseg_status clseg_tunables_resolve(const clseg_device_info *device, const clseg_tunable_layers *layers,
                                    const char *program, const char *source, size_t source_size,
                                    clseg_tunable_set *out, char *err, size_t err_size);

/* Whether a program declares the tunable: the program's source from kernel_dir when not NULL,
 * else the embedded one. When not, why says so and lists what there is. */
bool clseg_tunables_known(const char *kernel_dir, const char *program, const char *name, char *why,
                          size_t why_size);

#endif
