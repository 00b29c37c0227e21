/* Status codes: OpenCL's numbers pass through unchanged, and every code has a description. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <string.h>

#include "test_util.h"

START_TEST(test_mirrors_opencl_codes)
{
    ck_assert_int_eq(CLSEG_STATUS_SUCCESS, CL_SUCCESS);
    ck_assert_int_eq(CLSEG_STATUS_DEVICE_NOT_FOUND, CL_DEVICE_NOT_FOUND);
    ck_assert_int_eq(CLSEG_STATUS_MEM_OBJECT_ALLOCATION_FAILURE, CL_MEM_OBJECT_ALLOCATION_FAILURE);
    ck_assert_int_eq(CLSEG_STATUS_OUT_OF_RESOURCES, CL_OUT_OF_RESOURCES);
    ck_assert_int_eq(CLSEG_STATUS_BUILD_PROGRAM_FAILURE, CL_BUILD_PROGRAM_FAILURE);
    ck_assert_int_eq(CLSEG_STATUS_INVALID_KERNEL_NAME, CL_INVALID_KERNEL_NAME);
    ck_assert_int_eq(CLSEG_STATUS_INVALID_WORK_GROUP_SIZE, CL_INVALID_WORK_GROUP_SIZE);
    ck_assert_int_eq(CLSEG_STATUS_INVALID_BUFFER_SIZE, CL_INVALID_BUFFER_SIZE);
    ck_assert_int_eq(CLSEG_STATUS_INVALID_DEVICE_PARTITION_COUNT, CL_INVALID_DEVICE_PARTITION_COUNT);
}
END_TEST

START_TEST(test_every_code_has_a_description)
{
    for (int code = 0; code >= -2100; code--) {
        const char *s = clseg_status_str((clseg_status)code);
        ck_assert_ptr_nonnull(s);
        bool known = strcmp(s, "unknown status") != 0;
        bool in_opencl_range = (code <= 0 && code >= -19) || (code <= -30 && code >= -68) || code == -1001;
        bool in_clseg_range = code <= -2048 && code >= CLSEG_STATUS_NOT_FINITE;
        ck_assert_msg(known == (in_opencl_range || in_clseg_range), "code %d: '%s'", code, s);
        if (known)
            ck_assert_msg(strstr(s, "(") != NULL, "code %d lacks its name: '%s'", code, s);
    }
    ck_assert_str_eq(clseg_status_str(CLSEG_STATUS_INVALID_BUFFER_SIZE), "invalid buffer size (INVALID_BUFFER_SIZE)");
    ck_assert_str_eq(clseg_status_str((clseg_status)12345), "unknown status");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, test_mirrors_opencl_codes);
    tcase_add_test(tc, test_every_code_has_a_description);
    suite_add_tcase(s, tc);
    return test_run(s, true);
}
