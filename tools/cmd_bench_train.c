/* clseg bench train: a model's training and inference throughput, the time to its first step
 * with a cold and with a warm kernel cache, and its peak device memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/files.h"
#include "util/rng.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg bench train [--model M] [--size S] [--batch B] [--steps N] [--base N]\n"
               "                         [--no-cold] [--device SEL] [--json FILE]\n\n"
               "Trains the model on synthetic batches (Adam, BCE+Dice) and reports training and\n"
               "inference images/s (medians of N timed steps after a warm-up step), the time from\n"
               "creating the device context to the end of the first training step with an empty\n"
               "kernel cache (cold; PoCL's and NVIDIA's compiler caches are emptied too) and with\n"
               "the cache it left (warm), and the peak device memory.\n\n"
               "  --model M      unet (default), convdeconv, linknet, deeplabv3 or autoencoder\n"
               "  --size S       input height and width (default 256)\n"
               "  --batch B      images per step (default 8)\n"
               "  --steps N      timed steps, training and inference each (default 3)\n"
               "  --base N       the model's width (default: its own)\n"
               "  --no-cold      skip the cold-cache run: time with the usual kernel cache\n"
               "                 (for repeated measurements; the JSON then has no first_step_cold_s)\n"
               "  --device SEL   the device (see 'clseg devices')\n"
               "  --json FILE    also write the figures as JSON (train_images_per_s,\n"
               "                 infer_images_per_s, first_step_s, peak_memory_bytes, ...)\n");
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cli_compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct bench_setup {
    clseg_model_config cfg;
    clseg_shape shape;
    int steps;
} bench_setup;

typedef struct bench_result {
    double first_step_s;
    double train_images_per_s, infer_images_per_s;
    double train_step_s, infer_step_s;
    uint64_t peak_memory_bytes;
    char device[256];
} bench_result;

/* One context's life: build, plan, the first step (timed from the context's creation), and
 * with timed set the measured steps. */
