/* The trainer's options: defaults, checks, and their round trip through a checkpoint's
 * metadata (so a run resumes, and inference prepares slices, exactly as training did). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/safetensors.h"
#include "train/train_internal.h"

clseg_train_options clseg_train_options_default(void)
{
    clseg_train_options o;
    memset(&o, 0, sizeof o);
    clseg_model_config_default("unet", &o.model);
    o.epochs = 10;
    o.batch = 8;
    o.size = 256;
    o.lr = 1e-3f;
    o.optimizer = CLSEG_OPTIMIZER_ADAM;
    o.loss = CLSEG_LOSS_BCE_DICE;
    o.val_fraction = 0.2;
    o.seed = 1;
    o.normalize = CLSEG_NORMALIZE_UNIT;
    o.augment = true;
    o.tumour_fraction = 0.5f;
    return o;
}

#define bad(err, err_size, ...) clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, __VA_ARGS__)

clseg_status train_options_check(const clseg_train_options *o, char *err, size_t err_size)
{
    if (o == NULL)
        return bad(err, err_size, "clseg_train: options are NULL");
    if (o->data == NULL || o->data[0] == '\0')
        return bad(err, err_size, "no dataset folder given (--data DIR)");
    if (o->run_dir == NULL || o->run_dir[0] == '\0')
        return bad(err, err_size, "no run folder given (--out DIR)");
    if (o->epochs < 1 || o->epochs > 1000000)
        return bad(err, err_size, "epochs %d is outside 1..1000000", o->epochs);
    if (o->batch < 1 || o->batch > 4096)
        return bad(err, err_size, "batch %d is outside 1..4096", o->batch);
    if (o->size < 16 || o->size > 4096 || o->size % 16 != 0)
        return bad(err, err_size, "size %d is not a multiple of 16 in 16..4096 (the encoders halve it 4 times)",
                   o->size);
    if (o->steps_per_epoch < 0)
        return bad(err, err_size, "steps per epoch %d is negative", o->steps_per_epoch);
    if (!(o->lr > 0.0f) || !isfinite(o->lr))
        return bad(err, err_size, "learning rate %g is not a positive number", (double)o->lr);
    if (!(o->val_fraction >= 0.0 && o->val_fraction < 1.0))
        return bad(err, err_size, "validation fraction %g is outside [0, 1)", o->val_fraction);
    if (!(o->tumour_fraction >= 0.0f && o->tumour_fraction <= 1.0f))
        return bad(err, err_size, "tumour fraction %g is outside [0, 1]", (double)o->tumour_fraction);
    if (!(o->noise >= 0.0f) || !isfinite(o->noise))
        return bad(err, err_size, "noise %g is not a non-negative number", (double)o->noise);
    if (o->channel_count < 0 || o->channel_count > CLSEG_DATA_MAX_CHANNELS)
        return bad(err, err_size, "%d channels chosen; at most %d", o->channel_count, CLSEG_DATA_MAX_CHANNELS);
    for (int i = 0; i < o->channel_count; i++)
        if (o->channels[i] < 0 || o->channels[i] >= CLSEG_DATA_MAX_CHANNELS)
            return bad(err, err_size, "channel %d is outside 0..%d", o->channels[i], CLSEG_DATA_MAX_CHANNELS - 1);
    if (o->channel_count > 0 && o->channel_count != o->model.in_channels)
        return bad(err, err_size, "%d channels chosen, but the model takes %" PRId64, o->channel_count,
                   o->model.in_channels);
    return CLSEG_STATUS_SUCCESS;
}

/* --- to metadata --------------------------------------------------------------------------- */

static clseg_status put(clseg_net *net, const char *name, const char *fmt, ...) CLSEG_PRINTF(3, 4);
static clseg_status put(clseg_net *net, const char *name, const char *fmt, ...)
{
    char key[64], value[256];
    snprintf(key, sizeof key, "clseg.train.%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    return clseg_net_set_meta(net, key, value);
}

clseg_status train_options_store(clseg_net *net, const clseg_train_options *o)
{
    char channels[32] = "";
    for (int i = 0; i < o->channel_count; i++)
        snprintf(channels + strlen(channels), sizeof channels - strlen(channels), "%s%d", i ? "," : "", o->channels[i]);
    clseg_status st = clseg_net_set_meta(net, "clseg.train.data", o->data);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "epochs", "%d", o->epochs);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "batch", "%d", o->batch);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "size", "%d", o->size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "steps_per_epoch", "%d", o->steps_per_epoch);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "lr", "%.9g", (double)o->lr);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "optimizer", "%s", clseg_optimizer_kind_str(o->optimizer));
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "loss", "%s", clseg_loss_kind_str(o->loss));
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "val_fraction", "%.17g", o->val_fraction);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "seed", "%" PRIu64, o->seed);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "normalize", "%s", clseg_normalize_str(o->normalize));
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "channels", "%s", channels);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "augment", "%d", o->augment ? 1 : 0);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "tumour_fraction", "%.9g", (double)o->tumour_fraction);
    if (st == CLSEG_STATUS_SUCCESS)
        st = put(net, "noise", "%.9g", (double)o->noise);
    return st;
}

/* --- from a checkpoint ----------------------------------------------------------------------- */

typedef struct reader {
    const clseg_st_file *f;
    const char *path;
    char *err;
    size_t err_size;
    clseg_status st;
} reader;

