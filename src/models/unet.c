/* U-Net (Ronneberger et al. 2015) exactly as brain-segmentation-pytorch builds it for this
 * dataset (mateuszbuda, unet.py): four levels and a bottleneck of blocks of 2 x (3x3 conv
 * without bias, BN, ReLU), widths base..16 base, 2x2/2 max pooling, 2x2/2 transposed-conv
 * upsampling with bias, skips concatenated after the upsampled features (torch.cat((dec4,
 * enc4), dim=1)), and a 1x1 conv with bias to the classes. Parameter names are its state_dict's
 * (encoder1.enc1conv1.weight, ..., upconv4.weight, decoder4.dec4norm2.running_var, conv.bias).
 * The output is the logits: that model's final torch.sigmoid lives in clseg's losses. */
#include "models/blocks.h"
#include "models/models.h"

/* UNet._block(in, features, name): module.<tag>conv1, <tag>norm1, ReLU, <tag>conv2, <tag>norm2, ReLU. */
static clseg_node unet_block(clseg_net *net, const char *module, const char *tag, clseg_node x, int64_t features)
{
    clseg_conv2d_desc conv3 = clseg_model_conv(3, 1, 1, 1);
    x = clseg_model_conv_bn_relu(net, clseg_model_namef("%s.%sconv1", module, tag).s,
                                 clseg_model_namef("%s.%snorm1", module, tag).s, x, features, conv3);
    return clseg_model_conv_bn_relu(net, clseg_model_namef("%s.%sconv2", module, tag).s,
                                    clseg_model_namef("%s.%snorm2", module, tag).s, x, features, conv3);
}

clseg_node clseg_model_build_unet(clseg_net *net, const clseg_model_config *cfg)
{
    const int64_t f = cfg->base;
    clseg_pool2d_desc pool = clseg_pool2d_make(2, 2, 0);
    clseg_node enc[4];
    clseg_node x = clseg_net_input(net, cfg->in_channels);
    for (int i = 0; i < 4; i++) {
        enc[i] =
            unet_block(net, clseg_model_namef("encoder%d", i + 1).s, clseg_model_namef("enc%d", i + 1).s, x, f << i);
        x = clseg_net_maxpool2d(net, enc[i], &pool);
    }
    x = unet_block(net, "bottleneck", "bottleneck", x, f << 4);
    for (int i = 3; i >= 0; i--) {
        x = clseg_model_deconv(net, clseg_model_namef("upconv%d", i + 1).s, x, f << i, 2, 2, 0, 0, 1);
        x = clseg_net_concat(net, x, enc[i]);
        x = unet_block(net, clseg_model_namef("decoder%d", i + 1).s, clseg_model_namef("dec%d", i + 1).s, x, f << i);
    }
    clseg_conv2d_desc conv1 = clseg_model_conv(1, 1, 0, 1);
    return clseg_net_conv2d(net, "conv", x, cfg->classes, &conv1, 1);
}
