#include "models/blocks.h"

#include <stdarg.h>
#include <stdio.h>

const clseg_batchnorm_desc clseg_model_bn = {0.1f, 1e-5f};

clseg_param_prefix clseg_model_namef(const char *fmt, ...)
{
    clseg_param_prefix n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n.s, sizeof n.s, fmt, ap);
    va_end(ap);
    return n;
}

clseg_conv2d_desc clseg_model_conv(int k, int s, int p, int d)
{
    clseg_conv2d_desc desc = clseg_conv2d_make(k, s, p);
    desc.dilation_h = desc.dilation_w = d;
    return desc;
}

clseg_node clseg_model_deconv(clseg_net *net, const char *name, clseg_node x, int64_t out, int k, int s, int p, int op,
                              int bias)
{
    clseg_conv2d_desc desc = clseg_conv2d_make(k, s, p);
    desc.output_pad_h = desc.output_pad_w = op;
    desc.transposed = 1;
    return clseg_net_conv2d(net, name, x, out, &desc, bias);
}

clseg_node clseg_model_conv_bn(clseg_net *net, const char *conv, const char *bn, clseg_node x, int64_t out,
                               clseg_conv2d_desc desc)
{
    return clseg_net_batchnorm2d(net, bn, clseg_net_conv2d(net, conv, x, out, &desc, 0), &clseg_model_bn);
}

clseg_node clseg_model_conv_bn_relu(clseg_net *net, const char *conv, const char *bn, clseg_node x, int64_t out,
                                    clseg_conv2d_desc desc)
{
    return clseg_net_relu(net, clseg_model_conv_bn(net, conv, bn, x, out, desc));
}

/* The state torchvision's ResNet carries while it makes its layers. */
typedef struct resnet_builder {
    clseg_net *net;
    const char *prefix;
    int bottleneck;
    int64_t inplanes;
    int dilation;
} resnet_builder;

/* torchvision's BasicBlock (with dilation, which torchvision itself refuses): two 3x3 convs. */
static clseg_node basic_block(resnet_builder *r, const char *name, clseg_node x, int64_t planes, int stride,
                              int dilation, int downsample)
{
    clseg_net *net = r->net;
    clseg_node y =
        clseg_model_conv_bn_relu(net, clseg_model_namef("%s.conv1", name).s, clseg_model_namef("%s.bn1", name).s, x,
                                 planes, clseg_model_conv(3, stride, dilation, dilation));
    y = clseg_model_conv_bn(net, clseg_model_namef("%s.conv2", name).s, clseg_model_namef("%s.bn2", name).s, y, planes,
                            clseg_model_conv(3, 1, dilation, dilation));
    clseg_node identity = x;
    if (downsample)
        identity = clseg_model_conv_bn(net, clseg_model_namef("%s.downsample.0", name).s,
                                       clseg_model_namef("%s.downsample.1", name).s, x, planes,
                                       clseg_model_conv(1, stride, 0, 1));
    return clseg_net_relu(net, clseg_net_add(net, y, identity));
}

/* torchvision's Bottleneck (ResNet v1.5: the stride sits in the 3x3 conv): 1x1, 3x3, 1x1 x4. */
static clseg_node bottleneck_block(resnet_builder *r, const char *name, clseg_node x, int64_t planes, int stride,
                                   int dilation, int downsample)
{
    clseg_net *net = r->net;
    clseg_node y =
        clseg_model_conv_bn_relu(net, clseg_model_namef("%s.conv1", name).s, clseg_model_namef("%s.bn1", name).s, x,
                                 planes, clseg_model_conv(1, 1, 0, 1));
    y = clseg_model_conv_bn_relu(net, clseg_model_namef("%s.conv2", name).s, clseg_model_namef("%s.bn2", name).s, y,
                                 planes, clseg_model_conv(3, stride, dilation, dilation));
    y = clseg_model_conv_bn(net, clseg_model_namef("%s.conv3", name).s, clseg_model_namef("%s.bn3", name).s, y,
                            4 * planes, clseg_model_conv(1, 1, 0, 1));
    clseg_node identity = x;
    if (downsample)
        identity = clseg_model_conv_bn(net, clseg_model_namef("%s.downsample.0", name).s,
                                       clseg_model_namef("%s.downsample.1", name).s, x, 4 * planes,
                                       clseg_model_conv(1, stride, 0, 1));
    return clseg_net_relu(net, clseg_net_add(net, y, identity));
}

/* torchvision's ResNet._make_layer: the first block takes the stride (or, dilated, the
 * previous dilation) and the shortcut projection; the others keep the shape. */
static clseg_node make_layer(resnet_builder *r, int index, clseg_node x, int64_t planes, int blocks, int stride,
                             int dilate)
{
    int previous_dilation = r->dilation;
    if (dilate) {
        r->dilation *= stride;
        stride = 1;
    }
    int64_t expansion = r->bottleneck ? 4 : 1;
    int downsample = stride != 1 || r->inplanes != planes * expansion;
    for (int b = 0; b < blocks; b++) {
        clseg_param_prefix name = clseg_model_namef("%s.layer%d.%d", r->prefix, index, b);
        int dilation = b == 0 ? previous_dilation : r->dilation;
        x = r->bottleneck ? bottleneck_block(r, name.s, x, planes, b == 0 ? stride : 1, dilation, b == 0 && downsample)
                          : basic_block(r, name.s, x, planes, b == 0 ? stride : 1, dilation, b == 0 && downsample);
    }
    r->inplanes = planes * expansion;
    return x;
}

clseg_resnet clseg_model_resnet(clseg_net *net, const char *prefix, clseg_node x, int depth, int64_t base,
                                const int dilate[3])
{
    static const int blocks18[4] = {2, 2, 2, 2}, blocks50[4] = {3, 4, 6, 3};
    resnet_builder r = {net, prefix, depth == 50, base, 1};
    const int *blocks = r.bottleneck ? blocks50 : blocks18;
    clseg_resnet out;
    x = clseg_model_conv_bn_relu(net, clseg_model_namef("%s.conv1", prefix).s, clseg_model_namef("%s.bn1", prefix).s, x,
                                 base, clseg_model_conv(7, 2, 3, 1));
    clseg_pool2d_desc pool = clseg_pool2d_make(3, 2, 1);
    out.stem = x = clseg_net_maxpool2d(net, x, &pool);
    for (int i = 0; i < 4; i++) {
        int64_t planes = base << i;
        x = make_layer(&r, i + 1, x, planes, blocks[i], i == 0 ? 1 : 2, i == 0 ? 0 : dilate[i - 1]);
        out.layer[i] = x;
        out.channels[i] = r.inplanes;
    }
    return out;
}
