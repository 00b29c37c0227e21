/* clseg summary: a model's layers, parameters, GFLOPs and planned memory, without running it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "models/models.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg summary --model NAME [--size H] [--base N] [--batch B] [--in C] [--classes K]\n"
               "                     [--depth D] [--output-stride S] [--device SEL]\n\n"
               "Builds a model and plans it for H x H inputs without allocating anything: one row per\n"
               "layer (kind, parameter name, output shape per image, trainable parameters, forward\n"
               "GFLOPs per image), the totals, and the memory a training step at batch B (Adam) and\n"
               "inference at batch B would allocate.\n\n"
               "  --model NAME         convdeconv, unet, linknet, deeplabv3 or autoencoder\n"
               "  --size H             input height and width (default 256)\n"
               "  --base N             width of the first level (default: the model's own)\n"
               "  --batch B            images per step for the memory figures (default 8)\n"
               "  --in C               input channels (default 3)\n"
               "  --classes K          output channels (default 1)\n"
               "  --depth D            deeplabv3's ResNet: 18 (default) or 50\n"
               "  --output-stride S    deeplabv3's output stride: 16 (default) or 8\n"
               "  --device SEL         plan for this device's workspaces (default: the reference\n"
               "                       backend's figures; no device is needed)\n");
}

/* 7763041 -> "7,763,041" */
static const char *grouped(char *buf, size_t size, int64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRId64, v < 0 ? -v : v);
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_layers(const clseg_net *net, int64_t batch)
{
    char p[32];
    printf("%-14s %-32s %-16s %12s %10s\n", "kind", "name", "output", "params", "GFLOPs");
    for (size_t i = 0; i < clseg_net_layer_count(net); i++) {
        clseg_layer_info l;
        if (clseg_net_layer(net, i, &l) != CLSEG_STATUS_SUCCESS)
            continue;
        char shape[64];
        snprintf(shape, sizeof shape, "%" PRId64 "x%" PRId64 "x%" PRId64, l.output.c, l.output.h, l.output.w);
        printf("%-14s %-32s %-16s %12s %10.4f\n", l.kind, l.name[0] ? l.name : "-", shape,
               l.params ? grouped(p, sizeof p, l.params) : "", l.flops / (double)batch * 1e-9);
    }
}

static double total_gflops_per_image(const clseg_net *net, int64_t batch)
{
    double flops = 0.0;
    for (size_t i = 0; i < clseg_net_layer_count(net); i++) {
        clseg_layer_info l;
        if (clseg_net_layer(net, i, &l) == CLSEG_STATUS_SUCCESS)
            flops += l.flops;
    }
    return flops / (double)batch * 1e-9;
}

static void print_memory_row(const char *what, const clseg_net_memory *m)
{
    char b[6][32];
    printf("  %-22s %11s %11s %11s %11s %11s %11s\n", what, cli_bytes(b[0], 32, m->params),
           cli_bytes(b[1], 32, m->grads), cli_bytes(b[2], 32, m->optimizer), cli_bytes(b[3], 32, m->activations),
           cli_bytes(b[4], 32, m->workspace), cli_bytes(b[5], 32, m->total));
}

