/* Networks assembled from the ops: a graph of layers whose parameters carry PyTorch state_dict
 * names, with shapes inferred and memory planned once per input shape, then forward, backward
 * and optimiser steps that allocate nothing. The same net runs on any context (OpenCL or ref).
 *
 * Building is host-only and never fails loudly: each builder returns the new node, or a negative
 * value once any builder has failed; the first failure is kept, so a model can chain its calls
 * and check clseg_net_build_status() once. */
#ifndef CLSEG_NET_H
#define CLSEG_NET_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/context.h"
#include "clseg/conv.h"
#include "clseg/export.h"
#include "clseg/loss.h"
#include "clseg/norm.h"
#include "clseg/optim.h"
#include "clseg/pool.h"
#include "clseg/tensor.h"
#include "clseg/upsample.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_net clseg_net;
typedef int clseg_node; /* a layer's output within its net; negative after a build error */

CLSEG_API clseg_status clseg_net_create(clseg_net **out);
CLSEG_API void clseg_net_destroy(clseg_net *net);

/* --- building ------------------------------------------------------------------------- */

/* The input image: N x channels x H x W, N and H x W given at planning. One input per net. */
CLSEG_API clseg_node clseg_net_input(clseg_net *net, int64_t channels);
/* A convolution, or a transposed one (desc->transposed), with parameters name.weight and, when
 * bias is set, name.bias. Weights start He/Kaiming-normal: std sqrt(2 / fan_in), fan_in = weight
 * dim 1 x kh x kw as PyTorch computes it (C_in kh kw for a convolution, C_out kh kw for a
 * transposed one, whose weight is C_in x C_out x kh x kw); biases 0. */
CLSEG_API clseg_node clseg_net_conv2d(clseg_net *net, const char *name, clseg_node x, int64_t out_channels,
                                      const clseg_conv2d_desc *desc, int bias);
/* Parameters name.weight (ones), name.bias (zeros); buffers name.running_mean (zeros) and
 * name.running_var (ones). Training mode uses batch statistics, inference the running ones. */
CLSEG_API clseg_node clseg_net_batchnorm2d(clseg_net *net, const char *name, clseg_node x,
                                           const clseg_batchnorm_desc *desc);
CLSEG_API clseg_node clseg_net_relu(clseg_net *net, clseg_node x);
CLSEG_API clseg_node clseg_net_sigmoid(clseg_net *net, clseg_node x);
/* Active in training only; each step draws a new mask from the net's seed, the step count and
 * the layer's position. In inference it is the identity (no call, no memory). */
CLSEG_API clseg_node clseg_net_dropout(clseg_net *net, clseg_node x, float p);
/* Max pooling that keeps its indices for a later clseg_net_maxunpool2d. */
CLSEG_API clseg_node clseg_net_maxpool2d(clseg_net *net, clseg_node x, const clseg_pool2d_desc *desc);
/* Max-unpooling of x with the indices of pool (a clseg_net_maxpool2d node), back to the shape
 * of that pooling's input. */
CLSEG_API clseg_node clseg_net_maxunpool2d(clseg_net *net, clseg_node x, clseg_node pool);
/* Resizes x: by desc's scale factors, or, with like >= 0, to like's height and width (then desc's
 * scale factors are ignored, as F.interpolate(x, size=...) does). */
CLSEG_API clseg_node clseg_net_upsample2d(clseg_net *net, clseg_node x, const clseg_upsample_desc *desc,
                                          clseg_node like);
CLSEG_API clseg_node clseg_net_global_avgpool(clseg_net *net, clseg_node x);
CLSEG_API clseg_node clseg_net_add(clseg_net *net, clseg_node a, clseg_node b);
/* Channels of a, then of b. */
CLSEG_API clseg_node clseg_net_concat(clseg_net *net, clseg_node a, clseg_node b);
/* The node whose value is the net's output (logits, or a reconstruction). It may feed other
 * layers too (its gradient is then dL/doutput plus theirs). */
CLSEG_API clseg_status clseg_net_set_output(clseg_net *net, clseg_node y);

/* SUCCESS, or the first build failure; *message (may be NULL) says what and where. */
CLSEG_API clseg_status clseg_net_build_status(const clseg_net *net, const char **message);

