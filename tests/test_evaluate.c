/* Evaluation and prediction: scores from hand-made counts (exact Dice, IoU, means and medians),
 * PyTorch's bilinear resize, inference options from a net's metadata, predictions that match
 * what the net and the loader compute (on the reference backend and on OpenCL alike), and
 * rebuilding a checkpoint's model from its metadata. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clseg/clseg.h"
#include "eval/eval_internal.h"
#include "io/safetensors.h"
#include "test_util.h"

#define SIZE 32

static void close_to(double got, double want, const char *what)
{
    ck_assert_msg(fabs(got - want) < 1e-12, "%s: %.17g, want %.17g", what, got, want);
}

static void remove_tree(const char *dir)
{
    char cmd[4352];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* --- scoring ------------------------------------------------------------------------------ */

START_TEST(test_stats_mean_and_median)
{
    double even[] = {4, 1, 3, 2}, odd[] = {7, -1, 2}, one[] = {5};
    clseg_score_stats s = clseg_eval_stats(even, 4);
    close_to(s.mean, 2.5, "mean of 4 values");
    close_to(s.median, 2.5, "median of an even count: the two middle values' mean");
    s = clseg_eval_stats(odd, 3);
    close_to(s.mean, 8.0 / 3.0, "mean of 3 values");
    close_to(s.median, 2, "median of 3");
    s = clseg_eval_stats(one, 1);
    close_to(s.median, 5, "median of 1");
    s = clseg_eval_stats(NULL, 0);
    ck_assert(isnan(s.mean) && isnan(s.median));
}
END_TEST

/* Patients A (index 0) and B (index 2), B's slices listed first and among A's; patient 1 has
 * no slice here and is left out. */
static const clseg_eval_slice_counts hand[] = {
    {2, false, 0, 2, 0, 10, NAN}, /* B: nothing to find, 2 false alarms: Dice 0, IoU 0 */
    {0, true, 3, 1, 0, 20, NAN},  /* A: Dice 6/7, IoU 3/4 */
    {0, false, 0, 0, 0, 30, NAN}, /* A: empty and predicted empty: 1, 1 */
    {2, true, 5, 0, 5, 40, NAN},  /* B: Dice 2/3, IoU 1/2 */
    {0, true, 1, 0, 3, 50, NAN},  /* A: Dice 2/5, IoU 1/4 */
};
static const char *const names[] = {"A", "unused", "B"};

