/* The clseg command as a user runs it: exit codes and messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/tiff_io.h"
#include "test_util.h"
#include "util/files.h"

static char output[1 << 16];

/* Runs "clseg ARGS" (stdout and stderr together) and returns its exit code. */
static int run(const char *env, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s '%s' %s 2>&1", env ? env : "", CLSEG_CLI_PATH, args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(output, 1, sizeof output - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    ck_assert_msg(WIFEXITED(status), "'%s' did not exit normally", cmd);
    return WEXITSTATUS(status);
}

static void expect(const char *env, const char *args, int code, const char *text)
{
    int got = run(env, args);
    ck_assert_msg(got == code, "clseg %s: exit %d, want %d; output:\n%.3000s", args, got, code, output);
    if (text != NULL)
        ck_assert_msg(strstr(output, text) != NULL, "clseg %s: no '%s' in:\n%.3000s", args, text, output);
}

START_TEST(test_usage_errors)
{
    expect(NULL, "", 2, "usage: clseg COMMAND");
    expect(NULL, "--help", 0, "verify");
    expect(NULL, "--version", 0, "clseg 0.");
    expect(NULL, "frobnicate", 2, "unknown command 'frobnicate'");
    expect(NULL, "devices --colour", 2, "unknown argument '--colour'");
    expect(NULL, "verify --device", 2, "--device needs a value");
    expect(NULL, "verify --device ref --fast", 2, "unknown argument '--fast'");
    expect(NULL, "verify --help", 0, "--device SEL");
}
END_TEST

START_TEST(test_verify_on_ref)
{
    expect("CLSEG_DEVICE=", "verify --device ref --op sum", 0, "5 passed, 0 failed");
    expect(NULL, "verify --device ref --op no-such-op", 1, "no op matches 'no-such-op'");
}
END_TEST

START_TEST(test_unknown_device_lists_devices)
{
    expect(NULL, "verify --device no-such-gpu", 1, "available devices");
    ck_assert_msg(strstr(output, "no-such-gpu") != NULL, "%s", output);
    ck_assert_msg(strstr(output, "ref") != NULL, "%s", output);
    expect("CLSEG_DEVICE=9:9", "verify", 1, "no platform 9 device 9");
}
END_TEST

START_TEST(test_devices_and_verify_on_opencl)
{
    if (!test_have_opencl())
        return;
    expect(NULL, "devices", 0, "compute units");
    ck_assert_msg(strstr(output, "[default]") != NULL, "%s", output);
    expect("CLSEG_DEVICE=", "verify", 0, " 0 failed");
    expect("CLSEG_DEVICE=", "verify --device 0:0 --op axpby", 0, "4 passed, 0 failed");
}
END_TEST

START_TEST(test_phantoms_and_data_usage)
{
    expect(NULL, "phantoms", 2, "--out DIR is required");
    expect(NULL, "phantoms --out", 2, "--out needs a value");
    expect(NULL, "phantoms --out x --patients 0", 2, "--patients needs a whole number");
    expect(NULL, "phantoms --out x --size 12x", 2, "not '12x'");
    expect(NULL, "phantoms --out x --seed -1", 2, "--seed needs a whole number");
    expect(NULL, "phantoms --bogus", 2, "unknown argument '--bogus'");
    expect(NULL, "data", 2, "--data DIR is required");
    expect(NULL, "data --data /nonexistent/clseg-lgg", 1, "'/nonexistent/clseg-lgg'");
    expect(NULL, "phantoms --out /proc/clseg-no-such-folder --patients 1 --slices 1", 1,
           "cannot create folder '/proc/clseg-no-such-folder'");
}
END_TEST

