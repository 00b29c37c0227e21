/* A convolutional auto-encoder for compression, denoising and anomaly detection: trained to
 * reproduce its input (MSE); its output has the input's shape, and classes is ignored.
 *
 * encoder.0-3: 3x3 stride-2 convs (padding 1), BN, ReLU: in -> base -> 2 base -> 4 base ->
 * 8 base channels at 1/16 of the size. code: a 1x1 conv to max(1, base/4) channels, linear and
 * without bias (the batch norm after expand would cancel it: its gradient is zero); 8 channels
 * at the default base 32, so a 256x256x3 slice becomes 16x16x8, 1/96 of its values. expand: a
 * 1x1 conv back to 8 base, BN, ReLU. decoder.0-2: 3x3 stride-2 transposed convs (padding 1,
 * output padding 1), BN, ReLU: 8 base -> 4 base -> 2 base -> base. decoder.3: the last one,
 * base -> in, with bias and no activation (a linear reconstruction of normalised images).
 * Inputs must be multiples of 16.
 *
 * Denoising is the trainer's choice of input: it feeds a noisy copy and takes the clean image
 * as the target; the network is the same. */
#include "models/blocks.h"
#include "models/models.h"

clseg_node clseg_model_build_autoencoder(clseg_net *net, const clseg_model_config *cfg)
{
    const int64_t b = cfg->base, code = b / 4 > 0 ? b / 4 : 1;
    clseg_node x = clseg_net_input(net, cfg->in_channels);
    for (int i = 0; i < 4; i++)
        x = clseg_model_conv_bn_relu(net, clseg_model_namef("encoder.%d.conv", i).s,
                                     clseg_model_namef("encoder.%d.bn", i).s, x, b << i, clseg_model_conv(3, 2, 1, 1));
    clseg_conv2d_desc conv1 = clseg_model_conv(1, 1, 0, 1);
    x = clseg_net_conv2d(net, "code", x, code, &conv1, 0);
    x = clseg_model_conv_bn_relu(net, "expand.conv", "expand.bn", x, 8 * b, conv1);
    for (int i = 0; i < 3; i++) {
        x = clseg_model_deconv(net, clseg_model_namef("decoder.%d.conv", i).s, x, b << (2 - i), 3, 2, 1, 1, 0);
        x = clseg_net_relu(net,
                           clseg_net_batchnorm2d(net, clseg_model_namef("decoder.%d.bn", i).s, x, &clseg_model_bn));
    }
    return clseg_model_deconv(net, "decoder.3.conv", x, cfg->in_channels, 3, 2, 1, 1, 1);
}