/* Free-form key/value text kept with the net and written into checkpoints' metadata (the
 * model's name and configuration). Keys and values are copied. */
CLSEG_API clseg_status clseg_net_set_meta(clseg_net *net, const char *key, const char *value);
/* NULL when the key is absent. */
CLSEG_API const char *clseg_net_meta(const clseg_net *net, const char *key);
/* Every key/value pair, in the order they were first set (for writing them out). */
CLSEG_API size_t clseg_net_meta_count(const clseg_net *net);
CLSEG_API clseg_status clseg_net_meta_at(const clseg_net *net, size_t index, const char **key, const char **value);

/* --- planning and running ---------------------------------------------------------------- */

typedef enum clseg_net_mode { CLSEG_NET_INFER, CLSEG_NET_TRAIN } clseg_net_mode;

/* Bytes a plan allocates: params (trainable values and batch-norm buffers), grads (parameter
 * gradients, the activation gradients' shared slots and dL/doutput: training only), optimizer
 * (two moments: training only), activations (the shared activation slots and per-layer tensors:
 * batch-norm statistics, pooling indices, dropout masks, the loss value), workspace (one
 * scratch tensor for the largest layer); total is their sum. */
typedef struct clseg_net_memory {
    uint64_t params, grads, optimizer, activations, workspace, total; /* bytes, as planned */
} clseg_net_memory;


/* Binds the net to ctx and plans it for inputs of shape input (channels must match the input
 * node): infers every shape, and allocates what the mode needs. Training keeps the activations
 * that backward reads and shares gradient memory where lifetimes allow; inference shares
 * activation memory. The first plan allocates the parameters and initialises them from seed
 * (clseg_net_init); later plans, for another shape or mode on the same context, keep
 * parameters and optimiser state; a plan on another context first moves them there (blocking
 * copies through the host; the old context must still exist). Every device allocation
 * happens here; forward, backward and the steps allocate nothing. */
CLSEG_API clseg_status clseg_net_plan(clseg_net *net, clseg_context *ctx, clseg_shape input, clseg_net_mode mode,
                                      uint64_t seed);

/* The same planning without allocating anything: fills *mem (may be NULL) with what
 * clseg_net_plan would allocate on ctx (NULL: the reference backend's figures), and makes the
 * layer list (clseg_net_layer) describe that shape. For summaries. */
CLSEG_API clseg_status clseg_net_plan_estimate(clseg_net *net, const clseg_context *ctx, clseg_shape input,
                                               clseg_net_mode mode, clseg_net_memory *mem);

/* Re-initialises every parameter and buffer from seed (the same values on every device), and
 * clears the optimiser state and step count. INVALID_ARGUMENT before the first plan (which
 * initialises from its own seed). */
CLSEG_API clseg_status clseg_net_init(clseg_net *net, uint64_t seed);

/* The planned output shape and the output tensor (owned by the net, valid until the next plan;
 * zeros and NULL when not planned). */
CLSEG_API clseg_shape clseg_net_output_shape(const clseg_net *net);
CLSEG_API const clseg_tensor *clseg_net_output(const clseg_net *net);

/* Runs the layers on input (the planned shape). Enqueued only: nothing waits. The net keeps a
 * pointer to input for clseg_net_backward, so it must outlive that call. */
CLSEG_API clseg_status clseg_net_forward(clseg_net *net, const clseg_tensor *input);

/* From doutput = dL/doutput (the output's shape), every parameter's gradient (overwritten).
 * Needs a TRAIN plan and the forward pass of the same input just before. */
CLSEG_API clseg_status clseg_net_backward(clseg_net *net, const clseg_tensor *doutput);

typedef enum clseg_optimizer_kind { CLSEG_OPTIMIZER_SGD, CLSEG_OPTIMIZER_ADAM, CLSEG_OPTIMIZER_ADAMW } clseg_optimizer_kind;

typedef struct clseg_optimizer {
    clseg_optimizer_kind kind;
    clseg_sgd_desc sgd;   /* SGD */
    clseg_adam_desc adam; /* ADAM and ADAMW (decoupled follows the kind) */
} clseg_optimizer;

