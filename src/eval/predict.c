/* Running a net over dataset slices: the loader prepares batches as training did (without
 * augmentation, in the given order), the net runs them at its size, and each slice's
 * probability map is brought back to the slice's own size and compared with its mask on the
 * host. Every buffer is allocated before the first batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/evaluate.h"
#include "clseg/loss.h"
#include "clseg/model.h"
#include "core/internal.h"
#include "eval/eval_internal.h"

/* Everything one run holds. */
typedef struct predict_run {
    const clseg_dataset *ds;
    const clseg_infer_options *o;
    bool autoencoder;
    int channels, out_channels, size;
    size_t total; /* slices to predict */
    clseg_loader *loader;
    clseg_tensor *input; /* on the device: batch x channels x size x size */
    float *host_in;      /* the same, padded with zeros past a partial batch */
    float *host_out;     /* batch x out_channels x size x size */
    float *net_prob;     /* size x size: one slice's probabilities at the net's size */
    float *prob;         /* the largest slice's pixels */
    uint8_t *mask;
} predict_run;

static void run_free(predict_run *r)
{
    clseg_loader_destroy(r->loader);
    clseg_tensor_destroy(r->input);
    free(r->host_in);
    free(r->host_out);
    free(r->net_prob);
    free(r->prob);
    free(r->mask);
}

#define invalid(err, err_size, ...) clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, __VA_ARGS__)

/* The checks that need only the arguments: the model, the options against the dataset and the
 * slice list. Fills r's shape fields. */
