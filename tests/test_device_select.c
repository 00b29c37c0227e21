/* Device selection on made-up device lists: no OpenCL needed. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

static clseg_device_info dev(int p, int d, clseg_device_type type, const char *name)
{
    clseg_device_info info;
    memset(&info, 0, sizeof info);
    info.platform_index = p;
    info.device_index = d;
    info.type = type;
    snprintf(info.name, sizeof info.name, "%s", name);
    snprintf(info.platform_name, sizeof info.platform_name, "platform %d", p);
    return info;
}

/* Platform 0 has only a CPU; the GPU sits on platform 1, as with PoCL installed beside a GPU driver. */
static void two_platforms(clseg_device_info out[3])
{
    out[0] = dev(0, 0, CLSEG_DEVICE_TYPE_CPU, "pthread-znver4-AMD EPYC 9R14");
    out[1] = dev(1, 0, CLSEG_DEVICE_TYPE_GPU, "NVIDIA H100 80GB HBM3");
    out[2] = dev(1, 1, CLSEG_DEVICE_TYPE_GPU, "NVIDIA GeForce RTX 4090");
}

static size_t select_ok(const clseg_device_info *list, size_t n, const char *sel)
{
    size_t index = 12345;
    char err[1024] = "";
    clseg_status st = clseg_device_select(list, n, sel, &index, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "selector '%s': %s", sel ? sel : "(null)", err);
    return index;
}

static void select_fails(const clseg_device_info *list, size_t n, const char *sel, clseg_status want)
{
    size_t index = 12345;
    char err[4096] = "";
    clseg_status st = clseg_device_select(list, n, sel, &index, err, sizeof err);
    ck_assert_msg(st == want, "selector '%s' gave %d", sel, st);
    ck_assert_uint_eq(index, 12345);
    if (want == CLSEG_STATUS_UNKNOWN_DEVICE) {
        ck_assert_msg(strstr(err, sel) != NULL, "message does not name the selector: %s", err);
        ck_assert_msg(strstr(err, "available devices") != NULL, "message does not list devices: %s", err);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(strstr(err, list[i].name) != NULL, "message omits %s: %s", list[i].name, err);
        ck_assert_msg(strstr(err, "ref") != NULL, "message omits the reference backend: %s", err);
    }
}

START_TEST(test_default_prefers_first_gpu_on_any_platform)
{
    clseg_device_info list[3];
    two_platforms(list);
    ck_assert_uint_eq(select_ok(list, 3, NULL), 1);
    ck_assert_uint_eq(select_ok(list, 3, ""), 1);
    ck_assert_uint_eq(select_ok(list, 1, NULL), 0); /* no GPU: the first device */
}
END_TEST

START_TEST(test_platform_device_index)
{
    clseg_device_info list[3];
    two_platforms(list);
    ck_assert_uint_eq(select_ok(list, 3, "0:0"), 0);
    ck_assert_uint_eq(select_ok(list, 3, "1:1"), 2);
    select_fails(list, 3, "2:0", CLSEG_STATUS_UNKNOWN_DEVICE);
    select_fails(list, 3, "0:1", CLSEG_STATUS_UNKNOWN_DEVICE);
    select_fails(list, 3, "99999:0", CLSEG_STATUS_UNKNOWN_DEVICE);
}
END_TEST

START_TEST(test_types_case_insensitive)
{
    clseg_device_info list[3];
    two_platforms(list);
    ck_assert_uint_eq(select_ok(list, 3, "cpu"), 0);
    ck_assert_uint_eq(select_ok(list, 3, "GPU"), 1);
    select_fails(list, 3, "accel", CLSEG_STATUS_UNKNOWN_DEVICE);
    select_fails(list, 1, "gpu", CLSEG_STATUS_UNKNOWN_DEVICE);
}
END_TEST

START_TEST(test_name_substring)
{
    clseg_device_info list[3];
    two_platforms(list);
    ck_assert_uint_eq(select_ok(list, 3, "rtx"), 2);
    ck_assert_uint_eq(select_ok(list, 3, "h100"), 1);
    ck_assert_uint_eq(select_ok(list, 3, "NVIDIA"), 1); /* several match: the first */
    ck_assert_uint_eq(select_ok(list, 3, "epyc"), 0);
    select_fails(list, 3, "radeon", CLSEG_STATUS_UNKNOWN_DEVICE);
}
END_TEST

START_TEST(test_ref_and_malformed)
{
    clseg_device_info list[3];
    two_platforms(list);
    ck_assert_uint_eq(select_ok(list, 3, "ref"), (size_t)-1);
    ck_assert_uint_eq(select_ok(list, 3, "REF"), (size_t)-1);
    ck_assert_uint_eq(select_ok(NULL, 0, "ref"), (size_t)-1); /* works without any OpenCL device */
    const char *bad[] = {"1:", ":0", "a:b", "-1:0", "0:0:0", " 0:0", "cpu0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        select_fails(list, 3, bad[i], CLSEG_STATUS_UNKNOWN_DEVICE);
}
END_TEST

START_TEST(test_no_device_at_all)
{
    size_t index = 0;
    char err[1024] = "";
    ck_assert_int_eq(clseg_device_select(NULL, 0, NULL, &index, err, sizeof err), CLSEG_STATUS_DEVICE_NOT_FOUND);
    ck_assert_msg(strstr(err, "pocl-opencl-icd") != NULL && strstr(err, "--device ref") != NULL, "%s", err);
    select_fails(NULL, 0, "gpu", CLSEG_STATUS_UNKNOWN_DEVICE);
    ck_assert_int_eq(clseg_device_select(NULL, 0, NULL, NULL, NULL, 0), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_type_names)
{
    ck_assert_str_eq(clseg_device_type_str(CLSEG_DEVICE_TYPE_GPU), "GPU");
    ck_assert_str_eq(clseg_device_type_str(CLSEG_DEVICE_TYPE_REF), "REF");
    ck_assert_str_eq(clseg_device_type_str(CLSEG_DEVICE_TYPE_ACCEL), "ACCEL");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("device_select");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, test_default_prefers_first_gpu_on_any_platform);
    tcase_add_test(tc, test_platform_device_index);
    tcase_add_test(tc, test_types_case_insensitive);
    tcase_add_test(tc, test_name_substring);
    tcase_add_test(tc, test_ref_and_malformed);
    tcase_add_test(tc, test_no_device_at_all);
    tcase_add_test(tc, test_type_names);
    suite_add_tcase(s, tc);
    return test_run(s, true);
}
