/* The batch loader: one thread fills batch k+1 while the caller holds batch k (two slots), and
 * the tumour-aware epoch sampler. Every random choice comes from a generator seeded by
 * (seed, epoch, position), so batches do not depend on thread timing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/preprocess.h"
#include "util/rng.h"

#define SLOTS 2

typedef struct loader_slot {
    float *images, *masks;
    size_t *slices;
    int n;
    uint64_t epoch;
    size_t index;
    bool ready;
} loader_slot;

struct clseg_loader {
    const clseg_dataset *ds;
    clseg_loader_options o;
    int out_w, out_h, nsel;
    size_t *pool, *tumour_pool, *clear_pool;
    size_t pool_count, tumour_count, clear_count;
    size_t *order; /* the current epoch's slices; the thread's alone */
    uint64_t order_epoch;
    bool order_made;
    size_t per_epoch;
    float *luts; /* patients x nsel x 256 */
    loader_slot slots[SLOTS];
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    uint64_t produced, consumed;
    int held; /* the slot the caller holds, or -1 */
};

clseg_loader_options clseg_loader_options_default(void)
{
    clseg_loader_options o;
    memset(&o, 0, sizeof o);
    o.batch_size = 8;
    o.shuffle = true;
    o.augmentation = clseg_augment_options_default();
    o.seed = 1;
    return o;
}

static clseg_rng stream(uint64_t seed, uint64_t epoch, uint64_t position)
{
    clseg_rng r = {seed};
    r.state = clseg_rng_next(&r) ^ epoch;
    r.state = clseg_rng_next(&r) ^ position;
    return r;
}

static size_t below(clseg_rng *r, size_t n) { return (size_t)(clseg_rng_next(r) % n); }

static void plan_epoch(clseg_loader *l, uint64_t epoch)
{
    clseg_rng r = stream(l->o.seed, epoch, UINT64_MAX);
    if (l->o.tumour_fraction > 0.0f) {
        for (size_t i = 0; i < l->pool_count; i++) {
            bool tumour = l->clear_count == 0 ||
                          (l->tumour_count > 0 && clseg_rng_uniform(&r) < l->o.tumour_fraction);
            l->order[i] = tumour ? l->tumour_pool[below(&r, l->tumour_count)] : l->clear_pool[below(&r, l->clear_count)];
        }
        return;
    }
    memcpy(l->order, l->pool, l->pool_count * sizeof *l->order);
    for (size_t i = l->pool_count; l->o.shuffle && i > 1; i--) {
        size_t j = below(&r, i), t = l->order[i - 1];
        l->order[i - 1] = l->order[j];
        l->order[j] = t;
    }
}

static void fill(clseg_loader *l, loader_slot *slot, uint64_t seq)
{
    uint64_t epoch = seq / l->per_epoch;
    size_t index = (size_t)(seq % l->per_epoch);
    /* a loader started mid-epoch (first_batch) plans that epoch first, not only at index 0 */
    if (!l->order_made || l->order_epoch != epoch) {
        plan_epoch(l, epoch);
        l->order_epoch = epoch;
        l->order_made = true;
    }
    size_t start = index * (size_t)l->o.batch_size, left = l->pool_count - start;
    slot->n = left < (size_t)l->o.batch_size ? (int)left : l->o.batch_size;
    slot->epoch = epoch;
    slot->index = index;
    size_t plane = (size_t)l->out_w * l->out_h;
    const clseg_dataset *ds = l->ds;
    for (int j = 0; j < slot->n; j++) {
        size_t si = l->order[start + (size_t)j];
        const data_slice *s = &ds->slices[si];
        clseg_rng r = stream(l->o.seed, epoch, start + (size_t)j);
        data_augment_draw d = l->o.augment ? data_augment_random(&r, &l->o.augmentation) : data_augment_identity();
        data_render_args a = {s->image, s->mask, (int)s->width, (int)s->height, ds->channels, l->o.channels, l->nsel,
                              l->luts + s->patient * (size_t)l->nsel * 256,
                              data_affine_make((int)s->width, (int)s->height, l->out_w, l->out_h, &d), l->out_w,
                              l->out_h, d.gain, d.bias, l->o.normalize == CLSEG_NORMALIZE_UNIT};
        slot->slices[j] = si;
        data_render(&a, slot->images + (size_t)j * l->nsel * plane, slot->masks + (size_t)j * plane);
    }
}

