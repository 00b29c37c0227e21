/* Element-wise helpers and a deterministic two-stage sum. A tensor arrives as a buffer plus
 * the offset of its first element; counts are 32-bit (the host refuses larger tensors). */

#ifndef EW_WG
#define EW_WG 64 /* work-group size of the element-wise kernels */
#endif
#ifndef REDUCE_WG
#define REDUCE_WG 128 /* work-group size of both sum stages; a power of two */
#endif
#ifndef REDUCE_GROUPS
#define REDUCE_GROUPS 64 /* work-groups of the first sum stage, so partial sums per sum */
#endif

__kernel __attribute__((reqd_work_group_size(EW_WG, 1, 1)))
void fill(__global float *x, uint x_off, uint n, float value)
{
    uint i = get_global_id(0);
    if (i < n)
        x[x_off + i] = value;
}

__kernel __attribute__((reqd_work_group_size(EW_WG, 1, 1)))
void copy(__global const float *src, uint src_off, __global float *dst, uint dst_off, uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        dst[dst_off + i] = src[src_off + i];
}

__kernel __attribute__((reqd_work_group_size(EW_WG, 1, 1)))
void scale(__global float *x, uint x_off, uint n, float alpha)
{
    uint i = get_global_id(0);
    if (i < n)
        x[x_off + i] *= alpha;
}

/* y = alpha x + beta y; beta == 0 overwrites y, so NaNs in an unset y do not leak through. */
__kernel __attribute__((reqd_work_group_size(EW_WG, 1, 1)))
void axpby(float alpha, __global const float *x, uint x_off, float beta, __global float *y, uint y_off, uint n)
{
    uint i = get_global_id(0);
    if (i < n) {
        float ax = alpha * x[x_off + i];
        y[y_off + i] = beta == 0.0f ? ax : ax + beta * y[y_off + i];
    }
}

/* Sums REDUCE_WG values in local memory by halving; the order depends only on REDUCE_WG. */
inline float tree_sum(__local float *acc, float mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = REDUCE_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* Stage 1: group g sums elements g*REDUCE_WG + lid, stepping by the whole grid. */
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void sum_partial(__global const float *x, uint x_off, uint n, __global float *partial, uint p_off)
{
    __local float acc[REDUCE_WG];
    uint stride = get_num_groups(0) * REDUCE_WG;
    float mine = 0.0f;
    for (uint i = get_global_id(0); i < n; i += stride)
        mine += x[x_off + i];
    float total = tree_sum(acc, mine);
    if (get_local_id(0) == 0)
        partial[p_off + get_group_id(0)] = total;
}

/* Stage 2: one group sums the partials. */
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void sum_final(__global const float *partial, uint p_off, uint groups, __global float *out, uint out_off)
{
    __local float acc[REDUCE_WG];
    float mine = 0.0f;
    for (uint i = get_local_id(0); i < groups; i += REDUCE_WG)
        mine += partial[p_off + i];
    float total = tree_sum(acc, mine);
    if (get_local_id(0) == 0)
        out[out_off] = total;
}
