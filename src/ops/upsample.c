#include "ops/upsample.h"

#include <math.h>

#include "ops/check.h"
#include "ref/upsample_math.h"

static const clseg_op op_forward = {"upsample2d.forward", clseg_ref_upsample2d_forward, clseg_ocl_upsample2d_forward};
static const clseg_op op_backward = {"upsample2d.backward", clseg_ref_upsample2d_backward,
                                     clseg_ocl_upsample2d_backward};

#define T(x) ((clseg_tensor *)(x))

/* The mode and scales of a desc, reported on ctx (which may be NULL). */
static clseg_status check_desc(clseg_context *ctx, const char *op, const clseg_upsample_desc *d)
{
    if (d == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if (d->mode != CLSEG_UPSAMPLE_NEAREST && d->mode != CLSEG_UPSAMPLE_BILINEAR)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: mode %d is neither nearest nor bilinear", op,
                          (int)d->mode);
    if (d->mode == CLSEG_UPSAMPLE_NEAREST && d->align_corners)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: align_corners applies to bilinear only", op);
    if (!(d->scale_h >= 0 && d->scale_w >= 0) || isinf(d->scale_h) || isinf(d->scale_w))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: scales %g x %g; each must be finite and >= 0", op,
                          (double)d->scale_h, (double)d->scale_w);
    return CLSEG_STATUS_SUCCESS;
}

/* PyTorch's output size for a scale: floor(in * scale), in double. */
static int64_t scaled(int64_t in, float scale) { return (int64_t)floor((double)in * (double)scale); }

clseg_status clseg_upsample2d_output_shape(const clseg_upsample_desc *desc, clseg_shape x, clseg_shape *y)
{
    if (y == NULL || check_desc(NULL, "", desc) != CLSEG_STATUS_SUCCESS || !(desc->scale_h > 0 && desc->scale_w > 0))
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (clseg_check_shape_valid(NULL, "", "x", x) != CLSEG_STATUS_SUCCESS)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    clseg_shape s = {x.n, x.c, scaled(x.h, desc->scale_h), scaled(x.w, desc->scale_w)};
    if (s.h < 1 || s.w < 1)
        return CLSEG_STATUS_INVALID_ARGUMENT; /* the scale leaves nothing */
    *y = s;
    return CLSEG_STATUS_SUCCESS;
}

/* in (x or dx) and out (y or dy) agree with each other and with desc; fills the parameters. */
static clseg_status check(clseg_context *ctx, const char *op, const clseg_upsample_desc *d, const char *in_name,
                          const clseg_tensor *in, const char *out_name, const clseg_tensor *out,
                          clseg_upsample_params *p)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {in_name, in}, {out_name, out});
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_desc(ctx, op, d);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape_valid(ctx, op, in_name, in->shape);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape_valid(ctx, op, out_name, out->shape);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_shape a = in->shape, b = out->shape;
    clseg_shape want = {a.n, a.c, d->scale_h > 0 ? scaled(a.h, d->scale_h) : b.h,
                        d->scale_w > 0 ? scaled(a.w, d->scale_w) : b.w};
    if ((st = clseg_check_shape(ctx, op, out_name, out, want)) != CLSEG_STATUS_SUCCESS)
        return st;
    int64_t sides[] = {a.h, a.w, b.h, b.w}, longest = 0;
    for (size_t i = 0; i < 4; i++)
        longest = sides[i] > longest ? sides[i] : longest;
    if (longest > CLSEG_UPSAMPLE_MAX_SIDE)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: a side of %lld; at most %d are supported", op,
                          (long long)longest, CLSEG_UPSAMPLE_MAX_SIDE);
    p->bilinear = d->mode == CLSEG_UPSAMPLE_BILINEAR;
    p->align_corners = p->bilinear && d->align_corners;
    p->rh = clseg_ref32_upsample_ratio(p->bilinear, p->align_corners, a.h, b.h, d->scale_h);
    p->rw = clseg_ref32_upsample_ratio(p->bilinear, p->align_corners, a.w, b.w, d->scale_w);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_upsample2d_forward(clseg_context *ctx, const clseg_upsample_desc *desc, const clseg_tensor *x,
                                      clseg_tensor *y)
{
    clseg_upsample_params p = {0};
    clseg_status st = check(ctx, "clseg_upsample2d_forward", desc, "x", x, "y", y, &p);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_forward, &p, (clseg_tensor *[]){T(x), y});
}

clseg_status clseg_upsample2d_backward(clseg_context *ctx, const clseg_upsample_desc *desc, const clseg_tensor *dy,
                                       clseg_tensor *dx, float beta)
{
    clseg_upsample_params p = {0};
    clseg_status st = check(ctx, "clseg_upsample2d_backward", desc, "dx", dx, "dy", dy, &p);
    p.beta = beta;
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_backward, &p, (clseg_tensor *[]){T(dy), dx});
}
