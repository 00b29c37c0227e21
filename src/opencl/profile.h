/* Kernel time per kernel name, for finding where a step's time goes: with CLSEG_PROFILE=FILE
 * in the environment, the queue records each kernel's device time and the context's
 * destruction writes the totals to FILE. Each launch then waits for its kernel, so a profiled
 * run is slower than a normal one; the shares between kernels are what it is for. With
 * CLSEG_PROFILE_SHAPES=1 as well, each global size of a kernel has its own row. */
#ifndef CLSEG_OCL_PROFILE_H
#define CLSEG_OCL_PROFILE_H

#include <CL/cl.h>

#include "clseg/status.h"

typedef struct clseg_ocl_profile clseg_ocl_profile;

/* NULL (no profiling) unless CLSEG_PROFILE names a file; *queue_props gets the queue property
 * profiling needs. */
clseg_ocl_profile *clseg_ocl_profile_create(const char *device_name, cl_command_queue_properties *queue_props);

/* Waits for ev, adds its device time to program/kernel's total (and global size's, with
 * CLSEG_PROFILE_SHAPES=1) and releases ev. */
void clseg_ocl_profile_record(clseg_ocl_profile *p, const char *program, const char *kernel, cl_uint dims,
                              const size_t *global, cl_event ev);

/* Writes the table (kernel, calls, total ms, ms per call, share) to the file and frees p. */
void clseg_ocl_profile_finish(clseg_ocl_profile *p);

#endif