static clseg_status check_arguments(const clseg_net *net, const clseg_dataset *ds, const size_t *slices, size_t count,
                                    const clseg_infer_options *o, predict_run *r, char *err, size_t err_size)
{
    clseg_model_config cfg;
    char why[512];
    if (clseg_model_config_from_net(net, &cfg, why, sizeof why) != CLSEG_STATUS_SUCCESS)
        return invalid(err, err_size, "clseg_predict_slices: the net was not built by clseg_model_build: %s", why);
    r->autoencoder = strcmp(cfg.name, "autoencoder") == 0;
    if (!r->autoencoder && cfg.classes != 1)
        return invalid(err, err_size, "clseg_predict_slices: %s has %lld output classes; prediction handles 1",
                       cfg.name, (long long)cfg.classes);
    if (o->batch < 1 || o->batch > 4096)
        return invalid(err, err_size, "clseg_predict_slices: batch %d is not from 1 to 4096", o->batch);
    if (o->size < 16 || o->size > 4096 || o->size % 16 != 0)
        return invalid(err, err_size, "clseg_predict_slices: size %d is not a multiple of 16 from 16 to 4096", o->size);
    if (!(o->threshold >= 0.0f && o->threshold <= 1.0f))
        return invalid(err, err_size, "clseg_predict_slices: threshold %g is not in [0, 1]", (double)o->threshold);
    int have = clseg_dataset_channels(ds);
    if (o->channel_count < 0 || o->channel_count > CLSEG_DATA_MAX_CHANNELS)
        return invalid(err, err_size, "clseg_predict_slices: channel_count %d is not from 0 to %d", o->channel_count,
                       CLSEG_DATA_MAX_CHANNELS);
    for (int k = 0; k < o->channel_count; k++)
        if (o->channels[k] < 0 || o->channels[k] >= have)
            return invalid(err, err_size, "clseg_predict_slices: channel %d is not one of the dataset's %d",
                           o->channels[k], have);
    r->channels = o->channel_count > 0 ? o->channel_count : have;
    if (r->channels != cfg.in_channels)
        return invalid(err, err_size,
                       "clseg_predict_slices: %s takes %lld input channels, the options feed %d of the dataset's %d",
                       cfg.name, (long long)cfg.in_channels, r->channels, have);
    r->out_channels = r->autoencoder ? r->channels : 1;
    r->size = o->size;
    size_t n = clseg_dataset_slice_count(ds);
    r->total = count > 0 ? count : n;
    for (size_t i = 0; slices != NULL && i < count; i++)
        if (slices[i] >= n)
            return invalid(err, err_size, "clseg_predict_slices: slice %zu is past the dataset's last (%zu)", slices[i],
                           n ? n - 1 : 0);
    if (count > 0 && slices == NULL)
        return invalid(err, err_size, "clseg_predict_slices: count is %zu but slices is NULL", count);
    if (r->total == 0)
        return invalid(err, err_size, "clseg_predict_slices: the dataset has no slices");
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status allocate(predict_run *r, clseg_net *net, clseg_context *ctx, const size_t *slices, size_t count,
                             char *err, size_t err_size)
{
    const clseg_infer_options *o = r->o;
    size_t plane = (size_t)r->size * (size_t)r->size, batch = (size_t)o->batch, largest = 1;
    for (size_t i = 0; i < r->total; i++) {
        clseg_slice_info s;
        if (clseg_dataset_slice(r->ds, count > 0 ? slices[i] : i, &s) == CLSEG_STATUS_SUCCESS &&
            (size_t)s.width * (size_t)s.height > largest)
            largest = (size_t)s.width * (size_t)s.height;
    }
    r->host_in = malloc(batch * (size_t)r->channels * plane * sizeof(float));
    r->host_out = malloc(batch * (size_t)r->out_channels * plane * sizeof(float));
    r->net_prob = malloc(plane * sizeof(float));
    r->prob = malloc(largest * sizeof(float));
    r->mask = malloc(largest);
    if (r->host_in == NULL || r->host_out == NULL || r->net_prob == NULL || r->prob == NULL || r->mask == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_predict_slices: out of host memory for batches of %d", o->batch);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    clseg_loader_options lo = clseg_loader_options_default();
    lo.slices = count > 0 ? slices : NULL;
    lo.slice_count = count;
    lo.batch_size = o->batch;
    lo.size = o->size;
    memcpy(lo.channels, o->channels, sizeof lo.channels);
    lo.channel_count = o->channel_count;
    lo.normalize = o->normalize;
    lo.shuffle = false;
    lo.drop_last = false;
    lo.augment = false;
    clseg_status st = clseg_loader_create(r->ds, &lo, &r->loader, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_shape in = {o->batch, r->channels, r->size, r->size};
    st = clseg_net_plan(net, ctx, in, CLSEG_NET_INFER, 1);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "clseg_predict_slices: planning the net for %dx%dx%dx%d inputs failed: %s",
                         o->batch, r->channels, r->size, r->size, clseg_context_last_error(ctx));
        return st;
    }
    clseg_shape out = clseg_net_output_shape(net);
    if (out.n != o->batch || out.c != r->out_channels || out.h != r->size || out.w != r->size) {
        clseg_errbuf_set(err, err_size,
                         "clseg_predict_slices: the net's output is %lldx%lldx%lldx%lld, not %dx%dx%dx%d",
                         (long long)out.n, (long long)out.c, (long long)out.h, (long long)out.w, o->batch,
                         r->out_channels, r->size, r->size);
        return CLSEG_STATUS_SHAPE_MISMATCH;
    }
    st = clseg_tensor_create(ctx, in, &r->input);
    if (st != CLSEG_STATUS_SUCCESS)
        clseg_errbuf_set(err, err_size, "clseg_predict_slices: cannot allocate the input batch: %s",
                         clseg_context_last_error(ctx));
    return st;
}

/* One slice of the batch: its place j, its dataset index. */
static clseg_status deliver(predict_run *r, int j, size_t index, clseg_prediction_fn fn, void *user, char *err,
                            size_t err_size)
{
    clseg_slice_info s;
    clseg_status st = clseg_dataset_slice(r->ds, index, &s);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "clseg_predict_slices: slice %zu: %s", index, clseg_status_str(st));
        return st;
    }
    size_t plane = (size_t)r->size * (size_t)r->size;
    clseg_slice_prediction p = {0};
    p.slice = index;
    p.width = s.width;
    p.height = s.height;
    p.input = r->host_in + (size_t)j * (size_t)r->channels * plane;
    p.output = r->host_out + (size_t)j * (size_t)r->out_channels * plane;
    p.input_channels = r->channels;
    p.output_channels = r->out_channels;
    p.size = r->size;
    if (r->autoencoder) {
        double sum = 0.0;
        size_t n = (size_t)r->channels * plane;
        for (size_t k = 0; k < n; k++) {
            double d = (double)p.output[k] - (double)p.input[k];
            sum += d * d;
        }
        p.mse = sum / (double)n;
        p.tp = p.fp = p.fn = p.tn = p.dice = p.iou = NAN;
    } else {
        for (size_t k = 0; k < plane; k++) {
            float z = p.output[k];
            /* the stable form: exp of a negative number only */
            r->net_prob[k] = z >= 0.0f ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
        }
        clseg_eval_resize_bilinear(r->net_prob, r->size, r->size, r->prob, s.width, s.height);
        size_t pixels = (size_t)s.width * (size_t)s.height, tp = 0, fp = 0, fnc = 0;
        for (size_t k = 0; k < pixels; k++) {
            uint8_t predicted = r->prob[k] > r->o->threshold, truth = s.mask != NULL && s.mask[k] != 0;
            r->mask[k] = predicted;
            tp += predicted && truth;
            fp += predicted && !truth;
            fnc += !predicted && truth;
        }
        p.probability = r->prob;
        p.mask = r->mask;
        p.tp = (double)tp;
        p.fp = (double)fp;
        p.fn = (double)fnc;
        p.tn = (double)(pixels - tp - fp - fnc);
        p.dice = clseg_dice_score(p.tp, p.fp, p.fn);
        p.iou = clseg_iou_score(p.tp, p.fp, p.fn);
        p.mse = NAN;
    }
    st = fn(user, &p);
    if (st != CLSEG_STATUS_SUCCESS)
        clseg_errbuf_set(err, err_size, "clseg_predict_slices: stopped at slice %zu (%s) by the caller: %s", index,
                         s.image_path, clseg_status_str(st));
    return st;
}

