/* clseg_train and clseg_train_resume on a small phantom dataset: the same losses on ref and on
 * OpenCL, resuming (after an epoch, after Ctrl-C mid-epoch) equals never stopping, the run
 * folder's files, and the errors a user meets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "util/files.h"
#include "test_util.h"

static char *root, *data;

enum { MAX_STEPS = 64 };

typedef struct record {
    double loss[MAX_STEPS];
    int steps, epochs;
    double val_dice[8], val_mse[8];
    int stop_after; /* set the stop flag after this many steps (0: never) */
    volatile sig_atomic_t stop;
    int block_after; /* after this many steps, put a folder where last.safetensors.optim goes */
    const char *run_dir;
} record;

/* Keeps a copy of last.safetensors and makes its next save fail (a folder is in the way of its
 * .optim file): the disk-full or unwritable-folder case, as a rename cannot replace a folder. */
static void block_checkpoint(const char *dir)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cp last.safetensors kept.safetensors && rm last.safetensors.optim && "
             "mkdir last.safetensors.optim",
             dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void on_progress(void *user, const clseg_train_progress *p)
{
    record *r = user;
    if (r->steps < MAX_STEPS)
        r->loss[r->steps] = p->loss;
    r->steps++;
    if (r->stop_after > 0 && r->steps == r->stop_after)
        r->stop = 1;
    if (r->block_after > 0 && r->steps == r->block_after)
        block_checkpoint(r->run_dir);
}

static void on_epoch(void *user, const clseg_epoch_summary *s)
{
    record *r = user;
    if (r->epochs < 8 && s->val != NULL) {
        r->val_dice[r->epochs] = s->val->volume_dice.mean;
        r->val_mse[r->epochs] = s->val->mse.mean;
    }
    r->epochs++;
}

static clseg_train_callbacks callbacks(record *r)
{
    return (clseg_train_callbacks){on_progress, on_epoch, NULL, r, &r->stop};
}

static clseg_train_options small_run(const char *model, const char *run_dir)
{
    clseg_train_options o = clseg_train_options_default();
    ck_assert_int_eq(clseg_model_config_default(model, &o.model), CLSEG_STATUS_SUCCESS);
    o.model.base = 4;
    o.data = data;
    o.run_dir = run_dir;
    o.epochs = 2;
    o.batch = 4;
    o.size = 32;
    o.steps_per_epoch = 3;
    o.val_fraction = 0.25;
    o.seed = 7;
    return o;
}

static char *run_path(const char *name)
{
    char *p = malloc(strlen(root) + strlen(name) + 2);
    sprintf(p, "%s/%s", root, name);
    return p;
}

