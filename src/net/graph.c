/* Building a net: nodes in build order, parameters with PyTorch names, sticky build errors that
 * name the layer, and free-form metadata. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

clseg_status clseg_net_create(clseg_net **out)
{
    if (out == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    clseg_net *net = calloc(1, sizeof *net);
    if (net == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    net->input = -1;
    net->output = -1;
    *out = net;
    return CLSEG_STATUS_SUCCESS;
}

void clseg_net_destroy(clseg_net *net)
{
    if (net == NULL)
        return;
    clseg_net_plan_release(&net->plan);
    for (size_t i = 0; i < net->n_params; i++) {
        clseg_tensor_destroy(net->params[i].value);
        clseg_tensor_destroy(net->params[i].grad);
        free(net->params[i].name);
    }
    clseg_tensor_destroy(net->values);
    clseg_tensor_destroy(net->buffers);
    clseg_tensor_destroy(net->grads);
    clseg_tensor_destroy(net->moment1);
    clseg_tensor_destroy(net->moment2);
    for (size_t i = 0; i < net->n_nodes; i++)
        free(net->nodes[i].name);
    for (size_t i = 0; i < net->n_meta; i++) {
        free(net->meta[i].key);
        free(net->meta[i].value);
    }
    free(net->meta);
    free(net->nodes);
    free(net->params);
    free(net);
}

const char *clseg_net_kind_str(const net_node *node)
{
    switch (node->kind) {
    case NET_INPUT: return "input";
    case NET_CONV: return node->conv.transposed ? "conv_transpose2d" : "conv2d";
    case NET_BATCHNORM: return "batchnorm2d";
    case NET_RELU: return "relu";
    case NET_SIGMOID: return "sigmoid";
    case NET_DROPOUT: return "dropout";
    case NET_MAXPOOL: return "maxpool2d";
    case NET_MAXUNPOOL: return "maxunpool2d";
    case NET_UPSAMPLE: return "upsample2d";
    case NET_GAP: return "global_avgpool";
    case NET_ADD: return "add";
    case NET_CONCAT: return "concat";
    }
    return "?";
}

const char *clseg_net_layer_label(const clseg_net *net, size_t i, char *buf, size_t size)
{
    const net_node *n = &net->nodes[i];
    if (n->name[0] != '\0')
        snprintf(buf, size, "%s '%s' (node %zu)", clseg_net_kind_str(n), n->name, i);
    else
        snprintf(buf, size, "%s (node %zu)", clseg_net_kind_str(n), i);
    return buf;
}


/* Records the first build failure; later builders return -1 at once. */
static clseg_node build_fail(clseg_net *net, clseg_status st, const char *fmt, ...) CLSEG_PRINTF(3, 4);
static clseg_node build_fail(clseg_net *net, clseg_status st, const char *fmt, ...)
{
    if (net->build_status == CLSEG_STATUS_SUCCESS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(net->build_message, sizeof net->build_message, fmt, ap);
        va_end(ap);
        net->build_status = st;
    }
    return -1;
}

/* A node input must be an earlier node. */
static bool check_node(clseg_net *net, const char *builder, const char *layer, const char *arg, clseg_node x)
{
    if (x >= 0 && (size_t)x < net->n_nodes)
        return true;
    build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s '%s': %s is node %d, which does not exist (the net has %zu nodes)",
               builder, layer, arg, x, net->n_nodes);
    return false;
}