START_TEST(test_report_from_counts)
{
    clseg_eval_report *r = NULL;
    ck_assert_int_eq(clseg_eval_report_build(hand, 5, names, 3, false, &r), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(r->patient_count, 2);
    ck_assert_uint_eq(r->slice_count, 5);
    ck_assert(!r->autoencoder);
    const clseg_patient_score *a = &r->patients[0], *b = &r->patients[1];
    ck_assert_str_eq(a->name, "A");
    ck_assert_str_eq(b->name, "B");
    ck_assert_uint_eq(a->patient, 0);
    ck_assert_uint_eq(b->patient, 2);
    ck_assert_uint_eq(a->slices, 3);
    ck_assert_uint_eq(a->tumour_slices, 2);
    ck_assert_uint_eq(b->slices, 2);
    ck_assert_uint_eq(b->tumour_slices, 1);
    /* volumes: A tp 4 fp 1 fn 3, B tp 5 fp 2 fn 5 */
    close_to(a->tp, 4, "A tp");
    close_to(a->fp, 1, "A fp");
    close_to(a->fn, 3, "A fn");
    close_to(a->tn, 100, "A tn");
    close_to(b->tn, 50, "B tn");
    close_to(a->dice, 8.0 / 12.0, "A volume Dice");
    close_to(a->iou, 4.0 / 8.0, "A volume IoU");
    close_to(b->dice, 10.0 / 17.0, "B volume Dice");
    close_to(b->iou, 5.0 / 12.0, "B volume IoU");
    close_to(a->slice_dice_mean, (6.0 / 7.0 + 1.0 + 0.4) / 3.0, "A mean slice Dice");
    close_to(b->slice_dice_mean, 1.0 / 3.0, "B mean slice Dice");
    ck_assert(isnan(a->mse) && isnan(r->mse.mean) && isnan(r->mse.median));
    /* slices: Dice {0, 6/7, 1, 2/3, 2/5}, IoU {0, 3/4, 1, 1/2, 1/4} */
    close_to(r->slice_dice.mean, (6.0 / 7.0 + 1.0 + 2.0 / 3.0 + 0.4) / 5.0, "slice Dice mean");
    close_to(r->slice_dice.median, 2.0 / 3.0, "slice Dice median");
    close_to(r->slice_iou.mean, 0.5, "slice IoU mean");
    close_to(r->slice_iou.median, 0.5, "slice IoU median");
    /* two volumes: the median is their mean */
    close_to(r->volume_dice.mean, (8.0 / 12.0 + 10.0 / 17.0) / 2.0, "volume Dice mean");
    close_to(r->volume_dice.median, r->volume_dice.mean, "volume Dice median");
    close_to(r->volume_iou.median, (0.5 + 5.0 / 12.0) / 2.0, "volume IoU median");

    char *json = clseg_eval_report_json(r);
    ck_assert_ptr_nonnull(json);
    static const char *const want[] = {"\"volume_dice\": {\"mean\": 0.627450980392157, \"median\": 0.627450980392157}",
                                       "\"slice_iou\": {\"mean\": 0.5, \"median\": 0.5}",
                                       "\"mse\": {\"mean\": null, \"median\": null}",
                                       "{\"name\": \"A\", \"patient\": 0, \"slices\": 3, \"tumour_slices\": 2, "
                                       "\"tp\": 4, \"fp\": 1, \"fn\": 3, \"tn\": 100, \"dice\": 0.666666666666667",
                                       "\"name\": \"B\", \"patient\": 2",
                                       "\"autoencoder\": false",
                                       "\"patient_count\": 2",
                                       "\"slice_count\": 5"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_msg(strstr(json, want[i]) != NULL, "no '%s' in:\n%s", want[i], json);
    ck_assert_msg(strstr(json, "unused") == NULL, "%s", json);
    free(json);
    clseg_eval_report_destroy(r);

    /* a patient index past the names */
    clseg_eval_slice_counts bad = hand[0];
    bad.patient = 3;
    ck_assert_int_eq(clseg_eval_report_build(&bad, 1, names, 3, false, &r), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_report_autoencoder_and_names_escaped)
{
    clseg_eval_slice_counts s[] = {
        {0, true, NAN, NAN, NAN, NAN, 0.5},
        {0, false, NAN, NAN, NAN, NAN, 0.25},
        {1, false, NAN, NAN, NAN, NAN, 2.0},
    };
    const char *n[] = {"quote\"back\\slash", "P2"};
    clseg_eval_report *r = NULL;
    ck_assert_int_eq(clseg_eval_report_build(s, 3, n, 2, true, &r), CLSEG_STATUS_SUCCESS);
    ck_assert(r->autoencoder);
    close_to(r->patients[0].mse, 0.375, "patient mse: mean over its slices");
    close_to(r->patients[1].mse, 2.0, "patient mse");
    ck_assert_uint_eq(r->patients[0].tumour_slices, 1);
    close_to(r->mse.mean, 2.75 / 3.0, "mse mean over slices");
    close_to(r->mse.median, 0.5, "mse median");
    ck_assert(isnan(r->patients[0].dice) && isnan(r->slice_dice.mean) && isnan(r->volume_iou.median));
    char *json = clseg_eval_report_json(r);
    ck_assert_ptr_nonnull(json);
    ck_assert_msg(strstr(json, "\"name\": \"quote\\\"back\\\\slash\"") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"volume_dice\": {\"mean\": null, \"median\": null}") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"mse\": {\"mean\": 0.916666666666667, \"median\": 0.5}") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"autoencoder\": true") != NULL, "%s", json);
    free(json);
    clseg_eval_report_destroy(r);
}
END_TEST

/* --- resizing --------------------------------------------------------------------------- */