static char *file_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* The whole file; fails the test when it cannot be read. */
static unsigned char *slurp(const char *path, size_t *size)
{
    unsigned char *bytes = NULL;
    char err[512];
    ck_assert_msg(clseg_read_file(path, 1 << 26, &bytes, size, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    return bytes;
}

static int count_lines(const char *path)
{
    size_t n = 0;
    unsigned char *text = slurp(path, &n);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    free(text);
    return lines;
}

/* Every tensor of two checkpoints has the same bytes. */
static void assert_same_weights(const char *a, const char *b)
{
    clseg_st_file *fa = NULL, *fb = NULL;
    char err[512];
    ck_assert_int_eq(clseg_safetensors_open(a, 0, &fa, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_safetensors_open(b, 0, &fb, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(clseg_safetensors_count(fa), clseg_safetensors_count(fb));
    for (size_t i = 0; i < clseg_safetensors_count(fa); i++) {
        const clseg_st_tensor *ta = clseg_safetensors_tensor(fa, i);
        const clseg_st_tensor *tb = clseg_safetensors_find(fb, ta->name);
        ck_assert_ptr_nonnull(tb);
        ck_assert_uint_eq(ta->nbytes, tb->nbytes);
        ck_assert_msg(memcmp(ta->data, tb->data, (size_t)ta->nbytes) == 0, "%s differs between %s and %s", ta->name, a,
                      b);
    }
    clseg_safetensors_close(fa);
    clseg_safetensors_close(fb);
}

static bool exists(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0;
}

START_TEST(test_ref_and_opencl_give_the_same_losses)
{
    if (!test_have_opencl())
        return;
    record r[2] = {{.steps = 0}, {.steps = 0}};
    const char *sel[2] = {"ref", NULL};
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(sel[k]);
        char *dir = run_path(k ? "same-ocl" : "same-ref");
        clseg_train_options o = small_run("unet", dir);
        clseg_train_callbacks cb = callbacks(&r[k]);
        char err[1024];
        clseg_status st = clseg_train(ctx, &o, &cb, err, sizeof err);
        ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "%s", err);
        free(dir);
        clseg_context_destroy(ctx);
    }
    ck_assert_int_eq(r[0].steps, 6);
    ck_assert_int_eq(r[1].steps, 6);
    /* float32 sums in different orders drift apart a little over the steps */
    for (int i = 0; i < 6; i++)
        ck_assert_msg(fabs(r[0].loss[i] - r[1].loss[i]) <= 1e-3 * fmax(1.0, fabs(r[0].loss[i])),
                      "step %d: ref %.7f, OpenCL %.7f", i + 1, r[0].loss[i], r[1].loss[i]);
    ck_assert(r[0].loss[0] > 0.0 && isfinite(r[0].loss[5]));
    ck_assert_int_eq(r[0].epochs, 2);
    ck_assert(fabs(r[0].val_dice[1] - r[1].val_dice[1]) <= 0.02);
}
END_TEST

/* A new run that must succeed, recorded in r. */
static void train_ok(clseg_context *ctx, const clseg_train_options *o, record *r)
{
    clseg_train_callbacks cb = callbacks(r);
    char err[1024];
    ck_assert_msg(clseg_train(ctx, o, &cb, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
}

static void train_to_end(clseg_context *ctx, const char *dir, record *r)
{
    clseg_train_options o = small_run("unet", dir);
    train_ok(ctx, &o, r);
}

START_TEST(test_resume_after_an_epoch_equals_one_run)
{
    clseg_context *ctx = test_context("ref");
    char *whole = run_path("whole"), *parts = run_path("parts");
    record a = {.steps = 0}, b = {.steps = 0};
    train_to_end(ctx, whole, &a);
    clseg_train_options o = small_run("unet", parts);
    o.epochs = 1;
    train_ok(ctx, &o, &b);
    clseg_train_callbacks cb = callbacks(&b);
    char err[1024];
    ck_assert_msg(clseg_train_resume(ctx, parts, 2, NULL, &cb, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_int_eq(b.steps, a.steps);
    for (int i = 0; i < a.steps; i++)
        ck_assert_msg(a.loss[i] == b.loss[i], "step %d: %.9g vs %.9g", i + 1, a.loss[i], b.loss[i]);
    char *la = file_in(whole, "last.safetensors"), *lb = file_in(parts, "last.safetensors");
    assert_same_weights(la, lb);
    /* the resumed run's metrics.csv has both epochs, like the whole run's */
    char *ca = file_in(whole, "metrics.csv"), *cb2 = file_in(parts, "metrics.csv");
    ck_assert_int_eq(count_lines(ca), 3);
    ck_assert_int_eq(count_lines(cb2), 3);
    free(ca);
    free(cb2);
    free(la);
    free(lb);
    free(whole);
    free(parts);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_interrupt_mid_epoch_then_resume_equals_one_run)
{
    clseg_context *ctx = test_context("ref");
    char *whole = run_path("whole-i"), *parts = run_path("parts-i");
    record a = {.steps = 0}, b = {.steps = 0, .stop_after = 4};
    train_to_end(ctx, whole, &a);
    clseg_train_options o = small_run("unet", parts);
    clseg_train_callbacks cb = callbacks(&b);
    char err[1024];
    clseg_status st = clseg_train(ctx, &o, &cb, err, sizeof err);
    ck_assert_int_eq(st, CLSEG_STATUS_INTERRUPTED);
    ck_assert_msg(strstr(err, "epoch 2") != NULL && strstr(err, "last.safetensors") != NULL, "%s", err);
    ck_assert_int_eq(b.steps, 4);
    b.stop = 0;
    b.stop_after = 0;
    ck_assert_msg(clseg_train_resume(ctx, parts, 0, NULL, &cb, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_int_eq(b.steps, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(a.loss[i] == b.loss[i], "step %d: %.9g vs %.9g", i + 1, a.loss[i], b.loss[i]);
    char *la = file_in(whole, "last.safetensors"), *lb = file_in(parts, "last.safetensors");
    assert_same_weights(la, lb);
    free(la);
    free(lb);
    free(whole);
    free(parts);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_run_folder_holds_metrics_curves_and_checkpoints)
{
    clseg_context *ctx = test_context("ref");
    char *dir = run_path("files");
    record r = {.steps = 0};
    train_to_end(ctx, dir, &r);
    static const char *const names[] = {
        "last.safetensors", "last.safetensors.optim", "best.safetensors", "metrics.csv", "curves.png", "split.txt"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = file_in(dir, names[i]);
        ck_assert_msg(exists(p), "%s is missing", p);
        free(p);
    }
    char *csv = file_in(dir, "metrics.csv");
    FILE *f = fopen(csv, "r");
    char line[1024];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert(strncmp(line, "epoch,step,train_loss,val_dice_slice_mean,", 42) == 0);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert(strncmp(line, "1,3,", 4) == 0);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert(strncmp(line, "2,6,", 4) == 0);
    fclose(f);
    char *png = file_in(dir, "curves.png");
    f = fopen(png, "rb");
    unsigned char sig[24];
    ck_assert_uint_eq(fread(sig, 1, sizeof sig, f), sizeof sig);
    fclose(f);
    ck_assert(memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0);
    /* training a second time into the same folder is refused; the run is kept */
    clseg_train_options o = small_run("unet", dir);
    char err[1024];
    ck_assert_int_eq(clseg_train(ctx, &o, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "already holds a run") != NULL, "%s", err);
    /* eval's split comes from the checkpoint */
    char *last = file_in(dir, "last.safetensors"), val[4096];
    ck_assert_int_eq(clseg_checkpoint_meta(last, "clseg.train.val_patients", val, sizeof val, err, sizeof err),
                     CLSEG_STATUS_SUCCESS);
    ck_assert(strstr(val, "PHANTOM_") != NULL);
    free(last);
    free(png);
    free(csv);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_denoising_autoencoder_trains)
{
    clseg_context *ctx = test_context("ref");
    char *dir = run_path("ae");
    record r = {.steps = 0};
    clseg_train_options o = small_run("autoencoder", dir);
    o.noise = 0.1f;
    o.model.base = 8;
    train_ok(ctx, &o, &r);
    ck_assert_int_eq(r.epochs, 2);
    ck_assert(isfinite(r.val_mse[1]) && r.val_mse[1] > 0.0);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_divergence_names_epoch_and_step)
{
    clseg_context *ctx = test_context("ref");
    char *dir = run_path("nan");
    clseg_train_options o = small_run("unet", dir);
    o.optimizer = CLSEG_OPTIMIZER_SGD;
    o.lr = 1e30f;
    char err[1024];
    clseg_status st = clseg_train(ctx, &o, NULL, err, sizeof err);
    ck_assert_int_eq(st, CLSEG_STATUS_NOT_FINITE);
    ck_assert_msg(strstr(err, "epoch ") != NULL && strstr(err, "step ") != NULL, "%s", err);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_bad_input_is_reported)
{
    clseg_context *ctx = test_context("ref");
    char err[1024];
    char *dir = run_path("bad");
    clseg_train_options o = small_run("unet", dir);
    o.data = "/nonexistent/lgg";
    ck_assert_int_ne(clseg_train(ctx, &o, NULL, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(strstr(err, "/nonexistent/lgg") != NULL, "%s", err);

    o = small_run("unet", dir);
    o.size = 40;
    ck_assert_int_eq(clseg_train(ctx, &o, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "multiple of 16") != NULL, "%s", err);

    o = small_run("unet", dir);
    o.batch = 1000;
    ck_assert_int_eq(clseg_train(ctx, &o, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "fewer than one batch") != NULL, "%s", err);

    /* a run folder that cannot be created: its parent is a regular file */
    char *file = run_path("a-file");
    FILE *f = fopen(file, "w");
    fputs("x", f);
    fclose(f);
    char *under = file_in(file, "run");
    o = small_run("unet", under);
    ck_assert_int_ne(clseg_train(ctx, &o, NULL, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(strstr(err, file) != NULL, "%s", err);

    ck_assert_int_eq(clseg_train_resume(ctx, dir, 0, NULL, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "no run to resume") != NULL, "%s", err);
    free(under);
    free(file);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_a_failed_checkpoint_is_reported_and_the_last_good_one_kept)
{
    clseg_context *ctx = test_context("ref");
    char *dir = run_path("blocked");
    record r = {.steps = 0, .block_after = 4, .run_dir = dir};
    clseg_train_options o = small_run("unet", dir);
    clseg_train_callbacks cb = callbacks(&r);
    char err[1024];
    clseg_status st = clseg_train(ctx, &o, &cb, err, sizeof err);
    ck_assert_int_eq(st, CLSEG_STATUS_IO);
    ck_assert_msg(strstr(err, "last.safetensors") != NULL && strstr(err, "kept") != NULL, "%s", err);
    char *last = file_in(dir, "last.safetensors"), *kept = file_in(dir, "kept.safetensors");
    size_t na = 0, nb = 0;
    unsigned char *a = slurp(last, &na), *b = slurp(kept, &nb);
    ck_assert(na == nb && memcmp(a, b, na) == 0); /* epoch 1's checkpoint, untouched */
    free(a);
    free(b);
    free(last);
    free(kept);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_a_damaged_run_is_refused_by_name)
{
    clseg_context *ctx = test_context("ref");
    char *dir = run_path("damaged");
    record r = {.steps = 0};
    clseg_train_options o = small_run("unet", dir);
    o.epochs = 1;
    train_ok(ctx, &o, &r);
    clseg_train_callbacks cb = callbacks(&r);
    char err[1024];
    char *last = file_in(dir, "last.safetensors");
    ck_assert_int_eq(truncate(last, 100), 0);
    ck_assert_int_ne(clseg_train_resume(ctx, dir, 2, NULL, &cb, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(strstr(err, last) != NULL, "%s", err);
    free(last);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

/* One phantom dataset for the whole program, made inside the first test (test_tmpdir asserts). */
static void make_data(void)
{
    if (root != NULL)
        return;
    root = test_tmpdir("clseg-train");
    data = run_path("phantoms");
    clseg_phantom_options po = clseg_phantom_options_default();
    po.patients = 4;
    po.slices = 8;
    po.size = 32;
    po.seed = 3;
    char err[512];
    ck_assert_msg(clseg_phantoms_write(data, &po, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
}

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, make_data, NULL);
    tcase_add_test(tc, test_ref_and_opencl_give_the_same_losses);
    tcase_add_test(tc, test_resume_after_an_epoch_equals_one_run);
    tcase_add_test(tc, test_interrupt_mid_epoch_then_resume_equals_one_run);
    tcase_add_test(tc, test_run_folder_holds_metrics_curves_and_checkpoints);
    tcase_add_test(tc, test_denoising_autoencoder_trains);
    tcase_add_test(tc, test_divergence_names_epoch_and_step);
    tcase_add_test(tc, test_bad_input_is_reported);
    tcase_add_test(tc, test_a_failed_checkpoint_is_reported_and_the_last_good_one_kept);
    tcase_add_test(tc, test_a_damaged_run_is_refused_by_name);
    suite_add_tcase(s, tc);
    int rc = test_run(s, false);
    if (root != NULL)
        test_rmdir(root);
    free(data);
    free(root);
    return rc;
}
