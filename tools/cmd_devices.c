#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg devices\n\n"
               "Lists every OpenCL platform and device, and the plain-C reference backend.\n"
               "Choose one for any computing command with --device SEL, where SEL is P:D, cpu, gpu,\n"
               "accel, ref, or part of a device name (case-insensitive); the default is $CLSEG_DEVICE,\n"
               "else the first GPU, else the first device.\n");
}

static void print_device(const clseg_device_info *d, bool is_default)
{
    char g[32], a[32], l[32];
    printf("%d:%d  %-5s %s%s\n", d->platform_index, d->device_index, clseg_device_type_str(d->type), d->name,
           is_default ? "   [default]" : "");
    printf("      platform       %s (%s)\n", d->platform_name, d->platform_version);
    printf("      vendor         %s\n", d->vendor);
    printf("      driver         %s, %s\n", d->driver_version, d->opencl_c_version);
    printf("      compute units  %u\n", d->compute_units);
    printf("      global memory  %s\n", cli_bytes(g, sizeof g, d->global_mem_bytes));
    printf("      max allocation %s\n", cli_bytes(a, sizeof a, d->max_alloc_bytes));
    printf("      local memory   %s, work-groups up to %zu\n", cli_bytes(l, sizeof l, d->local_mem_bytes),
           d->max_work_group_size);
    printf("      fp16 / fp64    %s / %s\n", d->fp16 ? "yes" : "no", d->fp64 ? "yes" : "no");
}

int cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        cli_error("devices: unknown argument '%s'", argv[i]);
        usage(stderr);
        return CLI_USAGE;
    }
    clseg_device_info *list = NULL;
    size_t count = 0;
    char err[1024];
    if (clseg_device_list(&list, &count, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("listing OpenCL devices: %s", err);
        return CLI_FAILED;
    }
    const char *env = getenv("CLSEG_DEVICE");
    size_t chosen = (size_t)-1;
    bool env_ok = clseg_device_select(list, count, env, &chosen, NULL, 0) == CLSEG_STATUS_SUCCESS;
    if (count == 0)
        printf("No OpenCL device found. Install a driver (for the CPU: the Debian package pocl-opencl-icd).\n\n");
    for (size_t i = 0; i < count; i++)
        print_device(&list[i], env_ok && chosen == i);
    printf("ref  REF   plain-C reference backend%s\n", env_ok && chosen == (size_t)-1 && count > 0 ? "   [default]" : "");
    if (env != NULL && env[0] != '\0')
        printf("\nCLSEG_DEVICE=%s%s\n", env, env_ok ? "" : " matches no device");
    clseg_device_list_free(list);
    return CLI_OK;
}
