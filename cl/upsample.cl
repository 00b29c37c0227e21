/* Nearest and bilinear resizing with PyTorch's coordinates (see src/ops/upsample.h); a tensor
 * arrives as a buffer plus the offset of its first element. The coordinate arithmetic matches
 * src/ref/upsample_math.inc operation for operation, so contraction into fused multiply-adds is
 * turned off: with it the sources (and so nearest's picks) could differ from the reference's.
 * The backward kernel is a gather, one work-item per input pixel: no atomics, the same bits on
 * every run. dx = beta dx + g, and beta == 0 overwrites. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef UPS_WG
#define UPS_WG 64 /* work-group size of every kernel here */
#endif

#define ACCUMULATE(dst, beta, g) ((dst) = (beta) == 0.0f ? (g) : (beta) * (dst) + (g))

inline int nearest_source(int j, int in, float r)
{
    return min((int)floor((float)j * r), in - 1);
}

/* The two inputs output j reads and their weights. */
inline void linear_source(int j, int in, float r, int align, int *i0, int *i1, float *l0, float *l1)
{
    float s = align ? r * (float)j : r * ((float)j + 0.5f) - 0.5f;
    s = s < 0.0f ? 0.0f : s;
    *i0 = min((int)s, in - 1); /* PyTorch's guard: rounding can never read past the last input */
    *l1 = fmin(s - (float)*i0, 1.0f);
    *l0 = 1.0f - *l1;
    *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
}

/* The weight of input i in output j along one axis; false when j does not touch i. */
inline bool touches(int j, int i, int in, float r, int bilinear, int align, float *weight)
{
    if (!bilinear) {
        *weight = 1.0f;
        return nearest_source(j, in, r) == i;
    }
    int i0, i1;
    float l0, l1;
    linear_source(j, in, r, align, &i0, &i1, &l0, &l1);
    *weight = i0 == i ? (i1 == i ? l0 + l1 : l0) : l1;
    return i0 == i || i1 == i;
}

/* A superset [lo, hi] of the outputs that can touch input i (clseg_upsample_candidates in
 * src/ref/upsample_math.h; the host keeps sides <= 2^22, so float is close enough for the
 * margins of two). */
inline void candidates(int i, int in, int out, float r, int bilinear, int align, int *lo, int *hi)
{
    float c = bilinear && !align ? 0.5f * r - 0.5f : 0.0f;
    float from = bilinear ? (float)i - 1.0f : (float)i, to = (float)i + 1.0f;
    *lo = 0;
    *hi = out - 1;
    if (r > 0.0f) {
        float a = floor((from - c) / r) - 2.0f, b = ceil((to - c) / r) + 2.0f;
        if (i > 0 && a > 0.0f)
            *lo = a < (float)(out - 1) ? (int)a : out - 1;
        if (i < in - 1 && b < (float)(out - 1))
            *hi = b > 0.0f ? (int)b : 0;
    }
}

/* One output per work-item. */
__kernel __attribute__((reqd_work_group_size(UPS_WG, 1, 1)))
void upsample_forward(__global const float *x, uint x_off, __global float *y, uint y_off, uint n, int IH, int IW,
                      int OH, int OW, float rh, float rw, int bilinear, int align)
{
    uint o = get_global_id(0);
    if (o >= n)
        return;
    int ow = (int)(o % (uint)OW), oh = (int)((o / (uint)OW) % (uint)OH);
    __global const float *xp = x + x_off + (o / (uint)(OW * OH)) * (uint)(IH * IW);
    if (!bilinear) {
        y[y_off + o] = xp[nearest_source(oh, IH, rh) * IW + nearest_source(ow, IW, rw)];
        return;
    }
    int h0, h1, w0, w1;
    float a0, a1, b0, b1;
    linear_source(oh, IH, rh, align, &h0, &h1, &a0, &a1);
    linear_source(ow, IW, rw, align, &w0, &w1, &b0, &b1);
    float top = b0 * xp[h0 * IW + w0] + b1 * xp[h0 * IW + w1];
    float bottom = b0 * xp[h1 * IW + w0] + b1 * xp[h1 * IW + w1];
    y[y_off + o] = a0 * top + a1 * bottom;
}

/* One input pixel per work-item: the outputs that touch it, row by row in order, times their
 * weights. */
__kernel __attribute__((reqd_work_group_size(UPS_WG, 1, 1)))
void upsample_backward(__global const float *dy, uint dy_off, __global float *dx, uint dx_off, uint n, int IH,
                       int IW, int OH, int OW, float rh, float rw, int bilinear, int align, float beta)
{
    uint e = get_global_id(0);
    if (e >= n)
        return;
    int iw = (int)(e % (uint)IW), ih = (int)((e / (uint)IW) % (uint)IH);
    __global const float *dyp = dy + dy_off + (e / (uint)(IW * IH)) * (uint)(OH * OW);
    int h_lo, h_hi, w_lo, w_hi;
    candidates(ih, IH, OH, rh, bilinear, align, &h_lo, &h_hi);
    candidates(iw, IW, OW, rw, bilinear, align, &w_lo, &w_hi);
    float sum = 0.0f;
    for (int oh = h_lo; oh <= h_hi; oh++) {
        float wh, ww;
        if (!touches(oh, ih, IH, rh, bilinear, align, &wh))
            continue;
        float row = 0.0f;
        for (int ow = w_lo; ow <= w_hi; ow++)
            if (touches(ow, iw, IW, rw, bilinear, align, &ww))
                row += ww * dyp[oh * OW + ow];
        sum += wh * row;
    }
    ACCUMULATE(dx[dx_off + e], beta, sum);
}
