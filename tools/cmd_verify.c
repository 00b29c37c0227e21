#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg verify [--device SEL] [--op NAME] [-v]\n\n"
               "Runs every kernel on the device and on the plain-C reference backend with the same\n"
               "inputs, and compares them: one row per op and case with the largest absolute and\n"
               "relative error, and PASS or FAIL. Exits with status 1 if any case fails.\n\n"
               "  --device SEL   the device to check (see 'clseg devices')\n"
               "  --op NAME      only the ops whose name contains NAME\n"
               "  -v             also print the library's messages (-vv: debug)\n");
}

static void print_row(const clseg_verify_row *r, void *user)
{
    int *rows = user;
    if ((*rows)++ == 0)
        printf("%-22s %-30s %12s %12s %9s  %s\n", "op", "case", "max abs err", "max rel err", "tolerance", "result");
    printf("%-22s %-30s %12.3g %12.3g %9.0e  %s\n", r->op, r->shape, r->max_abs_err, r->max_rel_err, r->tolerance,
           r->pass ? "PASS" : "FAIL");
    if (!r->pass && r->message[0] != '\0')
        printf("    %s\n", r->message);
}

int cmd_verify(int argc, char **argv)
{
    cli_common common = {0};
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        int used = cli_parse_common(argc, argv, i, &common);
        if (used < 0)
            return CLI_USAGE;
        if (used > 0) {
            i += used - 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--op") == 0 && i + 1 < argc) {
            filter = argv[++i];
        } else {
            cli_error("verify: unknown argument '%s'", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clseg_context *dev = cli_context(&common, common.device);
    clseg_context *ref = dev != NULL ? cli_context(&common, "ref") : NULL;
    if (ref == NULL) {
        clseg_context_destroy(dev);
        return CLI_FAILED;
    }
    const clseg_device_info *d = clseg_context_device(dev);
    if (d->type == CLSEG_DEVICE_TYPE_REF)
        printf("verifying the reference backend against itself (choose a device with --device)\n\n");
    else
        printf("verifying %d:%d %s (%s) against the plain-C reference\n\n", d->platform_index, d->device_index,
               d->name, d->platform_name);
    int rows = 0, failed = 0;
    clseg_status st = clseg_verify(dev, ref, filter, print_row, &rows, &failed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    clseg_cache_stats cs = clseg_context_cache_stats(dev);
    if (rows == 0 && filter != NULL) {
        cli_error("verify: no op matches '%s'", filter);
        st = CLSEG_STATUS_INVALID_ARGUMENT;
    } else {
        printf("\n%d passed, %d failed in %.2f s", rows - failed, failed, secs);
        if (d->type != CLSEG_DEVICE_TYPE_REF)
            printf(" (kernel programs: %u compiled, %u from the disk cache%s)", cs.compiled, cs.disk_hits,
                   clseg_context_cache_dir(dev) ? "" : ", cache off");
        printf("\n");
    }
    clseg_context_destroy(ref);
    clseg_context_destroy(dev);
    if (st != CLSEG_STATUS_SUCCESS && st != CLSEG_STATUS_VERIFY_FAILED && rows > 0)
        cli_error("verify: %s", clseg_status_str(st));
    return st == CLSEG_STATUS_SUCCESS ? CLI_OK : CLI_FAILED;
}
