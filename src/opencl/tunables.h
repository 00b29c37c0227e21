/* Per-device values of the kernels' tunables. Each tunable is declared once, in its .cl file,
 * as `#ifndef NAME` / `#define NAME default`; the table in tunables.c holds only the values
 * that differ for a vendor, device or device type, and the host reads back the same value it
 * passes to the compiler, so no number is written twice. */
#ifndef CLSEG_TUNABLES_H
#define CLSEG_TUNABLES_H

#include <stddef.h>

#include "clseg/device.h"
#include "clseg/status.h"

#define CLSEG_MAX_TUNABLES 32

typedef struct clseg_tunable {
    char name[48];
    long value;
} clseg_tunable;

typedef struct clseg_tunable_set {
    clseg_tunable items[CLSEG_MAX_TUNABLES];
    size_t count;
} clseg_tunable_set;

/* Every tunable of a program's source with its value for this device. Names ending in _WG are
 * work-group sizes: rounded down to a power of two within the device's limit. */
clseg_status clseg_tunables_resolve(const clseg_device_info *device, const char *program, const char *source,
                                    size_t source_size, clseg_tunable_set *out, char *err, size_t err_size);

#endif
