/* Kernel tunables: the overrides a user types, the device's tuned file, and which wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tunable_settings.h"
#include "opencl/tuned_file.h"
#include "test_util.h"

static char *tuned_dir;
static char warnings[8192];

static void setup(void)
{
    tuned_dir = test_tmpdir("clseg-tune-test");
    warnings[0] = '\0';
}

static void teardown(void)
{
    test_rmdir(tuned_dir);
    free(tuned_dir);
}

static void keep_warnings(clseg_log_level level, const char *message, void *user)
{
    (void)user;
    size_t used = strlen(warnings);
    if (level >= CLSEG_LOG_WARN)
        snprintf(warnings + used, sizeof warnings - used, "%s\n", message);
}

/* A context on the test device with these overrides and tuned files from tuned_dir; NULL and
 * err on failure. */
static clseg_context *try_open(const char *device, const char *tunables, const char *dir, clseg_status *st, char *err,
                               size_t err_size)
{
    clseg_context_options o = clseg_context_options_default();
    o.device = device != NULL ? device : getenv("CLSEG_TEST_DEVICE");
    o.tunables = tunables;
    o.tuned_dir = dir;
    o.log = keep_warnings;
    clseg_context *ctx = NULL;
    *st = clseg_context_create(&o, &ctx, err, err_size);
    return ctx;
}

static clseg_context *open_ok(const char *tunables, const char *dir)
{
    char err[4096] = "";
    clseg_status st;
    clseg_context *ctx = try_open(NULL, tunables, dir, &st, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "tunables '%s': %s", tunables ? tunables : "(null)", err);
    return ctx;
}

static long value_of(clseg_context *ctx, const char *program, const char *name)
{
    long v = -1;
    clseg_status st = clseg_context_tunable(ctx, program, name, &v);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "%s.%s: %s", program, name, clseg_context_last_error(ctx));
    return v;
}