START_TEST(test_resize_as_pytorch)
{
    /* F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4), mode="bilinear",
     * align_corners=False) */
    const float in[4] = {0, 1, 2, 3};
    const float want[16] = {0.0f, 0.25f, 0.75f, 1.0f, 0.5f, 0.75f, 1.25f, 1.5f,
                            1.5f, 1.75f, 2.25f, 2.5f, 2.0f, 2.25f, 2.75f, 3.0f};
    float out[16];
    clseg_eval_resize_bilinear(in, 2, 2, out, 4, 4);
    for (int i = 0; i < 16; i++)
        ck_assert_msg(out[i] == want[i], "upsampled [%d] = %g, want %g", i, (double)out[i], (double)want[i]);
    /* 4 -> 2: each output is the mean of a 2 x 2 block; 4 -> 4 is the identity; a 3 x 1 target */
    float back[4], same[16], tall[3];
    clseg_eval_resize_bilinear(want, 4, 4, back, 2, 2);
    const float blocks[4] = {0.375f, 1.125f, 1.875f, 2.625f};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(back[i] == blocks[i], "downsampled [%d] = %g, want %g", i, (double)back[i], (double)blocks[i]);
    clseg_eval_resize_bilinear(want, 4, 4, same, 4, 4);
    ck_assert_mem_eq(same, want, sizeof same);
    /* width 2 -> 1: source x = 0.5; height 2 -> 3: sources 0 (clamped), 0.5, 1.1667 -> 1 */
    clseg_eval_resize_bilinear(in, 2, 2, tall, 1, 3);
    ck_assert_msg(fabsf(tall[0] - 0.5f) < 1e-6f && fabsf(tall[1] - 1.5f) < 1e-6f && fabsf(tall[2] - 2.5f) < 1e-6f,
                  "%g %g %g", (double)tall[0], (double)tall[1], (double)tall[2]);
}
END_TEST

/* --- inference options ------------------------------------------------------------------ */

