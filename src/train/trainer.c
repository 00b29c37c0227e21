/* The training loop: steps, validation, metrics, checkpoints; interruption and divergence. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clseg/checkpoint.h"
#include "train/train_internal.h"
#include "util/rng.h"

#define TWO_PI 6.283185307179586

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What one step needs, allocated before the first. */
typedef struct step_buffers {
    clseg_loader *loader;
    clseg_tensor *input, *target;
    float *noisy;   /* the auto-encoder's denoising input */
    size_t batches; /* per epoch */
    clseg_optimizer opt;
    clseg_loss_desc loss;
    clseg_infer_options infer;
} step_buffers;

static clseg_status buffers_create(trainer *t, step_buffers *b)
{
    clseg_loader_options lo = clseg_loader_options_default();
    lo.slices = t->train_slices;
    lo.slice_count = t->train_count;
    lo.batch_size = t->o.batch;
    lo.size = t->o.size;
    memcpy(lo.channels, t->o.channels, sizeof lo.channels);
    lo.channel_count = t->o.channel_count;
    lo.normalize = t->o.normalize;
    lo.shuffle = true;
    lo.drop_last = true; /* one shape for the plan, and no batch norm over a lone slice */
    lo.augment = t->o.augment;
    lo.augmentation = clseg_augment_options_default();
    lo.tumour_fraction = t->autoencoder ? 0.0f : t->o.tumour_fraction;
    lo.seed = t->o.seed;
    lo.first_batch = (uint64_t)t->state.step; /* one batch per step since the run began */
    char msg[512];
    clseg_status st = clseg_loader_create(t->ds, &lo, &b->loader, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot start the batch loader: %s", msg);
    b->batches = t->o.steps_per_epoch > 0 ? (size_t)t->o.steps_per_epoch : clseg_loader_batches_per_epoch(b->loader);
    clseg_shape out = clseg_net_output_shape(t->net);
    if ((st = clseg_tensor_create(t->ctx, t->shape, &b->input)) != CLSEG_STATUS_SUCCESS ||
        (st = clseg_tensor_create(t->ctx, out, &b->target)) != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot allocate the batch tensors: %s", clseg_context_last_error(t->ctx));
    if (t->autoencoder && t->o.noise > 0.0f) {
        b->noisy = malloc(clseg_shape_numel(t->shape) * sizeof *b->noisy);
        if (b->noisy == NULL)
            return trainer_fail(t, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    b->opt = clseg_optimizer_make(t->o.optimizer, t->o.lr);
    b->loss = clseg_loss_make(t->o.loss);
    if ((st = clseg_infer_options_from_net(t->net, &b->infer, msg, sizeof msg)) != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "%s", msg);
    b->infer.batch = t->o.batch;
    return CLSEG_STATUS_SUCCESS;
}

static void buffers_destroy(step_buffers *b)
{
    clseg_loader_destroy(b->loader);
    clseg_tensor_destroy(b->input);
    clseg_tensor_destroy(b->target);
    free(b->noisy);
}

/* Gaussian noise from the seed and the step alone, so a resumed run adds the same noise. */
static void add_noise(const trainer *t, const float *clean, float *noisy, size_t n)
{
    clseg_rng r = {t->o.seed ^ ((uint64_t)t->state.step * UINT64_C(0x9e3779b97f4a7c15))};
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ((double)(clseg_rng_next(&r) >> 11) + 1.0) * 0x1.0p-53,
               u2 = (double)(clseg_rng_next(&r) >> 11) * 0x1.0p-53;
        double radius = sqrt(-2.0 * log(u1)) * (double)t->o.noise;
        noisy[i] = clean[i] + (float)(radius * cos(TWO_PI * u2));
        if (i + 1 < n)
            noisy[i + 1] = clean[i + 1] + (float)(radius * sin(TWO_PI * u2));
    }
}

/* Writes last.safetensors (or best) with the position inside the epoch in progress. */
static clseg_status save(trainer *t, const char *path)
{
    char v[64];
    snprintf(v, sizeof v, "%zu", t->batch_in_epoch);
    clseg_status st = clseg_net_set_meta(t->net, TRAIN_KEY_BATCH_IN_EPOCH, v);
    snprintf(v, sizeof v, "%.17g", t->epoch_loss_sum);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_set_meta(t->net, TRAIN_KEY_EPOCH_LOSS_SUM, v);
    char msg[1024];
    t->state.step = clseg_net_step_count(t->net);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_checkpoint_save(t->net, path, &t->state, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot write the checkpoint %s (the previous one, if any, is kept): %s", path, msg);
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status step(trainer *t, step_buffers *b, int64_t epoch, float *loss)
{
    clseg_batch batch;
    clseg_status st = clseg_loader_next(b->loader, &batch);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "the batch loader failed: %s", clseg_status_str(st));
    size_t n = clseg_shape_numel(t->shape);
    const float *input = batch.images;
    if (b->noisy != NULL) {
        add_noise(t, batch.images, b->noisy, n);
        input = b->noisy;
    }
    st = clseg_tensor_upload(b->input, input, n);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_tensor_upload(b->target, t->autoencoder ? batch.images : batch.masks, clseg_tensor_numel(b->target));
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_train_step(t->net, b->input, b->target, &b->loss, &b->opt, loss);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "training step %lld of epoch %lld failed: %s", (long long)t->state.step + 1,
                            (long long)epoch, clseg_context_last_error(t->ctx));
    if (!isfinite(*loss))
        return trainer_fail(t, CLSEG_STATUS_NOT_FINITE,
                            "the loss became %s at epoch %lld, step %lld (batch %zu of %zu): training diverged (try a "
                            "lower --lr); %s",
                            isnan(*loss) ? "NaN" : "infinite", (long long)epoch,
                            (long long)clseg_net_step_count(t->net), t->batch_in_epoch + 1, b->batches,
                            t->state.step > 0 || t->state.epoch > 0 ? "the last good checkpoint is kept"
                                                                    : "no checkpoint had been written yet");
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status interrupted(trainer *t, int64_t epoch)
{
    clseg_status st = save(t, t->last_path);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    return trainer_fail(t, CLSEG_STATUS_INTERRUPTED,
                        "interrupted in epoch %lld after batch %zu (step %lld); %s holds it", (long long)epoch,
                        t->batch_in_epoch, (long long)t->state.step, t->last_path);
}

static clseg_status train_epoch(trainer *t, step_buffers *b, int64_t epoch, double *images_per_s, double *seconds)
{
    double start = now_s();
    size_t first = t->batch_in_epoch;
    for (; t->batch_in_epoch < b->batches; t->batch_in_epoch++) {
        if (t->cb != NULL && t->cb->stop != NULL && *t->cb->stop)
            return interrupted(t, epoch);
        float loss = 0.0f;
        clseg_status st = step(t, b, epoch, &loss);
        if (st != CLSEG_STATUS_SUCCESS)
            return st;
        t->state.step = clseg_net_step_count(t->net);
        t->epoch_loss_sum += loss;
        double elapsed = now_s() - start;
        size_t done = t->batch_in_epoch + 1 - first;
        *images_per_s = elapsed > 0 ? (double)done * (double)t->o.batch / elapsed : 0.0;
        if (t->cb != NULL && t->cb->progress != NULL) {
            clseg_train_progress p = {epoch,
                                      t->o.epochs,
                                      t->batch_in_epoch + 1,
                                      b->batches,
                                      t->state.step,
                                      loss,
                                      t->epoch_loss_sum / (double)(t->batch_in_epoch + 1),
                                      *images_per_s,
                                      elapsed,
                                      elapsed / (double)done * (double)(b->batches - t->batch_in_epoch - 1)};
            t->cb->progress(t->cb->user, &p);
        }
    }
    *seconds = now_s() - start;
    return CLSEG_STATUS_SUCCESS;
}

static double report_score(const trainer *t, const clseg_eval_report *r, double train_loss)
{
    if (r == NULL)
        return -train_loss;
    return t->autoencoder ? -r->mse.mean : r->volume_dice.mean;
}

static train_epoch_row make_row(const trainer *t, int64_t epoch, double train_loss, const clseg_eval_report *r,
                                double ips, double train_s, double val_s, bool best)
{
    train_epoch_row row = {epoch, t->state.step, train_loss, NAN, NAN, NAN,     NAN,   NAN,
                           NAN,   NAN,           NAN,        NAN, ips, train_s, val_s, best};
    if (r != NULL) {
        row.dice_slice_mean = r->slice_dice.mean;
        row.dice_slice_median = r->slice_dice.median;
        row.dice_volume_mean = r->volume_dice.mean;
        row.dice_volume_median = r->volume_dice.median;
        row.iou_slice_mean = r->slice_iou.mean;
        row.iou_slice_median = r->slice_iou.median;
        row.iou_volume_mean = r->volume_iou.mean;
        row.iou_volume_median = r->volume_iou.median;
        row.mse = r->mse.mean;
    }
    return row;
}

/* Validation, checkpoints, metrics.csv and curves after an epoch's last step. */
static clseg_status finish_epoch(trainer *t, step_buffers *b, int64_t epoch, double ips, double train_s)
{
    double train_loss = t->epoch_loss_sum / (double)b->batches, start = now_s();
    clseg_eval_report *report = NULL;
    clseg_status st = CLSEG_STATUS_SUCCESS;
    if (t->val_count > 0) {
        st =
            clseg_evaluate(t->net, t->ctx, t->ds, t->val_slices, t->val_count, &b->infer, &report, t->err, t->err_size);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_net_plan(t->net, t->ctx, t->shape, CLSEG_NET_TRAIN, t->o.seed);
        if (st != CLSEG_STATUS_SUCCESS) {
            clseg_eval_report_destroy(report);
            return st;
        }
    }
    double val_s = now_s() - start, score = report_score(t, report, train_loss);
    bool best = isfinite(score) && score > t->state.best_metric;
    t->state.epoch = epoch;
    t->batch_in_epoch = 0;
    t->epoch_loss_sum = 0.0;
    if (best) {
        t->state.best_metric = score;
        st = save(t, t->best_path);
    }
    if (st == CLSEG_STATUS_SUCCESS)
        st = save(t, t->last_path);
    train_epoch_row row = make_row(t, epoch, train_loss, report, ips, train_s, val_s, best);
    if (st == CLSEG_STATUS_SUCCESS && (st = train_history_add(&t->history, &row)) != CLSEG_STATUS_SUCCESS)
        trainer_fail(t, st, "out of host memory");
    if (st == CLSEG_STATUS_SUCCESS)
        st = train_history_write(&t->history, t->csv_path, t->png_path, t->autoencoder, t->err, t->err_size);
    if (st == CLSEG_STATUS_SUCCESS && t->cb != NULL && t->cb->epoch_end != NULL) {
        clseg_epoch_summary s = {epoch, t->o.epochs, t->state.step, train_loss, report,
                                 score, best,        train_s,       val_s,      ips};
        t->cb->epoch_end(t->cb->user, &s);
    }
    clseg_eval_report_destroy(report);
    return st;
}

static clseg_status run(trainer *t)
{
    if (t->state.epoch >= t->o.epochs) {
        trainer_say(t, "%s has already trained its %d epochs; give a larger number of epochs to go on", t->run_dir,
                    t->o.epochs);
        return CLSEG_STATUS_SUCCESS;
    }
    step_buffers b = {0};
    clseg_status st = buffers_create(t, &b);
    for (int64_t epoch = t->state.epoch + 1; st == CLSEG_STATUS_SUCCESS && epoch <= t->o.epochs; epoch++) {
        double ips = 0.0, seconds = 0.0;
        st = train_epoch(t, &b, epoch, &ips, &seconds);
        if (st == CLSEG_STATUS_SUCCESS)
            st = finish_epoch(t, &b, epoch, ips, seconds);
    }
    if (st == CLSEG_STATUS_SUCCESS && t->state.epoch >= t->o.epochs)
        trainer_say(t, "done: %lld epochs; %s, %s", (long long)t->state.epoch, t->last_path, t->best_path);
    buffers_destroy(&b);
    return st;
}

clseg_status clseg_train(clseg_context *ctx, const clseg_train_options *opts, const clseg_train_callbacks *cb,
                         char *err, size_t err_size)
{
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (ctx == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_train: ctx is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    trainer t = {.ctx = ctx, .cb = cb, .err = err, .err_size = err_size};
    clseg_status st = trainer_setup_new(&t, opts);
    if (st == CLSEG_STATUS_SUCCESS)
        st = run(&t);
    trainer_release(&t);
    return st;
}

clseg_status clseg_train_resume(clseg_context *ctx, const char *run_dir, int epochs, const char *data,
                                const clseg_train_callbacks *cb, char *err, size_t err_size)
{
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (ctx == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_train_resume: ctx is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    trainer t = {.ctx = ctx, .cb = cb, .err = err, .err_size = err_size};
    clseg_status st = trainer_setup_resume(&t, run_dir, epochs, data);
    if (st == CLSEG_STATUS_SUCCESS)
        st = run(&t);
    trainer_release(&t);
    return st;
}
