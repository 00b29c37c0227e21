/* The batch loader: determinism whatever the thread's timing, epochs, sampling, shutdown, and
 * its speed on the real sample; resuming at a batch; normalisation names. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data_test_util.h"
#include "test_util.h"

static char *root;
static clseg_dataset *ds;

static void setup(void) { ds = dt_fixture_open(4, 6, 32, 3, &root); }

static void teardown(void) { dt_fixture_close(ds, root); }

static clseg_loader *make(const clseg_loader_options *o)
{
    clseg_loader *l = NULL;
    char err[1024] = "";
    ck_assert_msg(clseg_loader_create(ds, o, &l, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    return l;
}

static clseg_loader_options augmented(void)
{
    clseg_loader_options o = clseg_loader_options_default();
    o.batch_size = 5;
    o.size = 24;
    o.augment = true;
    o.normalize = CLSEG_NORMALIZE_VOLUME;
    o.seed = 77;
    return o;
}

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* A digest of the first count batches; the consumer dawdles for pause_us between batches. */
static uint64_t run_digest(const clseg_loader_options *o, int count, long pause_us)
{
    clseg_loader *l = make(o);
    uint64_t h = 1469598103934665603u;
    for (int b = 0; b < count; b++) {
        clseg_batch batch;
        ck_assert_int_eq(clseg_loader_next(l, &batch), CLSEG_STATUS_SUCCESS);
        size_t plane = (size_t)batch.h * batch.w;
        const unsigned char *parts[3] = {(const unsigned char *)batch.images, (const unsigned char *)batch.masks,
                                         (const unsigned char *)batch.slices};
        size_t sizes[3] = {(size_t)batch.n * batch.c * plane * 4, (size_t)batch.n * plane * 4,
                           (size_t)batch.n * sizeof(size_t)};
        for (int p = 0; p < 3; p++)
            for (size_t i = 0; i < sizes[p]; i++)
                h = (h ^ parts[p][i]) * 1099511628211u;
        h = (h ^ batch.epoch ^ (batch.index << 20)) * 1099511628211u;
        if (pause_us > 0)
            sleep_us(pause_us * (b % 3));
    }
    clseg_loader_destroy(l);
    return h;
}

START_TEST(same_seed_same_batches)
{
    clseg_loader_options o = augmented();
    o.tumour_fraction = 0.5f;
    uint64_t fast = run_digest(&o, 15, 0), slow = run_digest(&o, 15, 3000);
    ck_assert_uint_eq(fast, slow);
    o.seed = 78;
    ck_assert_uint_ne(run_digest(&o, 15, 0), fast);
}
END_TEST