static net_node *new_node(clseg_net *net, net_kind kind, const char *name)
{
    if (net->n_nodes == net->cap_nodes) {
        size_t cap = net->cap_nodes ? 2 * net->cap_nodes : 32;
        net_node *n = realloc(net->nodes, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        net->nodes = n;
        net->cap_nodes = cap;
    }
    net_node *node = &net->nodes[net->n_nodes];
    memset(node, 0, sizeof *node);
    node->name = dup_str(name);
    if (node->name == NULL)
        return NULL;
    node->kind = kind;
    node->ref = -1;
    for (int i = 0; i < NET_P_MAX; i++)
        node->param[i] = -1;
    net->n_nodes++;
    return node;
}

static bool add_param(clseg_net *net, net_node *node, int slot, const char *suffix, clseg_shape shape, int dims,
                      int trainable)
{
    if (net->n_params == net->cap_params) {
        size_t cap = net->cap_params ? 2 * net->cap_params : 32;
        net_param *p = realloc(net->params, cap * sizeof *p);
        if (p == NULL)
            return false;
        net->params = p;
        net->cap_params = cap;
    }
    size_t len = strlen(node->name) + strlen(suffix) + 2;
    char *name = malloc(len);
    if (name == NULL)
        return false;
    snprintf(name, len, "%s.%s", node->name, suffix);
    net_param *p = &net->params[net->n_params];
    memset(p, 0, sizeof *p);
    p->name = name;
    p->shape = shape;
    p->dims = dims;
    p->trainable = trainable;
    size_t numel = clseg_shape_numel(shape);
    if (trainable) {
        p->offset = net->trainable_floats;
        net->trainable_floats += numel;
    } else {
        p->offset = net->buffer_floats;
        net->buffer_floats += numel;
    }
    node->param[slot] = (int)net->n_params++;
    return true;
}

/* Common entry checks: the net, no earlier failure, not planned yet (the graph is fixed once
 * parameters exist), a valid name for layers with parameters. */
static bool builder_ok(clseg_net *net, const char *builder, const char *name, bool named)
{
    if (net == NULL || net->build_status != CLSEG_STATUS_SUCCESS)
        return false;
    if (net->values != NULL || net->buffers != NULL) {
        build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the net is planned already; build it completely first",
                   builder);
        return false;
    }
    if (!named)
        return true;
    if (name == NULL || name[0] == '\0') {
        build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the layer needs a name (its parameters' prefix)", builder);
        return false;
    }
    for (size_t i = 0; i < net->n_nodes; i++)
        if (strcmp(net->nodes[i].name, name) == 0) {
            build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s '%s': the name is used by node %zu already", builder,
                       name, i);
            return false;
        }
    return true;
}

static clseg_node out_of_memory(clseg_net *net, const char *builder)
{
    return build_fail(net, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "%s: out of host memory", builder);
}

clseg_node clseg_net_input(clseg_net *net, int64_t channels)
{
    const char *b = "clseg_net_input";
    if (!builder_ok(net, b, "", false))
        return -1;
    if (net->input >= 0)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the net has an input already (node %d)", b,
                          net->input);
    if (channels < 1)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s: channels is %lld; it must be at least 1", b,
                          (long long)channels);
    net_node *node = new_node(net, NET_INPUT, "");
    if (node == NULL)
        return out_of_memory(net, b);
    node->channels = channels;
    net->input = (int)(net->n_nodes - 1);
    return net->input;
}

clseg_node clseg_net_conv2d(clseg_net *net, const char *name, clseg_node x, int64_t out_channels,
                            const clseg_conv2d_desc *desc, int bias)
{
    const char *b = "clseg_net_conv2d";
    if (!builder_ok(net, b, name, true) || !check_node(net, b, name, "x", x))
        return -1;
    if (desc == NULL)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s '%s': desc is NULL", b, name);
    if (out_channels < 1)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s '%s': out_channels is %lld; it must be at least 1", b,
                          name, (long long)out_channels);
    int64_t in_channels = net->nodes[x].channels;
    clseg_shape w = desc->transposed ? (clseg_shape){in_channels, out_channels, desc->kernel_h, desc->kernel_w}
                                     : (clseg_shape){out_channels, in_channels, desc->kernel_h, desc->kernel_w};
    /* The geometry is checked now on a nominal input large enough for any kernel, so a bad desc
     * fails at build time with the layer's name. */
    int64_t big = 1 + (int64_t)(desc->kernel_h > desc->kernel_w ? desc->kernel_h : desc->kernel_w) *
                          (int64_t)(desc->dilation_h > desc->dilation_w ? desc->dilation_h : desc->dilation_w);
    clseg_shape ys;
    if (desc->kernel_h < 1 || desc->kernel_w < 1 ||
        clseg_conv2d_output_shape(desc, (clseg_shape){1, in_channels, big, big}, w, &ys) != CLSEG_STATUS_SUCCESS)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s '%s': invalid geometry (kernel %dx%d, stride %dx%d, padding %dx%d, dilation %dx%d, "
                          "output padding %dx%d)",
                          b, name, desc->kernel_h, desc->kernel_w, desc->stride_h, desc->stride_w, desc->pad_h,
                          desc->pad_w, desc->dilation_h, desc->dilation_w, desc->output_pad_h, desc->output_pad_w);
    net_node *node = new_node(net, NET_CONV, name);
    if (node == NULL)
        return out_of_memory(net, b);
    node->in[0] = x;
    node->nin = 1;
    node->conv = *desc;
    node->conv_in = in_channels;
    node->channels = out_channels;
    if (!add_param(net, node, NET_P_WEIGHT, "weight", w, 4, 1) ||
        (bias && !add_param(net, node, NET_P_BIAS, "bias", (clseg_shape){1, 1, 1, out_channels}, 1, 1)))
        return out_of_memory(net, b);
    return (clseg_node)(net->n_nodes - 1);
}

