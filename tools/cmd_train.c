/* clseg train: trains a model on a dataset folder (or resumes a run), with a progress bar, one
 * line per epoch, and a checkpoint on Ctrl-C. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg train --model M --data DIR [--out RUN_DIR] [--device SEL] [--epochs E] [--batch B]\n"
               "                   [--lr X] [--optimizer adam|adamw|sgd] [--loss bce|dice|bce+dice|mse] [--size S]\n"
               "                   [--val-fraction F] [--seed K] [more options below]\n"
               "       clseg train --resume RUN_DIR [--epochs E] [--data DIR] [--device SEL]\n\n"
               "Trains on the patients of DIR (kaggle_3m layout) less a validation share, held out by patient.\n"
               "After every epoch: validation Dice and IoU per slice and per patient volume, a row of\n"
               "RUN_DIR/metrics.csv, RUN_DIR/curves.png, and the checkpoints RUN_DIR/last.safetensors and\n"
               "RUN_DIR/best.safetensors (best validation Dice per volume). Ctrl-C saves last.safetensors\n"
               "and stops; --resume continues exactly where the run stopped.\n\n"
               "  --model M            unet (default), convdeconv, linknet, deeplabv3 or autoencoder\n"
               "  --data DIR           the dataset folder\n"
               "  --out RUN_DIR        the run folder (default runs/M); it must not hold a run already\n"
               "  --resume RUN_DIR     continue that run (its options are stored in its checkpoint)\n"
               "  --epochs E           epochs in all (default 10; with --resume: a new total)\n"
               "  --batch B            slices per step (default 8)\n"
               "  --lr X               learning rate (default 1e-3; sgd 1e-2)\n"
               "  --optimizer O        adam (default), adamw or sgd (momentum 0.9)\n"
               "  --loss L             bce+dice (default), bce, dice or mse; the auto-encoder uses mse\n"
               "  --size S             input height and width, a multiple of 16 (default 256)\n"
               "  --val-fraction F     share of patients for validation (default 0.2)\n"
               "  --seed K             weights, split, batches and augmentation (default 1)\n"
               "  --steps-per-epoch N  batches per epoch (default: every training slice once)\n"
               "  --channels LIST      image channels fed, e.g. 1 (FLAIR) or 0,1,2 (default: all)\n"
               "  --normalize N        unit (x/255, default) or volume (per-patient z-score)\n"
               "  --no-augment         no flips, rotations, zoom or intensity changes\n"
               "  --tumour-fraction F  share of each epoch drawn from slices with tumour (default 0.5; 0: off)\n"
               "  --noise X            auto-encoder: denoising, with Gaussian noise of std X on the input\n"
               "  --base N, --depth D, --output-stride S   the model's width, ResNet depth, DeepLab stride\n"
               "  --device SEL         the OpenCL device (see clseg devices), or ref\n");
}

static volatile sig_atomic_t stop_requested;
static struct timespec first_signal; /* written by the handler only */

/* The first Ctrl-C asks for a checkpoint and a clean stop. A second one more than a second later
 * stops at once; sooner, it is the same keypress delivered twice (timeout(1), for one, signals
 * both the command and its process group). */
static void on_interrupt(int sig)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!stop_requested) {
        stop_requested = 1;
        first_signal = now;
        return;
    }
    if ((double)(now.tv_sec - first_signal.tv_sec) + 1e-9 * (double)(now.tv_nsec - first_signal.tv_nsec) > 1.0) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

typedef struct display {
    int tty;
    int progress_shown;
} display;

static void fmt_time(char *buf, size_t size, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, size, "?");
    else if (s >= 3600)
        snprintf(buf, size, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, size, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void on_progress(void *user, const clseg_train_progress *p)
{
    display *d = user;
    if (!d->tty)
        return;
    enum { WIDTH = 24 };
    char bar[WIDTH + 1], eta[32];
    size_t fill = p->batches ? p->batch * WIDTH / p->batches : 0;
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fmt_time(eta, sizeof eta, p->eta_s);
    fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %zu/%zu  loss %.4f  %.2f img/s  ETA %s", (long long)p->epoch,
            (long long)p->epochs, bar, p->batch, p->batches, p->mean_loss, p->images_per_s, eta);
    fflush(stderr);
    d->progress_shown = 1;
}

static void clear_progress(display *d)
{
    if (d->progress_shown) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        d->progress_shown = 0;
    }
}

static void on_epoch(void *user, const clseg_epoch_summary *s)
{
    clear_progress(user);
    char t[32], v[32];
    fmt_time(t, sizeof t, s->train_s);
    fmt_time(v, sizeof v, s->val_s);
    printf("epoch %lld/%lld  loss %.4f", (long long)s->epoch, (long long)s->epochs, s->train_loss);
    const clseg_eval_report *r = s->val;
    if (r != NULL && r->autoencoder)
        printf("  val MSE %.5f (median %.5f)", r->mse.mean, r->mse.median);
    else if (r != NULL)
        printf("  val Dice volume %.3f (median %.3f), slice %.3f (median %.3f); IoU volume %.3f", r->volume_dice.mean,
               r->volume_dice.median, r->slice_dice.mean, r->slice_dice.median, r->volume_iou.mean);
    printf("  |  %.2f img/s, train %s, val %s%s\n", s->images_per_s, t, v, s->best ? "  * best" : "");
    fflush(stdout);
}

