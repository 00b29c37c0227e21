/* The models: parameter names and counts against their PyTorch originals, shapes, the
 * configuration in a net's metadata, a training step on OpenCL against the reference backend,
 * and overfitting a tiny synthetic batch. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/models.h"
#include "test_util.h"
#include "util/rng.h"

static clseg_model_config config(const char *name, int64_t base)
{
    clseg_model_config cfg;
    ck_assert_int_eq(clseg_model_config_default(name, &cfg), CLSEG_STATUS_SUCCESS);
    if (base > 0)
        cfg.base = base;
    return cfg;
}

static clseg_net *build(const clseg_model_config *cfg)
{
    clseg_net *net = NULL;
    char err[512] = "";
    clseg_status st = clseg_model_build(cfg, &net, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "building %s: %s", cfg->name, err);
    return net;
}

/* Trainable scalars of the parameters whose names start with prefix. */
static int64_t trainable_under(const clseg_net *net, const char *prefix)
{
    int64_t total = 0;
    for (size_t i = 0; i < clseg_net_param_count(net); i++) {
        clseg_param_info p;
        ck_assert_int_eq(clseg_net_param(net, i, &p), CLSEG_STATUS_SUCCESS);
        if (p.trainable && strncmp(p.name, prefix, strlen(prefix)) == 0)
            total += (int64_t)clseg_shape_numel(p.shape);
    }
    return total;
}

static const clseg_layer_info *find_layer(const clseg_net *net, const char *name, clseg_layer_info *info)
{
    for (size_t i = 0; i < clseg_net_layer_count(net); i++) {
        ck_assert_int_eq(clseg_net_layer(net, i, info), CLSEG_STATUS_SUCCESS);
        if (strcmp(info->name, name) == 0)
            return info;
    }
    ck_abort_msg("no layer %s", name);
    return NULL;
}

/* brain-segmentation-pytorch's UNet(3, 1, 32): the parameter count the issue quotes, and its
 * state_dict's names in its order (without BatchNorm's num_batches_tracked). */
START_TEST(test_unet_is_brain_segmentation_pytorch)
{
    clseg_model_config cfg = config("unet", 0);
    ck_assert_int_eq(cfg.base, 32);
    clseg_net *net = build(&cfg);
    ck_assert_int_eq(clseg_net_trainable_scalars(net), 7763041);
    char expected[200][48];
    size_t n = 0;
    static const char *const bn[] = {"weight", "bias", "running_mean", "running_var"};
    const char *blocks[9][2] = {{"encoder1", "enc1"}, {"encoder2", "enc2"},         {"encoder3", "enc3"},
                                {"encoder4", "enc4"}, {"bottleneck", "bottleneck"}, {"decoder4", "dec4"},
                                {"decoder3", "dec3"}, {"decoder2", "dec2"},         {"decoder1", "dec1"}};
    for (int b = 0; b < 9; b++) {
        if (b >= 5) { /* upconvN comes before decoderN */
            snprintf(expected[n++], sizeof expected[0], "upconv%d.weight", 9 - b);
            snprintf(expected[n++], sizeof expected[0], "upconv%d.bias", 9 - b);
        }
        for (int j = 1; j <= 2; j++) {
            snprintf(expected[n++], sizeof expected[0], "%s.%sconv%d.weight", blocks[b][0], blocks[b][1], j);
            for (int k = 0; k < 4; k++)
                snprintf(expected[n++], sizeof expected[0], "%s.%snorm%d.%s", blocks[b][0], blocks[b][1], j, bn[k]);
        }
    }
    snprintf(expected[n++], sizeof expected[0], "conv.weight");
    snprintf(expected[n++], sizeof expected[0], "conv.bias");
    ck_assert_uint_eq(clseg_net_param_count(net), n);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info p;
        ck_assert_int_eq(clseg_net_param(net, i, &p), CLSEG_STATUS_SUCCESS);
        ck_assert_str_eq(p.name, expected[i]);
        ck_assert_int_eq(p.trainable, strstr(p.name, "running_") == NULL);
    }
    /* PyTorch's layouts: Conv2d (out, in, kh, kw), ConvTranspose2d (in, out, kh, kw), vectors 1-D */
    clseg_param_info p;
    ck_assert_int_eq(clseg_net_param(net, 0, &p), CLSEG_STATUS_SUCCESS);
    ck_assert(p.dims == 4 && p.shape.n == 32 && p.shape.c == 3 && p.shape.h == 3 && p.shape.w == 3);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(clseg_net_param(net, i, &p), CLSEG_STATUS_SUCCESS);
        if (strcmp(p.name, "upconv4.weight") == 0)
            ck_assert(p.dims == 4 && p.shape.n == 512 && p.shape.c == 256 && p.shape.h == 2 && p.shape.w == 2);
        if (strcmp(p.name, "decoder4.dec4conv1.weight") == 0)
            ck_assert(p.shape.n == 256 && p.shape.c == 512 && p.shape.h == 3);
        if (strcmp(p.name, "conv.bias") == 0)
            ck_assert(p.dims == 1 && p.shape.w == 1);
    }
    clseg_net_destroy(net);
}
END_TEST