/* Builds, estimates and prints; CLI_OK or CLI_FAILED. */
static int summarise(const clseg_model_config *cfg, int64_t size, int64_t batch, clseg_context *ctx)
{
    char err[1024], n[32];
    clseg_net *net = NULL;
    if (clseg_model_build(cfg, &net, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("summary: %s", err);
        return CLI_FAILED;
    }
    clseg_shape input = {batch, cfg->in_channels, size, size};
    clseg_net_memory train, infer;
    clseg_status st = clseg_net_plan_estimate(net, ctx, input, CLSEG_NET_TRAIN, &train);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_plan_estimate(net, ctx, input, CLSEG_NET_INFER, &infer);
    if (st != CLSEG_STATUS_SUCCESS) {
        const char *why = ctx != NULL ? clseg_context_last_error(ctx) : "";
        cli_error("summary: planning %s for %" PRId64 "x%" PRId64 " inputs failed: %s", cfg->name, size, size,
                  why[0] ? why : clseg_status_str(st));
        clseg_net_destroy(net);
        return CLI_FAILED;
    }
    int64_t params = clseg_net_trainable_scalars(net);
    double gflops = total_gflops_per_image(net, batch);
    printf("%s: in %" PRId64 ", classes %" PRId64 ", base %" PRId64, cfg->name, cfg->in_channels, cfg->classes,
           cfg->base);
    if (strcmp(cfg->name, "deeplabv3") == 0)
        printf(", ResNet-%d, output stride %d", cfg->depth, cfg->output_stride);
    printf("; input %" PRId64 "x%" PRId64 "x%" PRId64 " per image\n\n", cfg->in_channels, size, size);
    print_layers(net, batch);
    printf("%-14s %-32s %-16s %12s %10.4f\n\n", "total", "", "", grouped(n, sizeof n, params), gflops);
    printf("trainable parameters      %s\n", grouped(n, sizeof n, params));
    printf("forward GFLOPs per image  %.3f at %" PRId64 "x%" PRId64 "\n\n", gflops, size, size);
    printf("planned memory (%s), batch %" PRId64 ":\n",
           ctx != NULL ? clseg_context_device(ctx)->name : "reference backend's figures", batch);
    printf("  %-22s %11s %11s %11s %11s %11s %11s\n", "", "params", "grads", "optimizer", "activations", "workspace",
           "total");
    print_memory_row("training (Adam)", &train);
    print_memory_row("inference", &infer);
    printf("\n%s: %s trainable parameters, %.2f GFLOPs per image at %" PRId64 "x%" PRId64 "\n", cfg->name,
           grouped(n, sizeof n, params), gflops, size, size);
    clseg_net_destroy(net);
    return CLI_OK;
}

int cmd_summary(int argc, char **argv)
{
    cli_common common = {0};
    const char *model = NULL;
    enum { SIZE, BASE, BATCH, IN, CLASSES, DEPTH, STRIDE, NOPTS };
    static const unsigned long long lo[NOPTS] = {1, 1, 1, 1, 1, 18, 8};
    static const unsigned long long hi[NOPTS] = {16384, 65536, 4096, 65536, 65536, 50, 16};
    unsigned long long v[NOPTS] = {256, 0, 8, 3, 1, 18, 16};
    int given[NOPTS] = {0};
    static const char *const with_value[NOPTS + 1] = {"--size", "--base",  "--batch",         "--in",
                                                      "--classes", "--depth", "--output-stride", "--model"};
    static const cli_spec spec = {"summary", with_value, NOPTS + 1, 0, usage};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int which = cli_next_arg(&spec, argc, argv, &i, &common, &value);
        if (which == CLI_ARG_COMMON)
            continue;
        if (which < 0)
            return which == CLI_ARG_HELP ? CLI_OK : CLI_USAGE;
        if (which == NOPTS)
            model = value;
        else if (!cli_parse_uint("summary", arg, value, lo[which], hi[which], &v[which]))
            return CLI_USAGE;
        else
            given[which] = 1;
    }
    if (model == NULL) {
        cli_error("summary: --model NAME is required");
        usage(stderr);
        return CLI_USAGE;
    }
    clseg_model_config cfg;
    if (clseg_model_config_default(model, &cfg) != CLSEG_STATUS_SUCCESS) {
        cli_error("summary: unknown model '%s' (known: convdeconv, unet, linknet, deeplabv3, autoencoder)", model);
        return CLI_USAGE;
    }
    cfg.in_channels = (int64_t)v[IN];
    cfg.classes = (int64_t)v[CLASSES];
    cfg.depth = (int)v[DEPTH];
    cfg.output_stride = (int)v[STRIDE];
    if (given[BASE])
        cfg.base = (int64_t)v[BASE];
    char err[1024];
    if (clseg_model_check_input(&cfg, (int64_t)v[SIZE], (int64_t)v[SIZE], err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("summary: %s", err);
        return CLI_USAGE;
    }
    clseg_context *ctx = NULL;
    if (common.device != NULL && (ctx = cli_context(&common, common.device)) == NULL)
        return CLI_FAILED;
    int rc = summarise(&cfg, (int64_t)v[SIZE], (int64_t)v[BATCH], ctx);
    clseg_context_destroy(ctx);
    return rc;
}
