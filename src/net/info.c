/* What is inside a net: parameters, layers, planned memory, the output. */
#include "net/net_internal.h"

size_t clseg_net_param_count(const clseg_net *net) { return net != NULL ? net->n_params : 0; }

clseg_status clseg_net_param(const clseg_net *net, size_t index, clseg_param_info *info)
{
    if (net == NULL || info == NULL || index >= net->n_params)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    const net_param *p = &net->params[index];
    info->name = p->name;
    info->shape = p->shape;
    info->dims = p->dims;
    info->trainable = p->trainable;
    info->value = p->value;
    info->grad = p->grad;
    return CLSEG_STATUS_SUCCESS;
}

int64_t clseg_net_trainable_scalars(const clseg_net *net) { return net != NULL ? (int64_t)net->trainable_floats : 0; }

size_t clseg_net_layer_count(const clseg_net *net) { return net != NULL ? net->n_nodes : 0; }

clseg_status clseg_net_layer(const clseg_net *net, size_t index, clseg_layer_info *info)
{
    if (net == NULL || info == NULL || index >= net->n_nodes)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    const net_node *n = &net->nodes[index];
    info->kind = clseg_net_kind_str(n);
    info->name = n->name;
    info->output = n->shape;
    info->params = 0;
    for (int s = 0; s < NET_P_MAX; s++)
        if (n->param[s] >= 0 && net->params[n->param[s]].trainable)
            info->params += (int64_t)clseg_shape_numel(net->params[n->param[s]].shape);
    info->flops = n->flops;
    return CLSEG_STATUS_SUCCESS;
}

clseg_net_memory clseg_net_memory_plan(const clseg_net *net)
{
    clseg_net_memory m = {0, 0, 0, 0, 0, 0};
    return net != NULL && net->plan.valid ? net->plan.mem : m;
}

clseg_shape clseg_net_output_shape(const clseg_net *net)
{
    clseg_shape z = {0, 0, 0, 0};
    return net != NULL && net->plan.valid ? net->plan.output : z;
}

const clseg_tensor *clseg_net_output(const clseg_net *net)
{
    if (net == NULL || !net->plan.valid)
        return NULL;
    return clseg_net_node_out(net, net->output, net->plan.last_input);
}