START_TEST(test_phantoms_then_data_with_a_damaged_file)
{
    char *dir = test_tmpdir("clseg-cli-data"), args[4352], bad[4352];
    snprintf(args, sizeof args, "phantoms --out '%s/ds' --patients 2 --slices 3 --size 32 --seed 7", dir);
    expect(NULL, args, 0, "wrote 2 patients, 6 slices");
    snprintf(args, sizeof args, "data --data '%s/ds'", dir);
    expect(NULL, args, 0, "2 patients, 6 slices");
    ck_assert_msg(strstr(output, "skipped: none") != NULL, "%s", output);
    /* a damaged slice: skipped and counted by default, an error naming the file with --strict */
    snprintf(bad, sizeof bad, "%s/ds/PHANTOM_XX_0002_20260101/PHANTOM_XX_0002_20260101_2.tif", dir);
    FILE *f = fopen(bad, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("this is not a TIFF", f);
    fclose(f);
    expect(NULL, args, 0, "2 patients, 5 slices");
    ck_assert_msg(strstr(output, "PHANTOM_XX_0002_20260101_2.tif") != NULL, "%s", output);
    snprintf(args, sizeof args, "data --data '%s/ds' --strict", dir);
    expect(NULL, args, 1, "PHANTOM_XX_0002_20260101_2.tif");
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(args), 0);
    free(dir);
}
END_TEST

START_TEST(test_bench_ops)
{
    expect(NULL, "bench", 2, "usage: clseg bench ops");
    expect(NULL, "bench frobnicate", 2, "unknown benchmark 'frobnicate'");
    expect(NULL, "bench ops --batch 0", 2, "--batch needs a whole number from 1");
    expect(NULL, "bench ops --size 8", 2, "--size needs a whole number from 16");
    expect(NULL, "bench ops --repeat", 2, "--repeat needs a value");
    expect(NULL, "bench ops --fast", 2, "unknown argument '--fast'");
    expect(NULL, "bench ops --device ref --size 16 --batch 1 --repeat 1 --op no-such-op", 1,
           "no op matches 'no-such-op'");
    expect(NULL, "bench ops --device ref --size 16 --batch 1 --repeat 1 --op relu --json /proc/clseg/b.json", 1,
           "writing /proc/clseg/b.json");
    /* every op at U-Net's shapes, tiny, on the reference backend; then the JSON */
    char *dir = test_tmpdir("clseg-cli-bench"), args[8192], path[4352];
    snprintf(path, sizeof path, "%s/ops.json", dir);
    snprintf(args, sizeof args, "bench ops --device ref --size 16 --batch 1 --repeat 1 --json '%s'", path);
    expect(NULL, args, 0, "wrote ");
    static const char *const ops[] = {"conv2d.backward_weights", "deconv2d.forward", "batchnorm2d.backward",
                                      "maxunpool2d.backward", "upsample2d.backward", "concat.forward",
                                      "loss.bce+dice", "confusion.counts", "adam.step", "sgd.step"};
    unsigned char *json = NULL;
    size_t size = 0;
    char err[512];
    ck_assert_int_eq(clseg_read_file(path, 1 << 20, &json, &size, err, sizeof err), CLSEG_STATUS_SUCCESS);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        ck_assert_msg(strstr(output, ops[i]) != NULL, "no %s in:\n%s", ops[i], output);
        char key[96];
        snprintf(key, sizeof key, "\"op\": \"%s\"", ops[i]);
        ck_assert_msg(strstr((const char *)json, key) != NULL, "no %s in the JSON", key);
    }
    ck_assert_ptr_nonnull(strstr((const char *)json, "\"ms_per_call\": "));
    free(json);
    unlink(path);

    /* bench train: a tiny model on the reference backend, then its JSON */
    expect(NULL, "bench train --model resnet", 2, "unknown --model 'resnet'");
    expect(NULL, "bench train --steps 0", 2, "--steps needs a whole number from 1");
    snprintf(path, sizeof path, "%s/train.json", dir);
    snprintf(args, sizeof args,
             "bench train --device ref --model unet --base 4 --size 32 --batch 2 --steps 1 --json '%s'", path);
    expect(NULL, args, 0, "first step, warm cache");
    ck_assert_int_eq(clseg_read_file(path, 1 << 20, &json, &size, err, sizeof err), CLSEG_STATUS_SUCCESS);
    static const char *const keys[] = {"\"train_images_per_s\": ", "\"infer_images_per_s\": ",
                                       "\"first_step_s\": ", "\"first_step_cold_s\": ", "\"peak_memory_bytes\": "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr((const char *)json, keys[i]) != NULL, "no %s in %s", keys[i], (const char *)json);
    free(json);
    unlink(path);
    rmdir(dir);
    free(dir);
    if (test_have_opencl())
        expect("CLSEG_DEVICE=", "bench ops --size 16 --batch 2 --repeat 1 --op conv2d", 0, "conv2d.forward");
}
END_TEST

