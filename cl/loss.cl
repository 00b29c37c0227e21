/* Losses with their gradients, and confusion counts. A tensor arrives as a buffer plus the
 * offset of its first element; counts are 32-bit (the host refuses larger tensors).
 *
 * A loss runs as three kernels with no trip to the host: loss_partial sums, per work-group, the
 * four quantities a loss needs (BCE terms, p t, p, t; MSE puts squared errors in the first)
 * into the workspace; loss_final, one work-group, adds those partials in a fixed order, writes
 * the loss and leaves the two scalars of Dice's gradient at the start of the workspace;
 * loss_grad reads them back. The group count depends only on n and the tunables, so every bit
 * of the result is the same on every run. */

#ifndef LOSS_WG
#define LOSS_WG 64 /* work-group size of the loss kernels; a power of two */
#endif
#ifndef LOSS_GROUPS
#define LOSS_GROUPS 64 /* work-groups of loss_partial (the host caps it at 1024) */
#endif
#ifndef CONF_WG
#define CONF_WG 64 /* work-group size of confusion_counts (one group per image); a power of two */
#endif

/* clseg_loss_kind's values (include/clseg/loss.h) */
#define KIND_BCE 0
#define KIND_DICE 1
#define KIND_BCE_DICE 2
#define KIND_MSE 3
/* The workspace starts with CLSEG_LOSS_SCALARS floats (src/ops/loss.h), then the partials. */
#define SCALARS 4

/* sigmoid(z) into *p and 1 - sigmoid(z) into *q, both from e = exp(-|z|) <= 1: no overflow
 * for any z and no cancellation in 1 - p. Returns e (log1p(e) is BCE's soft part). */
inline float sigmoid_parts(float z, float *p, float *q)
{
    float e = exp(-fabs(z)), big = 1.0f / (1.0f + e), small = e * big;
    *p = z >= 0.0f ? big : small;
    *q = z >= 0.0f ? small : big;
    return e;
}

/* Sums LOSS_WG float4s in local memory by halving; the order depends only on LOSS_WG. */
inline float4 tree_sum4(__local float4 *acc, float4 mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = LOSS_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* Stage 1: group g sums elements g*LOSS_WG + lid, stepping by the whole grid, into partial g. */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_partial(__global const float *x, uint x_off, __global const float *t, uint t_off, uint n, uint kind,
                  __global float *ws, uint ws_off)
{
    __local float4 acc[LOSS_WG];
    uint stride = get_num_groups(0) * LOSS_WG;
    float4 mine = (float4)(0.0f);
    for (uint i = get_global_id(0); i < n; i += stride) {
        float z = x[x_off + i], tt = t[t_off + i];
        if (kind == KIND_MSE) {
            float d = z - tt;
            mine.x += d * d;
        } else {
            float p, q, e = sigmoid_parts(z, &p, &q);
            if (kind != KIND_DICE)
                mine.x += fmax(z, 0.0f) - z * tt + log1p(e);
            mine.yzw += (float3)(p * tt, p, tt);
        }
    }
    float4 total = tree_sum4(acc, mine);
    if (get_local_id(0) == 0)
        vstore4(total, 0, ws + ws_off + SCALARS + 4 * get_group_id(0));
}

/* Stage 2: one group adds the partials, writes the loss and Dice's gradient scalars
 * c0 = wd num / den^2 and c1 = 2 wd / den (dDice/dp_i = c0 - c1 t_i). */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_final(__global float *ws, uint ws_off, uint groups, uint n, uint kind, float smooth, float wb, float wd,
                __global float *loss, uint loss_off)
{
    __local float4 acc[LOSS_WG];
    float4 mine = (float4)(0.0f);
    for (uint g = get_local_id(0); g < groups; g += LOSS_WG)
        mine += vload4(0, ws + ws_off + SCALARS + 4 * g);
    float4 s = tree_sum4(acc, mine);
    if (get_local_id(0) != 0)
        return;
    float value, c0 = 0.0f, c1 = 0.0f;
    if (kind == KIND_MSE) {
        value = s.x / (float)n;
    } else {
        /* an empty prediction of an empty mask with no smoothing (den == 0) is a perfect match */
        float num = 2.0f * s.y + smooth, den = s.z + s.w + smooth, ratio = 1.0f;
        if (den > 0.0f) {
            ratio = num / den;
            c0 = wd * ratio / den;
            c1 = 2.0f * wd / den;
        }
        value = wb * (s.x / (float)n) + wd * (1.0f - ratio);
    }
    loss[loss_off] = value;
    ws[ws_off] = c0;
    ws[ws_off + 1] = c1;
}

/* dloss/dx, overwriting grad: MSE scale (x - t) with scale = 2 / n; otherwise
 * scale (p - t) + (c0 - c1 t) p (1 - p) with scale = wb / n. */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_grad(__global const float *x, uint x_off, __global const float *t, uint t_off, __global float *grad,
               uint grad_off, uint n, uint kind, float scale, __global const float *ws, uint ws_off)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float z = x[x_off + i], tt = t[t_off + i], g;
    if (kind == KIND_MSE) {
        g = scale * (z - tt);
    } else {
        float p, q;
        sigmoid_parts(z, &p, &q);
        g = scale * (p - tt) + (ws[ws_off] - ws[ws_off + 1] * tt) * p * q;
    }
    grad[grad_off + i] = g;
}

/* Sums CONF_WG uint4s by halving; integer sums are exact in any order. */
inline uint4 tree_sum_u4(__local uint4 *acc, uint4 mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = CONF_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* One work-group per image of `pixels` values: [TP, FP, FN, TN] as floats (exact: the host
 * keeps pixels <= 2^24). */
__kernel __attribute__((reqd_work_group_size(CONF_WG, 1, 1)))
void confusion_counts(__global const float *x, uint x_off, __global const float *t, uint t_off, uint pixels,
                      float threshold, __global float *counts, uint counts_off)
{
    __local uint4 acc[CONF_WG];
    uint image = get_group_id(0), base = image * pixels;
    uint4 mine = (uint4)(0u);
    for (uint i = get_local_id(0); i < pixels; i += CONF_WG) {
        uint predicted = x[x_off + base + i] > threshold ? 1u : 0u;
        uint real = t[t_off + base + i] > 0.5f ? 1u : 0u;
        mine.xyz += (uint3)(predicted & real, predicted & ~real & 1u, ~predicted & real & 1u);
    }
    uint4 c = tree_sum_u4(acc, mine);
    if (get_local_id(0) == 0) {
        c.w = pixels - c.x - c.y - c.z;
        vstore4(convert_float4(c), 0, counts + counts_off + 4 * image);
    }
}
