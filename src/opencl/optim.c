#include "ops/optim.h"
#include "opencl/ocl.h"

#define PROGRAM "optim"

static clseg_status run(clseg_context *ctx, const char *kernel, const clseg_ocl_arg *args, size_t nargs, size_t n)
{
    return clseg_ocl_run_1d(ctx, PROGRAM, kernel, "OPTIM_WG", args, nargs, n);
}

/* {param, grad, velocity or NULL} */
clseg_status clseg_ocl_sgd_step(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_sgd_params *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    if (p->momentum == 0.0f) {
        clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(n),
                                CLSEG_ARG_FLOAT(p->lr), CLSEG_ARG_FLOAT(p->weight_decay)};
        return run(ctx, "sgd_plain", args, CLSEG_NARGS(args), n);
    }
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]),           CLSEG_ARG_TENSOR(t[1]),
                            CLSEG_ARG_TENSOR(t[2]),           CLSEG_ARG_UINT(n),
                            CLSEG_ARG_FLOAT(p->lr),           CLSEG_ARG_FLOAT(p->momentum),
                            CLSEG_ARG_FLOAT(p->dampening),    CLSEG_ARG_FLOAT(p->weight_decay),
                            CLSEG_ARG_UINT(p->nesterov != 0), CLSEG_ARG_UINT(p->step == 1)};
    return run(ctx, "sgd_momentum", args, CLSEG_NARGS(args), n);
}

/* {param, grad, m, v} */
clseg_status clseg_ocl_adam_step(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_adam_params *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]),
                            CLSEG_ARG_TENSOR(t[1]),
                            CLSEG_ARG_TENSOR(t[2]),
                            CLSEG_ARG_TENSOR(t[3]),
                            CLSEG_ARG_UINT(n),
                            CLSEG_ARG_FLOAT(p->beta1),
                            CLSEG_ARG_FLOAT(p->beta2),
                            CLSEG_ARG_FLOAT(p->eps),
                            CLSEG_ARG_FLOAT(p->weight_decay),
                            CLSEG_ARG_UINT(p->decoupled != 0),
                            CLSEG_ARG_FLOAT(p->decay),
                            CLSEG_ARG_FLOAT(p->step_size),
                            CLSEG_ARG_FLOAT(p->bias2_sqrt)};
    return run(ctx, "adam_step", args, CLSEG_NARGS(args), n);
}