static clseg_net *tiny_model(const char *name)
{
    clseg_model_config cfg;
    ck_assert_int_eq(clseg_model_config_default(name, &cfg), CLSEG_STATUS_SUCCESS);
    cfg.base = 4;
    clseg_net *net = NULL;
    char err[512];
    ck_assert_msg(clseg_model_build(&cfg, &net, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    return net;
}

START_TEST(test_infer_options_from_metadata)
{
    clseg_net *net = tiny_model("unet");
    clseg_infer_options o;
    char err[512] = "";
    ck_assert_int_eq(clseg_infer_options_from_net(net, &o, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(o.batch, 8);
    ck_assert_int_eq(o.size, 256);
    ck_assert_int_eq(o.channel_count, 0);
    ck_assert_int_eq(o.normalize, CLSEG_NORMALIZE_UNIT);
    ck_assert(o.threshold == 0.5f);

    clseg_net_set_meta(net, "clseg.train.size", "64");
    clseg_net_set_meta(net, "clseg.train.batch", "3");
    clseg_net_set_meta(net, "clseg.train.normalize", "volume");
    clseg_net_set_meta(net, "clseg.train.channels", "2,0");
    ck_assert_int_eq(clseg_infer_options_from_net(net, &o, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(o.size, 64);
    ck_assert_int_eq(o.batch, 3);
    ck_assert_int_eq(o.normalize, CLSEG_NORMALIZE_VOLUME);
    ck_assert_int_eq(o.channel_count, 2);
    ck_assert_int_eq(o.channels[0], 2);
    ck_assert_int_eq(o.channels[1], 0);

    static const struct {
        const char *key, *value;
    } bad[] = {
        {"clseg.train.size", "100"},         {"clseg.train.size", "64px"},     {"clseg.train.size", ""},
        {"clseg.train.batch", "0"},          {"clseg.train.batch", "-2"},      {"clseg.train.normalize", "zscore"},
        {"clseg.train.channels", "3"},       {"clseg.train.channels", "0,,1"}, {"clseg.train.channels", "1,1"},
        {"clseg.train.channels", "0,1,2,0"}, {"clseg.train.channels", ""}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clseg_net *n = tiny_model("unet");
        clseg_net_set_meta(n, bad[i].key, bad[i].value);
        err[0] = '\0';
        clseg_infer_options before = o, got = o;
        ck_assert_msg(clseg_infer_options_from_net(n, &got, err, sizeof err) == CLSEG_STATUS_INVALID_ARGUMENT,
                      "%s = '%s' accepted", bad[i].key, bad[i].value);
        ck_assert_msg(strstr(err, bad[i].key) != NULL, "message '%s' does not name %s", err, bad[i].key);
        ck_assert_mem_eq(&got, &before, sizeof got);
        clseg_net_destroy(n);
    }
    clseg_net_destroy(net);
}
END_TEST

/* --- predicting ------------------------------------------------------------------------- */

/* 2 patients x 3 slices of SIZE x SIZE phantoms in a new folder (*root: remove_tree it). */
static clseg_dataset *phantoms(char **root, int size)
{
    *root = test_tmpdir("clseg-eval");
    clseg_phantom_options po = clseg_phantom_options_default();
    po.patients = 2;
    po.slices = 3;
    po.size = size;
    po.seed = 5;
    char err[1024];
    ck_assert_msg(clseg_phantoms_write(*root, &po, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    clseg_dataset *ds = NULL;
    ck_assert_msg(clseg_dataset_load(*root, NULL, &ds, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 6);
    return ds;
}

static clseg_infer_options options(int batch)
{
    clseg_infer_options o;
    memset(&o, 0, sizeof o);
    o.batch = batch;
    o.size = SIZE;
    o.normalize = CLSEG_NORMALIZE_UNIT;
    o.threshold = 0.5f;
    return o;
}

/* What a run delivered, copied out of the callback. */
#define MAX_SLICES 8
typedef struct seen {
    const clseg_dataset *ds;
    size_t n;
    size_t slice[MAX_SLICES];
    float prob[MAX_SLICES][SIZE * SIZE];
    uint8_t mask[MAX_SLICES][SIZE * SIZE];
    float input[MAX_SLICES][3 * SIZE * SIZE];
    double dice[MAX_SLICES], mse[MAX_SLICES];
    int stop_after; /* > 0: fail the run at this many slices */
} seen;

static float sigmoid(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

/* Records a prediction after checking it against what it was computed from. */
static clseg_status record(void *user, const clseg_slice_prediction *p)
{
    seen *s = user;
    ck_assert_uint_lt(s->n, MAX_SLICES);
    clseg_slice_info info;
    ck_assert_int_eq(clseg_dataset_slice(s->ds, p->slice, &info), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(p->width, info.width);
    ck_assert_int_eq(p->height, info.height);
    ck_assert_int_eq(p->size, SIZE);
    size_t plane = SIZE * SIZE, k = s->n;
    s->slice[k] = p->slice;
    memcpy(s->input[k], p->input, (size_t)p->input_channels * plane * sizeof(float));
    if (p->probability == NULL) {
        /* the auto-encoder: the reconstruction error, recomputed */
        ck_assert_ptr_null(p->mask);
        ck_assert_int_eq(p->output_channels, p->input_channels);
        double sum = 0;
        for (size_t i = 0; i < 3 * plane; i++)
            sum += ((double)p->output[i] - p->input[i]) * ((double)p->output[i] - p->input[i]);
        ck_assert_msg(fabs(p->mse - sum / (3.0 * (double)plane)) < 1e-9, "mse %g", p->mse);
        ck_assert(isnan(p->dice));
        s->mse[k] = p->mse;
    } else {
        ck_assert_int_eq(p->output_channels, 1);
        ck_assert(isnan(p->mse));
        /* same size: the resize is the identity, so the probability is the output's sigmoid */
        double tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < plane; i++) {
            ck_assert_msg(fabsf(p->probability[i] - sigmoid(p->output[i])) < 1e-6f, "probability [%zu]", i);
            ck_assert_int_eq(p->mask[i], p->probability[i] > 0.5f);
            tp += p->mask[i] && info.mask[i];
            fp += p->mask[i] && !info.mask[i];
            fn += !p->mask[i] && info.mask[i];
        }
        ck_assert(p->tp == tp && p->fp == fp && p->fn == fn && p->tn == (double)plane - tp - fp - fn);
        close_to(p->dice, clseg_dice_score(tp, fp, fn), "slice Dice");
        close_to(p->iou, clseg_iou_score(tp, fp, fn), "slice IoU");
        memcpy(s->prob[k], p->probability, plane * sizeof(float));
        memcpy(s->mask[k], p->mask, plane);
        s->dice[k] = p->dice;
    }
    s->n++;
    return s->stop_after > 0 && (int)s->n == s->stop_after ? CLSEG_STATUS_INTERRUPTED : CLSEG_STATUS_SUCCESS;
}

static void predict(clseg_net *net, clseg_context *ctx, const clseg_dataset *ds, const size_t *slices, size_t count,
                    int batch, seen *s)
{
    memset(s, 0, sizeof *s);
    s->ds = ds;
    clseg_infer_options o = options(batch);
    char err[1024] = "";
    clseg_status st = clseg_predict_slices(net, ctx, ds, slices, count, &o, record, s, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "predict: %s", err);
}

/* The inputs are the loader's batches for the same slices, in the order given. */
static void check_inputs(const clseg_dataset *ds, const seen *s)
{
    clseg_loader_options lo = clseg_loader_options_default();
    lo.slices = s->slice;
    lo.slice_count = s->n;
    lo.batch_size = (int)s->n;
    lo.size = SIZE;
    lo.shuffle = false;
    clseg_loader *l = NULL;
    ck_assert_int_eq(clseg_loader_create(ds, &lo, &l, NULL, 0), CLSEG_STATUS_SUCCESS);
    clseg_batch b;
    ck_assert_int_eq(clseg_loader_next(l, &b), CLSEG_STATUS_SUCCESS);
    for (size_t k = 0; k < s->n; k++)
        ck_assert_mem_eq(s->input[k], b.images + k * 3 * SIZE * SIZE, 3 * SIZE * SIZE * sizeof(float));
    clseg_loader_destroy(l);
}

START_TEST(test_predict_on_ref_then_opencl)
{
    char *root = NULL;
    clseg_dataset *ds = phantoms(&root, SIZE);
    clseg_context *ref = test_context("ref");
    clseg_net *net = tiny_model("unet");
    static seen all, some, dev;
    /* batch 4 over 6 slices: the second batch is padded */
    predict(net, ref, ds, NULL, 0, 4, &all);
    ck_assert_uint_eq(all.n, 6);
    for (size_t k = 0; k < 6; k++)
        ck_assert_uint_eq(all.slice[k], k);
    check_inputs(ds, &all);
    /* the untrained net still predicts both classes, so the comparisons below mean something */
    size_t positive = 0;
    for (size_t k = 0; k < 6; k++)
        for (size_t i = 0; i < SIZE * SIZE; i++)
            positive += all.mask[k][i];
    ck_assert_msg(positive > 100 && positive < 6 * SIZE * SIZE - 100, "%zu positive pixels", positive);
    /* a subset in a given order, batch 2: the same values as in the full run, whichever batch
     * and place a slice had */
    const size_t pick[] = {5, 0, 3};
    predict(net, ref, ds, pick, 3, 2, &some);
    ck_assert_uint_eq(some.n, 3);
    for (size_t k = 0; k < 3; k++) {
        ck_assert_uint_eq(some.slice[k], pick[k]);
        for (size_t i = 0; i < SIZE * SIZE; i++)
            ck_assert_msg(fabsf(some.prob[k][i] - all.prob[pick[k]][i]) < 1e-5f, "slice %zu [%zu]", pick[k], i);
    }
    check_inputs(ds, &some);
    /* the caller stops the run */
    memset(&some, 0, sizeof some);
    some.ds = ds;
    some.stop_after = 2;
    clseg_infer_options o = options(4);
    char err[1024] = "";
    ck_assert_int_eq(clseg_predict_slices(net, ref, ds, NULL, 0, &o, record, &some, err, sizeof err),
                     CLSEG_STATUS_INTERRUPTED);
    ck_assert_uint_eq(some.n, 2);

    clseg_context *ctx = NULL;
    if (test_have_opencl()) {
        /* the same parameters on the default device: the same probabilities, the same masks
         * except where a probability sits on the threshold */
        ctx = test_context(NULL);
        predict(net, ctx, ds, NULL, 0, 4, &dev);
        ck_assert_uint_eq(dev.n, 6);
        size_t differ = 0;
        for (size_t k = 0; k < 6; k++)
            for (size_t i = 0; i < SIZE * SIZE; i++) {
                ck_assert_msg(fabsf(dev.prob[k][i] - all.prob[k][i]) < 1e-4f, "slice %zu [%zu]: %g vs %g", k, i,
                              (double)dev.prob[k][i], (double)all.prob[k][i]);
                if (dev.mask[k][i] != all.mask[k][i]) {
                    ck_assert_msg(fabsf(all.prob[k][i] - 0.5f) < 1e-4f, "mask differs at %zu [%zu]", k, i);
                    differ++;
                }
            }
        ck_assert_uint_le(differ, 3);
    }
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
    clseg_context_destroy(ref);
    clseg_dataset_destroy(ds);
    remove_tree(root);
    free(root);
}
END_TEST

/* Slices larger than the net's input: probabilities resized back to each slice's size. */
typedef struct resized {
    const clseg_dataset *ds;
    size_t n, without_mask;
    float *expect;
} resized;

static clseg_status check_resized(void *user, const clseg_slice_prediction *p)
{
    resized *r = user;
    clseg_slice_info info;
    ck_assert_int_eq(clseg_dataset_slice(r->ds, p->slice, &info), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(p->width, 48);
    ck_assert_int_eq(p->height, 48);
    float net_prob[SIZE * SIZE];
    for (int i = 0; i < SIZE * SIZE; i++)
        net_prob[i] = sigmoid(p->output[i]);
    clseg_eval_resize_bilinear(net_prob, SIZE, SIZE, r->expect, 48, 48);
    double tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < 48 * 48; i++) {
        ck_assert_msg(fabsf(p->probability[i] - r->expect[i]) < 1e-6f, "[%d] %g vs %g", i, (double)p->probability[i],
                      (double)r->expect[i]);
        ck_assert_int_eq(p->mask[i], p->probability[i] > 0.5f);
        tp += p->mask[i] && info.mask[i];
        fp += p->mask[i] && !info.mask[i];
        fn += !p->mask[i] && info.mask[i];
    }
    ck_assert(p->tp == tp && p->fp == fp && p->fn == fn && p->tp + p->fp + p->fn + p->tn == 48 * 48);
    if (!info.has_mask) {
        ck_assert(p->tp == 0 && p->fn == 0);
        r->without_mask++;
    }
    r->n++;
    return CLSEG_STATUS_SUCCESS;
}

START_TEST(test_predict_resizes_to_the_slice)
{
    char *root = test_tmpdir("clseg-eval-48"), mask[4352], err[1024];
    clseg_phantom_options po = clseg_phantom_options_default();
    po.patients = 1;
    po.slices = 3;
    po.size = 48;
    ck_assert_msg(clseg_phantoms_write(root, &po, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    /* a new scan without its mask: predicted all the same, scored against an empty mask */
    snprintf(mask, sizeof mask, "%s/PHANTOM_XX_0001_20260101/PHANTOM_XX_0001_20260101_2_mask.tif", root);
    ck_assert_int_eq(unlink(mask), 0);
    clseg_dataset_options dopts = {.allow_missing_masks = true};
    clseg_dataset *ds = NULL;
    ck_assert_msg(clseg_dataset_load(root, &dopts, &ds, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    clseg_context *ref = test_context("ref");
    clseg_net *net = tiny_model("unet");
    resized r = {ds, 0, 0, malloc(48 * 48 * sizeof(float))};
    clseg_infer_options o = options(2);
    ck_assert_msg(clseg_predict_slices(net, ref, ds, NULL, 0, &o, check_resized, &r, err, sizeof err) ==
                      CLSEG_STATUS_SUCCESS,
                  "%s", err);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_uint_eq(r.without_mask, 1);
    free(r.expect);
    clseg_net_destroy(net);
    clseg_context_destroy(ref);
    clseg_dataset_destroy(ds);
    remove_tree(root);
    free(root);
}
END_TEST

START_TEST(test_evaluate_matches_predictions)
{
    char *root = NULL;
    clseg_dataset *ds = phantoms(&root, SIZE);
    clseg_context *ref = test_context("ref");
    clseg_net *net = tiny_model("unet");
    static seen all;
    predict(net, ref, ds, NULL, 0, 4, &all);
    /* patient 1's slices only */
    const size_t pick[] = {3, 4, 5};
    clseg_infer_options o = options(2);
    clseg_eval_report *r = NULL;
    char err[1024] = "";
    ck_assert_msg(clseg_evaluate(net, ref, ds, pick, 3, &o, &r, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_uint_eq(r->patient_count, 1);
    ck_assert_uint_eq(r->patients[0].patient, 1);
    clseg_patient_info info;
    clseg_dataset_patient(ds, 1, &info);
    ck_assert_str_eq(r->patients[0].name, info.name);
    ck_assert_uint_eq(r->patients[0].slices, 3);
    ck_assert_uint_eq(r->patients[0].tumour_slices, info.tumour_slices);
    close_to(r->patients[0].slice_dice_mean, (all.dice[3] + all.dice[4] + all.dice[5]) / 3.0, "mean slice Dice");
    ck_assert(r->seconds > 0);
    clseg_eval_report_destroy(r);
    /* every slice */
    ck_assert_msg(clseg_evaluate(net, ref, ds, NULL, 0, &o, &r, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_uint_eq(r->patient_count, 2);
    ck_assert_uint_eq(r->slice_count, 6);
    double mean = 0;
    for (int k = 0; k < 6; k++)
        mean += all.dice[k] / 6.0;
    ck_assert_msg(fabs(r->slice_dice.mean - mean) < 1e-12, "%g vs %g", r->slice_dice.mean, mean);
    clseg_eval_report_destroy(r);
    clseg_net_destroy(net);

    /* the auto-encoder: reconstruction errors */
    net = tiny_model("autoencoder");
    predict(net, ref, ds, NULL, 0, 4, &all);
    ck_assert_uint_eq(all.n, 6);
    ck_assert_msg(clseg_evaluate(net, ref, ds, NULL, 0, &o, &r, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert(r->autoencoder);
    close_to(r->patients[0].mse, (all.mse[0] + all.mse[1] + all.mse[2]) / 3.0, "patient 0 mse");
    ck_assert(isnan(r->volume_dice.mean));
    clseg_eval_report_destroy(r);
    clseg_net_destroy(net);
    clseg_context_destroy(ref);
    clseg_dataset_destroy(ds);
    remove_tree(root);
    free(root);
}
END_TEST

START_TEST(test_predict_rejects_bad_options)
{
    char *root = NULL;
    clseg_dataset *ds = phantoms(&root, SIZE);
    clseg_context *ref = test_context("ref");
    clseg_net *net = tiny_model("unet");
    seen *s = calloc(1, sizeof *s);
    s->ds = ds;
    char err[1024];
    static const struct {
        int size, channel, channel_count, batch;
        size_t slice;
        const char *text;
    } bad[] = {{40, 0, 0, 2, 0, "size 40 is not a multiple of 16"},
               {SIZE, 3, 1, 2, 0, "channel 3 is not one of the dataset's 3"},
               {SIZE, 1, 1, 2, 0, "takes 3 input channels, the options feed 1"},
               {SIZE, 0, 0, 0, 0, "batch 0"},
               {SIZE, 0, 0, 2, 6, "slice 6 is past the dataset's last (5)"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clseg_infer_options o = options(bad[i].batch);
        o.size = bad[i].size;
        o.channel_count = bad[i].channel_count;
        o.channels[0] = bad[i].channel;
        err[0] = '\0';
        ck_assert_int_eq(clseg_predict_slices(net, ref, ds, &bad[i].slice, 1, &o, record, s, err, sizeof err),
                         CLSEG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strstr(err, bad[i].text) != NULL, "'%s' not in '%s'", bad[i].text, err);
    }
    ck_assert_uint_eq(s->n, 0);
    /* a net that clseg_model_build did not make */
    clseg_net *bare = NULL;
    clseg_net_create(&bare);
    clseg_infer_options o = options(2);
    ck_assert_int_eq(clseg_predict_slices(bare, ref, ds, NULL, 0, &o, record, s, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "clseg_model_build") != NULL, "%s", err);
    clseg_net_destroy(bare);
    free(s);
    clseg_net_destroy(net);
    clseg_context_destroy(ref);
    clseg_dataset_destroy(ds);
    remove_tree(root);
    free(root);
}
END_TEST

/* --- a checkpoint's model ----------------------------------------------------------------- */

START_TEST(test_build_net_from_checkpoint)
{
    char *dir = test_tmpdir("clseg-eval-ckpt"), path[4352], other[4352], err[2048];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    clseg_model_config cfg;
    clseg_model_config_default("unet", &cfg);
    cfg.base = 4;
    cfg.in_channels = 1;
    clseg_net *net = NULL, *back = NULL;
    ck_assert_int_eq(clseg_model_build(&cfg, &net, err, sizeof err), CLSEG_STATUS_SUCCESS);
    clseg_net_set_meta(net, "clseg.train.size", "32");
    clseg_net_set_meta(net, "clseg.train.val_patients", "P1,P2");
    clseg_context *ref = test_context("ref");
    clseg_shape in = {1, 1, 16, 16};
    ck_assert_int_eq(clseg_net_plan(net, ref, in, CLSEG_NET_INFER, 7), CLSEG_STATUS_SUCCESS);
    clseg_train_state state = {3, 0, {1, 2, 3, 4}, 0.5};
    ck_assert_msg(clseg_checkpoint_save(net, path, &state, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);

    ck_assert_msg(clseg_checkpoint_build_net(path, &back, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    clseg_model_config got;
    ck_assert_int_eq(clseg_model_config_from_net(back, &got, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_mem_eq(&got, &cfg, sizeof got);
    ck_assert_str_eq(clseg_net_meta(back, "clseg.train.size"), "32");
    ck_assert_str_eq(clseg_net_meta(back, "clseg.train.val_patients"), "P1,P2");
    /* the writer's own keys describe that one file and stay out of the net */
    ck_assert_ptr_null(clseg_net_meta(back, "clseg.epoch"));
    ck_assert_ptr_null(clseg_net_meta(back, "clseg.save_id"));
    ck_assert_ptr_null(clseg_net_meta(back, "format"));
    ck_assert_int_eq(clseg_net_plan(back, ref, in, CLSEG_NET_INFER, 99), CLSEG_STATUS_SUCCESS);
    clseg_train_state loaded;
    ck_assert_msg(clseg_checkpoint_load(back, path, &loaded, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_int_eq(loaded.epoch, 3);
    for (size_t i = 0; i < clseg_net_param_count(net); i++) {
        clseg_param_info a, b;
        clseg_net_param(net, i, &a);
        clseg_net_param(back, i, &b);
        ck_assert_str_eq(a.name, b.name);
        float *va = test_download(a.value), *vb = test_download(b.value);
        ck_assert_mem_eq(va, vb, clseg_tensor_numel(a.value) * sizeof(float));
        free(va);
        free(vb);
    }
    clseg_net_destroy(back);

    /* a safetensors file without clseg's model keys: a plain state dict */
    snprintf(other, sizeof other, "%s/state_dict.safetensors", dir);
    float w[4] = {1, 2, 3, 4};
    clseg_st_tensor t = {.name = "conv.weight", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {4}, .data = w};
    clseg_st_meta m = {"format", "pt"};
    ck_assert_int_eq(clseg_safetensors_write(other, &t, 1, &m, 1, err, sizeof err), CLSEG_STATUS_SUCCESS);
    back = (clseg_net *)1;
    ck_assert_int_eq(clseg_checkpoint_build_net(other, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(back);
    ck_assert_msg(strstr(err, other) != NULL && strstr(err, "clseg.model") != NULL, "%s", err);
    /* a model the metadata cannot describe */
    clseg_st_meta broken[] = {{"clseg.model", "unet"}, {"clseg.in_channels", "three"}};
    ck_assert_int_eq(clseg_safetensors_write(other, &t, 1, broken, 2, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_checkpoint_build_net(other, &back, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, other) != NULL && strstr(err, "clseg.in_channels") != NULL, "%s", err);
    /* a missing file, a truncated one */
    unlink(other);
    ck_assert_int_ne(clseg_checkpoint_build_net(other, &back, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(strstr(err, other) != NULL, "%s", err);
    ck_assert_int_eq(truncate(path, 200), 0);
    ck_assert_int_ne(clseg_checkpoint_build_net(path, &back, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(strstr(err, path) != NULL, "%s", err);
    ck_assert_ptr_null(back);

    clseg_net_destroy(net);
    clseg_context_destroy(ref);
    remove_tree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("evaluate");
    TCase *host = tcase_create("host");
    tcase_add_test(host, test_stats_mean_and_median);
    tcase_add_test(host, test_report_from_counts);
    tcase_add_test(host, test_report_autoencoder_and_names_escaped);
    tcase_add_test(host, test_resize_as_pytorch);
    tcase_add_test(host, test_infer_options_from_metadata);
    tcase_add_test(host, test_predict_rejects_bad_options);
    tcase_add_test(host, test_predict_resizes_to_the_slice);
    tcase_add_test(host, test_evaluate_matches_predictions);
    tcase_add_test(host, test_build_net_from_checkpoint);
    suite_add_tcase(s, host);
    TCase *dev = tcase_create("device");
    tcase_set_timeout(dev, 300);
    tcase_add_test(dev, test_predict_on_ref_then_opencl);
    suite_add_tcase(s, dev);
    /* OpenCL drivers' threads do not survive fork(): run in one process */
    return test_run(s, false);
}
