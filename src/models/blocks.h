/* Pieces the models share: formatted parameter names, conv-BN-ReLU blocks and the ResNet
 * encoder (torchvision's layout and names) used by LinkNet and DeepLabv3. Every builder follows
 * clseg_net's convention: it returns the new node, or a negative one once any build step failed. */
#ifndef CLSEG_MODELS_BLOCKS_H
#define CLSEG_MODELS_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/net.h"

/* Longest parameter prefix a model builds ("backbone.layer4.2.downsample.0" is 30). */
#define CLSEG_MODEL_NAME_MAX 96

typedef struct clseg_param_prefix {
    char s[CLSEG_MODEL_NAME_MAX];
} clseg_param_prefix;

/* A parameter prefix from a printf format; returned by value so calls nest in arguments. */
clseg_param_prefix clseg_model_namef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* PyTorch's BatchNorm2d defaults: momentum 0.1, eps 1e-5. */
extern const clseg_batchnorm_desc clseg_model_bn;

/* The geometry of a square convolution: kernel k, stride s, padding p, dilation d. */
clseg_conv2d_desc clseg_model_conv(int k, int s, int p, int d);
/* A transposed convolution: kernel k, stride s, padding p, output padding op. */
clseg_node clseg_model_deconv(clseg_net *net, const char *name, clseg_node x, int64_t out, int k, int s, int p, int op,
                              int bias);

/* conv (no bias: the batch norm's shift makes it redundant) -> BN; conv and bn name the two
 * layers' parameters. */
clseg_node clseg_model_conv_bn(clseg_net *net, const char *conv, const char *bn, clseg_node x, int64_t out,
                               clseg_conv2d_desc desc);
/* conv -> BN -> ReLU. */
clseg_node clseg_model_conv_bn_relu(clseg_net *net, const char *conv, const char *bn, clseg_node x, int64_t out,
                                    clseg_conv2d_desc desc);

/* A ResNet encoder as torchvision builds it, under prefix ("encoder", "backbone"): prefix.conv1
 * (7x7/2, base channels), prefix.bn1, ReLU, 3x3/2 max pooling, then prefix.layer1..layer4 of
 * BasicBlocks (depth 18: 2, 2, 2, 2) or Bottlenecks (depth 50: 3, 4, 6, 3, expansion 4) with
 * widths base, 2 base, 4 base, 8 base. dilate[i] replaces the stride 2 of layer i+2 by dilation,
 * as torchvision's replace_stride_with_dilation does. */
typedef struct clseg_resnet {
    clseg_node stem;     /* the max pooling's output: layer1's input, 1/4 of the input size */
    clseg_node layer[4]; /* each stage's output */
    int64_t channels[4]; /* and its channels */
} clseg_resnet;

clseg_resnet clseg_model_resnet(clseg_net *net, const char *prefix, clseg_node x, int depth, int64_t base,
                                const int dilate[3]);

#endif