static void *worker(void *arg)
{
    clseg_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        int k = (int)(l->produced % SLOTS);
        while (!l->stop && (l->slots[k].ready || l->held == k))
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop)
            break;
        uint64_t seq = l->produced;
        pthread_mutex_unlock(&l->mu);
        fill(l, &l->slots[k], seq);
        pthread_mutex_lock(&l->mu);
        l->slots[k].ready = true;
        l->produced++;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

clseg_status clseg_loader_next(clseg_loader *l, clseg_batch *batch)
{
    if (l == NULL || batch == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    pthread_mutex_lock(&l->mu);
    if (l->held >= 0) {
        l->slots[l->held].ready = false;
        l->held = -1;
        pthread_cond_broadcast(&l->cv);
    }
    int k = (int)(l->consumed % SLOTS);
    while (!l->slots[k].ready)
        pthread_cond_wait(&l->cv, &l->mu);
    l->held = k;
    l->consumed++;
    pthread_mutex_unlock(&l->mu);
    const loader_slot *s = &l->slots[k];
    *batch = (clseg_batch){s->images, s->masks, s->n, l->nsel, l->out_h, l->out_w, s->epoch, s->index, s->slices};
    return CLSEG_STATUS_SUCCESS;
}

size_t clseg_loader_batches_per_epoch(const clseg_loader *l) { return l->per_epoch; }

void clseg_loader_destroy(clseg_loader *l)
{
    if (l == NULL)
        return;
    if (l->running) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
    }
    for (int k = 0; k < SLOTS; k++) {
        free(l->slots[k].images);
        free(l->slots[k].masks);
        free(l->slots[k].slices);
    }
    free(l->pool);
    free(l->tumour_pool);
    free(l->clear_pool);
    free(l->order);
    free(l->luts);
    free(l);
}

static bool in_range(float v, float lo, float hi) { return v >= lo && v <= hi; }