static void on_message(void *user, const char *text)
{
    clear_progress(user);
    printf("%s\n", text);
    fflush(stdout);
}

static bool parse_float(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
        cli_error("train: %s '%s' is not a number in [%g, %g]", opt, text, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_channels(const char *text, clseg_train_options *o)
{
    o->channel_count = 0;
    for (const char *p = text; *p != '\0';) {
        char *end = NULL;
        long c = strtol(p, &end, 10);
        if (end == p || c < 0 || c >= CLSEG_DATA_MAX_CHANNELS || o->channel_count == CLSEG_DATA_MAX_CHANNELS ||
            (*end != ',' && *end != '\0')) {
            cli_error("train: --channels '%s' is not a list of channel numbers 0..%d, e.g. 1 or 0,1,2", text,
                      CLSEG_DATA_MAX_CHANNELS - 1);
            return false;
        }
        o->channels[o->channel_count++] = (int)c;
        p = *end == ',' ? end + 1 : end;
    }
    return o->channel_count > 0;
}

typedef struct train_args {
    clseg_train_options o;
    const char *model, *resume;
    bool lr_given;
    unsigned long long base, depth, stride;
} train_args;

static const char *const valued[] = {"--model",
                                     "--data",
                                     "--out",
                                     "--resume",
                                     "--epochs",
                                     "--batch",
                                     "--lr",
                                     "--optimizer",
                                     "--loss",
                                     "--size",
                                     "--val-fraction",
                                     "--seed",
                                     "--steps-per-epoch",
                                     "--channels",
                                     "--normalize",
                                     "--tumour-fraction",
                                     "--noise",
                                     "--base",
                                     "--depth",
                                     "--output-stride",
                                     "--no-augment"};
enum { NVALUED = 20 }; /* the options above that take a value: all but --no-augment */

/* Applies option arg with its value; false after reporting a bad value. */
static bool apply_option(train_args *a, const char *arg, const char *value)
{
    clseg_train_options *o = &a->o;
    unsigned long long u = 0;
    double x = 0;
#define IS(name) (strcmp(arg, name) == 0)
    if (IS("--model"))
        a->model = value;
    else if (IS("--data"))
        o->data = value;
    else if (IS("--out"))
        o->run_dir = value;
    else if (IS("--resume"))
        a->resume = value;
    else if (IS("--epochs") && cli_parse_uint("train", arg, value, 1, 1000000, &u))
        o->epochs = (int)u;
    else if (IS("--batch") && cli_parse_uint("train", arg, value, 1, 4096, &u))
        o->batch = (int)u;
    else if (IS("--size") && cli_parse_uint("train", arg, value, 16, 4096, &u))
        o->size = (int)u;
    else if (IS("--steps-per-epoch") && cli_parse_uint("train", arg, value, 1, 1000000000, &u))
        o->steps_per_epoch = (int)u;
    else if (IS("--seed") && cli_parse_uint("train", arg, value, 0, UINT64_MAX, &u))
        o->seed = u;
    else if (IS("--base") && cli_parse_uint("train", arg, value, 1, 65536, &a->base))
        ;
    else if (IS("--depth") && cli_parse_uint("train", arg, value, 18, 50, &a->depth))
        ;
    else if (IS("--output-stride") && cli_parse_uint("train", arg, value, 8, 16, &a->stride))
        ;
    else if (IS("--lr") && parse_float(arg, value, 1e-12, 3e38, &x)) {
        o->lr = (float)x;
        a->lr_given = true;
    } else if (IS("--val-fraction") && parse_float(arg, value, 0, 0.99, &x))
        o->val_fraction = x;
    else if (IS("--tumour-fraction") && parse_float(arg, value, 0, 1, &x))
        o->tumour_fraction = (float)x;
    else if (IS("--noise") && parse_float(arg, value, 0, 100, &x))
        o->noise = (float)x;
    else if (IS("--channels") && parse_channels(value, o))
        ;
    else if (IS("--optimizer")) {
        if (clseg_optimizer_kind_parse(value, &o->optimizer) != CLSEG_STATUS_SUCCESS) {
            cli_error("train: unknown --optimizer '%s' (adam, adamw or sgd)", value);
            return false;
        }
    } else if (IS("--loss")) {
        if (clseg_loss_kind_parse(value, &o->loss) != CLSEG_STATUS_SUCCESS) {
            cli_error("train: unknown --loss '%s' (bce, dice, bce+dice or mse)", value);
            return false;
        }
    } else if (IS("--normalize")) {
        if (clseg_normalize_parse(value, &o->normalize) != CLSEG_STATUS_SUCCESS) {
            cli_error("train: unknown --normalize '%s' (unit or volume)", value);
            return false;
        }
    } else
        return false; /* a number that did not parse: already reported */
#undef IS
    return true;
}

/* The model's configuration from --model and its shape options. */
static bool configure_model(train_args *a)
{
    clseg_train_options *o = &a->o;
    const char *name = a->model != NULL ? a->model : "unet";
    if (clseg_model_config_default(name, &o->model) != CLSEG_STATUS_SUCCESS) {
        cli_error("train: unknown --model '%s' (convdeconv, unet, linknet, deeplabv3 or autoencoder)", name);
        return false;
    }
    if (a->base)
        o->model.base = (int64_t)a->base;
    if (a->depth)
        o->model.depth = (int)a->depth;
    if (a->stride)
        o->model.output_stride = (int)a->stride;
    if (o->channel_count > 0)
        o->model.in_channels = o->channel_count;
    if (!a->lr_given && o->optimizer == CLSEG_OPTIMIZER_SGD)
        o->lr = 1e-2f;
    return true;
}

static int report(clseg_status st, const char *err, const char *run_dir)
{
    if (st == CLSEG_STATUS_SUCCESS)
        return CLI_OK;
    cli_error("train: %s", err[0] ? err : clseg_status_str(st));
    if (st == CLSEG_STATUS_INTERRUPTED) {
        fprintf(stderr, "clseg: resume with: clseg train --resume %s\n", run_dir);
        return 130;
    }
    return CLI_FAILED;
}

int cmd_train(int argc, char **argv)
{
    cli_common common = {0};
    train_args a = {.o = clseg_train_options_default()};
    static const cli_spec spec = {"train", valued, NVALUED, 1, usage};
    bool epochs_given = false;
    const char *fixed_by_run = NULL; /* an option a resumed run takes from its checkpoint */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int k = cli_next_arg(&spec, argc, argv, &i, &common, &value);
        if (k == CLI_ARG_COMMON)
            continue;
        if (k < 0)
            return k == CLI_ARG_HELP ? CLI_OK : CLI_USAGE;
        if (k == NVALUED) { /* --no-augment */
            a.o.augment = false;
            continue;
        }
        if (!apply_option(&a, arg, value))
            return CLI_USAGE;
        epochs_given = epochs_given || strcmp(arg, "--epochs") == 0;
        if (strcmp(arg, "--epochs") != 0 && strcmp(arg, "--data") != 0 && strcmp(arg, "--resume") != 0)
            fixed_by_run = arg;
    }
    if (a.resume != NULL && (fixed_by_run != NULL || !a.o.augment)) {
        cli_error("train: %s cannot change a resumed run: it goes on with the options stored in its checkpoint "
                  "(only --epochs, --data and --device may be given with --resume)",
                  fixed_by_run != NULL ? fixed_by_run : "--no-augment");
        return CLI_USAGE;
    }
    if (a.resume == NULL && a.o.data == NULL) {
        cli_error("train: --data DIR is required (or --resume RUN_DIR)");
        usage(stderr);
        return CLI_USAGE;
    }
    if (a.resume == NULL && !configure_model(&a))
        return CLI_USAGE;
    char default_out[64];
    if (a.resume == NULL && a.o.run_dir == NULL) {
        snprintf(default_out, sizeof default_out, "runs/%s", a.o.model.name);
        a.o.run_dir = default_out;
    }
    clseg_context *ctx = cli_context(&common, common.device);
    if (ctx == NULL)
        return CLI_FAILED;
    display d = {isatty(fileno(stderr)), 0};
    clseg_train_callbacks cb = {on_progress, on_epoch, on_message, &d, &stop_requested};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("device: %s\n", clseg_context_device(ctx)->name);
    char err[2048] = "";
    clseg_status st;
    if (a.resume != NULL)
        st = clseg_train_resume(ctx, a.resume, epochs_given ? a.o.epochs : 0, a.o.data, &cb, err, sizeof err);
    else {
        printf("training %s on %s: %d epochs of batch %d at %dx%d, %s lr %g, loss %s; run folder %s\n", a.o.model.name,
               a.o.data, a.o.epochs, a.o.batch, a.o.size, a.o.size, clseg_optimizer_kind_str(a.o.optimizer),
               (double)a.o.lr, strcmp(a.o.model.name, "autoencoder") == 0 ? "mse" : clseg_loss_kind_str(a.o.loss),
               a.o.run_dir);
        st = clseg_train(ctx, &a.o, &cb, err, sizeof err);
    }
    clear_progress(&d);
    int rc = report(st, err, a.resume != NULL ? a.resume : a.o.run_dir);
    clseg_context_destroy(ctx);
    return rc;
}
