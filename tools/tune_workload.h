/* What `clseg tune` times for each kernel program: the ops that use the program's kernels, at
 * U-Net-like shapes (tiny ones for --quick), called through the public op API. */
#ifndef CLSEG_TUNE_WORKLOAD_H
#define CLSEG_TUNE_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "clseg/clseg.h"

typedef struct tune_workload tune_workload;

/* The programs with a workload, in the order to tune them (gemm before conv, whose ops use it);
 * NULL past the last. */
const char *tune_workload_program(size_t i);

/* In words, what the program's workload runs. */
const char *tune_workload_describe(const char *program, bool quick);

/* Creates the program's tensors on ctx, filled with random values. */
clseg_status tune_workload_create(clseg_context *ctx, const char *program, bool quick, tune_workload **out);

/* Enqueues every op of the workload once (not waited for). */
clseg_status tune_workload_run(tune_workload *w);

void tune_workload_destroy(tune_workload *w);

#endif
