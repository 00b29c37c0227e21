/* How an op family registers its checks with `clseg verify`. A case's run function builds its
 * inputs and outputs through the verify_* helpers and calls the op; the harness runs it once on
 * the device and once on the reference backend with the same inputs, and compares every output
 * (inside guard regions that catch out-of-bounds writes). */
#ifndef CLSEG_VERIFY_CASE_H
#define CLSEG_VERIFY_CASE_H

#include "clseg/clseg.h"

typedef struct verify_run verify_run;

typedef enum verify_values {
    VERIFY_UNIFORM,  /* uniform in [-1, 1) */
    VERIFY_POSITIVE, /* uniform in [0, 1) */
    VERIFY_INTEGERS  /* integers in [-8, 8]: many ops are then exact in float32 */
} verify_values;

/* Shapes most families check at: one element, odd sizes, a realistic layer. */
#define VERIFY_ONE {1, 1, 1, 1}
#define VERIFY_ODD {1, 3, 7, 9}
#define VERIFY_ODD2 {2, 5, 13, 11}
#define VERIFY_WIDE {8, 32, 64, 64}

typedef struct verify_case {
    const char *op;    /* "sum", "conv2d.backward_data" */
    const char *shape; /* what distinguishes this case */
    clseg_status (*run)(verify_run *r, const void *arg);
    const void *arg;
    double rtol; /* pass: |dev - ref| <= rtol * max(1, |ref|) for every element */
} verify_case;

typedef struct verify_family {
    const verify_case *cases;
    size_t count;
} verify_family;

clseg_context *verify_ctx(verify_run *r);
/* An input filled with values drawn from the case's seed, identical on both backends. */
clseg_tensor *verify_input(verify_run *r, clseg_shape shape, verify_values values);
/* An output compared after the run; it starts with drawn values (so ops that accumulate are
 * checked too) and sits between guard regions. */
clseg_tensor *verify_output(verify_run *r, clseg_shape shape, verify_values initial);
/* An intermediate (e.g. a forward output a backward case needs), not compared. */
clseg_tensor *verify_temp(verify_run *r, clseg_shape shape);
/* Scratch memory of at least bytes, not compared; NULL (without failing) when bytes is 0. */
clseg_tensor *verify_workspace(verify_run *r, size_t bytes);

/* The families; each op family's checks file defines one. */
extern const verify_family clseg_verify_basic;
extern const verify_family clseg_verify_activation;
extern const verify_family clseg_verify_conv;
extern const verify_family clseg_verify_pool;
extern const verify_family clseg_verify_upsample;
extern const verify_family clseg_verify_norm;
extern const verify_family clseg_verify_optim;
extern const verify_family clseg_verify_loss;

#endif
