/* Listing the OpenCL devices of every platform, and choosing one by a selector string. */
#ifndef CLSEG_DEVICE_H
#define CLSEG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/export.h"
#include "clseg/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clseg_device_type {
    CLSEG_DEVICE_TYPE_REF = 0, /* the plain-C reference backend */
    CLSEG_DEVICE_TYPE_CPU,
    CLSEG_DEVICE_TYPE_GPU,
    CLSEG_DEVICE_TYPE_ACCEL,
    CLSEG_DEVICE_TYPE_OTHER
} clseg_device_type;

typedef struct clseg_device_info {
    int platform_index; /* P of "P:D"; -1 for the reference backend */
    int device_index;   /* D of "P:D"; -1 for the reference backend */
    clseg_device_type type;
    char name[256];
    char vendor[256];
    char platform_name[256];
    char platform_version[256];
    char driver_version[256];
    char opencl_c_version[64];
    uint32_t compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    size_t max_work_group_size;
    bool fp16;
    bool fp64;
} clseg_device_info;

/* Every OpenCL device of every platform, in platform then device order. A machine without an
 * OpenCL driver is not an error: *count is 0. Free with clseg_device_list_free().
 * err (may be NULL) receives a message when the status is not success. */
CLSEG_API clseg_status clseg_device_list(clseg_device_info **devices, size_t *count, char *err, size_t err_size);
CLSEG_API void clseg_device_list_free(clseg_device_info *devices);

/* Picks a device from a list by selector: "P:D", "cpu", "gpu", "accel", a case-insensitive
 * substring of the device name, or "ref" (then *index is (size_t)-1). NULL or "" means the
 * default: the first GPU, else the first device. An unknown selector returns
 * CLSEG_STATUS_UNKNOWN_DEVICE with a message listing what is available. */
CLSEG_API clseg_status clseg_device_select(const clseg_device_info *devices, size_t count, const char *selector,
                                 size_t *index, char *err, size_t err_size);

/* "CPU", "GPU", "ACCEL", "OTHER" or "REF". */
CLSEG_API const char *clseg_device_type_str(clseg_device_type type);

#ifdef __cplusplus
}
#endif
#endif