clseg_node clseg_net_batchnorm2d(clseg_net *net, const char *name, clseg_node x, const clseg_batchnorm_desc *desc)
{
    const char *b = "clseg_net_batchnorm2d";
    if (!builder_ok(net, b, name, true) || !check_node(net, b, name, "x", x))
        return -1;
    if (desc == NULL)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s '%s': desc is NULL", b, name);
    if (!(desc->momentum >= 0.0f && desc->momentum <= 1.0f) || !(desc->eps > 0.0f))
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s '%s': momentum %g must be in [0, 1] and eps %g positive", b, name,
                          (double)desc->momentum, (double)desc->eps);
    int64_t c = net->nodes[x].channels;
    net_node *node = new_node(net, NET_BATCHNORM, name);
    if (node == NULL)
        return out_of_memory(net, b);
    node->in[0] = x;
    node->nin = 1;
    node->bn = *desc;
    node->channels = c;
    clseg_shape v = {1, 1, 1, c};
    if (!add_param(net, node, NET_P_WEIGHT, "weight", v, 1, 1) || !add_param(net, node, NET_P_BIAS, "bias", v, 1, 1) ||
        !add_param(net, node, NET_P_RUNNING_MEAN, "running_mean", v, 1, 0) ||
        !add_param(net, node, NET_P_RUNNING_VAR, "running_var", v, 1, 0))
        return out_of_memory(net, b);
    return (clseg_node)(net->n_nodes - 1);
}

/* A layer without parameters of one or two data inputs. */
static clseg_node simple(clseg_net *net, const char *b, net_kind kind, clseg_node x, clseg_node y)
{
    if (!builder_ok(net, b, "", false) || !check_node(net, b, "", "x", x) ||
        (y != -2 && !check_node(net, b, "", "the second input", y)))
        return -1;
    net_node *node = new_node(net, kind, "");
    if (node == NULL)
        return out_of_memory(net, b);
    node->in[0] = x;
    node->nin = 1;
    if (y != -2) {
        node->in[1] = y;
        node->nin = 2;
    }
    node->channels = net->nodes[x].channels;
    return (clseg_node)(net->n_nodes - 1);
}

clseg_node clseg_net_relu(clseg_net *net, clseg_node x) { return simple(net, "clseg_net_relu", NET_RELU, x, -2); }

clseg_node clseg_net_sigmoid(clseg_net *net, clseg_node x)
{
    return simple(net, "clseg_net_sigmoid", NET_SIGMOID, x, -2);
}

clseg_node clseg_net_dropout(clseg_net *net, clseg_node x, float p)
{
    if (net != NULL && net->build_status == CLSEG_STATUS_SUCCESS && !(p >= 0.0f && p < 1.0f))
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_net_dropout: p is %g; it must be in [0, 1)",
                          (double)p);
    clseg_node n = simple(net, "clseg_net_dropout", NET_DROPOUT, x, -2);
    if (n >= 0)
        net->nodes[n].p = p;
    return n;
}

clseg_node clseg_net_maxpool2d(clseg_net *net, clseg_node x, const clseg_pool2d_desc *desc)
{
    const char *b = "clseg_net_maxpool2d";
    if (net != NULL && net->build_status == CLSEG_STATUS_SUCCESS &&
        (desc == NULL || desc->kernel_h < 1 || desc->kernel_w < 1 || desc->stride_h < 1 || desc->stride_w < 1 ||
         desc->pad_h < 0 || desc->pad_w < 0 || desc->pad_h > desc->kernel_h / 2 || desc->pad_w > desc->kernel_w / 2))
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s (node %zu): invalid or NULL desc", b, net->n_nodes);
    clseg_node n = simple(net, b, NET_MAXPOOL, x, -2);
    if (n >= 0)
        net->nodes[n].pool = *desc;
    return n;
}

clseg_node clseg_net_maxunpool2d(clseg_net *net, clseg_node x, clseg_node pool)
{
    const char *b = "clseg_net_maxunpool2d";
    if (net == NULL || net->build_status != CLSEG_STATUS_SUCCESS || !check_node(net, b, "", "pool", pool))
        return -1;
    if (net->nodes[pool].kind != NET_MAXPOOL)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s (node %zu): pool is node %d, a %s, not a maxpool2d",
                          b, net->n_nodes, pool, clseg_net_kind_str(&net->nodes[pool]));
    clseg_node n = simple(net, b, NET_MAXUNPOOL, x, -2);
    if (n < 0)
        return n;
    if (net->nodes[x].channels != net->nodes[pool].channels)
        return build_fail(net, CLSEG_STATUS_SHAPE_MISMATCH,
                          "%s (node %d): x has %lld channels but pooling node %d has %lld", b, n,
                          (long long)net->nodes[x].channels, pool, (long long)net->nodes[pool].channels);
    net->nodes[n].ref = pool;
    net->nodes[n].pool = net->nodes[pool].pool;
    return n;
}

