/* Activations, dropout, addition and channel concatenation: one work-item per element. A
 * tensor arrives as a buffer plus the offset of its first element. Backward kernels compute
 * dx = beta dx + g, and beta == 0 overwrites so NaNs in an unset dx cannot leak through. */

#ifndef ACT_WG
#define ACT_WG 64 /* work-group size of every kernel here */
#endif

#ifndef ACT_VEC
#define ACT_VEC 0 /* 1: concatenation copies 16 values per work-item (CPU devices) */
#endif

#define ACCUMULATE(dst, beta, g) ((dst) = (beta) == 0.0f ? (g) : (beta) * (dst) + (g))

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void relu_forward(__global const float *x, uint x_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        y[y_off + i] = fmax(x[x_off + i], 0.0f);
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void relu_backward(__global const float *y, uint y_off, __global const float *dy, uint dy_off, __global float *dx,
                   uint dx_off, uint n, float beta)
{
    uint i = get_global_id(0);
    if (i < n) {
        float g = y[y_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
        ACCUMULATE(dx[dx_off + i], beta, g);
    }
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void sigmoid_forward(__global const float *x, uint x_off, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        y[y_off + i] = 1.0f / (1.0f + exp(-x[x_off + i]));
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void sigmoid_backward(__global const float *y, uint y_off, __global const float *dy, uint dy_off,
                      __global float *dx, uint dx_off, uint n, float beta)
{
    uint i = get_global_id(0);
    if (i < n) {
        float s = y[y_off + i];
        ACCUMULATE(dx[dx_off + i], beta, dy[dy_off + i] * s * (1.0f - s));
    }
}

/* The same integers as clseg_dropout_keep() in src/ops/activation.h. */
inline uint dropout_mix(uint x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void dropout_forward(__global const float *x, uint x_off, __global float *y, uint y_off, __global float *mask,
                     uint mask_off, uint n, float p, float scale, uint seed_lo, uint seed_hi)
{
    uint i = get_global_id(0);
    if (i < n) {
        uint h = dropout_mix(dropout_mix(i * 0x9e3779b9u ^ seed_lo) ^ seed_hi);
        float m = (float)(h >> 8) * (1.0f / 16777216.0f) >= p ? scale : 0.0f;
        mask[mask_off + i] = m;
        y[y_off + i] = x[x_off + i] * m;
    }
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void dropout_backward(__global const float *dy, uint dy_off, __global const float *mask, uint mask_off,
                      __global float *dx, uint dx_off, uint n, float beta)
{
    uint i = get_global_id(0);
    if (i < n)
        ACCUMULATE(dx[dx_off + i], beta, dy[dy_off + i] * mask[mask_off + i]);
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void add(__global const float *a, uint a_off, __global const float *b, uint b_off, __global float *y, uint y_off,
         uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        y[y_off + i] = a[a_off + i] + b[b_off + i];
}

/* Element i of one input (its image i / chw) sits at y_stride per image and offset within. */
__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void concat_forward(__global const float *in, uint in_off, __global float *y, uint y_off, uint n, uint chw,
                    uint y_stride, uint offset)
{
    uint p = get_global_id(0), b = get_global_id(1), i = b * chw + p; /* (position, image) grid */
    if (p < chw && i < n)
        y[y_off + b * y_stride + offset + p] = in[in_off + i];
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void concat_backward(__global const float *dy, uint dy_off, __global float *dx, uint dx_off, uint n, uint chw,
                     uint y_stride, uint offset, float beta)
{
    uint p = get_global_id(0), b = get_global_id(1), i = b * chw + p;
    if (p < chw && i < n)
        ACCUMULATE(dx[dx_off + i], beta, dy[dy_off + b * y_stride + offset + p]);
}

/* The concatenation for CPU devices (ACT_VEC): 16 values of one image per work-item, in images
 * of whole vectors (the host checks), with the same arithmetic. */
__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void concat_forward_vec(__global const float *in, uint in_off, __global float *y, uint y_off, uint n, uint chw,
                        uint y_stride, uint offset)
{
    uint p = get_global_id(0) * 16, b = get_global_id(1), i = b * chw + p;
    if (p < chw && i < n)
        vstore16(vload16(0, in + in_off + i), 0, y + y_off + b * y_stride + offset + p);
}

__kernel __attribute__((reqd_work_group_size(ACT_WG, 1, 1)))
void concat_backward_vec(__global const float *dy, uint dy_off, __global float *dx, uint dx_off, uint n, uint chw,
                         uint y_stride, uint offset, float beta)
{
    uint p = get_global_id(0) * 16, b = get_global_id(1), i = b * chw + p;
    if (p >= chw || i >= n)
        return;
    float16 g = vload16(0, dy + dy_off + b * y_stride + offset + p);
    __global float *d = dx + dx_off + i;
    vstore16(beta == 0.0f ? g : beta * vload16(0, d) + g, 0, d);
}
