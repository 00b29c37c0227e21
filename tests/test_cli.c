/* The clseg command as a user runs it: exit codes and messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    expect(NULL, "bench train", 2, "unknown benchmark 'train'");
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
    suite_add_tcase(s, tc);
    return test_run(s, true);
}