/* lr 1e-3 Adam with betas (0.9, 0.999), eps 1e-8; SGD lr 1e-2 momentum 0.9; AdamW wd 1e-2. */
CLSEG_API clseg_optimizer clseg_optimizer_make(clseg_optimizer_kind kind, float lr);
/* "sgd", "adam", "adamw" */
CLSEG_API const char *clseg_optimizer_kind_str(clseg_optimizer_kind kind);
CLSEG_API clseg_status clseg_optimizer_kind_parse(const char *name, clseg_optimizer_kind *kind);

/* One update of every trainable parameter from its gradient (step count + 1). */
CLSEG_API clseg_status clseg_net_optimizer_step(clseg_net *net, const clseg_optimizer *opt);

/* forward, loss against target (the output's shape), backward, optimiser step; then reads the
 * loss into *loss_value: the step's only wait for the device. */
CLSEG_API clseg_status clseg_net_train_step(clseg_net *net, const clseg_tensor *input, const clseg_tensor *target,
                                            const clseg_loss_desc *loss, const clseg_optimizer *opt,
                                            float *loss_value);

/* --- what is inside ------------------------------------------------------------------------ */

/* Parameters in build order: a convolution's weight then bias; a batch norm's weight, bias,
 * running_mean, running_var (PyTorch's state_dict order; num_batches_tracked is not kept: it
 * equals the step count while training with batch statistics). Trainable values, their
 * gradients and the optimiser's moments are views into one flat tensor each. */
typedef struct clseg_param_info {
    const char *name;    /* "encoder1.enc1conv1.weight" */
    clseg_shape shape;   /* as PyTorch holds it, padded with leading 1s to four dimensions */
    int dims;            /* PyTorch's number of dimensions: 4 for conv weights, 1 for vectors */
    int trainable;       /* 0 for batch-norm running statistics */
    clseg_tensor *value; /* NULL before the first plan */
    clseg_tensor *grad;  /* NULL unless trainable and planned for training (once: kept after) */
} clseg_param_info;

CLSEG_API size_t clseg_net_param_count(const clseg_net *net);
CLSEG_API clseg_status clseg_net_param(const clseg_net *net, size_t index, clseg_param_info *info);
/* Trainable scalars in all. */
CLSEG_API int64_t clseg_net_trainable_scalars(const clseg_net *net);

typedef struct clseg_layer_info {
    const char *kind;   /* "input", "conv2d", "conv_transpose2d", "batchnorm2d", "relu", "sigmoid",
                         * "dropout", "maxpool2d", "maxunpool2d", "upsample2d", "global_avgpool",
                         * "add", "concat" */
    const char *name;   /* the parameter prefix, or "" for layers without parameters */
    clseg_shape output; /* planned shape (zeros before planning) */
    int64_t params;     /* trainable scalars */
    double flops;       /* forward floating-point operations for the planned batch: convolutions
                         * clseg_conv2d_flops (bias adds not counted); nominal counts per output
                         * element elsewhere: batch norm 2, ReLU 1, dropout 1, add 1, sigmoid 4,
                         * bilinear upsampling 7, max pooling kh kw - 1; global average pooling 1
                         * per input element; input, concat, unpooling, nearest upsampling 0 */
} clseg_layer_info;

/* Layers are the nodes in build order, the input node first. */

CLSEG_API size_t clseg_net_layer_count(const clseg_net *net);
CLSEG_API clseg_status clseg_net_layer(const clseg_net *net, size_t index, clseg_layer_info *info);

CLSEG_API clseg_net_memory clseg_net_memory_plan(const clseg_net *net);

/* Training state for checkpoints: optimiser steps taken, and the optimiser's moments (flat, in
 * parameter order over the trainable parameters; NULL when not allocated). */
CLSEG_API int64_t clseg_net_step_count(const clseg_net *net);
CLSEG_API void clseg_net_set_step_count(clseg_net *net, int64_t steps);
CLSEG_API clseg_status clseg_net_optimizer_state(const clseg_net *net, clseg_tensor **first_moment,
                                                 clseg_tensor **second_moment);

#ifdef __cplusplus
}
#endif
#endif
