/* Max pooling with indices, max-unpooling and global average pooling. A tensor arrives as a
 * buffer plus the offset of its first element. Indices are floats holding h * W + w within a
 * plane (exact: the host checks planes <= 2^24). Every backward kernel is a gather with one
 * work-item per element it writes, so results are the same bits on every run, without atomics.
 * dst = beta dst + g, and beta == 0 overwrites so NaNs in an unset dst cannot leak through. */

#ifndef POOL_WG
#define POOL_WG 64 /* work-group size of the one-item-per-element kernels */
#endif
#ifndef GAP_WG
#define GAP_WG 64 /* work-items that sum one plane for global average pooling (a power of two) */
#endif

#define ACCUMULATE(dst, beta, g) ((dst) = (beta) == 0.0f ? (g) : (beta) * (dst) + (g))

/* The pooling geometry, in the order the host passes it. */
#define GEOM_ARGS uint H, uint W, uint OH, uint OW, uint KH, uint KW, uint SH, uint SW, uint PH, uint PW

/* One output per work-item: the first maximum in row-major order, a NaN beating everything
 * (the first NaN stays); padding is skipped, so it never wins. */
__kernel void maxpool_forward(__global const float *x, uint x_off, __global float *y, uint y_off,
                              __global float *indices, uint i_off, uint n, GEOM_ARGS)
{
    /* an (ow, oh, plane) grid: the output's coordinates without dividing */
    uint ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2), o = (plane * OH + oh) * OW + ow;
    if (ow >= OW || oh >= OH || o >= n)
        return;
    __global const float *xp = x + x_off + plane * H * W;
    int h0 = (int)(oh * SH) - (int)PH, w0 = (int)(ow * SW) - (int)PW;
    int h_end = min(h0 + (int)KH, (int)H), w_end = min(w0 + (int)KW, (int)W);
    int best = -1;
    float best_v = 0.0f;
    for (int h = max(h0, 0); h < h_end; h++)
        for (int w = max(w0, 0); w < w_end; w++) {
            float v = xp[h * (int)W + w];
            if (best < 0 || v > best_v || (isnan(v) && !isnan(best_v))) {
                best = h * (int)W + w;
                best_v = v;
            }
        }
    y[y_off + o] = best_v;
    indices[i_off + o] = (float)best;
}

/* The outputs [lo, hi] along one axis whose windows contain input coordinate i (the same as
 * clseg_pool_window_range in src/ref/pool_math.h). */
inline void window_range(int i, int k, int s, int p, int out, int *lo, int *hi)
{
    int first = i + p - k + 1;
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = min((i + p) / s, out - 1);
}

/* One unpooled element per work-item: out = beta out + the values (pooled shape) whose index
 * names it, over the windows containing it in row-major order. Max pooling's backward (values
 * dy) and max-unpooling's forward (values x, beta 0). */
__kernel void maxpool_scatter(__global const float *values, uint v_off, __global const float *indices, uint i_off,
                              __global float *out, uint out_off, uint n, float beta, GEOM_ARGS)
{
    /* a (w, h, plane) grid: the element's coordinates without dividing */
    uint w = get_global_id(0), h = get_global_id(1), plane = get_global_id(2), e = (plane * H + h) * W + w;
    if (w >= W || h >= H || e >= n)
        return;
    int oh_lo, oh_hi, ow_lo, ow_hi;
    window_range((int)h, (int)KH, (int)SH, (int)PH, (int)OH, &oh_lo, &oh_hi);
    window_range((int)w, (int)KW, (int)SW, (int)PW, (int)OW, &ow_lo, &ow_hi);
    float self = (float)(h * W + w), sum = 0.0f;
    uint base = plane * OH * OW;
    for (int oh = oh_lo; oh <= oh_hi; oh++)
        for (int ow = ow_lo; ow <= ow_hi; ow++) {
            uint o = base + (uint)oh * OW + (uint)ow;
            if (indices[i_off + o] == self)
                sum += values[v_off + o];
        }
    ACCUMULATE(out[out_off + e], beta, sum);
}

/* One pooled element per work-item: dx = beta dx + dy at its index (zero for an index outside
 * the plane, which no pooling writes). */
__kernel __attribute__((reqd_work_group_size(POOL_WG, 1, 1)))
void maxunpool_backward(__global const float *dy, uint dy_off, __global const float *indices, uint i_off,
                        __global float *dx, uint dx_off, uint n, float beta, uint HW, uint OHW)
{
    uint o = get_global_id(0);
    if (o >= n)
        return;
    float at = indices[i_off + o];
    float g = at >= 0.0f && at < (float)HW ? dy[dy_off + (o / OHW) * HW + (uint)at] : 0.0f;
    ACCUMULATE(dx[dx_off + o], beta, g);
}

/* One work-group per plane: each item sums a strided share, then a fixed tree adds the shares,
 * so the summation order depends only on hw and GAP_WG. */
__kernel __attribute__((reqd_work_group_size(GAP_WG, 1, 1)))
void global_avgpool_forward(__global const float *x, uint x_off, __global float *y, uint y_off, uint hw)
{
    __local float part[GAP_WG];
    uint plane = get_group_id(0), lid = get_local_id(0);
    __global const float *xp = x + x_off + plane * hw;
    float s = 0.0f;
    for (uint i = lid; i < hw; i += GAP_WG)
        s += xp[i];
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = GAP_WG / 2; step > 0; step /= 2) {
        if (lid < step)
            part[lid] += part[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        y[y_off + plane] = part[0] / (float)hw;
}

__kernel __attribute__((reqd_work_group_size(POOL_WG, 1, 1)))
void global_avgpool_backward(__global const float *dy, uint dy_off, __global float *dx, uint dx_off, uint n, uint hw,
                             float beta)
{
    uint i = get_global_id(0);
    if (i < n)
        ACCUMULATE(dx[dx_off + i], beta, dy[dy_off + i / hw] / (float)hw);
}
