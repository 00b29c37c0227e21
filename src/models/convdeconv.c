/* convdeconv: the seed's conv/deconv network, SegNet-style (Badrinarayanan et al. 2017). A
 * VGG16-like encoder of five stages of 3x3 conv-BN-ReLU blocks (2, 2, 3, 3, 3 convs of widths
 * base, 2, 4, 8, 8 base), each closed by a 2x2/2 max pooling that keeps its indices; a mirrored
 * decoder whose stages max-unpool with those indices (so boundaries come back where the encoder
 * found them) and then run as many conv-BN-ReLU blocks, the last of each stage narrowing to the
 * width of the stage above; finally a 3x3 conv with bias to the classes (SegNet's last decoder
 * conv, which feeds its soft-max).
 *
 * Names: encoder.S.convJ / encoder.S.bnJ (stage S from 0, conv J from 1), decoder.S.convJ /
 * decoder.S.bnJ (decoder stage S unpools encoder stage S's pooling), classifier. Decoder stage 0
 * keeps only its first conv-BN-ReLU: the classifier is its second conv. Default base 64 (VGG16's
 * widths, 29.4 M parameters). */
#include "models/blocks.h"
#include "models/models.h"

enum { STAGES = 5 };
static const int convs_per_stage[STAGES] = {2, 2, 3, 3, 3};
static const int width_factor[STAGES] = {1, 2, 4, 8, 8};

clseg_node clseg_model_build_convdeconv(clseg_net *net, const clseg_model_config *cfg)
{
    clseg_conv2d_desc conv3 = clseg_model_conv(3, 1, 1, 1);
    clseg_pool2d_desc pool = clseg_pool2d_make(2, 2, 0);
    clseg_node pools[STAGES];
    clseg_node x = clseg_net_input(net, cfg->in_channels);
    for (int s = 0; s < STAGES; s++) {
        for (int j = 1; j <= convs_per_stage[s]; j++)
            x = clseg_model_conv_bn_relu(net, clseg_model_namef("encoder.%d.conv%d", s, j).s,
                                         clseg_model_namef("encoder.%d.bn%d", s, j).s, x, cfg->base * width_factor[s],
                                         conv3);
        x = pools[s] = clseg_net_maxpool2d(net, x, &pool);
    }
    for (int s = STAGES - 1; s >= 0; s--) {
        x = clseg_net_maxunpool2d(net, x, pools[s]);
        int convs = s == 0 ? convs_per_stage[s] - 1 : convs_per_stage[s];
        for (int j = 1; j <= convs; j++) {
            int64_t width = cfg->base * width_factor[j == convs && s > 0 ? s - 1 : s];
            x = clseg_model_conv_bn_relu(net, clseg_model_namef("decoder.%d.conv%d", s, j).s,
                                         clseg_model_namef("decoder.%d.bn%d", s, j).s, x, width, conv3);
        }
    }
    return clseg_net_conv2d(net, "classifier", x, cfg->classes, &conv3, 1);
}