static clseg_status run_batches(predict_run *r, clseg_net *net, clseg_context *ctx, clseg_prediction_fn fn, void *user,
                                char *err, size_t err_size)
{
    size_t batch = (size_t)r->o->batch, plane = (size_t)r->size * (size_t)r->size;
    size_t in_per = (size_t)r->channels * plane, out_n = batch * (size_t)r->out_channels * plane;
    for (size_t done = 0; done < r->total;) {
        clseg_batch b;
        clseg_status st = clseg_loader_next(r->loader, &b);
        if (st != CLSEG_STATUS_SUCCESS) {
            clseg_errbuf_set(err, err_size, "clseg_predict_slices: the loader failed: %s", clseg_status_str(st));
            return st;
        }
        memcpy(r->host_in, b.images, (size_t)b.n * in_per * sizeof(float));
        if ((size_t)b.n < batch)
            memset(r->host_in + (size_t)b.n * in_per, 0, (batch - (size_t)b.n) * in_per * sizeof(float));
        st = clseg_tensor_upload(r->input, r->host_in, batch * in_per);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_net_forward(net, r->input);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tensor_download(clseg_net_output(net), r->host_out, out_n);
        if (st != CLSEG_STATUS_SUCCESS) {
            clseg_errbuf_set(err, err_size, "clseg_predict_slices: running the net failed: %s",
                             clseg_context_last_error(ctx));
            return st;
        }
        for (int j = 0; j < b.n && done < r->total; j++, done++) {
            st = deliver(r, j, b.slices[j], fn, user, err, err_size);
            if (st != CLSEG_STATUS_SUCCESS)
                return st;
        }
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_predict_slices(clseg_net *net, clseg_context *ctx, const clseg_dataset *ds, const size_t *slices,
                                  size_t count, const clseg_infer_options *opts, clseg_prediction_fn fn, void *user,
                                  char *err, size_t err_size)
{
    if (net == NULL || ctx == NULL || ds == NULL || opts == NULL || fn == NULL)
        return invalid(err, err_size, "clseg_predict_slices: net, ctx, ds, opts or fn is NULL");
    predict_run r = {0};
    r.ds = ds;
    r.o = opts;
    clseg_status st = check_arguments(net, ds, slices, count, opts, &r, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = allocate(&r, net, ctx, slices, count, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = run_batches(&r, net, ctx, fn, user, err, err_size);
    run_free(&r);
    return st;
}
