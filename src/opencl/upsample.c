#include "ops/upsample.h"
#include "opencl/ocl.h"

#define PROGRAM "upsample"

#define ARG_INT(v) ((clseg_ocl_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})

/* {small or big, big or small}: the kernels' common arguments after the two tensors. */
static clseg_status run(clseg_context *ctx, const char *kernel, const clseg_upsample_params *p, clseg_tensor *from,
                        clseg_tensor *to, clseg_shape in, clseg_shape out, int with_beta)
{
    size_t n = clseg_tensor_numel(to);
    clseg_status st = clseg_ocl_check_count(ctx, kernel, clseg_tensor_numel(from));
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(from), CLSEG_ARG_TENSOR(to), CLSEG_ARG_UINT(n),
                            ARG_INT(in.h),          ARG_INT(in.w),        ARG_INT(out.h),
                            ARG_INT(out.w),         CLSEG_ARG_FLOAT(p->rh), CLSEG_ARG_FLOAT(p->rw),
                            ARG_INT(p->bilinear),   ARG_INT(p->align_corners), CLSEG_ARG_FLOAT(p->beta)};
    return clseg_ocl_run_1d(ctx, PROGRAM, kernel, "UPS_WG", args, CLSEG_NARGS(args) - (with_beta ? 0 : 1), n);
}

clseg_status clseg_ocl_upsample2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return run(ctx, "upsample_forward", params, t[0], t[1], t[0]->shape, t[1]->shape, 0);
}

clseg_status clseg_ocl_upsample2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return run(ctx, "upsample_backward", params, t[0], t[1], t[1]->shape, t[0]->shape, 1);
}
