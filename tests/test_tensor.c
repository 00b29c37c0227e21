/* Tensors on the reference backend and, when present, on the default OpenCL device. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const char *selector; /* the backend the current run checks */

START_TEST(test_round_trip)
{
    clseg_context *ctx = test_context(selector);
    float in[2 * 3 * 5 * 7], out[2 * 3 * 5 * 7];
    for (size_t i = 0; i < 210; i++)
        in[i] = (float)i * 0.5f - 17.0f;
    clseg_tensor *t = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){2, 3, 5, 7}, &t), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(clseg_tensor_numel(t), 210);
    clseg_shape s = clseg_tensor_shape(t);
    ck_assert(s.n == 2 && s.c == 3 && s.h == 5 && s.w == 7);
    ck_assert_ptr_eq(clseg_tensor_context(t), ctx);
    ck_assert_int_eq(clseg_tensor_upload(t, in, 210), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(t, out, 210), CLSEG_STATUS_SUCCESS);
    ck_assert_mem_eq(in, out, sizeof in);
    clseg_memory_stats m = clseg_context_memory_stats(ctx);
    ck_assert_uint_eq(m.in_use_bytes, 210 * sizeof(float));
    clseg_tensor_destroy(t);
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).in_use_bytes, 0);
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).peak_bytes, 210 * sizeof(float));
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_views_share_storage)
{
    clseg_context *ctx = test_context(selector);
    float data[100], got[10];
    for (int i = 0; i < 100; i++)
        data[i] = (float)i;
    clseg_tensor *base = test_tensor_from(ctx, data, 100), *v = NULL, *vv = NULL;
    ck_assert_int_eq(clseg_tensor_view(base, 40, (clseg_shape){1, 2, 1, 5}, &v), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_view(v, 3, (clseg_shape){1, 1, 1, 7}, &vv), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(v, got, 10), CLSEG_STATUS_SUCCESS);
    for (int i = 0; i < 10; i++)
        ck_assert_float_eq(got[i], 40.0f + (float)i);
    /* a view outlives its base, and writing through it writes the shared buffer */
    clseg_tensor_destroy(base);
    const float seven[7] = {-1, -2, -3, -4, -5, -6, -7};
    ck_assert_int_eq(clseg_tensor_upload(vv, seven, 7), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(v, got, 10), CLSEG_STATUS_SUCCESS);
    ck_assert_float_eq(got[2], 42.0f);
    ck_assert_float_eq(got[3], -1.0f);
    ck_assert_float_eq(got[9], -7.0f);
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).in_use_bytes, 400);
    clseg_tensor_destroy(v);
    clseg_tensor_destroy(vv);
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).in_use_bytes, 0);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_invalid_shapes_and_views)
{
    clseg_context *ctx = test_context(selector);
    clseg_tensor *t = NULL, *v = NULL;
    const clseg_shape bad[] = {{0, 1, 1, 1}, {1, 0, 1, 1}, {1, 1, -3, 1}, {1, 1, 1, 0}, {INT64_MAX, INT64_MAX, 2, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(clseg_tensor_create(ctx, bad[i], &t), CLSEG_STATUS_INVALID_ARGUMENT);
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(clseg_context_last_error(ctx), "clseg_tensor_create") != NULL, "%s",
                      clseg_context_last_error(ctx));
    }
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 4, 4}, &t), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_view(t, 10, (clseg_shape){1, 1, 1, 7}, &v), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_tensor_view(t, SIZE_MAX - 2, (clseg_shape){1, 1, 1, 7}, &v), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_tensor_view(t, 0, (clseg_shape){1, 1, 0, 7}, &v), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(clseg_tensor_view(t, 9, (clseg_shape){1, 1, 1, 7}, &v), CLSEG_STATUS_SUCCESS);
    float host[16] = {0};
    ck_assert_int_eq(clseg_tensor_upload(t, host, 15), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "15 floats") != NULL, "%s", clseg_context_last_error(ctx));
    ck_assert_int_eq(clseg_tensor_download(t, NULL, 16), CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_tensor_destroy(v);
    clseg_tensor_destroy(t);
    clseg_tensor_destroy(NULL); /* harmless, like free(NULL) */
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_too_large_allocation_names_the_size)
{
    clseg_context *ctx = test_context(selector);
    const clseg_device_info *d = clseg_context_device(ctx);
    /* one float more than the device's largest allocation */
    int64_t w = (int64_t)(d->max_alloc_bytes / sizeof(float)) + 1;
    clseg_tensor *t = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, w}, &t), CLSEG_STATUS_INVALID_BUFFER_SIZE);
    ck_assert_ptr_null(t);
    char bytes[64];
    snprintf(bytes, sizeof bytes, "%llu bytes", (unsigned long long)(w * 4));
    ck_assert_msg(strstr(clseg_context_last_error(ctx), bytes) != NULL, "no size in: %s",
                  clseg_context_last_error(ctx));
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).in_use_bytes, 0);
    /* the context stays usable */
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, 8}, &t), CLSEG_STATUS_SUCCESS);
    clseg_tensor_destroy(t);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_memory_limit)
{
    clseg_context_options o = clseg_context_options_default();
    o.device = selector;
    o.memory_limit_bytes = 1000;
    clseg_context *ctx = NULL;
    ck_assert_int_eq(clseg_context_create(&o, &ctx, NULL, 0), CLSEG_STATUS_SUCCESS);
    clseg_tensor *a = NULL, *b = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 10, 20}, &a), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 10, 6}, &b), CLSEG_STATUS_MEMORY_LIMIT);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "240 bytes") != NULL &&
                      strstr(clseg_context_last_error(ctx), "1000 bytes") != NULL,
                  "%s", clseg_context_last_error(ctx));
    clseg_tensor_destroy(a);
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 10, 6}, &b), CLSEG_STATUS_SUCCESS);
    clseg_tensor_destroy(b);
    clseg_context_destroy(ctx);
}
END_TEST

static TCase *cases(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_views_share_storage);
    tcase_add_test(tc, test_invalid_shapes_and_views);
    tcase_add_test(tc, test_too_large_allocation_names_the_size);
    tcase_add_test(tc, test_memory_limit);
    return tc;
}

int main(void)
{
    int rc = EXIT_SUCCESS;
    selector = "ref";
    Suite *s = suite_create("tensor (ref)");
    suite_add_tcase(s, cases("ref"));
    rc |= test_run(s, false);
    if (test_have_opencl()) {
        selector = NULL;
        s = suite_create("tensor (OpenCL default device)");
        suite_add_tcase(s, cases("opencl"));
        rc |= test_run(s, false);
    }
    return rc;
}
