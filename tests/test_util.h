/* Shared by the test programs: contexts, skipping without OpenCL, temporary folders. */
#ifndef CLSEG_TEST_UTIL_H
#define CLSEG_TEST_UTIL_H

#include <check.h>
#include <stdbool.h>

#include "clseg/clseg.h"

/* meson treats this exit code as "skipped" */
#define TEST_SKIP 77

/* True when at least one OpenCL device is present. With CLSEG_REQUIRE_OPENCL set, having none
 * ends the test program as a failure instead. */
bool test_have_opencl(void);

/* A context on the selector ("ref", NULL for the default device); fails the test on error. */
clseg_context *test_context(const char *selector);

/* The same under kernel tunables such as "conv.CONV_TILE=3,gemm.GEMM_MR=16" (NULL: the table's). */
clseg_context *test_context_with(const char *selector, const char *tunables);

/* A fresh empty folder under $TMPDIR (or /tmp); the caller frees the string. */
char *test_tmpdir(const char *prefix);

/* Removes a folder and everything below it. */
void test_rmdir(const char *dir);

/* Runs the suite and returns the process exit code. OpenCL suites run without fork(): a
 * driver's threads do not survive it. */
int test_run(Suite *suite, bool fork_each_test);

/* A tensor of shape s on ctx holding values (NULL: contents undefined); fails the test on error. */
clseg_tensor *test_tensor(clseg_context *ctx, clseg_shape s, const float *values);

/* The tensor's values in a malloc'd array; fails the test on error. */
float *test_download(const clseg_tensor *t);

/* count integers in [-range, range] as floats, spread by a hash of index and seed (so sums and
 * products of a few of them are exact in float32); malloc'd. */
float *test_ints(size_t n, unsigned seed, int range);

/* Uploads count floats to a new tensor of shape {1,1,1,count}; fails the test on error. */
clseg_tensor *test_tensor_from(clseg_context *ctx, const float *values, size_t count);

/* The first index where a and b differ in bits, NaNs of any payload counting as equal (GPUs
 * return one canonical NaN from arithmetic on a NaN, CPUs propagate the input's); n when none. */
size_t test_first_difference(const float *a, const float *b, size_t n);

#endif
