/* LinkNet (Chaurasia & Culurciello 2017) on a ResNet-18 encoder (torchvision's names under
 * "encoder": encoder.conv1, encoder.bn1, encoder.layer1.0.conv1, ...).
 *
 * Decoder block i (m -> n channels; decoderI.conv1 ... decoderI.norm3): 1x1 conv m -> m/4, BN,
 * ReLU; 3x3 transposed conv (padding 1, output padding 1) m/4 -> m/4 that doubles the size, BN,
 * ReLU; 1x1 conv m/4 -> n, BN, ReLU. As in the paper, the input of each encoder stage is added
 * to the output of its decoder block: d4 = decoder4(layer4) + layer3, d3 = decoder3(d4) +
 * layer2, d2 = decoder2(d3) + layer1, d1 = decoder1(d2) + the stem's pooled output. ResNet-18's
 * layer1 keeps its input's size (the paper's first encoder block halves it), so decoder1's
 * transposed conv has stride 1 (and no output padding) to keep the sizes matching; every other
 * block is the paper's.
 *
 * Then the paper's classifier (final.*): 3x3/2 transposed conv base -> base/2 (64 -> 32), BN,
 * ReLU; 3x3 conv base/2 -> base/2, BN, ReLU; 2x2/2 transposed conv base/2 -> classes with bias:
 * back to the input's size from the stem's 1/4. Convs before a batch norm have no bias. Inputs
 * must be multiples of 32. */
#include "models/blocks.h"
#include "models/models.h"

static int64_t at_least_one(int64_t v)
{
    return v > 0 ? v : 1;
}

static clseg_node decoder_block(clseg_net *net, int index, clseg_node x, int64_t m, int64_t n, int stride)
{
    int64_t mid = at_least_one(m / 4);
    x = clseg_model_conv_bn_relu(net, clseg_model_namef("decoder%d.conv1", index).s,
                                 clseg_model_namef("decoder%d.norm1", index).s, x, mid, clseg_model_conv(1, 1, 0, 1));
    x = clseg_model_deconv(net, clseg_model_namef("decoder%d.deconv2", index).s, x, mid, 3, stride, 1, stride - 1, 0);
    x = clseg_net_relu(net,
                       clseg_net_batchnorm2d(net, clseg_model_namef("decoder%d.norm2", index).s, x, &clseg_model_bn));
    return clseg_model_conv_bn_relu(net, clseg_model_namef("decoder%d.conv3", index).s,
                                    clseg_model_namef("decoder%d.norm3", index).s, x, n, clseg_model_conv(1, 1, 0, 1));
}

clseg_node clseg_model_build_linknet(clseg_net *net, const clseg_model_config *cfg)
{
    static const int no_dilation[3] = {0, 0, 0};
    clseg_node x = clseg_net_input(net, cfg->in_channels);
    clseg_resnet enc = clseg_model_resnet(net, "encoder", x, 18, cfg->base, no_dilation);
    clseg_node skips[4] = {enc.stem, enc.layer[0], enc.layer[1], enc.layer[2]};
    int64_t widths[4] = {cfg->base, enc.channels[0], enc.channels[1], enc.channels[2]};
    x = enc.layer[3];
    int64_t m = enc.channels[3];
    for (int i = 3; i >= 0; i--) {
        x = clseg_net_add(net, decoder_block(net, i + 1, x, m, widths[i], i == 0 ? 1 : 2), skips[i]);
        m = widths[i];
    }
    int64_t half = at_least_one(cfg->base / 2);
    x = clseg_model_deconv(net, "final.deconv1", x, half, 3, 2, 1, 1, 0);
    x = clseg_net_relu(net, clseg_net_batchnorm2d(net, "final.norm1", x, &clseg_model_bn));
    x = clseg_model_conv_bn_relu(net, "final.conv2", "final.norm2", x, half, clseg_model_conv(3, 1, 1, 1));
    return clseg_model_deconv(net, "final.deconv3", x, cfg->classes, 2, 2, 0, 0, 1);
}
