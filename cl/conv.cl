/* Convolution helpers around a GEMM (src/opencl/conv.c): im2col, col2im as a gather, bias
 * fill, and a deterministic two-stage per-channel sum for the bias gradient. The geometry is
 * src/ops/conv.h's: an image side (C, H, W) and a feature side (K, Ho, Wo); image row y meets
 * feature row oy through kernel row i when y = oy * sh - ph + i * dh. The im2col matrix of one
 * image has rows (c, i, j) and columns (oy, ox). Counts are 32-bit (the host checks). */

#ifndef CONV_WG
#define CONV_WG 64 /* work-group size of the bias fill */
#endif
#ifndef CONV_REDUCE_WG
#define CONV_REDUCE_WG 64 /* work-group size of both bias-gradient stages; a power of two */
#endif

/* The geometry as kernel arguments, in this order. */
#define GEOM_ARGS int C, int H, int W, int Ho, int Wo, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW

/* col (images, C KH KW, Ho Wo) from images (images, C, H, W); zero where the kernel reads padding.
 * A work-item fills one output row of one col row, so the index arithmetic (divisions, which
 * CPUs do slowly) happens once per row and not once per element. */
__kernel void im2col(__global const float *img, uint img_off, __global float *col, uint col_off, uint images,
                     GEOM_ARGS)
{
    int oy = (int)get_global_id(0);
    uint r = (uint)get_global_id(1), b = (uint)get_global_id(2), R = (uint)(C * KH * KW);
    if (oy >= Ho || r >= R || b >= images)
        return;
    int j = (int)(r % (uint)KW), i = (int)(r / (uint)KW % (uint)KH), c = (int)(r / (uint)(KW * KH));
    int y = oy * SH - PH + i * DH, x0 = j * DW - PW;
    __global float *dst = col + col_off + ((b * R + r) * (uint)Ho + (uint)oy) * (uint)Wo;
    if (y < 0 || y >= H) {
        for (int ox = 0; ox < Wo; ox++)
            dst[ox] = 0.0f;
        return;
    }
    __global const float *src = img + img_off + ((b * (uint)C + (uint)c) * (uint)H + (uint)y) * (uint)W;
    for (int ox = 0; ox < Wo; ox++) {
        int x = ox * SW + x0;
        float v = 0.0f;
        if (x >= 0 && x < W)
            v = src[x];
        dst[ox] = v;
    }
}

/* images = beta images + bias + the sum of every col entry that im2col would have read from
 * this pixel, gathered in a fixed order (kernel row, kernel column): no atomics, same bits on
 * every run. beta == 0 overwrites; has_bias == 0 ignores bias. A work-item fills one image row
 * of one channel, and stride 1 (most layers) needs no division at all. */
__kernel void col2im(__global const float *col, uint col_off, __global float *img, uint img_off,
                     __global const float *bias, uint bias_off, int has_bias, float beta, uint images, GEOM_ARGS)
{
    int y = (int)get_global_id(0);
    uint c = (uint)get_global_id(1), b = (uint)get_global_id(2);
    if (y >= H || c >= (uint)C || b >= images)
        return;
    uint P = (uint)(Ho * Wo), R = (uint)(C * KH * KW);
    __global const float *cb = col + col_off + b * R * P;
    __global float *dst = img + img_off + ((b * (uint)C + c) * (uint)H + (uint)y) * (uint)W;
    float bias_value = has_bias ? bias[bias_off + c] : 0.0f;
    for (int x = 0; x < W; x++) {
        float s = 0.0f;
        for (int i = 0; i < KH; i++) {
            int oy = y + PH - i * DH;
            if (oy < 0 || (SH != 1 && oy % SH != 0))
                continue;
            oy = SH != 1 ? oy / SH : oy;
            if (oy >= Ho)
                continue;
            __global const float *crow = cb + (c * (uint)KH + (uint)i) * (uint)KW * P + (uint)(oy * Wo);
            for (int j = 0; j < KW; j++) {
                int ox = x + PW - j * DW;
                if (ox < 0 || (SW != 1 && ox % SW != 0))
                    continue;
                ox = SW != 1 ? ox / SW : ox;
                if (ox < Wo)
                    s += crow[(uint)j * P + (uint)ox];
            }
        }
        if (has_bias)
            s += bias_value;
        dst[x] = beta == 0.0f ? s : beta * dst[x] + s;
    }
}

/* y = beta y + bias[channel] over (N, channels, hw); beta == 0 overwrites. */
__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void bias_fill(__global float *y, uint y_off, __global const float *bias, uint bias_off, uint channels, uint hw,
               float beta, uint total)
{
    uint idx = get_global_id(0);
    if (idx >= total)
        return;
    float v = bias[bias_off + idx / hw % channels];
    y[y_off + idx] = beta == 0.0f ? v : beta * y[y_off + idx] + v;
}

/* Sums CONV_REDUCE_WG values in local memory by halving; the order depends only on the size. */
inline float conv_tree_sum(__local float *acc, float mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = CONV_REDUCE_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* Stage 1, grid (groups CONV_REDUCE_WG, channels): group g of channel c sums the elements
 * e = g CONV_REDUCE_WG + lid + t groups CONV_REDUCE_WG of that channel's n hw elements. */
__kernel __attribute__((reqd_work_group_size(CONV_REDUCE_WG, 1, 1)))
void channel_sum_partial(__global const float *x, uint x_off, uint channels, uint hw, uint count,
                         __global float *partial, uint p_off)
{
    __local float acc[CONV_REDUCE_WG];
    uint c = get_global_id(1), groups = get_num_groups(0), stride = groups * CONV_REDUCE_WG;
    float mine = 0.0f;
    for (uint e = get_global_id(0); e < count; e += stride)
        mine += x[x_off + (e / hw * channels + c) * hw + e % hw];
    float total = conv_tree_sum(acc, mine);
    if (get_local_id(0) == 0)
        partial[p_off + c * groups + get_group_id(0)] = total;
}

/* Stage 2, grid (CONV_REDUCE_WG, channels): out[c] = beta out[c] + the sum of c's partials. */
__kernel __attribute__((reqd_work_group_size(CONV_REDUCE_WG, 1, 1)))
void channel_sum_final(__global const float *partial, uint p_off, uint groups, __global float *out, uint out_off,
                       float beta)
{
    __local float acc[CONV_REDUCE_WG];
    uint c = get_global_id(1);
    float mine = 0.0f;
    for (uint g = get_local_id(0); g < groups; g += CONV_REDUCE_WG)
        mine += partial[p_off + c * groups + g];
    float total = conv_tree_sum(acc, mine);
    if (get_local_id(0) == 0)
        out[out_off + c] = beta == 0.0f ? total : beta * out[out_off + c] + total;
}