clseg_node clseg_net_upsample2d(clseg_net *net, clseg_node x, const clseg_upsample_desc *desc, clseg_node like)
{
    const char *b = "clseg_net_upsample2d";
    if (net == NULL || net->build_status != CLSEG_STATUS_SUCCESS)
        return -1;
    if (desc == NULL)
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "%s (node %zu): desc is NULL", b, net->n_nodes);
    if (like >= 0 && !check_node(net, b, "", "like", like))
        return -1;
    if (like < 0 && !(desc->scale_h > 0 && desc->scale_w > 0))
        return build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s (node %zu): without a like node the scale factors must be positive (%g, %g)", b,
                          net->n_nodes, (double)desc->scale_h, (double)desc->scale_w);
    clseg_node n = simple(net, b, NET_UPSAMPLE, x, -2);
    if (n < 0)
        return n;
    net->nodes[n].up = *desc;
    net->nodes[n].ref = like;
    if (like >= 0) /* to like's size, F.interpolate(x, size=...): scales follow from the sizes */
        net->nodes[n].up.scale_h = net->nodes[n].up.scale_w = 0.0f;
    return n;
}

clseg_node clseg_net_global_avgpool(clseg_net *net, clseg_node x)
{
    return simple(net, "clseg_net_global_avgpool", NET_GAP, x, -2);
}

clseg_node clseg_net_add(clseg_net *net, clseg_node a, clseg_node b)
{
    clseg_node n = simple(net, "clseg_net_add", NET_ADD, a, b);
    if (n >= 0 && net->nodes[a].channels != net->nodes[b].channels)
        return build_fail(net, CLSEG_STATUS_SHAPE_MISMATCH, "clseg_net_add (node %d): a (node %d) has %lld channels, "
                          "b (node %d) %lld", n, a, (long long)net->nodes[a].channels, b,
                          (long long)net->nodes[b].channels);
    return n;
}

clseg_node clseg_net_concat(clseg_net *net, clseg_node a, clseg_node b)
{
    clseg_node n = simple(net, "clseg_net_concat", NET_CONCAT, a, b);
    if (n >= 0)
        net->nodes[n].channels = net->nodes[a].channels + net->nodes[b].channels;
    return n;
}

clseg_status clseg_net_set_output(clseg_net *net, clseg_node y)
{
    if (net == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (net->build_status != CLSEG_STATUS_SUCCESS)
        return net->build_status;
    if (!check_node(net, "clseg_net_set_output", "", "y", y))
        return net->build_status;
    if (net->nodes[y].kind == NET_INPUT) {
        build_fail(net, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_net_set_output: the output cannot be the input node");
        return net->build_status;
    }
    net->output = y;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_net_build_status(const clseg_net *net, const char **message)
{
    if (net == NULL) {
        if (message != NULL)
            *message = "the net is NULL";
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (message != NULL)
        *message = net->build_message;
    return net->build_status;
}

clseg_status clseg_net_set_meta(clseg_net *net, const char *key, const char *value)
{
    if (net == NULL || key == NULL || value == NULL || key[0] == '\0')
        return CLSEG_STATUS_INVALID_ARGUMENT;
    char *v = dup_str(value);
    if (v == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < net->n_meta; i++)
        if (strcmp(net->meta[i].key, key) == 0) {
            free(net->meta[i].value);
            net->meta[i].value = v;
            return CLSEG_STATUS_SUCCESS;
        }
    char *k = dup_str(key);
    net_meta *m = realloc(net->meta, (net->n_meta + 1) * sizeof *m);
    if (k == NULL || m == NULL) {
        free(k);
        free(v);
        if (m != NULL)
            net->meta = m;
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    net->meta = m;
    net->meta[net->n_meta].key = k;
    net->meta[net->n_meta].value = v;
    net->n_meta++;
    return CLSEG_STATUS_SUCCESS;
}

size_t clseg_net_meta_count(const clseg_net *net) { return net != NULL ? net->n_meta : 0; }

clseg_status clseg_net_meta_at(const clseg_net *net, size_t index, const char **key, const char **value)
{
    if (net == NULL || key == NULL || value == NULL || index >= net->n_meta)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    *key = net->meta[index].key;
    *value = net->meta[index].value;
    return CLSEG_STATUS_SUCCESS;
}

const char *clseg_net_meta(const clseg_net *net, const char *key)
{
    if (net == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < net->n_meta; i++)
        if (strcmp(net->meta[i].key, key) == 0)
            return net->meta[i].value;
    return NULL;
}
