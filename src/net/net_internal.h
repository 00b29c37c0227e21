/* What a clseg_net holds: the graph (nodes in build order, which is a topological order because
 * builders only reference earlier nodes), the parameters (views into flat tensors, so one
 * optimiser call updates them all) and the current plan (shapes, tensors, betas). */
#ifndef CLSEG_NET_INTERNAL_H
#define CLSEG_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/net.h"
#include "core/internal.h"

typedef enum net_kind {
    NET_INPUT,
    NET_CONV,
    NET_BATCHNORM,
    NET_RELU,
    NET_SIGMOID,
    NET_DROPOUT,
    NET_MAXPOOL,
    NET_MAXUNPOOL,
    NET_UPSAMPLE,
    NET_GAP,
    NET_ADD,
    NET_CONCAT
} net_kind;

/* Parameter slots of a node: conv weight, bias; batch norm weight, bias, running_mean, running_var. */
enum { NET_P_WEIGHT, NET_P_BIAS, NET_P_RUNNING_MEAN, NET_P_RUNNING_VAR, NET_P_MAX };

typedef struct net_node {
    net_kind kind;
    char *name;     /* parameter prefix, "" for layers without parameters */
    int in[2];      /* data inputs (earlier nodes) */
    int nin;
    int ref;        /* maxunpool: its pooling node; upsample: the "like" node or -1 */
    int64_t channels; /* output channels, known at build time */
    clseg_conv2d_desc conv;
    int64_t conv_in; /* conv: input channels */
    clseg_batchnorm_desc bn;
    clseg_pool2d_desc pool;
    clseg_upsample_desc up;
    float p; /* dropout */
    int param[NET_P_MAX]; /* indices into net->params, -1 when absent */
    /* the last planning (or estimate) pass: */
    clseg_shape shape;
    double flops;
} net_node;

typedef struct net_param {
    char *name;
    clseg_shape shape; /* PyTorch's dims padded with leading 1s */
    int dims;
    int trainable;
    size_t offset; /* elements into the trainable flat tensor, or the buffer flat tensor */
    clseg_tensor *value, *grad;
} net_param;

/* Per node, what the plan decided and bound. */
typedef struct net_node_plan {
    int root;      /* node whose activation memory this output uses (itself unless in place) */
    int grad_root; /* node whose gradient memory this gradient uses; -1: no gradient */
    int act_slot, grad_slot;
    int last_use;  /* of a root's memory, forward index; INT32_MAX: kept for backward/output */
    bool live;     /* contributes to the output (backward runs for it) */
    bool alias_in[2]; /* backward: input k's gradient IS this node's (no call needed) */
    float beta[2];    /* backward: accumulate factor for input k's gradient */
    clseg_tensor *out;  /* views into slots (roots only; aliases use their root's) */
    clseg_tensor *grad; /* grad roots only */
    clseg_tensor *extra[2]; /* BN save_mean/save_invstd; pool indices; dropout mask */
    int fused_relu; /* batch norm: the ReLU it runs (writes its output, reads its gradient); -1: none */
    bool fused;     /* ReLU run by the batch norm before it: no call of its own */
} net_node_plan;

typedef struct net_plan {
    bool valid;
    clseg_context *ctx;
    clseg_net_mode mode;
    clseg_shape input, output;
    bool output_grad_internal; /* the output feeds other layers too: its gradient is a slot */
    const clseg_tensor *last_input; /* of the latest forward pass, which backward reads */
    net_node_plan *nodes;
    size_t n_nodes;
    size_t n_act_slots, n_grad_slots;
    size_t *act_slot_floats, *grad_slot_floats;
    clseg_tensor **act_slots, **grad_slots;
    size_t workspace_bytes;
    clseg_tensor *workspace;
    clseg_tensor *loss_value, *doutput; /* TRAIN */
    uint64_t grad_unshared_bytes;       /* every activation gradient in its own tensor */
    uint64_t act_unshared_bytes;        /* every layer's output in its own tensor */
    clseg_net_memory mem;
} net_plan;

typedef struct net_meta {
    char *key, *value;
} net_meta;

struct clseg_net {
    net_node *nodes;
    size_t n_nodes, cap_nodes;
    net_param *params;
    size_t n_params, cap_params;
    size_t trainable_floats, buffer_floats;
    int input, output;
    clseg_status build_status;
    char build_message[512];
    net_meta *meta;
    size_t n_meta;

    /* parameters, bound to ctx at the first plan */
    clseg_context *ctx;
    clseg_tensor *values, *buffers;       /* flat trainable values; flat running statistics */
    clseg_tensor *grads, *moment1, *moment2; /* TRAIN plans */
    uint64_t seed;
    int64_t steps;
    net_plan plan;
};

/* shapes.c: shapes and flops of every node for input; SHAPE_MISMATCH etc. with a message in err */
clseg_status clseg_net_infer_shapes(clseg_net *net, clseg_shape input, char *err, size_t err_size);

/* memory.c: roots, lifetimes, slots and betas of plan (mode set, shapes inferred) */
clseg_status clseg_net_assign_memory(const clseg_net *net, net_plan *plan, char *err, size_t err_size);

/* fuse.c: which batch norms run the ReLU after them (after clseg_net_assign_memory) */
clseg_status clseg_net_plan_fusions(const clseg_net *net, net_plan *plan, char *err, size_t err_size);

/* plan.c */
void clseg_net_plan_release(net_plan *plan);

/* init.c: host values of every parameter, deterministic from seed */
clseg_status clseg_net_init_values(clseg_net *net, uint64_t seed);

/* graph.c */
const char *clseg_net_kind_str(const net_node *node);
/* "conv2d 'enc.conv' (node 3)", "relu (node 4)" */
const char *clseg_net_layer_label(const clseg_net *net, size_t i, char *buf, size_t size);

/* A conv node's weight shape: (K, C, kh, kw), or (C, K, kh, kw) when transposed. */
static inline clseg_shape clseg_net_conv_weight_shape(const net_node *n)
{
    return n->conv.transposed ? (clseg_shape){n->conv_in, n->channels, n->conv.kernel_h, n->conv.kernel_w}
                              : (clseg_shape){n->channels, n->conv_in, n->conv.kernel_h, n->conv.kernel_w};
}

/* The tensor holding node i's output in the current plan (input: the caller's tensor). */
static inline clseg_tensor *clseg_net_node_out(const clseg_net *net, int i, const clseg_tensor *input)
{
    int r = net->plan.nodes[i].root;
    return r == net->input ? (clseg_tensor *)input : net->plan.nodes[r].out;
}

static inline clseg_tensor *clseg_net_node_grad(const clseg_net *net, int i, const clseg_tensor *doutput)
{
    int g = net->plan.nodes[i].grad_root;
    if (g < 0)
        return NULL;
    return g == net->output && !net->plan.output_grad_internal ? (clseg_tensor *)doutput : net->plan.nodes[g].grad;
}

#endif
