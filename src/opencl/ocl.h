/* The OpenCL backend's state and the helpers its op launchers use. */
#ifndef CLSEG_OCL_H
#define CLSEG_OCL_H

#include <CL/cl.h>

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001 /* cl_khr_icd: the loader found no platform */
#endif

#include "core/internal.h"

typedef struct clseg_program_cache clseg_program_cache;
typedef struct clseg_ocl_profile clseg_ocl_profile;

struct clseg_buffer {
    cl_mem mem;
};

struct clseg_backend {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    clseg_program_cache *programs;
    clseg_ocl_profile *profile; /* NULL unless CLSEG_PROFILE is set (opencl/profile.h) */
};

/* A kernel argument: value bytes, or NULL value for __local memory of that many bytes. */
typedef struct clseg_ocl_arg {
    size_t size;
    const void *value;
} clseg_ocl_arg;

#define CLSEG_ARG_MEM(t) ((clseg_ocl_arg){sizeof(cl_mem), &clseg_tensor_buffer(t)->mem})
#define CLSEG_ARG_UINT(v) ((clseg_ocl_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define CLSEG_ARG_FLOAT(v) ((clseg_ocl_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
/* A tensor is passed as two arguments: its buffer and the offset of its first element. */
#define CLSEG_ARG_TENSOR(t) CLSEG_ARG_MEM(t), CLSEG_ARG_UINT((t)->offset)

#define CLSEG_NARGS(args) (sizeof(args) / sizeof((args)[0]))

/* The kernel launch every op uses: takes the kernel from the program cache (building the
 * program on first use), sets the arguments and enqueues it. global is rounded up to a multiple
 * of local; kernels check their bounds. local NULL lets the driver choose. */
clseg_status clseg_ocl_run(clseg_context *ctx, const char *program, const char *kernel, const clseg_ocl_arg *args,
                           size_t nargs, cl_uint dims, const size_t *global, const size_t *local);

/* The value of a tunable for this device (src/opencl/tunables.c), e.g. REDUCE_WG. */
clseg_status clseg_ocl_tunable(clseg_context *ctx, const char *program, const char *name, long *value);

/* Records an OpenCL failure as the context's last error; CL codes map to the same-numbered status. */
clseg_status clseg_ocl_fail(clseg_context *ctx, cl_int err, const char *fmt, ...) CLSEG_PRINTF(3, 4);

/* The OpenCL ids behind a listed device (src/opencl/ocl_devices.c). */
clseg_status clseg_ocl_find_device(const clseg_device_info *want, cl_platform_id *platform, cl_device_id *device);

/* One work-item per element of n (checked by clseg_ocl_check_count), in work-groups of the program's
 * tunable wg_tunable (e.g. "EW_WG"): the launch of every element-wise kernel. */
clseg_status clseg_ocl_run_1d(clseg_context *ctx, const char *program, const char *kernel, const char *wg_tunable,
                              const clseg_ocl_arg *args, size_t nargs, size_t n);

/* The grid of a two-stage reduction over n values: work-groups of the program's tunable wg_tunable,
 * as many as n needs but at most the tunable groups_tunable and max_groups (what the workspace
 * holds partials for). It depends only on n and the tunables, so the summation order, and every
 * bit of the result, is the same on every run. Checks n with clseg_ocl_check_count. */
clseg_status clseg_ocl_reduce_grid(clseg_context *ctx, const char *program, const char *wg_tunable,
                                   const char *groups_tunable, size_t n, size_t max_groups, size_t *local,
                                   size_t *groups);

/* Fails with NOT_SUPPORTED when count is above what kernels index with 32-bit integers (2^31). */
clseg_status clseg_ocl_check_count(clseg_context *ctx, const char *op, size_t count);

#endif