static int run_once(const cli_common *common, const char *cache_dir, const bench_setup *s, bool timed, bench_result *r)
{
    double t0 = cli_seconds();
    clseg_context_options co = clseg_context_options_default();
    co.device = common->device;
    co.cache_dir = cache_dir;
    clseg_context *ctx = NULL;
    char err[4096];
    if (clseg_context_create(&co, &ctx, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("bench: %s", err);
        return CLI_FAILED;
    }
    snprintf(r->device, sizeof r->device, "%s", clseg_context_device(ctx)->name);
    clseg_net *net = NULL;
    clseg_tensor *x = NULL, *y = NULL;
    size_t n = clseg_shape_numel(s->shape);
    float *host = malloc(n * sizeof *host), *out = NULL;
    clseg_status st =
        host != NULL ? clseg_model_build(&s->cfg, &net, err, sizeof err) : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_plan(net, ctx, s->shape, CLSEG_NET_TRAIN, 1);
    clseg_shape os = clseg_net_output_shape(net);
    if (st == CLSEG_STATUS_SUCCESS && (st = clseg_tensor_create(ctx, s->shape, &x)) == CLSEG_STATUS_SUCCESS)
        st = clseg_tensor_create(ctx, os, &y);
    clseg_rng rng = {42};
    for (size_t i = 0; host != NULL && i < n; i++)
        host[i] = clseg_rng_uniform(&rng);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_tensor_upload(x, host, n);
    for (size_t i = 0; host != NULL && i < clseg_shape_numel(os) && i < n; i++)
        host[i] =
            host[i] > 0.7f ? 1.0f : 0.0f; /* a mask; also the auto-encoder's target (values do not change timings) */
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_tensor_upload(y, host, clseg_shape_numel(os));
    clseg_loss_desc loss =
        clseg_loss_make(strcmp(s->cfg.name, "autoencoder") == 0 ? CLSEG_LOSS_MSE : CLSEG_LOSS_BCE_DICE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-3f);
    float value = 0.0f;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_train_step(net, x, y, &loss, &opt, &value);
    r->first_step_s = cli_seconds() - t0;
    double times[64];
    for (int i = 0; timed && st == CLSEG_STATUS_SUCCESS && i < s->steps; i++) {
        double t = cli_seconds();
        st = clseg_net_train_step(net, x, y, &loss, &opt, &value);
        times[i] = cli_seconds() - t;
    }
    if (timed && st == CLSEG_STATUS_SUCCESS) {
        r->train_step_s = median(times, s->steps);
        st = clseg_net_plan(net, ctx, s->shape, CLSEG_NET_INFER, 1);
        out = malloc(clseg_shape_numel(os) * sizeof *out);
        st = st == CLSEG_STATUS_SUCCESS && out == NULL ? CLSEG_STATUS_OUT_OF_HOST_MEMORY : st;
    }
    /* inference as predict runs it: forward, then the output back to the host */
    for (int i = -1; timed && st == CLSEG_STATUS_SUCCESS && i < s->steps; i++) {
        double t = cli_seconds();
        st = clseg_net_forward(net, x);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tensor_download(clseg_net_output(net), out, clseg_shape_numel(os));
        if (i >= 0)
            times[i] = cli_seconds() - t;
    }
    if (timed && st == CLSEG_STATUS_SUCCESS) {
        r->infer_step_s = median(times, s->steps);
        r->train_images_per_s = (double)s->shape.n / r->train_step_s;
        r->infer_images_per_s = (double)s->shape.n / r->infer_step_s;
        r->peak_memory_bytes = clseg_context_memory_stats(ctx).peak_bytes;
    }
    if (st != CLSEG_STATUS_SUCCESS)
        cli_error("bench: %s: %s", s->cfg.name, clseg_context_last_error(ctx)[0] ? clseg_context_last_error(ctx) : err);
    free(out);
    free(host);
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(y);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
    return st == CLSEG_STATUS_SUCCESS ? CLI_OK : CLI_FAILED;
}

/* cold NULL (--no-cold): no first_step_cold_s */
static int write_json(const char *path, const bench_setup *s, const bench_result *cold, const bench_result *warm)
{
    char text[2048], cold_line[64] = "";
    if (cold != NULL)
        snprintf(cold_line, sizeof cold_line, "  \"first_step_cold_s\": %.6g,\n", cold->first_step_s);
    int len = snprintf(text, sizeof text,
                       "{\n  \"model\": \"%s\",\n  \"size\": %lld,\n  \"batch\": %lld,\n  \"steps\": %d,\n"
                       "  \"device\": \"%s\",\n  \"train_images_per_s\": %.6g,\n  \"infer_images_per_s\": %.6g,\n"
                       "  \"train_step_s\": %.6g,\n  \"infer_step_s\": %.6g,\n  \"first_step_s\": %.6g,\n"
                       "%s  \"first_step_warm_s\": %.6g,\n"
                       "  \"peak_memory_bytes\": %llu\n}\n",
                       s->cfg.name, (long long)s->shape.h, (long long)s->shape.n, s->steps, warm->device,
                       warm->train_images_per_s, warm->infer_images_per_s, warm->train_step_s, warm->infer_step_s,
                       warm->first_step_s, cold_line, warm->first_step_s, (unsigned long long)warm->peak_memory_bytes);
    const void *parts[] = {text};
    size_t sizes[] = {(size_t)len};
    char err[1024];
    if (clseg_write_file_atomic(path, parts, sizes, 1, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("bench: %s", err);
        return CLI_FAILED;
    }
    printf("wrote %s\n", path);
    return CLI_OK;
}

/* The table; cold NULL: the cold-cache line is left out. */
static void print_results(const bench_setup *s, const bench_result *cold, const bench_result *warm)
{
    char mem[32];
    printf("device                 %s\n", warm->device);
    printf("training               %.3f images/s (%.3f s per step, median of %d)\n", warm->train_images_per_s,
           warm->train_step_s, s->steps);
    printf("inference              %.3f images/s (%.3f s per batch, median of %d)\n", warm->infer_images_per_s,
           warm->infer_step_s, s->steps);
    if (cold != NULL)
        printf("first step, cold cache %.2f s (context, kernel builds, plan, one step)\n", cold->first_step_s);
    printf("first step, warm cache %.2f s\n", warm->first_step_s);
    printf("peak device memory     %s\n", cli_bytes(mem, sizeof mem, warm->peak_memory_bytes));
}

/* --no-cold: one timed run on the usual kernel cache, for measurements repeated in turns. */
static int warm_only(const cli_common *common, const bench_setup *s, const char *json)
{
    bench_result warm = {0};
    printf("clseg bench train: %s at %lldx%lld, batch %lld (usual kernel cache)\n", s->cfg.name, (long long)s->shape.h,
           (long long)s->shape.w, (long long)s->shape.n);
    fflush(stdout);
    int rc = run_once(common, NULL, s, true, &warm);
    if (rc != CLI_OK)
        return rc;
    print_results(s, NULL, &warm);
    return json != NULL ? write_json(json, s, NULL, &warm) : CLI_OK;
}

int cmd_bench_train(int argc, char **argv)
{
    cli_common common = {0};
    static const char *const names[] = {"--model", "--size", "--batch", "--steps", "--base", "--json", "--no-cold"};
    static const cli_spec spec = {"bench", names, 6, 1, usage};
    const char *model = "unet", *json = NULL;
    unsigned long long size = 256, batch = 8, steps = 3, base = 0;
    bool no_cold = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int k = cli_next_arg(&spec, argc, argv, &i, &common, &value);
        if (k == CLI_ARG_COMMON)
            continue;
        if (k < 0)
            return k == CLI_ARG_HELP ? CLI_OK : CLI_USAGE;
        bool ok = true;
        if (k == 0)
            model = value;
        else if (k == 1)
            ok = cli_parse_uint("bench", arg, value, 16, 4096, &size);
        else if (k == 2)
            ok = cli_parse_uint("bench", arg, value, 1, 1024, &batch);
        else if (k == 3)
            ok = cli_parse_uint("bench", arg, value, 1, 64, &steps);
        else if (k == 4)
            ok = cli_parse_uint("bench", arg, value, 1, 4096, &base);
        else if (k == 5)
            json = value;
        else
            no_cold = true;
        if (!ok)
            return CLI_USAGE;
    }
    bench_setup s = {.steps = (int)steps};
    if (clseg_model_config_default(model, &s.cfg) != CLSEG_STATUS_SUCCESS) {
        cli_error("bench: unknown --model '%s' (convdeconv, unet, linknet, deeplabv3 or autoencoder)", model);
        return CLI_USAGE;
    }
    if (base)
        s.cfg.base = (int64_t)base;
    s.shape = (clseg_shape){(int64_t)batch, s.cfg.in_channels, (int64_t)size, (int64_t)size};
    if (no_cold)
        return warm_only(&common, &s, json);
    char cache[] = "/tmp/clseg-bench-cache-XXXXXX";
    if (mkdtemp(cache) == NULL) {
        cli_error("bench: cannot create a temporary kernel cache folder in /tmp");
        return CLI_FAILED;
    }
    /* PoCL and NVIDIA's driver keep compiler caches of their own: point them into the empty
     * folder too (read when the OpenCL platform first loads, which is after this), so that
     * "cold" is cold for them as well */
    char pocl[sizeof cache + 8], nvidia[sizeof cache + 8];
    snprintf(pocl, sizeof pocl, "%s/pocl", cache);
    snprintf(nvidia, sizeof nvidia, "%s/nv", cache);
    setenv("POCL_CACHE_DIR", pocl, 1);
    setenv("CUDA_CACHE_PATH", nvidia, 1);
    bench_result cold = {0}, warm = {0};
    printf("clseg bench train: %s at %llux%llu, batch %llu (cold kernel cache in %s)\n", s.cfg.name, size, size, batch,
           cache);
    fflush(stdout);
    int rc = run_once(&common, cache, &s, false, &cold);
    if (rc == CLI_OK)
        rc = run_once(&common, cache, &s, true, &warm);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", cache);
    if (system(rm) != 0)
        cli_error("bench: could not remove %s", cache);
    if (rc != CLI_OK)
        return rc;
    print_results(&s, &cold, &warm);
    return json != NULL ? write_json(json, &s, &cold, &warm) : CLI_OK;
}