START_TEST(test_summary)
{
    expect(NULL, "summary", 2, "--model NAME is required");
    expect(NULL, "summary --model", 2, "--model needs a value");
    expect(NULL, "summary --model segformer", 2, "unknown model 'segformer'");
    expect(NULL, "summary --model unet --size 0", 2, "--size needs a whole number from 1");
    expect(NULL, "summary --model unet --size 100", 2, "multiples of 16, not 100x100");
    expect(NULL, "summary --model unet --base 0", 2, "--base needs a whole number from 1");
    expect(NULL, "summary --model deeplabv3 --depth 34", 2, "depth must be 18 or 50");
    expect(NULL, "summary --model unet --fast", 2, "unknown argument '--fast'");
    expect(NULL, "summary --help", 0, "--output-stride S");
    expect(NULL, "summary --model unet", 0, "7,763,041");
    ck_assert_msg(strstr(output, "decoder4.dec4conv1") != NULL, "%.3000s", output);
    ck_assert_msg(strstr(output, "training (Adam)") != NULL, "%.3000s", output);
    ck_assert_msg(strstr(output, "unet: 7,763,041 trainable parameters, 24.") != NULL, "%.3000s", output);
    ck_assert_msg(strstr(output, " GFLOPs per image at 256x256") != NULL, "%.3000s", output);
    expect(NULL, "summary --model deeplabv3 --depth 50 --classes 21", 0, "39,638,869 trainable parameters");
    static const char *const models[] = {"convdeconv", "linknet", "deeplabv3", "autoencoder"};
    for (int m = 0; m < 4; m++) {
        char args[128], want[64];
        snprintf(args, sizeof args, "summary --model %s --size 64 --base 8 --batch 2 --in 1", models[m]);
        snprintf(want, sizeof want, "%s: ", models[m]);
        expect(NULL, args, 0, want);
    }
    if (test_have_opencl())
        expect("CLSEG_DEVICE=", "summary --model unet --size 64 --device 0:0", 0, "7,763,041");
}
END_TEST

/* --- eval and predict ---------------------------------------------------------------------- */

#define PATIENT1 "PHANTOM_XX_0001_20260101"
#define PATIENT2 "PHANTOM_XX_0002_20260101"

/* A tiny untrained model (base 4) saved as a checkpoint with the trainer's keys; split false
 * leaves out the patient lists. */
