/* DeepLabv3 (Chen et al. 2017) as torchvision builds it (deeplabv3_resnet50 without the
 * auxiliary head), on ResNet-18 (BasicBlocks, the default) or ResNet-50 (Bottlenecks).
 *
 * Backbone (backbone.conv1, backbone.layer1.0.conv1, ...): atrous convolution replaces the last
 * strides, as torchvision's replace_stride_with_dilation: output stride 16 turns layer4's stride
 * into dilation 2; output stride 8 turns layer3's into dilation 2 and layer4's into 4.
 *
 * Head (torchvision's DeepLabHead; classifier.0 is the ASPP): five branches of width 4 base
 * (256 at the default base 64, torchvision's figure): classifier.0.convs.0 a 1x1 conv, .1-.3 3x3
 * convs at rates 6, 12, 18 (12, 24, 36 at output stride 8), each with BN and ReLU (.N.0 conv,
 * .N.1 BN), and .4 image pooling (global average pooling, 1x1 conv .4.1, BN .4.2, ReLU, bilinear
 * resize to the features' size); concatenated, classifier.0.project.0 a 1x1 conv, .1 BN, ReLU,
 * dropout 0.5; then classifier.1 a 3x3 conv, classifier.2 BN, ReLU, classifier.4 a 1x1 conv with
 * bias to the classes; finally bilinear upsampling (align_corners false) to the input's size. */
#include "models/blocks.h"
#include "models/models.h"

static clseg_node bilinear_like(clseg_net *net, clseg_node x, clseg_node like)
{
    clseg_upsample_desc up = {CLSEG_UPSAMPLE_BILINEAR, 0, 0.0f, 0.0f};
    return clseg_net_upsample2d(net, x, &up, like);
}

static clseg_node aspp(clseg_net *net, clseg_node x, int64_t width, int rate)
{
    clseg_node y = clseg_model_conv_bn_relu(net, "classifier.0.convs.0.0", "classifier.0.convs.0.1", x, width,
                                            clseg_model_conv(1, 1, 0, 1));
    for (int i = 1; i <= 3; i++) {
        int r = rate * i;
        clseg_node b = clseg_model_conv_bn_relu(net, clseg_model_namef("classifier.0.convs.%d.0", i).s,
                                                clseg_model_namef("classifier.0.convs.%d.1", i).s, x, width,
                                                clseg_model_conv(3, 1, r, r));
        y = clseg_net_concat(net, y, b);
    }
    clseg_node pooled = clseg_model_conv_bn_relu(net, "classifier.0.convs.4.1", "classifier.0.convs.4.2",
                                                 clseg_net_global_avgpool(net, x), width, clseg_model_conv(1, 1, 0, 1));
    y = clseg_net_concat(net, y, bilinear_like(net, pooled, x));
    y = clseg_model_conv_bn_relu(net, "classifier.0.project.0", "classifier.0.project.1", y, width,
                                 clseg_model_conv(1, 1, 0, 1));
    return clseg_net_dropout(net, y, 0.5f);
}

clseg_node clseg_model_build_deeplabv3(clseg_net *net, const clseg_model_config *cfg)
{
    const int os8 = cfg->output_stride == 8;
    const int dilate[3] = {0, os8, 1};
    const int64_t width = 4 * cfg->base;
    clseg_node input = clseg_net_input(net, cfg->in_channels);
    clseg_resnet backbone = clseg_model_resnet(net, "backbone", input, cfg->depth, cfg->base, dilate);
    clseg_node x = aspp(net, backbone.layer[3], width, os8 ? 12 : 6);
    x = clseg_model_conv_bn_relu(net, "classifier.1", "classifier.2", x, width, clseg_model_conv(3, 1, 1, 1));
    clseg_conv2d_desc conv1 = clseg_model_conv(1, 1, 0, 1);
    x = clseg_net_conv2d(net, "classifier.4", x, cfg->classes, &conv1, 1);
    return bilinear_like(net, x, input);
}