static const char *origin_of(clseg_context *ctx, const char *program, const char *name)
{
    clseg_tunable_info infos[128];
    size_t count = 0;
    ck_assert_int_eq(clseg_context_tunables(ctx, infos, 128, &count), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_le(count, 128);
    for (size_t i = 0; i < count; i++)
        if (strcmp(infos[i].program, program) == 0 && strcmp(infos[i].name, name) == 0)
            return infos[i].origin;
    ck_abort_msg("%s.%s not listed", program, name);
    return NULL;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* This device's tuned file in tuned_dir (absent until written). */
static void tuned_path(char *buf, size_t size)
{
    clseg_context *ctx = open_ok("", tuned_dir);
    const char *path = clseg_context_tuned_file(ctx);
    ck_assert_ptr_nonnull(path);
    ck_assert_msg(strncmp(path, tuned_dir, strlen(tuned_dir)) == 0, "%s is not in %s", path, tuned_dir);
    snprintf(buf, size, "%s", path);
    clseg_context_destroy(ctx);
}

START_TEST(test_parse_settings)
{
    clseg_tunable_settings s;
    char err[512] = "";
    ck_assert_int_eq(clseg_tunable_settings_parse_list(" gemm.GEMM_PACKED=0,basic.EW_WG=128\tconv.CONV_WG = 16,,"
                                                       "basic.EW_WG=32",
                                                       &s, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT); /* blanks separate entries: "conv.CONV_WG" alone */
    ck_assert_msg(strstr(err, "'conv.CONV_WG'") != NULL, "%s", err);

    ck_assert_int_eq(clseg_tunable_settings_parse_list(" gemm.GEMM_PACKED=0,basic.EW_WG=128\tconv.CONV_WG=16,,"
                                                       "basic.EW_WG=32\n",
                                                       &s, err, sizeof err),
                     CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_int_eq(clseg_tunable_settings_find(&s, "gemm", "GEMM_PACKED")->value, 0);
    ck_assert_int_eq(clseg_tunable_settings_find(&s, "basic", "EW_WG")->value, 32); /* the last one wins */
    ck_assert_int_eq(clseg_tunable_settings_find(&s, "conv", "CONV_WG")->value, 16);
    ck_assert_ptr_null(clseg_tunable_settings_find(&s, "conv", "EW_WG"));

    static const char *const bad[] = {"basic.EW_WG",    "basic.EW_WG=",    "basic.EW_WG=abc",
                                      "EW_WG=3",        ".EW_WG=3",        "basic.=3",
                                      "basic.EW_WG=-4", "basic.EW_WG=12x", "basic.EW_WG=99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "gemm.GEMM_MR=16,%s", bad[i]);
        err[0] = '\0';
        ck_assert_int_eq(clseg_tunable_settings_parse_list(text, &s, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        ck_assert_msg(strstr(err, quoted) != NULL, "%s: %s", bad[i], err);
    }
    ck_assert_int_eq(clseg_tunable_settings_parse_list("", &s, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(s.count, 0);
}
END_TEST

START_TEST(test_bad_overrides_fail_context_creation)
{
    static const struct {
        const char *text, *expect[2];
    } cases[] = {
        {"basic.EW_WG=64,basic.EW_WG", {"'basic.EW_WG'", "expected program.NAME=value"}},
        {"basic.EW_WG=fast", {"'basic.EW_WG=fast'", "whole number"}},
        {"basic.NO_SUCH_WG=64", {"basic.NO_SUCH_WG=64", "declares no tunable NO_SUCH_WG (it has: EW_WG"}},
        {"nosuch.EW_WG=64", {"nosuch.EW_WG=64", "no kernel program 'nosuch' (there are: activation, basic"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[4096] = "";
        clseg_status st;
        /* checked before any device is touched: the ref backend refuses them alike */
        const char *devices[] = {NULL, "ref"};
        for (int d = 0; d < 2; d++) {
            clseg_context *ctx = try_open(devices[d], cases[i].text, "off", &st, err, sizeof err);
            ck_assert_ptr_null(ctx);
            ck_assert_int_eq(st, CLSEG_STATUS_INVALID_ARGUMENT);
            for (int k = 0; k < 2; k++)
                ck_assert_msg(strstr(err, cases[i].expect[k]) != NULL, "'%s': no '%s' in: %s", cases[i].text,
                              cases[i].expect[k], err);
            ck_assert_msg(strstr(err, "the tunables option") != NULL, "%s", err);
        }
    }
    /* from the environment when the option is NULL, and the message says so */
    setenv("CLSEG_TUNABLES", "gemm.GEMM_MRR=16", 1);
    char err[4096] = "";
    clseg_status st;
    ck_assert_ptr_null(try_open(NULL, NULL, "off", &st, err, sizeof err));
    ck_assert_msg(st == CLSEG_STATUS_INVALID_ARGUMENT && strstr(err, "CLSEG_TUNABLES") != NULL &&
                      strstr(err, "GEMM_MRR") != NULL,
                  "%s", err);
    /* an explicit option, even empty, leaves the environment alone */
    clseg_context *ctx = open_ok("", "off");
    clseg_context_destroy(ctx);
    unsetenv("CLSEG_TUNABLES");
}
END_TEST

START_TEST(test_overrides_reach_the_kernels)
{
    setenv("CLSEG_TUNABLES", "basic.EW_WG=32", 1);
    clseg_context *ctx = open_ok(NULL, "off");
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), 32);
    ck_assert_str_eq(origin_of(ctx, "basic", "EW_WG"), "override");
    clseg_context_destroy(ctx);
    unsetenv("CLSEG_TUNABLES");

    ctx = open_ok("gemm.GEMM_MR=16 basic.REDUCE_GROUPS=1,basic.EW_WG=16", "off");
    ck_assert_int_eq(value_of(ctx, "gemm", "GEMM_MR"), 16);
    ck_assert_int_eq(value_of(ctx, "basic", "REDUCE_GROUPS"), 1);
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), 16);
    /* the kernels built with them still compute right: one partial sum per sum */
    float values[1000];
    for (int i = 0; i < 1000; i++)
        values[i] = (float)(i % 7);
    clseg_tensor *x = test_tensor_from(ctx, values, 1000);
    clseg_tensor *out = test_tensor(ctx, (clseg_shape){1, 1, 1, 1}, NULL);
    size_t ws_bytes = clseg_sum_workspace_bytes(ctx, 1000);
    clseg_tensor *ws =
        ws_bytes > 0 ? test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(ws_bytes + 3) / 4}, NULL) : NULL;
    ck_assert_int_eq(clseg_sum(ctx, x, out, ws), CLSEG_STATUS_SUCCESS);
    float got = 0.0f;
    ck_assert_int_eq(clseg_tensor_download(out, &got, 1), CLSEG_STATUS_SUCCESS);
    ck_assert_float_eq(got, 2997.0f); /* 142 full cycles of 0..6 (21 each) and 0..5 */
    clseg_tensor_destroy(ws);
    clseg_tensor_destroy(out);
    clseg_tensor_destroy(x);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_unknown_names_in_queries)
{
    clseg_context *ctx = open_ok("", "off");
    long v = 0;
    ck_assert_int_eq(clseg_context_tunable(ctx, "basic", "NO_SUCH", &v), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "NO_SUCH") != NULL, "%s", clseg_context_last_error(ctx));
    ck_assert_int_eq(clseg_context_tunable(ctx, "nosuch", "EW_WG", &v), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(clseg_context_tuned_file(ctx)); /* tuned files off */
    clseg_context_destroy(ctx);

    clseg_context *ref = test_context("ref");
    ck_assert_ptr_null(clseg_context_tuned_file(ref));
    ck_assert_int_eq(clseg_context_tunable(ref, "basic", "EW_WG", &v), CLSEG_STATUS_NOT_SUPPORTED);
    size_t count = 1;
    ck_assert_int_eq(clseg_context_tunables(ref, NULL, 0, &count), CLSEG_STATUS_NOT_SUPPORTED);
    ck_assert_uint_eq(count, 0);
    clseg_context_destroy(ref);
}
END_TEST

START_TEST(test_precedence)
{
    char path[4200];
    tuned_path(path, sizeof path);
    /* GEMM_PACK_WG has no table row anywhere; REDUCE_GROUPS has one for CPUs and GPUs */
    clseg_context *ctx = open_ok("", tuned_dir);
    long pack_default = value_of(ctx, "gemm", "GEMM_PACK_WG");
    long groups_builtin = value_of(ctx, "basic", "REDUCE_GROUPS");
    ck_assert_str_eq(origin_of(ctx, "gemm", "GEMM_PACK_WG"), "default");
    clseg_device_type type = clseg_context_device(ctx)->type;
    if (type == CLSEG_DEVICE_TYPE_CPU || type == CLSEG_DEVICE_TYPE_GPU)
        ck_assert_str_eq(origin_of(ctx, "basic", "REDUCE_GROUPS"), "table");
    clseg_context_destroy(ctx);

    write_text(path, "# a tuned file\nbasic.REDUCE_GROUPS=3\n  gemm.GEMM_PACK_WG = 32\r\ngemm.GEMM_MR=24\n\n");
    ctx = open_ok("gemm.GEMM_MR=16", tuned_dir);
    ck_assert_int_eq(value_of(ctx, "basic", "REDUCE_GROUPS"), 3);
    ck_assert_str_eq(origin_of(ctx, "basic", "REDUCE_GROUPS"), "tuned");
    ck_assert_int_eq(value_of(ctx, "gemm", "GEMM_PACK_WG"), 32);
    ck_assert_int_eq(value_of(ctx, "gemm", "GEMM_MR"), 16); /* the override beats the tuned file */
    ck_assert_str_eq(origin_of(ctx, "gemm", "GEMM_MR"), "override");
    ck_assert_str_eq(origin_of(ctx, "basic", "EW_WG"), type == CLSEG_DEVICE_TYPE_GPU ? "table" : "default");
    ck_assert_str_eq(warnings, "");
    clseg_context_destroy(ctx);

    /* "off" ignores the file */
    ctx = open_ok("", "off");
    ck_assert_int_eq(value_of(ctx, "basic", "REDUCE_GROUPS"), groups_builtin);
    ck_assert_int_eq(value_of(ctx, "gemm", "GEMM_PACK_WG"), pack_default);
    clseg_context_destroy(ctx);

    /* the environment names the folder when the option does not */
    char saved[4200] = "";
    bool had = getenv("CLSEG_TUNED_DIR") != NULL;
    if (had)
        snprintf(saved, sizeof saved, "%s", getenv("CLSEG_TUNED_DIR"));
    setenv("CLSEG_TUNED_DIR", tuned_dir, 1);
    ctx = open_ok("", NULL);
    ck_assert_str_eq(clseg_context_tuned_file(ctx), path);
    ck_assert_int_eq(value_of(ctx, "basic", "REDUCE_GROUPS"), 3);
    clseg_context_destroy(ctx);
    setenv("CLSEG_TUNED_DIR", "off", 1);
    ctx = open_ok("", NULL);
    ck_assert_ptr_null(clseg_context_tuned_file(ctx));
    ck_assert_int_eq(value_of(ctx, "basic", "REDUCE_GROUPS"), groups_builtin);
    clseg_context_destroy(ctx);
    if (had)
        setenv("CLSEG_TUNED_DIR", saved, 1);
    else
        unsetenv("CLSEG_TUNED_DIR");
}
END_TEST

START_TEST(test_tuned_values_are_clamped)
{
    char path[4200];
    tuned_path(path, sizeof path);
    write_text(path, "basic.EW_WG=100\nbasic.REDUCE_WG=1000000\nactivation.ACT_WG=0\n");
    clseg_context *ctx = open_ok("", tuned_dir);
    size_t max = clseg_context_device(ctx)->max_work_group_size;
    long pow2 = 1;
    while ((size_t)pow2 * 2 <= max)
        pow2 *= 2;
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), max >= 64 ? 64 : pow2);
    ck_assert_int_eq(value_of(ctx, "basic", "REDUCE_WG"), pow2);
    ck_assert_int_eq(value_of(ctx, "activation", "ACT_WG"), 1);
    clseg_context_destroy(ctx);
    /* overrides too */
    ctx = open_ok("basic.EW_WG=48", "off");
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), max >= 32 ? 32 : pow2);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_round_trip)
{
    clseg_context *ctx = open_ok("", tuned_dir);
    clseg_device_info device = *clseg_context_device(ctx);
    clseg_context_destroy(ctx);
    clseg_tunable_settings s = {.count = 0};
    char err[512] = "";
    ck_assert_int_eq(
        clseg_tunable_settings_parse_list("gemm.GEMM_MR=24,basic.EW_WG=128,norm.NORM_CHUNKS=2", &s, err, sizeof err),
        CLSEG_STATUS_SUCCESS);
    char path[4300];
    char nested[4200];
    snprintf(nested, sizeof nested, "%s/a/b", tuned_dir); /* the folder is created */
    clseg_tuned_file_path(nested, &device, path, sizeof path);
    ck_assert_int_eq(clseg_tuned_file_write(path, &device, &s, err, sizeof err), CLSEG_STATUS_SUCCESS);

    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char first[1024] = "";
    ck_assert_ptr_nonnull(fgets(first, sizeof first, f));
    fclose(f);
    ck_assert_msg(first[0] == '#' && strstr(first, device.name) != NULL && strstr(first, device.driver_version) &&
                      strstr(first, "written by clseg tune") != NULL && strstr(first, " UTC") != NULL,
                  "%s", first);

    clseg_tunable_settings back;
    bool found = false;
    ck_assert_int_eq(clseg_tuned_file_read(path, &back, &found, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert(found);
    ck_assert_uint_eq(back.count, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(back.items[i].program, s.items[i].program);
        ck_assert_str_eq(back.items[i].name, s.items[i].name);
        ck_assert_int_eq(back.items[i].value, s.items[i].value);
    }
    ck_assert_int_eq(back.items[0].line, 5); /* after four comment lines */

    /* a context reads what was written */
    ctx = open_ok("", nested);
    ck_assert_str_eq(clseg_context_tuned_file(ctx), path);
    ck_assert_int_eq(value_of(ctx, "gemm", "GEMM_MR"), 24);
    ck_assert_int_eq(value_of(ctx, "norm", "NORM_CHUNKS"), 2);
    clseg_context_destroy(ctx);

    /* absent: found false, no error */
    ck_assert_int_eq(remove(path), 0);
    ck_assert_int_eq(clseg_tuned_file_read(path, &back, &found, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert(!found);
    ck_assert_uint_eq(back.count, 0);
}
END_TEST

START_TEST(test_path_follows_the_driver)
{
    clseg_device_info d;
    memset(&d, 0, sizeof d);
    strcpy(d.name, "Some GPU");
    strcpy(d.driver_version, "1.0");
    strcpy(d.platform_version, "OpenCL 3.0");
    char a[256], b[256], c[256];
    clseg_tuned_file_path("/x", &d, a, sizeof a);
    ck_assert_uint_eq(strlen(a), strlen("/x/") + 16 + strlen(".txt"));
    ck_assert_msg(strncmp(a, "/x/", 3) == 0 && strcmp(a + strlen(a) - 4, ".txt") == 0, "%s", a);
    strcpy(d.driver_version, "1.1");
    clseg_tuned_file_path("/x", &d, b, sizeof b);
    ck_assert_str_ne(a, b);
    /* the fields cannot run together: "Some GPU1" + ".1" differs from "Some GPU" + "1.1" */
    strcpy(d.name, "Some GPU1");
    strcpy(d.driver_version, ".1");
    clseg_tuned_file_path("/x", &d, c, sizeof c);
    ck_assert_str_ne(b, c);
}
END_TEST

START_TEST(test_bad_tuned_file_is_a_warning)
{
    char path[4200];
    tuned_path(path, sizeof path);
    clseg_context *ctx = open_ok("", "off");
    long builtin = value_of(ctx, "basic", "EW_WG");
    clseg_context_destroy(ctx);

    /* malformed: the whole file is ignored, the context still created */
    write_text(path, "basic.EW_WG=16\nthis is not a setting\n");
    ctx = open_ok("", tuned_dir);
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), builtin);
    ck_assert_msg(strstr(warnings, path) != NULL && strstr(warnings, "line 2") != NULL, "%s", warnings);
    clseg_context_destroy(ctx);

    /* names no program declares: those lines are dropped with a warning, the rest applies */
    warnings[0] = '\0';
    write_text(path, "# old\nbasic.EW_WG=16\nbasic.OLD_WG=64\ngone.X=1\n");
    ctx = open_ok("", tuned_dir);
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), 16);
    ck_assert_msg(strstr(warnings, "line 3") != NULL && strstr(warnings, "OLD_WG") != NULL, "%s", warnings);
    ck_assert_msg(strstr(warnings, "line 4") != NULL && strstr(warnings, "'gone'") != NULL, "%s", warnings);
    clseg_context_destroy(ctx);

    /* not a text file at all, or unreadable (a folder) */
    warnings[0] = '\0';
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite("\0\1\2\3", 1, 4, f);
    fclose(f);
    ctx = open_ok("", tuned_dir);
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), builtin);
    ck_assert_msg(strstr(warnings, path) != NULL, "%s", warnings);
    clseg_context_destroy(ctx);
    ck_assert_int_eq(remove(path), 0);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
    warnings[0] = '\0';
    ctx = open_ok("", tuned_dir);
    ck_assert_int_eq(value_of(ctx, "basic", "EW_WG"), builtin);
    ck_assert_msg(strstr(warnings, path) != NULL, "%s", warnings);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tune");
    TCase *pure = tcase_create("parsing");
    tcase_add_test(pure, test_parse_settings);
    tcase_add_test(pure, test_path_follows_the_driver);
    suite_add_tcase(s, pure);
    if (test_have_opencl()) {
        TCase *tc = tcase_create("contexts");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_bad_overrides_fail_context_creation);
        tcase_add_test(tc, test_overrides_reach_the_kernels);
        tcase_add_test(tc, test_unknown_names_in_queries);
        tcase_add_test(tc, test_precedence);
        tcase_add_test(tc, test_tuned_values_are_clamped);
        tcase_add_test(tc, test_round_trip);
        tcase_add_test(tc, test_bad_tuned_file_is_a_warning);
        suite_add_tcase(s, tc);
    } else {
        puts("no OpenCL device: only the parsing tests run");
    }
    return test_run(s, false);
}
