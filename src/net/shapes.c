/* Shape inference per layer kind, with nominal flop counts (see clseg_layer_info in net.h). */
#include <stdio.h>

#include "net/net_internal.h"
#include "ops/check.h"

static bool same_shape(clseg_shape a, clseg_shape b) { return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w; }

clseg_status clseg_net_infer_shapes(clseg_net *net, clseg_shape input, char *err, size_t err_size)
{
    char lab[160], s1[64], s2[64];
    for (size_t i = 0; i < net->n_nodes; i++) {
        net->nodes[i].shape = (clseg_shape){0, 0, 0, 0};
        net->nodes[i].flops = 0.0;
    }
    for (size_t i = 0; i < net->n_nodes; i++) {
        net_node *n = &net->nodes[i];
        clseg_shape x = n->nin > 0 ? net->nodes[n->in[0]].shape : input, y = x;
        double per_out = 0.0; /* nominal flops per output element */
        clseg_net_layer_label(net, i, lab, sizeof lab);
        switch (n->kind) {
        case NET_INPUT:
            y = input;
            break;
        case NET_CONV: {
            clseg_shape w = clseg_net_conv_weight_shape(n);
            if (clseg_conv2d_output_shape(&n->conv, x, w, &y) != CLSEG_STATUS_SUCCESS) {
                clseg_errbuf_set(err, err_size, "%s: input %s is too small for its kernel", lab,
                                 clseg_shape_str(x, s1, sizeof s1));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            n->flops = clseg_conv2d_flops(&n->conv, x, w); /* the bias adds are not counted */
            break;
        }
        case NET_BATCHNORM:
            per_out = 2.0; /* one multiply and one add per element (statistics not counted) */
            break;
        case NET_RELU:
        case NET_DROPOUT:
            per_out = 1.0;
            break;
        case NET_SIGMOID:
            per_out = 4.0; /* negate, exp, add, divide */
            break;
        case NET_MAXPOOL:
            if (clseg_pool2d_output_shape(&n->pool, x, &y) != CLSEG_STATUS_SUCCESS) {
                clseg_errbuf_set(err, err_size, "%s: input %s is too small for its window", lab,
                                 clseg_shape_str(x, s1, sizeof s1));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            per_out = (double)n->pool.kernel_h * n->pool.kernel_w - 1.0; /* comparisons */
            break;
        case NET_MAXUNPOOL: {
            const net_node *p = &net->nodes[n->ref];
            if (!same_shape(x, p->shape)) {
                clseg_errbuf_set(err, err_size, "%s: x is %s but pooling node %d produced %s", lab,
                                 clseg_shape_str(x, s1, sizeof s1), n->ref, clseg_shape_str(p->shape, s2, sizeof s2));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            y = net->nodes[p->in[0]].shape;
            break;
        }
        case NET_UPSAMPLE:
            if (n->ref >= 0) {
                y = (clseg_shape){x.n, x.c, net->nodes[n->ref].shape.h, net->nodes[n->ref].shape.w};
            } else if (clseg_upsample2d_output_shape(&n->up, x, &y) != CLSEG_STATUS_SUCCESS || y.h < 1 || y.w < 1) {
                clseg_errbuf_set(err, err_size, "%s: input %s scaled by %gx%g is empty", lab,
                                 clseg_shape_str(x, s1, sizeof s1), (double)n->up.scale_h, (double)n->up.scale_w);
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            per_out = n->up.mode == CLSEG_UPSAMPLE_BILINEAR ? 7.0 : 0.0; /* 4 multiplies, 3 adds */
            break;
        case NET_GAP:
            y = (clseg_shape){x.n, x.c, 1, 1};
            n->flops = (double)clseg_shape_numel(x); /* one add per input element */
            break;
        case NET_ADD:
        case NET_CONCAT: {
            clseg_shape b = net->nodes[n->in[1]].shape;
            bool ok = n->kind == NET_ADD ? same_shape(x, b) : (x.n == b.n && x.h == b.h && x.w == b.w);
            if (!ok) {
                clseg_errbuf_set(err, err_size, "%s: inputs %s (node %d) and %s (node %d) do not fit together", lab,
                                 clseg_shape_str(x, s1, sizeof s1), n->in[0], clseg_shape_str(b, s2, sizeof s2),
                                 n->in[1]);
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            if (n->kind == NET_CONCAT)
                y.c = x.c + b.c;
            else
                per_out = 1.0;
            break;
        }
        }
        n->shape = y;
        if (per_out > 0.0)
            n->flops = per_out * (double)clseg_shape_numel(y);
    }
    return CLSEG_STATUS_SUCCESS;
}