static const char *get(reader *r, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "clseg.train.%s", name);
    const char *v = r->st == CLSEG_STATUS_SUCCESS ? clseg_safetensors_meta(r->f, key) : NULL;
    if (v == NULL && r->st == CLSEG_STATUS_SUCCESS)
        r->st = bad(r->err, r->err_size, "%s: no '%s' in its metadata (not a checkpoint of clseg train)", r->path, key);
    return v;
}

static double get_number(reader *r, const char *name, double lo, double hi)
{
    const char *v = get(r, name);
    if (v == NULL)
        return lo;
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(x >= lo && x <= hi)) {
        r->st = bad(r->err, r->err_size, "%s: metadata 'clseg.train.%s' = '%s' is not a number in [%g, %g]", r->path,
                    name, v, lo, hi);
        return lo;
    }
    return x;
}

static void parse_channels(reader *r, const char *v, clseg_train_options *o)
{
    o->channel_count = 0;
    for (const char *p = v; r->st == CLSEG_STATUS_SUCCESS && *p != '\0';) {
        char *end = NULL;
        long c = strtol(p, &end, 10);
        if (end == p || c < 0 || c >= CLSEG_DATA_MAX_CHANNELS || o->channel_count == CLSEG_DATA_MAX_CHANNELS ||
            (*end != ',' && *end != '\0')) {
            r->st = bad(r->err, r->err_size, "%s: metadata 'clseg.train.channels' = '%s' is not a channel list",
                        r->path, v);
            return;
        }
        o->channels[o->channel_count++] = (int)c;
        p = *end == ',' ? end + 1 : end;
    }
}

static clseg_status model_from_file(reader *r, clseg_model_config *cfg)
{
    static const char *const keys[] = {"clseg.model", "clseg.in_channels", "clseg.classes",
                                       "clseg.base",  "clseg.depth",       "clseg.output_stride"};
    clseg_net *scratch = NULL;
    clseg_status st = clseg_net_create(&scratch);
    for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = clseg_safetensors_meta(r->f, keys[i]);
        if (v != NULL)
            st = clseg_net_set_meta(scratch, keys[i], v);
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        char msg[256];
        st = clseg_model_config_from_net(scratch, cfg, msg, sizeof msg);
        if (st != CLSEG_STATUS_SUCCESS)
            bad(r->err, r->err_size, "%s: %s", r->path, msg);
    }
    clseg_net_destroy(scratch);
    return st;
}

clseg_status clseg_train_options_load(const char *checkpoint, clseg_train_options *o, char **storage, char *err,
                                      size_t err_size)
{
    if (checkpoint == NULL || o == NULL || storage == NULL)
        return bad(err, err_size, "clseg_train_options_load: NULL argument");
    *storage = NULL;
    clseg_st_file *f = NULL;
    clseg_status st = clseg_safetensors_open(checkpoint, 1, &f, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    reader r = {f, checkpoint, err, err_size, CLSEG_STATUS_SUCCESS};
    *o = clseg_train_options_default();
    r.st = model_from_file(&r, &o->model);
    const char *data = get(&r, "data");
    o->epochs = (int)get_number(&r, "epochs", 1, 1000000);
    o->batch = (int)get_number(&r, "batch", 1, 4096);
    o->size = (int)get_number(&r, "size", 16, 4096);
    o->steps_per_epoch = (int)get_number(&r, "steps_per_epoch", 0, 1e9);
    o->lr = (float)get_number(&r, "lr", 0, 1e9);
    o->val_fraction = get_number(&r, "val_fraction", 0, 1);
    const char *seed = get(&r, "seed");
    if (seed != NULL) {
        char *end = NULL;
        errno = 0;
        o->seed = (uint64_t)strtoull(seed, &end, 10);
        if (errno != 0 || end == seed || *end != '\0')
            r.st = bad(err, err_size, "%s: metadata 'clseg.train.seed' = '%s' is not a whole number", checkpoint, seed);
    }
    o->augment = get_number(&r, "augment", 0, 1) != 0;
    o->tumour_fraction = (float)get_number(&r, "tumour_fraction", 0, 1);
    o->noise = (float)get_number(&r, "noise", 0, 1e9);
    const char *v = get(&r, "optimizer");
    if (v != NULL && clseg_optimizer_kind_parse(v, &o->optimizer) != CLSEG_STATUS_SUCCESS)
        r.st = bad(err, err_size, "%s: unknown optimizer '%s' in its metadata", checkpoint, v);
    v = get(&r, "loss");
    if (v != NULL && clseg_loss_kind_parse(v, &o->loss) != CLSEG_STATUS_SUCCESS)
        r.st = bad(err, err_size, "%s: unknown loss '%s' in its metadata", checkpoint, v);
    v = get(&r, "normalize");
    if (v != NULL && clseg_normalize_parse(v, &o->normalize) != CLSEG_STATUS_SUCCESS)
        r.st = bad(err, err_size, "%s: unknown normalisation '%s' in its metadata", checkpoint, v);
    v = get(&r, "channels");
    if (v != NULL)
        parse_channels(&r, v, o);
    if (r.st == CLSEG_STATUS_SUCCESS) {
        *storage = malloc(strlen(data) + 1);
        if (*storage != NULL)
            memcpy(*storage, data, strlen(data) + 1);
        else
            r.st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
        o->data = *storage;
        o->run_dir = NULL;
    }
    clseg_safetensors_close(f);
    return r.st;
}
