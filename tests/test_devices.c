/* Listing and opening the machine's real OpenCL devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

START_TEST(test_listing_is_complete)
{
    clseg_device_info *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(clseg_device_list(&list, &n, NULL, 0), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        const clseg_device_info *d = &list[i];
        ck_assert_int_ge(d->platform_index, 0);
        ck_assert_int_ge(d->device_index, 0);
        ck_assert(d->type != CLSEG_DEVICE_TYPE_REF);
        ck_assert_uint_gt(strlen(d->name), 0);
        ck_assert_uint_gt(strlen(d->platform_name), 0);
        ck_assert_uint_gt(strlen(d->driver_version), 0);
        ck_assert_msg(strncmp(d->opencl_c_version, "OpenCL C ", 9) == 0, "%s", d->opencl_c_version);
        ck_assert_uint_ge(d->compute_units, 1);
        ck_assert_uint_gt(d->max_alloc_bytes, 0);
        ck_assert_uint_le(d->max_alloc_bytes, d->global_mem_bytes);
        ck_assert_uint_ge(d->max_work_group_size, 1);
    }
    clseg_device_list_free(list);
    ck_assert_int_eq(clseg_device_list(NULL, &n, NULL, 0), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_every_selector_kind_opens_a_context)
{
    clseg_device_info *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(clseg_device_list(&list, &n, NULL, 0), CLSEG_STATUS_SUCCESS);
    const clseg_device_info *first = &list[0];
    char pd[32], upper[256];
    snprintf(pd, sizeof pd, "%d:%d", first->platform_index, first->device_index);
    /* a middle part of the name, in upper case: substring matching ignores case */
    size_t len = strlen(first->name), take = len > 6 ? 6 : len, from = len > 6 ? (len - 6) / 2 : 0;
    for (size_t i = 0; i < take; i++)
        upper[i] = (char)((first->name[from + i] >= 'a' && first->name[from + i] <= 'z') ? first->name[from + i] - 32
                                                                                          : first->name[from + i]);
    upper[take] = '\0';
    const char *type = first->type == CLSEG_DEVICE_TYPE_GPU ? "gpu" : first->type == CLSEG_DEVICE_TYPE_CPU ? "cpu" : NULL;
    const char *sels[] = {pd, upper, type};
    for (size_t i = 0; i < 3; i++) {
        if (sels[i] == NULL)
            continue;
        clseg_context *ctx = test_context(sels[i]);
        const clseg_device_info *got = clseg_context_device(ctx);
        /* the first device matching a part of its own name is that device */
        ck_assert_msg(strcmp(got->name, first->name) == 0, "'%s' opened %s", sels[i], got->name);
        clseg_context_destroy(ctx);
    }
    clseg_device_list_free(list);
}
END_TEST

START_TEST(test_default_and_environment)
{
    unsetenv("CLSEG_DEVICE");
    clseg_context *ctx = test_context(NULL);
    ck_assert(clseg_context_device(ctx)->type != CLSEG_DEVICE_TYPE_REF);
    clseg_context_destroy(ctx);
    setenv("CLSEG_DEVICE", "ref", 1);
    ctx = test_context(NULL);
    ck_assert(clseg_context_device(ctx)->type == CLSEG_DEVICE_TYPE_REF);
    ck_assert_ptr_null(clseg_context_cache_dir(ctx));
    clseg_context_destroy(ctx);
    /* an explicit selector wins over the environment */
    ctx = test_context("0:0");
    ck_assert(clseg_context_device(ctx)->type != CLSEG_DEVICE_TYPE_REF);
    clseg_context_destroy(ctx);
    setenv("CLSEG_DEVICE", "no-such-device", 1);
    clseg_context *bad = NULL;
    char err[4096];
    ck_assert_int_eq(clseg_context_create(NULL, &bad, err, sizeof err), CLSEG_STATUS_UNKNOWN_DEVICE);
    unsetenv("CLSEG_DEVICE");
}
END_TEST

START_TEST(test_bogus_selector_lists_devices)
{
    clseg_context_options o = clseg_context_options_default();
    o.device = "bogus-device-42";
    clseg_context *ctx = (clseg_context *)&o; /* must be reset to NULL */
    char err[4096] = "";
    ck_assert_int_eq(clseg_context_create(&o, &ctx, err, sizeof err), CLSEG_STATUS_UNKNOWN_DEVICE);
    ck_assert_ptr_null(ctx);
    clseg_device_info *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(clseg_device_list(&list, &n, NULL, 0), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(strstr(err, "bogus-device-42") != NULL, "%s", err);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(err, list[i].name) != NULL, "%s missing from: %s", list[i].name, err);
    clseg_device_list_free(list);
    o.device = "77:0";
    ck_assert_int_eq(clseg_context_create(&o, &ctx, err, sizeof err), CLSEG_STATUS_UNKNOWN_DEVICE);
    ck_assert_msg(strstr(err, "no platform 77") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    if (!test_have_opencl()) {
        puts("no OpenCL device: skipped");
        return TEST_SKIP;
    }
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("opencl");
    tcase_add_test(tc, test_listing_is_complete);
    tcase_add_test(tc, test_every_selector_kind_opens_a_context);
    tcase_add_test(tc, test_default_and_environment);
    tcase_add_test(tc, test_bogus_selector_lists_devices);
    suite_add_tcase(s, tc);
    return test_run(s, false);
}
