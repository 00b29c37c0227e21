/* Bringing the net's probability map back to a slice's own size, on the host. */
#include "eval/eval_internal.h"

/* Source position of destination index j along an axis, as PyTorch computes it for
 * align_corners=False: the lower neighbour, the upper one and the upper one's weight. */
static void source_of(int j, int in, int out, int *i0, int *i1, float *w1)
{
    float s = ((float)j + 0.5f) * ((float)in / (float)out) - 0.5f;
    if (s < 0.0f)
        s = 0.0f;
    int lo = (int)s;
    if (lo > in - 1)
        lo = in - 1;
    *i0 = lo;
    *i1 = lo < in - 1 ? lo + 1 : lo;
    float frac = s - (float)lo;
    *w1 = frac < 1.0f ? frac : 1.0f;
}

void clseg_eval_resize_bilinear(const float *in, int in_w, int in_h, float *out, int out_w, int out_h)
{
    for (int y = 0; y < out_h; y++) {
        int y0, y1;
        float wy;
        source_of(y, in_h, out_h, &y0, &y1, &wy);
        const float *r0 = in + (size_t)y0 * (size_t)in_w, *r1 = in + (size_t)y1 * (size_t)in_w;
        float *o = out + (size_t)y * (size_t)out_w;
        for (int x = 0; x < out_w; x++) {
            int x0, x1;
            float wx;
            source_of(x, in_w, out_w, &x0, &x1, &wx);
            /* PyTorch's order of operations, so values agree to the last bit or two */
            o[x] = (1.0f - wy) * ((1.0f - wx) * r0[x0] + wx * r0[x1]) + wy * ((1.0f - wx) * r1[x0] + wx * r1[x1]);
        }
    }
}
