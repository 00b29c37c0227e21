/* Parameter initialisation on the host from one seed (SplitMix64 and Box-Muller), uploaded, so
 * every device starts from the same values:
 *   conv weight   He/Kaiming normal, std = sqrt(2 / fan_in), fan_in = weight dim 1 * kh * kw,
 *                 which is C_in kh kw for a convolution and, as PyTorch computes it for a
 *                 ConvTranspose2d weight (C_in, C_out, kh, kw), C_out kh kw for a transposed one
 *   conv bias     0
 *   BN weight 1, bias 0, running_mean 0, running_var 1.
 * Values are drawn in parameter (build) order from one stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/ops.h"
#include "net/net_internal.h"
#include "util/rng.h"

/* A standard normal draw (Box-Muller, the cosine branch only: simple and reproducible). */
static double normal(clseg_rng *r)
{
    double u1 = 1.0 - (double)(clseg_rng_next(r) >> 11) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(clseg_rng_next(r) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

clseg_status clseg_net_init_values(clseg_net *net, uint64_t seed)
{
    float *vals = calloc(net->trainable_floats + 1, sizeof *vals);
    float *bufs = calloc(net->buffer_floats + 1, sizeof *bufs);
    clseg_status st = CLSEG_STATUS_SUCCESS;
    if (vals == NULL || bufs == NULL) {
        st = clseg_fail(net->ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "clseg_net_init: out of host memory");
        goto done;
    }
    clseg_rng rng = {seed};
    for (size_t i = 0; i < net->n_params; i++) {
        const net_param *p = &net->params[i];
        float *dst = (p->trainable ? vals : bufs) + p->offset;
        size_t numel = clseg_shape_numel(p->shape);
        if (p->dims == 4) { /* a conv weight */
            double fan_in = (double)(p->shape.c * p->shape.h * p->shape.w);
            double std = sqrt(2.0 / fan_in);
            for (size_t k = 0; k < numel; k++)
                dst[k] = (float)(std * normal(&rng));
        } else {
            float v = ends_with(p->name, ".running_var") || (p->trainable && ends_with(p->name, ".weight")) ? 1.0f
                                                                                                          : 0.0f;
            for (size_t k = 0; k < numel; k++)
                dst[k] = v;
        }
    }
    if (net->values != NULL)
        st = clseg_tensor_upload(net->values, vals, net->trainable_floats);
    if (st == CLSEG_STATUS_SUCCESS && net->buffers != NULL)
        st = clseg_tensor_upload(net->buffers, bufs, net->buffer_floats);
    if (st == CLSEG_STATUS_SUCCESS && net->moment1 != NULL)
        st = clseg_fill(net->ctx, net->moment1, 0.0f);
    if (st == CLSEG_STATUS_SUCCESS && net->moment2 != NULL)
        st = clseg_fill(net->ctx, net->moment2, 0.0f);
    if (st == CLSEG_STATUS_SUCCESS) {
        net->seed = seed;
        net->steps = 0;
    }
done:
    free(vals);
    free(bufs);
    return st;
}

clseg_status clseg_net_init(clseg_net *net, uint64_t seed)
{
    if (net == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (net->ctx == NULL) {
        /* nothing allocated yet: the first plan initialises from its own seed */
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    return clseg_net_init_values(net, seed);
}