/* Figures of the PyTorch networks the others follow. */
START_TEST(test_parameter_counts_match_their_originals)
{
    /* torchvision deeplabv3_resnet50(num_classes=21, aux_loss=False) */
    clseg_model_config cfg = config("deeplabv3", 0);
    cfg.depth = 50;
    cfg.classes = 21;
    clseg_net *net = build(&cfg);
    ck_assert_int_eq(clseg_net_trainable_scalars(net), 39638869);
    ck_assert_int_eq(trainable_under(net, "backbone."), 23508032); /* resnet50 without fc */
    clseg_net_destroy(net);
    /* ResNet-18 without fc: torchvision's resnet18() has 11,689,512 of which fc holds 513,000 */
    cfg = config("deeplabv3", 0);
    net = build(&cfg);
    ck_assert_int_eq(trainable_under(net, "backbone."), 11176512);
    clseg_net_destroy(net);
    cfg = config("linknet", 0);
    net = build(&cfg);
    ck_assert_int_eq(trainable_under(net, "encoder."), 11176512);
    clseg_net_destroy(net);
    /* vgg16_bn's features (14,723,136) less the 4,224 conv biases a batch norm makes redundant */
    cfg = config("convdeconv", 0);
    net = build(&cfg);
    ck_assert_int_eq(trainable_under(net, "encoder."), 14718912);
    clseg_net_destroy(net);
}
END_TEST

/* The layers' parameters add up to the net's, and a conv's FLOPs are the op's own figure. */
START_TEST(test_layer_figures_add_up)
{
    for (size_t m = 0; m < clseg_model_count(); m++) {
        clseg_model_config cfg = config(clseg_model_name(m), 8);
        clseg_net *net = build(&cfg);
        clseg_net_memory mem;
        ck_assert_int_eq(clseg_net_plan_estimate(net, NULL, (clseg_shape){2, 3, 64, 64}, CLSEG_NET_TRAIN, &mem),
                         CLSEG_STATUS_SUCCESS);
        int64_t params = 0;
        for (size_t i = 0; i < clseg_net_layer_count(net); i++) {
            clseg_layer_info l;
            ck_assert_int_eq(clseg_net_layer(net, i, &l), CLSEG_STATUS_SUCCESS);
            params += l.params;
            ck_assert_msg(l.output.n == 2 && l.flops >= 0.0, "%s layer %zu", cfg.name, i);
        }
        ck_assert_int_eq(params, clseg_net_trainable_scalars(net));
        ck_assert_uint_ge(mem.params, 4 * (uint64_t)params); /* and the running statistics */
        ck_assert(mem.total >= mem.params + mem.grads + mem.activations);
        clseg_net_destroy(net);
    }
    clseg_model_config cfg = config("unet", 8);
    clseg_net *net = build(&cfg);
    ck_assert_int_eq(clseg_net_plan_estimate(net, NULL, (clseg_shape){2, 3, 64, 48}, CLSEG_NET_INFER, NULL),
                     CLSEG_STATUS_SUCCESS);
    clseg_layer_info l;
    clseg_conv2d_desc conv3 = clseg_conv2d_make(3, 1, 1);
    double flops = clseg_conv2d_flops(&conv3, (clseg_shape){2, 3, 64, 48}, (clseg_shape){8, 3, 3, 3});
    ck_assert_double_eq_tol(find_layer(net, "encoder1.enc1conv1", &l)->flops, flops, 1e-6 * flops);
    ck_assert_int_eq(l.params, 8 * 3 * 9);
    clseg_net_destroy(net);
}
END_TEST