/* Checks everything the thread will rely on; the message names the offending option. */
static clseg_status check_options(const clseg_dataset *ds, const clseg_loader_options *o, char *err, size_t err_size)
{
    const char *bad = NULL;
    if (o->batch_size < 1 || o->batch_size > 4096)
        bad = "batch_size must be 1..4096";
    else if (o->size != 0 && (o->size < 8 || o->size > 4096))
        bad = "size must be 0 (the slices' own) or 8..4096";
    else if (o->channel_count < 0 || o->channel_count > ds->channels)
        bad = "channel_count must be 0 (all) up to the dataset's channel count";
    else if (o->normalize != CLSEG_NORMALIZE_UNIT && o->normalize != CLSEG_NORMALIZE_VOLUME)
        bad = "normalize is not a clseg_normalize value";
    else if (!in_range(o->tumour_fraction, 0.0f, 1.0f))
        bad = "tumour_fraction must be in [0, 1]";
    else if (o->slices != NULL && o->slice_count == 0)
        bad = "slice_count is 0: no slices to draw from";
    else if (o->augment && (!in_range(o->augmentation.flip_probability, 0.0f, 1.0f) ||
                            !in_range(o->augmentation.rotate_degrees, 0.0f, 180.0f) ||
                            !in_range(o->augmentation.scale, 0.0f, 0.9f) ||
                            !in_range(o->augmentation.intensity, 0.0f, 1.0f)))
        bad = "augmentation needs flip_probability 0..1, rotate_degrees 0..180, scale 0..0.9, intensity 0..1";
    for (int k = 0; bad == NULL && k < o->channel_count; k++)
        if (o->channels[k] < 0 || o->channels[k] >= ds->channels)
            bad = "a selected channel is not one of the dataset's";
    for (size_t i = 0; bad == NULL && o->slices != NULL && i < o->slice_count; i++)
        if (o->slices[i] >= ds->slice_count)
            bad = "a slice index is past the dataset's last slice";
    if (bad != NULL) {
        clseg_errbuf_set(err, err_size, "loader: %s", bad);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    return CLSEG_STATUS_SUCCESS;
}

/* The pools, the epoch plan and the output size; INVALID_ARGUMENT for mixed sizes at size 0. */
static clseg_status setup_pools(clseg_loader *l, char *err, size_t err_size)
{
    const clseg_dataset *ds = l->ds;
    size_t n = l->o.slices != NULL ? l->o.slice_count : ds->slice_count;
    l->pool_count = n;
    l->pool = malloc(n * sizeof *l->pool);
    l->tumour_pool = malloc(n * sizeof *l->pool);
    l->clear_pool = malloc(n * sizeof *l->pool);
    l->order = malloc(n * sizeof *l->pool);
    if (l->pool == NULL || l->tumour_pool == NULL || l->clear_pool == NULL || l->order == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < n; i++) {
        size_t si = l->o.slices != NULL ? l->o.slices[i] : i;
        l->pool[i] = si;
        if (ds->slices[si].tumour)
            l->tumour_pool[l->tumour_count++] = si;
        else
            l->clear_pool[l->clear_count++] = si;
    }
    const data_slice *first = &ds->slices[l->pool[0]];
    l->out_w = l->o.size > 0 ? l->o.size : (int)first->width;
    l->out_h = l->o.size > 0 ? l->o.size : (int)first->height;
    for (size_t i = 0; l->o.size == 0 && i < n; i++) {
        const data_slice *s = &ds->slices[l->pool[i]];
        if (s->width != first->width || s->height != first->height) {
            clseg_errbuf_set(err, err_size, "loader: slices of %ux%u (%s) and %ux%u (%s): set a training size",
                             first->width, first->height, first->image_path, s->width, s->height, s->image_path);
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
    }
    size_t b = (size_t)l->o.batch_size;
    l->per_epoch = l->o.drop_last ? n / b : (n + b - 1) / b;
    if (l->per_epoch == 0) {
        clseg_errbuf_set(err, err_size, "loader: %zu slices make no full batch of %zu (drop_last)", n, b);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status setup_buffers(clseg_loader *l)
{
    const clseg_dataset *ds = l->ds;
    bool *need = calloc(ds->patient_count, sizeof *need);
    l->luts = malloc(ds->patient_count * (size_t)l->nsel * 256 * sizeof *l->luts);
    if (need == NULL || l->luts == NULL) {
        free(need);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (size_t i = 0; i < l->pool_count; i++)
        need[ds->slices[l->pool[i]].patient] = true;
    data_make_luts(ds, l->o.normalize, l->o.channels, l->nsel, need, l->luts);
    free(need);
    size_t plane = (size_t)l->out_w * l->out_h, b = (size_t)l->o.batch_size;
    for (int k = 0; k < SLOTS; k++) {
        loader_slot *s = &l->slots[k];
        s->images = malloc(b * (size_t)l->nsel * plane * sizeof(float));
        s->masks = malloc(b * plane * sizeof(float));
        s->slices = malloc(b * sizeof(size_t));
        if (s->images == NULL || s->masks == NULL || s->slices == NULL)
            return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_loader_create(const clseg_dataset *ds, const clseg_loader_options *opts, clseg_loader **out,
                                 char *err, size_t err_size)
{
    if (ds == NULL || opts == NULL || out == NULL) {
        clseg_errbuf_set(err, err_size, "loader: dataset, options or out is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    clseg_status st = check_options(ds, opts, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_loader *l = calloc(1, sizeof *l);
    if (l == NULL) {
        clseg_errbuf_set(err, err_size, "loader: out of host memory");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    l->ds = ds;
    l->o = *opts;
    l->held = -1;
    l->produced = l->consumed = opts->first_batch; /* slots are picked by sequence number mod SLOTS */
    l->nsel = opts->channel_count > 0 ? opts->channel_count : ds->channels;
    if (opts->channel_count == 0)
        for (int k = 0; k < ds->channels; k++)
            l->o.channels[k] = k;
    st = setup_pools(l, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = setup_buffers(l);
    if (st == CLSEG_STATUS_OUT_OF_HOST_MEMORY)
        clseg_errbuf_set(err, err_size, "loader: out of host memory for batches of %d x %d x %d x %d", opts->batch_size,
                         l->nsel, l->out_h, l->out_w);
    if (st == CLSEG_STATUS_SUCCESS) {
        /* the caller's slice list may go away: the pool is the loader's own copy */
        l->o.slices = NULL;
        if (pthread_mutex_init(&l->mu, NULL) != 0 || pthread_cond_init(&l->cv, NULL) != 0 ||
            pthread_create(&l->thread, NULL, worker, l) != 0) {
            clseg_errbuf_set(err, err_size, "loader: cannot start its thread");
            st = CLSEG_STATUS_OUT_OF_RESOURCES;
        } else {
            l->running = true;
        }
    }
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_loader_destroy(l);
        return st;
    }
    *out = l;
    return CLSEG_STATUS_SUCCESS;
}