START_TEST(epochs_cover_every_slice_once)
{
    clseg_loader_options o = augmented();
    clseg_loader *l = make(&o);
    size_t n = clseg_dataset_slice_count(ds);
    ck_assert_uint_eq(n, 24);
    ck_assert_uint_eq(clseg_loader_batches_per_epoch(l), 5);
    size_t first_order[24], k = 0;
    bool reordered = false;
    for (uint64_t e = 0; e < 3; e++) {
        int seen[24] = {0};
        for (size_t b = 0; b < 5; b++) {
            clseg_batch batch;
            clseg_loader_next(l, &batch);
            ck_assert_uint_eq(batch.epoch, e);
            ck_assert_uint_eq(batch.index, b);
            ck_assert_int_eq(batch.n, b < 4 ? 5 : 4);
            ck_assert(batch.c == 3 && batch.h == 24 && batch.w == 24);
            for (int j = 0; j < batch.n; j++) {
                seen[batch.slices[j]]++;
                if (e == 0)
                    first_order[k++] = batch.slices[j];
                else
                    reordered = reordered || first_order[b * 5 + (size_t)j] != batch.slices[j];
            }
            for (int i = 0; i < batch.n * 24 * 24; i++)
                ck_assert(batch.masks[i] == 0.0f || batch.masks[i] == 1.0f);
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(seen[i], 1);
    }
    ck_assert(reordered);
    clseg_loader_destroy(l);

    o.drop_last = true;
    l = make(&o);
    ck_assert_uint_eq(clseg_loader_batches_per_epoch(l), 4);
    for (int b = 0; b < 9; b++) {
        clseg_batch batch;
        clseg_loader_next(l, &batch);
        ck_assert_int_eq(batch.n, 5);
        ck_assert_uint_eq(batch.index, (size_t)b % 4);
    }
    clseg_loader_destroy(l);
}
END_TEST

/* No augmentation, native size, unit scaling, given order: the batch is the slices / 255. */
START_TEST(plain_batches_hold_the_slices)
{
    clseg_loader_options o = clseg_loader_options_default();
    o.batch_size = 4;
    o.shuffle = false;
    size_t pick[6] = {23, 0, 7, 7, 12, 5};
    o.slices = pick;
    o.slice_count = 6;
    clseg_loader *l = make(&o);
    for (int b = 0; b < 4; b++) {
        clseg_batch batch;
        clseg_loader_next(l, &batch);
        ck_assert_int_eq(batch.n, b % 2 == 0 ? 4 : 2);
        for (int j = 0; j < batch.n; j++) {
            size_t want = pick[(b % 2) * 4 + j];
            ck_assert_uint_eq(batch.slices[j], want);
            clseg_slice_info si;
            clseg_dataset_slice(ds, want, &si);
            for (int i = 0; i < 32 * 32; i++) {
                for (int c = 0; c < 3; c++)
                    ck_assert_float_eq(batch.images[((size_t)j * 3 + (size_t)c) * 1024 + (size_t)i],
                                       si.image[i * 3 + c] / 255.0f);
                ck_assert_float_eq(batch.masks[(size_t)j * 1024 + (size_t)i], si.mask[i]);
            }
        }
    }
    clseg_loader_destroy(l);
    /* FLAIR only */
    o.channels[0] = 1;
    o.channel_count = 1;
    l = make(&o);
    clseg_batch batch;
    clseg_loader_next(l, &batch);
    ck_assert_int_eq(batch.c, 1);
    clseg_slice_info si;
    clseg_dataset_slice(ds, 23, &si);
    for (int i = 0; i < 1024; i++)
        ck_assert_float_eq(batch.images[i], si.image[i * 3 + 1] / 255.0f);
    clseg_loader_destroy(l);
}
END_TEST

static double tumour_share(const clseg_loader_options *o, int batches)
{
    clseg_loader *l = make(o);
    size_t tumour = 0, total = 0;
    for (int b = 0; b < batches; b++) {
        clseg_batch batch;
        clseg_loader_next(l, &batch);
        for (int j = 0; j < batch.n; j++) {
            clseg_slice_info si;
            clseg_dataset_slice(ds, batch.slices[j], &si);
            tumour += si.tumour;
            total++;
        }
    }
    clseg_loader_destroy(l);
    return (double)tumour / (double)total;
}

START_TEST(tumour_aware_sampling)
{
    clseg_loader_options o = clseg_loader_options_default();
    o.batch_size = 6;
    double natural = (double)clseg_dataset_tumour_slice_count(ds) / (double)clseg_dataset_slice_count(ds);
    ck_assert(natural > 0.1 && natural < 0.7);
    ck_assert_double_eq_tol(tumour_share(&o, 40), natural, 1e-9);
    o.tumour_fraction = 0.9f;
    ck_assert_double_eq_tol(tumour_share(&o, 200), 0.9, 0.05);
    o.tumour_fraction = 0.2f;
    ck_assert_double_eq_tol(tumour_share(&o, 200), 0.2, 0.05);
}
END_TEST

START_TEST(bad_options)
{
    clseg_loader_options base = clseg_loader_options_default();
    clseg_loader *l = NULL;
    char err[1024];
    clseg_loader_options o = base;
    o.batch_size = 0;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "batch_size"));
    o = base;
    o.size = 5;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "size"));
    o = base;
    o.channels[0] = 3;
    o.channel_count = 1;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "channel"));
    o = base;
    size_t past = 24;
    o.slices = &past;
    o.slice_count = 1;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "slice index"));
    o = base;
    o.augment = true;
    o.augmentation.rotate_degrees = 400.0f;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    o = base;
    o.tumour_fraction = 1.5f;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    o = base;
    o.batch_size = 100;
    o.drop_last = true;
    ck_assert_int_eq(clseg_loader_create(ds, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "no full batch"));
    ck_assert_ptr_null(l);
    ck_assert_int_eq(clseg_loader_create(ds, NULL, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(mixed_sizes_need_a_training_size)
{
    char *other = dt_phantoms(1, 2, 16, 4);
    char *from = dt_path(other, "PHANTOM_XX_0001_20260101"), *to = dt_path(root, "PHANTOM_XX_0009_20260101");
    ck_assert_int_eq(rename(from, to), 0);
    char err[1024];
    /* the slices keep their folder's name: PHANTOM_XX_0001_..., so rename them too */
    for (int n = 1; n <= 2; n++)
        for (int m = 0; m < 2; m++) {
            char a[512], b[512];
            snprintf(a, sizeof a, "%s/PHANTOM_XX_0001_20260101_%d%s.tif", to, n, m ? "_mask" : "");
            snprintf(b, sizeof b, "%s/PHANTOM_XX_0009_20260101_%d%s.tif", to, n, m ? "_mask" : "");
            ck_assert_int_eq(rename(a, b), 0);
        }
    clseg_dataset *mixed = dt_load(root, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_slice_count(mixed), 26);
    clseg_loader_options o = clseg_loader_options_default();
    clseg_loader *l = NULL;
    ck_assert_int_eq(clseg_loader_create(mixed, &o, &l, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "training size"));
    o.size = 20;
    ck_assert_int_eq(clseg_loader_create(mixed, &o, &l, err, sizeof err), CLSEG_STATUS_SUCCESS);
    clseg_batch batch;
    for (int b = 0; b < 8; b++)
        clseg_loader_next(l, &batch);
    ck_assert(batch.h == 20 && batch.w == 20);
    clseg_loader_destroy(l);
    clseg_dataset_destroy(mixed);
    dt_rmtree(to);
    free(from);
    free(to);
    dt_rmtree(other);
    free(other);
}
END_TEST

/* A batch copied out of the loader, to compare with one delivered later by another loader. */
typedef struct kept_batch {
    float *images, *masks;
    size_t slices[8];
    int n, c, h, w;
    uint64_t epoch;
    size_t index;
} kept_batch;

static void keep(const clseg_batch *b, kept_batch *k)
{
    size_t plane = (size_t)b->h * b->w;
    *k = (kept_batch){malloc((size_t)b->n * b->c * plane * 4), malloc((size_t)b->n * plane * 4), {0}, b->n, b->c,
                      b->h, b->w, b->epoch, b->index};
    ck_assert(b->n <= 8 && k->images != NULL && k->masks != NULL);
    memcpy(k->images, b->images, (size_t)b->n * b->c * plane * 4);
    memcpy(k->masks, b->masks, (size_t)b->n * plane * 4);
    memcpy(k->slices, b->slices, (size_t)b->n * sizeof(size_t));
}

static void same_batch(const clseg_batch *b, const kept_batch *k, uint64_t seq)
{
    size_t plane = (size_t)b->h * b->w;
    ck_assert_msg(b->n == k->n && b->c == k->c && b->h == k->h && b->w == k->w, "batch %llu: shape",
                  (unsigned long long)seq);
    ck_assert_uint_eq(b->epoch, k->epoch);
    ck_assert_uint_eq(b->index, k->index);
    ck_assert_msg(memcmp(b->slices, k->slices, (size_t)b->n * sizeof(size_t)) == 0, "batch %llu: slices",
                  (unsigned long long)seq);
    ck_assert_msg(memcmp(b->images, k->images, (size_t)b->n * b->c * plane * 4) == 0, "batch %llu: images",
                  (unsigned long long)seq);
    ck_assert_msg(memcmp(b->masks, k->masks, (size_t)b->n * plane * 4) == 0, "batch %llu: masks",
                  (unsigned long long)seq);
}

/* A loader started at first_batch delivers, bit for bit, what an uninterrupted one delivers at
 * the same sequence numbers: mid-epoch, at an epoch's start and in a later epoch, whether the
 * epoch plan is a shuffle or a tumour-aware draw. */
START_TEST(first_batch_resumes_the_sequence)
{
    enum { TOTAL = 17 }; /* 5 batches an epoch: into the fourth epoch */
    const float fractions[] = {0.0f, 0.5f};
    for (size_t f = 0; f < 2; f++) {
        clseg_loader_options o = augmented();
        o.tumour_fraction = fractions[f];
        kept_batch ref[TOTAL];
        clseg_loader *l = make(&o);
        ck_assert_uint_eq(clseg_loader_batches_per_epoch(l), 5);
        for (uint64_t q = 0; q < TOTAL; q++) {
            clseg_batch b;
            ck_assert_int_eq(clseg_loader_next(l, &b), CLSEG_STATUS_SUCCESS);
            ck_assert_uint_eq(b.epoch * 5 + b.index, q);
            keep(&b, &ref[q]);
        }
        clseg_loader_destroy(l);
        /* the epochs differ, or matching them would prove little */
        ck_assert(memcmp(ref[0].slices, ref[5].slices, sizeof ref[0].slices) != 0 ||
                  memcmp(ref[0].images, ref[5].images, (size_t)ref[0].n * ref[0].c * ref[0].h * ref[0].w * 4) != 0);
        const uint64_t starts[] = {0, 1, 3, 4, 5, 7, 12, 14, 16};
        for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
            o.first_batch = starts[s];
            l = make(&o);
            for (uint64_t q = starts[s]; q < TOTAL; q++) {
                clseg_batch b;
                ck_assert_int_eq(clseg_loader_next(l, &b), CLSEG_STATUS_SUCCESS);
                same_batch(&b, &ref[q], q);
            }
            clseg_loader_destroy(l);
        }
        for (int q = 0; q < TOTAL; q++) {
            free(ref[q].images);
            free(ref[q].masks);
        }
    }
}
END_TEST

START_TEST(normalize_names)
{
    const clseg_normalize modes[] = {CLSEG_NORMALIZE_UNIT, CLSEG_NORMALIZE_VOLUME};
    ck_assert_str_eq(clseg_normalize_str(CLSEG_NORMALIZE_UNIT), "unit");
    ck_assert_str_eq(clseg_normalize_str(CLSEG_NORMALIZE_VOLUME), "volume");
    for (size_t i = 0; i < 2; i++) {
        clseg_normalize back = modes[1 - i];
        ck_assert_int_eq(clseg_normalize_parse(clseg_normalize_str(modes[i]), &back), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(back, modes[i]);
    }
    const char *bad[] = {"", "Unit", "volumes", "zscore", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clseg_normalize m = CLSEG_NORMALIZE_VOLUME;
        ck_assert_int_eq(clseg_normalize_parse(bad[i], &m), CLSEG_STATUS_INVALID_ARGUMENT);
        ck_assert_int_eq(m, CLSEG_NORMALIZE_VOLUME);
    }
    ck_assert_ptr_nonnull(clseg_normalize_str((clseg_normalize)7));
}
END_TEST

START_TEST(clean_shutdown)
{
    clseg_loader_options o = augmented();
    for (int i = 0; i < 20; i++) {
        clseg_loader *l = make(&o);
        clseg_batch batch;
        for (int b = 0; b < i % 4; b++)
            clseg_loader_next(l, &batch);
        clseg_loader_destroy(l); /* while the thread works, waits, or the caller holds a batch */
    }
    clseg_loader_destroy(NULL);
}
END_TEST

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Slices per second at 256x256, batch 8, with augmentation, over two epochs of the real sample
 * (phantoms when it is absent); printed, not asserted: sanitizer builds are far slower. */
START_TEST(throughput)
{
    const char *dir = dt_lgg_dir();
    char *fallback = dir == NULL ? dt_phantoms(4, 20, 256, 9) : NULL;
    char err[1024];
    clseg_dataset *real = dt_load(dir != NULL ? dir : fallback, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    clseg_loader_options o = clseg_loader_options_default();
    o.size = 256;
    o.augment = true;
    o.normalize = CLSEG_NORMALIZE_VOLUME;
    clseg_loader *l = NULL;
    ck_assert_int_eq(clseg_loader_create(real, &o, &l, err, sizeof err), CLSEG_STATUS_SUCCESS);
    size_t per_epoch = clseg_loader_batches_per_epoch(l), slices = 0;
    clseg_batch batch;
    clseg_loader_next(l, &batch); /* the first batch includes the thread's start */
    double t0 = now();
    for (size_t b = 1; b < 2 * per_epoch; b++) {
        clseg_loader_next(l, &batch);
        slices += (size_t)batch.n;
    }
    double secs = now() - t0;
    printf("loader: %zu slices of 256x256 in %.3f s: %.0f slices/s (%s, batch 8, augmented)\n", slices, secs,
           (double)slices / secs, dir != NULL ? "real sample" : "phantoms");
    clseg_loader_destroy(l);
    clseg_dataset_destroy(real);
    if (fallback != NULL) {
        dt_rmtree(fallback);
        free(fallback);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data_loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_seed_same_batches);
    tcase_add_test(tc, epochs_cover_every_slice_once);
    tcase_add_test(tc, plain_batches_hold_the_slices);
    tcase_add_test(tc, tumour_aware_sampling);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, mixed_sizes_need_a_training_size);
    tcase_add_test(tc, first_batch_resumes_the_sequence);
    tcase_add_test(tc, normalize_names);
    tcase_add_test(tc, clean_shutdown);
    tcase_add_test(tc, throughput);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run(suite(), true); }