/* Output shapes on the reference backend for two input sizes (one not square), and where the
 * strides of the ResNets' stages end up. */
START_TEST(test_output_shapes)
{
    static const struct {
        const char *model;
        int64_t base, h[2], w[2];
        int output_stride, depth;
    } cases[] = {
        {"convdeconv", 4, {32, 48}, {32, 40}, 16, 18},  {"unet", 4, {16, 48}, {16, 32}, 16, 18},
        {"linknet", 4, {32, 64}, {32, 96}, 16, 18},     {"deeplabv3", 4, {33, 64}, {33, 40}, 16, 18},
        {"deeplabv3", 4, {32, 40}, {32, 24}, 8, 18},    {"deeplabv3", 2, {32, 48}, {32, 32}, 16, 50},
        {"autoencoder", 4, {16, 48}, {16, 64}, 16, 18},
    };
    clseg_context *ctx = test_context("ref");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        clseg_model_config cfg = config(cases[k].model, cases[k].base);
        cfg.in_channels = 2;
        cfg.classes = 3;
        cfg.output_stride = cases[k].output_stride;
        cfg.depth = cases[k].depth;
        clseg_net *net = build(&cfg);
        for (int s = 0; s < 2; s++) {
            clseg_shape in = {2, 2, cases[k].h[s], cases[k].w[s]};
            ck_assert_int_eq(clseg_model_check_input(&cfg, in.h, in.w, NULL, 0), CLSEG_STATUS_SUCCESS);
            clseg_status st = clseg_net_plan(net, ctx, in, CLSEG_NET_INFER, 1);
            ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "%s %" PRId64 "x%" PRId64 ": %s", cfg.name, in.h, in.w,
                          clseg_context_last_error(ctx));
            float *x = test_ints(clseg_shape_numel(in), (unsigned)k, 3);
            clseg_tensor *input = test_tensor(ctx, in, x);
            ck_assert_int_eq(clseg_net_forward(net, input), CLSEG_STATUS_SUCCESS);
            clseg_shape out = clseg_tensor_shape(clseg_net_output(net)), want = in;
            want.c = strcmp(cfg.name, "autoencoder") == 0 ? 2 : 3;
            ck_assert_msg(memcmp(&out, &want, sizeof out) == 0,
                          "%s: output %" PRId64 "x%" PRId64 "x%" PRId64 "x%" PRId64, cfg.name, out.n, out.c, out.h,
                          out.w);
            clseg_shape planned = clseg_net_output_shape(net);
            ck_assert(memcmp(&planned, &want, sizeof want) == 0);
            float *y = test_download(clseg_net_output(net));
            for (size_t i = 0; i < clseg_shape_numel(out); i++)
                ck_assert_msg(isfinite(y[i]), "%s output %zu is %g", cfg.name, i, y[i]);
            free(y), free(x);
            clseg_tensor_destroy(input);
        }
        clseg_layer_info l;
        if (strcmp(cfg.name, "deeplabv3") == 0) { /* features at 1/output_stride, rounded up */
            find_layer(net, cfg.depth == 50 ? "backbone.layer4.2.conv3" : "backbone.layer4.1.conv2", &l);
            ck_assert_int_eq(l.output.h, (cases[k].h[1] + cfg.output_stride - 1) / cfg.output_stride);
            ck_assert_int_eq(l.output.c, cfg.depth == 50 ? 4 * 8 * cfg.base : 8 * cfg.base);
            find_layer(net, "classifier.0.convs.3.0", &l);
            ck_assert_int_eq(l.output.c, 4 * cfg.base);
        }
        if (strcmp(cfg.name, "linknet") == 0) { /* 64x96 */
            ck_assert_int_eq(find_layer(net, "decoder4.conv3", &l)->output.h, 4);
            ck_assert_int_eq(find_layer(net, "decoder1.conv3", &l)->output.w, 24);
            ck_assert_int_eq(find_layer(net, "final.deconv1", &l)->output.h, 32);
        }
        clseg_net_destroy(net);
    }
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_inputs_that_do_not_fit_are_rejected)
{
    char err[256] = "";
    clseg_model_config cfg = config("unet", 0);
    ck_assert_int_eq(clseg_model_check_input(&cfg, 100, 96, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "unet needs a height and width that are multiples of 16, not 100x96"), "%s", err);
    cfg = config("linknet", 0);
    ck_assert_int_eq(clseg_model_check_input(&cfg, 48, 48, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    cfg = config("convdeconv", 0);
    ck_assert_int_eq(clseg_model_check_input(&cfg, 31, 64, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "at least 32"), "%s", err);
    ck_assert_int_eq(clseg_model_check_input(&cfg, 33, 47, err, sizeof err), CLSEG_STATUS_SUCCESS);
}
END_TEST

START_TEST(test_config_round_trips_through_metadata)
{
    ck_assert_uint_eq(clseg_model_count(), 5);
    ck_assert_str_eq(clseg_model_name(0), "convdeconv");
    ck_assert_str_eq(clseg_model_name(4), "autoencoder");
    ck_assert_ptr_null(clseg_model_name(5));
    for (size_t m = 0; m < clseg_model_count(); m++) {
        clseg_model_config cfg = config(clseg_model_name(m), 4), back;
        cfg.in_channels = 1;
        cfg.classes = 2;
        cfg.output_stride = 8;
        clseg_net *net = build(&cfg);
        ck_assert_str_eq(clseg_net_meta(net, "clseg.model"), cfg.name);
        ck_assert_str_eq(clseg_net_meta(net, "clseg.base"), "4");
        ck_assert_str_eq(clseg_net_meta(net, "clseg.output_stride"), "8");
        memset(&back, 0x5a, sizeof back);
        ck_assert_int_eq(clseg_model_config_from_net(net, &back, NULL, 0), CLSEG_STATUS_SUCCESS);
        ck_assert_str_eq(back.name, cfg.name);
        ck_assert(back.in_channels == 1 && back.classes == 2 && back.base == 4 && back.depth == 18 &&
                  back.output_stride == 8);
        clseg_net_destroy(net);
    }
    /* metadata that is missing or damaged */
    clseg_net *net = NULL;
    char err[256] = "";
    clseg_model_config back;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_model_config_from_net(net, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "no 'clseg.model'"), "%s", err);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.model", "segformer"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_model_config_from_net(net, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "unknown model 'segformer'"), "%s", err);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.model", "unet"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_model_config_from_net(net, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "no 'clseg.in_channels'"), "%s", err);
    static const char *const keys[] = {"clseg.in_channels", "clseg.classes", "clseg.base", "clseg.depth",
                                       "clseg.output_stride"};
    static const char *const good[] = {"3", "1", "32", "18", "16"};
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(clseg_net_set_meta(net, keys[k], good[k]), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_model_config_from_net(net, &back, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert(back.base == 32 && back.classes == 1);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.base", "32x"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_model_config_from_net(net, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "'clseg.base' is '32x'"), "%s", err);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.base", "32"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.depth", "34"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_model_config_from_net(net, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "depth must be 18 or 50"), "%s", err);
    clseg_net_destroy(net);
}
END_TEST

static void expect_rejected(const clseg_model_config *cfg, const char *message)
{
    clseg_net *net = (clseg_net *)cfg; /* must come back NULL */
    char err[256] = "";
    ck_assert_int_eq(clseg_model_build(cfg, &net, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(net);
    ck_assert_msg(strstr(err, message) != NULL, "'%s' not in '%s'", message, err);
}

START_TEST(test_bad_configs_are_rejected)
{
    clseg_model_config cfg;
    ck_assert_int_eq(clseg_model_config_default("resnet", &cfg), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_model_config_default(NULL, &cfg), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_model_config_default("unet", NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    cfg = config("unet", 0);
    snprintf(cfg.name, sizeof cfg.name, "UNet");
    expect_rejected(&cfg, "unknown model 'UNet'");
    cfg = config("unet", 0);
    memset(cfg.name, 'u', sizeof cfg.name);
    expect_rejected(&cfg, "not terminated");
    cfg = config("unet", 0), cfg.in_channels = 0;
    expect_rejected(&cfg, "unet: in_channels must be from 1 to 65536, not 0");
    cfg = config("convdeconv", 0), cfg.classes = -1;
    expect_rejected(&cfg, "classes must be from 1");
    cfg = config("autoencoder", 0), cfg.base = 0;
    expect_rejected(&cfg, "base must be from 1");
    cfg = config("deeplabv3", 0), cfg.depth = 34;
    expect_rejected(&cfg, "depth must be 18 or 50");
    cfg = config("deeplabv3", 0), cfg.output_stride = 32;
    expect_rejected(&cfg, "output_stride must be 8 or 16, not 32");
    cfg = config("linknet", 0), cfg.depth = 50;
    expect_rejected(&cfg, "linknet: depth must be 18");
    char err[64];
    ck_assert_int_eq(clseg_model_build(NULL, &(clseg_net *){NULL}, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    cfg = config("unet", 0);
    ck_assert_int_eq(clseg_model_build(&cfg, NULL, NULL, 0), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

/* --- device against reference, and overfitting --------------------------------------------- */

/* Synthetic segmentation data: image n holds a bright disk (even n) or square (odd n) over a
 * faint texture, in every channel with a different contrast; mask is 1 inside. */
static void synthetic(clseg_shape s, float *image, float *mask)
{
    clseg_rng rng = {12345};
    for (int64_t n = 0; n < s.n; n++) {
        double cy = (double)s.h * (0.4 + 0.15 * (double)n), cx = (double)s.w * (0.55 - 0.1 * (double)n);
        double r = 0.27 * (double)(s.h < s.w ? s.h : s.w);
        for (int64_t y = 0; y < s.h; y++)
            for (int64_t x = 0; x < s.w; x++) {
                double dy = (double)y + 0.5 - cy, dx = (double)x + 0.5 - cx;
                int in = n % 2 == 0 ? dy * dy + dx * dx < r * r : fabs(dy) < r && fabs(dx) < 0.8 * r;
                if (mask != NULL)
                    mask[(n * s.h + y) * s.w + x] = (float)in;
                for (int64_t c = 0; c < s.c; c++)
                    image[((n * s.c + c) * s.h + y) * s.w + x] =
                        (float)in * (1.0f - 0.3f * (float)c) + 0.4f * (clseg_rng_uniform(&rng) - 0.5f);
            }
    }
}

/* max |a - b| / max |b|: an error relative to the tensor's scale, so small entries of a big
 * gradient do not count as large relative errors. */
static double normwise_error(const float *a, const float *b, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
        if (!isfinite(a[i]) || !isfinite(b[i]))
            return INFINITY;
    }
    return scale > 0.0 ? diff / scale : diff;
}

static void expect_close(const clseg_tensor *dev, const clseg_tensor *ref, double tol, const char *model,
                         const char *what, double *worst)
{
    size_t n = clseg_tensor_numel(ref);
    ck_assert_uint_eq(clseg_tensor_numel(dev), n);
    float *a = test_download(dev), *b = test_download(ref);
    double err = normwise_error(a, b, n);
    *worst = fmax(*worst, err);
    ck_assert_msg(err <= tol, "%s: %s differs from the reference by %.3g of its scale (tolerance %.0e)", model, what,
                  err, tol);
    free(a), free(b);
}

/* Relative to each tensor's largest value. Forward: float32 GEMMs (CLBlast) against sums in
 * double, through up to 20 batch norms, each dividing by a batch deviation: 1e-4. Gradients go
 * back through the same layers and the batch norms' backward sums: 2e-3 (the largest seen on
 * PoCL is about 100x smaller). */
#define TOL_FORWARD 1e-4
#define TOL_GRAD 2e-3

/* A parameter after one SGD step (p - lr g, momentum's first step is the gradient itself): its
 * difference from the reference's is the step's, lr times the gradients' difference, plus the
 * rounding of p. Returns the difference in units of the largest step. */
static double expect_param_close(const clseg_param_info *dev, const clseg_param_info *ref, float lr, const char *model)
{
    size_t n = clseg_tensor_numel(ref->value);
    float *a = test_download(dev->value), *b = test_download(ref->value), *g = test_download(ref->grad);
    double diff = 0.0, pmax = 0.0, gmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(isfinite(a[i]), "%s: %s[%zu] is %g", model, dev->name, i, a[i]);
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        pmax = fmax(pmax, fabs((double)b[i]));
        gmax = fmax(gmax, fabs((double)g[i]));
    }
    double step = (double)lr * gmax, tol = TOL_GRAD * step + 1e-6 * pmax;
    ck_assert_msg(diff <= tol,
                  "%s: %s after the step differs from the reference by %.3g (steps up to %.3g, "
                  "tolerance %.3g)",
                  model, dev->name, diff, step, tol);
    free(a), free(b), free(g);
    return step > 0.0 ? diff / step : 0.0;
}

static void check_step_against_ref(const char *model, int64_t base, clseg_shape in)
{
    clseg_model_config cfg = config(model, base);
    cfg.in_channels = in.c;
    const int autoencoder = strcmp(model, "autoencoder") == 0;
    clseg_context *ctx[2] = {test_context(NULL), test_context("ref")};
    clseg_net *net[2];
    clseg_tensor *input[2], *target[2];
    float loss[2];
    size_t n = clseg_shape_numel(in), npix = (size_t)(in.n * in.h * in.w);
    float *image = malloc(n * sizeof *image), *mask = malloc(npix * sizeof *mask);
    synthetic(in, image, mask);
    clseg_shape out = in;
    out.c = autoencoder ? in.c : 1;
    clseg_loss_desc loss_desc = clseg_loss_make(autoencoder ? CLSEG_LOSS_MSE : CLSEG_LOSS_BCE_DICE);
    clseg_optimizer sgd = clseg_optimizer_make(CLSEG_OPTIMIZER_SGD, 0.01f);
    for (int d = 0; d < 2; d++) {
        net[d] = build(&cfg);
        clseg_status st = clseg_net_plan(net[d], ctx[d], in, CLSEG_NET_TRAIN, 42);
        ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "%s plan: %s", model, clseg_context_last_error(ctx[d]));
        input[d] = test_tensor(ctx[d], in, image);
        target[d] = test_tensor(ctx[d], out, autoencoder ? image : mask);
        st = clseg_net_train_step(net[d], input[d], target[d], &loss_desc, &sgd, &loss[d]);
        ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "%s step: %s", model, clseg_context_last_error(ctx[d]));
    }
    double worst_fwd = 0.0, worst_grad = 0.0, worst_param = 0.0;
    ck_assert_msg(fabs(loss[0] - loss[1]) <= TOL_FORWARD * fmax(1.0, fabs(loss[1])), "%s: loss %.9g vs %.9g", model,
                  loss[0], loss[1]);
    expect_close(clseg_net_output(net[0]), clseg_net_output(net[1]), TOL_FORWARD, model, "the output", &worst_fwd);
    ck_assert_uint_eq(clseg_net_param_count(net[0]), clseg_net_param_count(net[1]));
    for (size_t i = 0; i < clseg_net_param_count(net[0]); i++) {
        clseg_param_info a, b;
        ck_assert_int_eq(clseg_net_param(net[0], i, &a), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_net_param(net[1], i, &b), CLSEG_STATUS_SUCCESS);
        ck_assert_str_eq(a.name, b.name);
        char what[160];
        if (!a.trainable) { /* running statistics: forward results */
            snprintf(what, sizeof what, "%s (after the step)", a.name);
            expect_close(a.value, b.value, TOL_FORWARD, model, what, &worst_fwd);
            continue;
        }
        ck_assert(a.grad != NULL && b.grad != NULL);
        snprintf(what, sizeof what, "the gradient of %s", a.name);
        expect_close(a.grad, b.grad, TOL_GRAD, model, what, &worst_grad);
        worst_param = fmax(worst_param, expect_param_close(&a, &b, sgd.sgd.lr, model));
    }
    printf("%-12s OpenCL vs ref at %" PRId64 "x%" PRId64 "x%" PRId64 "x%" PRId64 ", base %" PRId64
           ": loss %.6f vs %.6f; worst error (of scale) forward %.2g, gradients %.2g, parameters %.2g of a step\n",
           model, in.n, in.c, in.h, in.w, base, loss[0], loss[1], worst_fwd, worst_grad, worst_param);
    for (int d = 0; d < 2; d++) {
        clseg_tensor_destroy(input[d]), clseg_tensor_destroy(target[d]);
        clseg_net_destroy(net[d]);
        clseg_context_destroy(ctx[d]);
    }
    free(image), free(mask);
}

START_TEST(test_convdeconv_step_matches_ref)
{
    check_step_against_ref("convdeconv", 4, (clseg_shape){2, 3, 32, 32});
}
END_TEST
START_TEST(test_unet_step_matches_ref)
{
    check_step_against_ref("unet", 4, (clseg_shape){2, 3, 32, 32});
}
END_TEST
START_TEST(test_linknet_step_matches_ref)
{
    check_step_against_ref("linknet", 8, (clseg_shape){2, 3, 64, 64});
}
END_TEST
START_TEST(test_deeplabv3_step_matches_ref)
{
    check_step_against_ref("deeplabv3", 4, (clseg_shape){2, 3, 48, 48});
}
END_TEST
START_TEST(test_autoencoder_step_matches_ref)
{
    check_step_against_ref("autoencoder", 4, (clseg_shape){2, 3, 32, 32});
}
END_TEST

/* The context the overfitting runs on: the default device, or the reference backend without one. */
static clseg_context *default_context(void)
{
    return test_context(test_have_opencl() ? NULL : "ref");
}

/* Dice of the logits in the net's output (from the last training step) against the mask. */
static double dice_of_output(clseg_net *net, const clseg_tensor *target, clseg_tensor *counts, int64_t n)
{
    ck_assert_int_eq(clseg_confusion_counts(clseg_tensor_context(target), clseg_net_output(net), target, 0.0f, counts),
                     CLSEG_STATUS_SUCCESS);
    float *c = test_download(counts);
    double tp = 0, fp = 0, fn = 0;
    for (int64_t i = 0; i < n; i++)
        tp += c[4 * i], fp += c[4 * i + 1], fn += c[4 * i + 2];
    free(c);
    return clseg_dice_score(tp, fp, fn);
}

/* Adam on BCE+Dice until the batch's Dice passes 0.95 in training mode; then, after steps that
 * let the running statistics (momentum 0.1) catch up with the weights (98.5% of their weight
 * from the last 40 batches), over 0.9 in inference mode too. */
#define SETTLE_STEPS 40
static void overfit(const char *model, clseg_model_config cfg, clseg_shape in, int max_steps)
{
    clseg_context *ctx = default_context();
    clseg_net *net = build(&cfg);
    size_t npix = (size_t)(in.n * in.h * in.w);
    float *image = malloc(clseg_shape_numel(in) * sizeof *image), *mask = malloc(npix * sizeof *mask);
    synthetic(in, image, mask);
    clseg_shape out = {in.n, 1, in.h, in.w};
    clseg_tensor *input = test_tensor(ctx, in, image), *target = test_tensor(ctx, out, mask);
    clseg_tensor *counts = test_tensor(ctx, (clseg_shape){1, 1, 1, 4 * in.n}, NULL);
    clseg_loss_desc loss = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    clseg_optimizer adam = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 3e-3f);
    ck_assert_int_eq(clseg_net_plan(net, ctx, in, CLSEG_NET_TRAIN, 7), CLSEG_STATUS_SUCCESS);
    float first = 0.0f, value = 0.0f;
    double dice = 0.0;
    int step = 0;
    for (; step < max_steps && dice <= 0.95; step++) {
        ck_assert_int_eq(clseg_net_train_step(net, input, target, &loss, &adam, &value), CLSEG_STATUS_SUCCESS);
        first = step == 0 ? value : first;
        dice = dice_of_output(net, target, counts, in.n);
    }
    ck_assert_msg(dice > 0.95, "%s: Dice %.4f after %d steps (loss %.4f -> %.4f)", model, dice, step, first, value);
    float reached = value;
    for (int k = 0; k < SETTLE_STEPS; k++)
        ck_assert_int_eq(clseg_net_train_step(net, input, target, &loss, &adam, &value), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_plan(net, ctx, in, CLSEG_NET_INFER, 7), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_forward(net, input), CLSEG_STATUS_SUCCESS);
    double eval_dice = dice_of_output(net, target, counts, in.n);
    printf("%-12s Dice > 0.95 after %3d Adam steps at %" PRId64 "x%" PRId64 ", base %" PRId64
           " (loss %.4f -> %.4f); inference mode %d steps later: %.4f\n",
           model, step, in.h, in.w, cfg.base, first, reached, SETTLE_STEPS, eval_dice);
    ck_assert_msg(eval_dice > 0.9, "%s: Dice %.4f in inference mode", model, eval_dice);
    clseg_tensor_destroy(input), clseg_tensor_destroy(target), clseg_tensor_destroy(counts);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
    free(image), free(mask);
}

/* 64x64 for convdeconv: at 32x32 its deepest batch norms see 1x1 planes, two values per channel,
 * which training mode always maps to -1 and +1, so inference mode (running statistics) lags. */
START_TEST(test_convdeconv_overfits)
{
    overfit("convdeconv", config("convdeconv", 8), (clseg_shape){2, 3, 64, 64}, 150);
}
END_TEST
START_TEST(test_unet_overfits)
{
    overfit("unet", config("unet", 8), (clseg_shape){2, 3, 32, 32}, 150);
}
END_TEST
START_TEST(test_linknet_overfits)
{
    overfit("linknet", config("linknet", 8), (clseg_shape){2, 3, 64, 64}, 150);
}
END_TEST
START_TEST(test_deeplabv3_overfits)
{
    clseg_model_config cfg = config("deeplabv3", 8);
    cfg.output_stride = 8; /* 8x8 logits for 64x64 masks */
    overfit("deeplabv3", cfg, (clseg_shape){2, 3, 64, 64}, 150);
}
END_TEST

/* The auto-encoder learns to reproduce two images: MSE falls by 10x within 150 Adam steps. */
START_TEST(test_autoencoder_learns_to_reconstruct)
{
    clseg_context *ctx = default_context();
    clseg_model_config cfg = config("autoencoder", 8);
    clseg_net *net = build(&cfg);
    clseg_shape in = {2, 3, 32, 32};
    float *image = malloc(clseg_shape_numel(in) * sizeof *image);
    synthetic(in, image, NULL);
    clseg_tensor *input = test_tensor(ctx, in, image);
    clseg_loss_desc mse = clseg_loss_make(CLSEG_LOSS_MSE);
    clseg_optimizer adam = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-2f);
    ck_assert_int_eq(clseg_net_plan(net, ctx, in, CLSEG_NET_TRAIN, 3), CLSEG_STATUS_SUCCESS);
    float first = 0.0f, value = 0.0f;
    int step = 0;
    for (; step < 150 && (step == 0 || value > first / 10.0f); step++) {
        ck_assert_int_eq(clseg_net_train_step(net, input, input, &mse, &adam, &value), CLSEG_STATUS_SUCCESS);
        first = step == 0 ? value : first;
    }
    printf("%-12s MSE %.4f -> %.4f in %d Adam steps at 32x32, base 8\n", "autoencoder", first, value, step);
    ck_assert_msg(value <= first / 10.0f, "MSE %.4f -> %.4f after %d steps", first, value, step);
    clseg_tensor_destroy(input);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
    free(image);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("models");
    TCase *host = tcase_create("host");
    tcase_set_timeout(host, 600);
    tcase_add_test(host, test_unet_is_brain_segmentation_pytorch);
    tcase_add_test(host, test_parameter_counts_match_their_originals);
    tcase_add_test(host, test_layer_figures_add_up);
    tcase_add_test(host, test_output_shapes);
    tcase_add_test(host, test_inputs_that_do_not_fit_are_rejected);
    tcase_add_test(host, test_config_round_trips_through_metadata);
    tcase_add_test(host, test_bad_configs_are_rejected);
    suite_add_tcase(s, host);
    TCase *fit = tcase_create("overfitting");
    tcase_set_timeout(fit, 600);
    tcase_add_test(fit, test_convdeconv_overfits);
    tcase_add_test(fit, test_unet_overfits);
    tcase_add_test(fit, test_linknet_overfits);
    tcase_add_test(fit, test_deeplabv3_overfits);
    tcase_add_test(fit, test_autoencoder_learns_to_reconstruct);
    suite_add_tcase(s, fit);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device against reference");
    tcase_set_timeout(dev, 600);
    tcase_add_test(dev, test_convdeconv_step_matches_ref);
    tcase_add_test(dev, test_unet_step_matches_ref);
    tcase_add_test(dev, test_linknet_step_matches_ref);
    tcase_add_test(dev, test_deeplabv3_step_matches_ref);
    tcase_add_test(dev, test_autoencoder_step_matches_ref);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