static void save_model(const char *path, const char *name, bool split)
{
    clseg_model_config cfg;
    ck_assert_int_eq(clseg_model_config_default(name, &cfg), CLSEG_STATUS_SUCCESS);
    cfg.base = 4;
    clseg_net *net = NULL;
    char err[1024];
    ck_assert_msg(clseg_model_build(&cfg, &net, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    clseg_net_set_meta(net, "clseg.train.size", "32");
    clseg_net_set_meta(net, "clseg.train.batch", "4");
    clseg_net_set_meta(net, "clseg.train.normalize", "unit");
    clseg_net_set_meta(net, "clseg.train.channels", "0,1,2");
    if (split) {
        clseg_net_set_meta(net, "clseg.train.train_patients", PATIENT1);
        clseg_net_set_meta(net, "clseg.train.val_patients", PATIENT2);
    }
    clseg_context *ctx = test_context("ref");
    ck_assert_int_eq(clseg_net_plan(net, ctx, (clseg_shape){1, 3, 32, 32}, CLSEG_NET_INFER, 5), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(clseg_checkpoint_save(net, path, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}

/* The whole file at path (NUL-terminated); fails the test when it cannot be read. */
static unsigned char *slurp(const char *path, size_t *size)
{
    unsigned char *data = NULL;
    char err[512];
    ck_assert_msg(clseg_read_file(path, 1 << 24, &data, size, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    unsigned char *text = realloc(data, *size + 1);
    ck_assert_ptr_nonnull(text);
    text[*size] = '\0';
    return text;
}

/* A PNG's signature and its IHDR's width, height and colour type. */
static void check_png(const char *path, uint32_t width, uint32_t height, int colour_type)
{
    size_t size = 0;
    unsigned char *png = slurp(path, &size);
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ck_assert_msg(size > 33 && memcmp(png, signature, 8) == 0 && memcmp(png + 12, "IHDR", 4) == 0, "%s: not a PNG",
                  path);
    uint32_t w = (uint32_t)png[16] << 24 | (uint32_t)png[17] << 16 | (uint32_t)png[18] << 8 | png[19];
    uint32_t h = (uint32_t)png[20] << 24 | (uint32_t)png[21] << 16 | (uint32_t)png[22] << 8 | png[23];
    ck_assert_msg(w == width && h == height, "%s: %ux%u, want %ux%u", path, w, h, width, height);
    ck_assert_msg(png[24] == 8 && png[25] == colour_type, "%s: depth %d colour type %d", path, png[24], png[25]);
    free(png);
}

/* A predicted mask: 32 x 32, one channel, only 0 and 255; returns its 255 pixels. */
static size_t check_mask_tiff(const char *path)
{
    size_t size = 0, set = 0;
    unsigned char *data = slurp(path, &size);
    tiff_image img = {0};
    char err[512];
    ck_assert_msg(tiff_io_decode(data, size, path, &img, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_msg(img.width == 32 && img.height == 32 && img.channels == 1, "%s: %ux%ux%u", path, img.width,
                  img.height, img.channels);
    for (size_t i = 0; i < 32 * 32; i++) {
        ck_assert_msg(img.pixels[i] == 0 || img.pixels[i] == 255, "%s: pixel %zu is %d", path, i, img.pixels[i]);
        set += img.pixels[i] == 255;
    }
    tiff_image_free(&img);
    free(data);
    return set;
}

/* 2 patients x 3 slices of 32 x 32 phantoms, a U-Net checkpoint with a split, an auto-encoder
 * one, and a U-Net one without a split, under a new folder. */
static char *eval_fixture(void)
{
    char *dir = test_tmpdir("clseg-cli-eval"), path[4352], err[1024];
    clseg_phantom_options po = clseg_phantom_options_default();
    po.patients = 2;
    po.slices = 3;
    po.size = 32;
    po.seed = 7;
    snprintf(path, sizeof path, "%s/ds", dir);
    ck_assert_msg(clseg_phantoms_write(path, &po, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    po.patients = 1;
    snprintf(path, sizeof path, "%s/one", dir);
    ck_assert_msg(clseg_phantoms_write(path, &po, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    snprintf(path, sizeof path, "%s/unet.safetensors", dir);
    save_model(path, "unet", true);
    snprintf(path, sizeof path, "%s/ae.safetensors", dir);
    save_model(path, "autoencoder", true);
    snprintf(path, sizeof path, "%s/nosplit.safetensors", dir);
    save_model(path, "unet", false);
    return dir;
}

static void remove_fixture(char *dir)
{
    char cmd[4352];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

static bool file_exists(const char *dir, const char *name)
{
    char path[8704];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f != NULL)
        fclose(f);
    return f != NULL;
}

START_TEST(test_train)
{
    char *dir = test_tmpdir("clseg-cli-train"), ds[4352], args[16384], err[1024];
    clseg_phantom_options po = clseg_phantom_options_default();
    po.patients = 3;
    po.slices = 4;
    po.size = 32;
    snprintf(ds, sizeof ds, "%s/ds", dir);
    ck_assert_msg(clseg_phantoms_write(ds, &po, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    const char *tiny = "--device ref --model unet --base 4 --size 32 --batch 2 --steps-per-epoch 2";

    expect(NULL, "train", 2, "--data DIR is required");
    expect(NULL, "train --data x --model resnet", 2, "unknown --model 'resnet'");
    expect(NULL, "train --data x --size big", 2, "--size");
    expect(NULL, "train --data x --lr -1", 2, "--lr '-1' is not a number");
    expect(NULL, "train --data x --optimizer rmsprop", 2, "unknown --optimizer 'rmsprop'");
    expect(NULL, "train --data x --channels 7", 2, "--channels '7'");
    expect(NULL, "train --data x --epochs", 2, "--epochs needs a value");
    expect(NULL, "train --help", 0, "--resume RUN_DIR");
    snprintf(args, sizeof args, "train %s --data '%s/missing' --out '%s/r0'", tiny, dir, dir);
    expect(NULL, args, 1, "/missing");
    snprintf(args, sizeof args, "train %s --data '%s' --out '%s/ds/data.csv/run'", tiny, ds, dir);
    expect(NULL, args, 1, "data.csv");
    snprintf(args, sizeof args, "train %s --data '%s' --size 40 --out '%s/r0'", tiny, ds, dir);
    expect(NULL, args, 1, "multiple of 16");

    /* a run, its files, a second run refused in the same folder, then resumed for longer */
    snprintf(args, sizeof args, "train %s --data '%s' --epochs 1 --out '%s/run'", tiny, ds, dir);
    expect(NULL, args, 0, "epoch 1/1  loss ");
    ck_assert_msg(strstr(output, "val Dice volume") != NULL, "%s", output);
    char run[4352];
    snprintf(run, sizeof run, "%s/run", dir);
    static const char *const files[] = {"last.safetensors", "best.safetensors", "metrics.csv", "curves.png",
                                        "split.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        ck_assert_msg(file_exists(run, files[i]), "no %s in %s", files[i], run);
    expect(NULL, args, 1, "already holds a run");
    snprintf(args, sizeof args, "train --device ref --resume '%s' --epochs 2", run);
    expect(NULL, args, 0, "epoch 2/2  loss ");
    ck_assert_msg(strstr(output, "resuming") != NULL, "%s", output);
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/best.safetensors' --data '%s' --split val", run,
             ds);
    expect(NULL, args, 0, "slice Dice");
    snprintf(args, sizeof args, "train --device ref --resume '%s' --lr 0.1", run);
    expect(NULL, args, 2, "--lr cannot change a resumed run");
    snprintf(args, sizeof args, "train --device ref --resume '%s/nothing'", dir);
    expect(NULL, args, 1, "no run to resume");

    /* divergence stops with the epoch and the step */
    snprintf(args, sizeof args, "train %s --data '%s' --optimizer sgd --lr 1e30 --out '%s/nan'", tiny, ds, dir);
    expect(NULL, args, 1, "the loss became");
    ck_assert_msg(strstr(output, "at epoch 1, step") != NULL, "%s", output);

    /* Ctrl-C: a checkpoint, exit 130, and a run that resumes */
    snprintf(args, sizeof args, "train %s --data '%s' --epochs 1000000 --out '%s/int'", tiny, ds, dir);
    expect("timeout --preserve-status -s INT 3", args, 130, "resume with: clseg train --resume");
    ck_assert_msg(strstr(output, "interrupted in epoch") != NULL, "%s", output);
    snprintf(run, sizeof run, "%s/int", dir);
    ck_assert(file_exists(run, "last.safetensors"));
    remove_fixture(dir);
}
END_TEST

START_TEST(test_eval)
{
    char *dir = eval_fixture(), args[8192];
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/unet.safetensors' --data '%s/ds'", dir, dir);
    expect(NULL, args, 0, "2 patients, 6 slices (split all)");
    static const char *const rows[] = {"\n" PATIENT1 " ", "\n" PATIENT2 " ", "\nmean ", "\nmedian ",
                                       "\nslice Dice  mean ", "\nslice IoU   mean ", "volume Dice", "\ndevice: ref; "};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        ck_assert_msg(strstr(output, rows[i]) != NULL, "no '%s' in:\n%s", rows[i], output);
    /* every patient row: 3 slices */
    char row[128];
    snprintf(row, sizeof row, "\n%-32s %7d ", PATIENT2, 3);
    ck_assert_msg(strstr(output, row) != NULL, "no '%s' in:\n%s", row, output);
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/unet.safetensors' --data '%s/ds' --split val",
             dir, dir);
    expect(NULL, args, 0, "\n" PATIENT2 " ");
    ck_assert_msg(strstr(output, PATIENT1) == NULL, "the val split holds patient 2 only:\n%s", output);
    snprintf(args, sizeof args,
             "eval --device ref --checkpoint '%s/unet.safetensors' --data '%s/ds' --split train --json --batch 2", dir,
             dir);
    expect(NULL, args, 0, "\"volume_dice\": {\"mean\": ");
    ck_assert_msg(output[0] == '{' && strcmp(output + strlen(output) - 2, "}\n") == 0, "%s", output);
    static const char *const keys[] = {"\"split\": \"train\"", "\"device\": \"ref\"", "\"model\": \"unet\"",
                                       "\"patient_count\": 1", "\"slice_count\": 3", "\"name\": \"" PATIENT1 "\""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        ck_assert_msg(strstr(output, keys[i]) != NULL, "no '%s' in:\n%s", keys[i], output);
    int depth = 0;
    for (const char *p = output; *p; p++)
        depth += (*p == '{') - (*p == '}');
    ck_assert_int_eq(depth, 0);
    /* the auto-encoder: reconstruction errors */
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/ae.safetensors' --data '%s/ds'", dir, dir);
    expect(NULL, args, 0, "slice MSE   mean ");
    ck_assert_msg(strstr(output, "MSE") != NULL && strstr(output, "volume Dice") == NULL, "%s", output);

    expect(NULL, "eval --help", 0, "--split S");
    expect(NULL, "--help", 0, "eval ");

    /* what goes wrong */
    snprintf(args, sizeof args, "eval --data '%s/ds'", dir);
    expect(NULL, args, 2, "--checkpoint FILE is required");
    snprintf(args, sizeof args, "eval --checkpoint '%s/unet.safetensors'", dir);
    expect(NULL, args, 2, "--data DIR is required");
    snprintf(args, sizeof args, "eval --checkpoint '%s/unet.safetensors' --data '%s/ds' --split test", dir, dir);
    expect(NULL, args, 2, "unknown --split 'test'");
    snprintf(args, sizeof args, "eval --checkpoint '%s/unet.safetensors' --data '%s/ds' --threshold 1.5", dir, dir);
    expect(NULL, args, 2, "--threshold needs a probability");
    snprintf(args, sizeof args, "eval --checkpoint '%s/missing.safetensors' --data '%s/ds'", dir, dir);
    expect(NULL, args, 1, "missing.safetensors: cannot open");
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/nosplit.safetensors' --data '%s/ds' --split val",
             dir, dir);
    expect(NULL, args, 1, "nosplit.safetensors holds no split");
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/unet.safetensors' --data '%s/one' --split val",
             dir, dir);
    expect(NULL, args, 1, "patient '" PATIENT2 "'");
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s/unet.safetensors' --data '%s/nothing'", dir, dir);
    expect(NULL, args, 1, "/nothing'");
    /* a checkpoint cut short */
    char path[4352];
    snprintf(path, sizeof path, "%s/unet.safetensors", dir);
    size_t size = 0;
    unsigned char *bytes = slurp(path, &size);
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(bytes, 1, size / 2, f);
    fclose(f);
    free(bytes);
    snprintf(args, sizeof args, "eval --device ref --checkpoint '%s' --data '%s/ds'", path, dir);
    expect(NULL, args, 1, "cut.safetensors: truncated");
    remove_fixture(dir);
}
END_TEST

START_TEST(test_predict)
{
    char *dir = eval_fixture(), args[8192], path[4352];
    snprintf(args, sizeof args, "predict --device ref --checkpoint '%s/unet.safetensors' --input '%s/ds' --out '%s/out'",
             dir, dir, dir);
    expect(NULL, args, 0, "wrote 6 masks, 6 overlays and predictions.csv");
    ck_assert_msg(strstr(output, "mean Dice over the 6 slices with a mask: ") != NULL, "%s", output);
    /* the CSV: a row per slice, whose predicted pixels are the mask file's */
    snprintf(path, sizeof path, "%s/out/predictions.csv", dir);
    size_t size = 0;
    char *csv = (char *)slurp(path, &size);
    ck_assert_msg(strncmp(csv, "patient,slice,image,mask_file,predicted_pixels,dice\n", 52) == 0, "%s", csv);
    int rows = 0;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        char patient[64], image[4352], mask[4352];
        int slice = 0;
        size_t predicted = 0;
        double dice = -1;
        ck_assert_msg(sscanf(line, "%63[^,],%d,%4351[^,],%4351[^,],%zu,%lf", patient, &slice, image, mask, &predicted,
                             &dice) == 6,
                      "row: %.200s", line);
        const char *want = rows < 3 ? PATIENT1 : PATIENT2;
        ck_assert_str_eq(patient, want);
        ck_assert_int_eq(slice, rows % 3 + 1);
        char expected[4352];
        snprintf(expected, sizeof expected, "%s/out/%s/%s_%d_mask.tif", dir, want, want, slice);
        ck_assert_str_eq(mask, expected);
        ck_assert_uint_eq(check_mask_tiff(mask), predicted);
        ck_assert(dice >= 0 && dice <= 1);
        snprintf(expected, sizeof expected, "%s/out/%s/%s_%d_overlay.png", dir, want, want, slice);
        check_png(expected, 32, 32, 2);
    }
    ck_assert_int_eq(rows, 6);
    free(csv);

    /* one image without its mask: no Dice */
    snprintf(path, sizeof path, "%s/ds/" PATIENT2 "/" PATIENT2 "_2_mask.tif", dir);
    ck_assert_int_eq(unlink(path), 0);
    snprintf(args, sizeof args,
             "predict --device ref --checkpoint '%s/unet.safetensors' --input '%s/ds/" PATIENT2 "/" PATIENT2
             "_2.tif' --out '%s/single'",
             dir, dir, dir);
    expect(NULL, args, 0, "wrote 1 mask, 1 overlay");
    ck_assert_msg(strstr(output, "mean Dice") == NULL, "%s", output);
    snprintf(path, sizeof path, "%s/single/predictions.csv", dir);
    csv = (char *)slurp(path, &size);
    ck_assert_msg(size > 2 && strcmp(csv + size - 2, ",\n") == 0, "the Dice column is empty:\n%s", csv);
    free(csv);

    /* the auto-encoder: input and reconstruction side by side */
    snprintf(args, sizeof args, "predict --device ref --checkpoint '%s/ae.safetensors' --input '%s/ds' --out '%s/ae'",
             dir, dir, dir);
    expect(NULL, args, 0, "wrote 6 reconstructions and predictions.csv");
    snprintf(path, sizeof path, "%s/ae/" PATIENT1 "/" PATIENT1 "_3_reconstruction.png", dir);
    check_png(path, 64, 32, 0);
    snprintf(path, sizeof path, "%s/ae/predictions.csv", dir);
    csv = (char *)slurp(path, &size);
    ck_assert_msg(strncmp(csv, "patient,slice,image,reconstruction_file,mse\n", 44) == 0, "%s", csv);
    free(csv);

    expect(NULL, "predict --help", 0, "_overlay.png");

    /* what goes wrong */
    snprintf(args, sizeof args, "predict --input '%s/ds' --out '%s/o'", dir, dir);
    expect(NULL, args, 2, "--checkpoint FILE is required");
    snprintf(args, sizeof args, "predict --checkpoint '%s/unet.safetensors' --out '%s/o'", dir, dir);
    expect(NULL, args, 2, "--input FILE|DIR is required");
    snprintf(args, sizeof args, "predict --checkpoint '%s/unet.safetensors' --input '%s/ds'", dir, dir);
    expect(NULL, args, 2, "--out DIR is required");
    snprintf(args, sizeof args, "predict --checkpoint '%s/nope.safetensors' --input '%s/ds' --out '%s/o'", dir, dir,
             dir);
    expect(NULL, args, 1, "nope.safetensors");
    snprintf(args, sizeof args, "predict --checkpoint '%s/unet.safetensors' --input '%s/none' --out '%s/o'", dir, dir,
             dir);
    expect(NULL, args, 1, "/none'");
    /* --out under a regular file */
    snprintf(args, sizeof args,
             "predict --device ref --checkpoint '%s/unet.safetensors' --input '%s/ds' --out '%s/unet.safetensors/x'",
             dir, dir, dir);
    expect(NULL, args, 1, "unet.safetensors/x");
    remove_fixture(dir);
}
END_TEST

/* clseg tune --quick writes the device's tuned file, a later context reads it, --reset removes it. */
START_TEST(test_tune)
{
    expect(NULL, "tune --device ref", 1, "nothing to tune on the plain-C reference");
    expect(NULL, "tune --fast", 2, "unknown argument '--fast'");
    expect(NULL, "tune --show --reset", 2, "--show and --reset go alone");
    expect(NULL, "tune --only basic,nope --device ref", 2, "no program 'nope' to tune (there are: gemm, conv,");
    expect(NULL, "tune --help", 0, "--dry-run");
    expect("CLSEG_TUNABLES=basic.NOPE=1", "tune --show --device ref", 1, "declares no tunable NOPE");
    if (!test_have_opencl())
        return;
    expect("CLSEG_DEVICE= CLSEG_TUNED_DIR=off", "tune --quick", 1, "tuned files are off");
    char *dir = test_tmpdir("clseg-cli-tune"), env[4400], path[4400];
    snprintf(env, sizeof env, "CLSEG_DEVICE= CLSEG_TUNABLES= CLSEG_TUNED_DIR='%s'", dir);
    /* no leak check for this one command: PoCL 3.1 leaks LLVM objects each time it compiles for
     * a work-group size missing from its own cache, and which sizes tune compiles its timings
     * decide, so the ordinary build cannot warm that cache for it. Naming the leak needs full
     * stacks (fast_unwind_on_malloc=0), which makes every LLVM allocation of a compile unwind
     * slowly: minutes per candidate. tune's own allocations are leak-checked in test_tune. */
    char tune_env[4500];
    snprintf(tune_env, sizeof tune_env, "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" %s", env);
    /* three small programs: the convolution's candidates would each compile cl/conv.cl again */
    expect(tune_env, "tune --quick --only basic,norm,pool", 0, "0 failed");
    ck_assert_msg(strstr(output, "\ngemm:") == NULL && strstr(output, "\nnorm:") != NULL, "%s", output);
    const char *wrote = strstr(output, "\nwrote ");
    ck_assert_msg(wrote != NULL, "%s", output);
    snprintf(path, sizeof path, "%.*s", (int)strcspn(wrote + 7, "\n"), wrote + 7);
    ck_assert_msg(strncmp(path, dir, strlen(dir)) == 0, "%s is not in %s", path, dir);

    /* every setting the file holds is what a new context on the device builds with */
    clseg_context_options o = clseg_context_options_default();
    o.device = "";
    o.tunables = "";
    o.tuned_dir = dir;
    clseg_context *ctx = NULL;
    char err[4096] = "", line[256];
    ck_assert_int_eq(clseg_context_create(&o, &ctx, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(clseg_context_tuned_file(ctx), path);
    clseg_tunable_info infos[128];
    size_t count = 0;
    ck_assert_int_eq(clseg_context_tunables(ctx, infos, 128, &count), CLSEG_STATUS_SUCCESS);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int settings = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(line[0] == '#' && strstr(line, "written by clseg tune") != NULL, "%s", line);
    while (fgets(line, sizeof line, f) != NULL) {
        char program[32], name[48];
        long value = -1, got = -2;
        if (line[0] == '#')
            continue;
        ck_assert_msg(sscanf(line, "%31[a-z_].%47[A-Z0-9_]=%ld", program, name, &value) == 3, "line: %s", line);
        ck_assert_int_eq(clseg_context_tunable(ctx, program, name, &got), CLSEG_STATUS_SUCCESS);
        ck_assert_msg(got == value, "%s.%s: %ld in the file, %ld in the context", program, name, value, got);
        snprintf(line, sizeof line, "  %s.%s=%ld\n", program, name, value);
        ck_assert_msg(strstr(output, line) != NULL, "%s not printed as chosen:\n%s", line, output);
        for (size_t i = 0; i < count; i++)
            if (strcmp(infos[i].program, program) == 0 && strcmp(infos[i].name, name) == 0)
                ck_assert_str_eq(infos[i].origin, "tuned");
        settings++;
    }
    fclose(f);
    clseg_context_destroy(ctx);
    ck_assert_int_eq(settings, 10); /* basic's 3 tunables, norm's 5 and pool's 2 */

    expect(env, "tune --show", 0, "(present)");
    ck_assert_msg(strstr(output, " tuned\n") != NULL, "%s", output);
    expect(env, "tune --reset", 0, "removed ");
    ck_assert_int_ne(access(path, F_OK), 0);
    expect(env, "tune --reset", 0, "no tuned file");
    expect(env, "tune --show", 0, "(absent)");
    test_rmdir(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("clseg");
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_verify_on_ref);
    tcase_add_test(tc, test_unknown_device_lists_devices);
    tcase_add_test(tc, test_devices_and_verify_on_opencl);
    tcase_add_test(tc, test_phantoms_and_data_usage);
    tcase_add_test(tc, test_phantoms_then_data_with_a_damaged_file);
    tcase_add_test(tc, test_bench_ops);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_train);
    tcase_add_test(tc, test_eval);
    tcase_add_test(tc, test_predict);
    tcase_add_test(tc, test_tune);
    suite_add_tcase(s, tc);
    return test_run(s, true);
}
