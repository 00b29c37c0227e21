#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg phantoms --out DIR [--patients N] [--slices M] [--size S] [--seed K]\n\n"
               "Writes a synthetic dataset in the kaggle_3m layout and file format: one folder per\n"
               "patient (PHANTOM_XX_0001_20260101, ...) of 3-channel 8-bit TIFF slices of a head with\n"
               "tumours that grow and shrink across slices, their 0/255 masks, and a data.csv.\n"
               "The same options give the same files.\n\n"
               "  --out DIR       the folder to write (created if missing)\n"
               "  --patients N    number of patients, 1..9999 (default 6)\n"
               "  --slices M      slices per patient, 1..1000 (default 20)\n"
               "  --size S        slice height and width in pixels, 16..4096 (default 256)\n"
               "  --seed K        random seed, 0..2^64-1 (default 1)\n");
}

/* An unsigned decimal in [lo, hi]; prints the problem and returns false otherwise. */
int cmd_phantoms(int argc, char **argv)
{
    clseg_phantom_options o = clseg_phantom_options_default();
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        static const char *const names[] = {"--out", "--patients", "--slices", "--size", "--seed"};
        int which = -1;
        const char *value = NULL;
        for (int k = 0; k < 5 && which < 0; k++) {
            size_t n = strlen(names[k]);
            if (strcmp(arg, names[k]) == 0) {
                which = k;
                value = i + 1 < argc ? argv[++i] : NULL;
            } else if (strncmp(arg, names[k], n) == 0 && arg[n] == '=') {
                which = k;
                value = arg + n + 1;
            }
        }
        if (which < 0) {
            cli_error("phantoms: unknown argument '%s'", arg);
            usage(stderr);
            return CLI_USAGE;
        }
        if (value == NULL) {
            cli_error("phantoms: %s needs a value", names[which]);
            return CLI_USAGE;
        }
        unsigned long long v = 0;
        bool ok = true;
        if (which == 0)
            out = value;
        else if (which == 1 && (ok = cli_parse_uint("phantoms", names[which], value, 1, 9999, &v)))
            o.patients = (int)v;
        else if (which == 2 && (ok = cli_parse_uint("phantoms", names[which], value, 1, 1000, &v)))
            o.slices = (int)v;
        else if (which == 3 && (ok = cli_parse_uint("phantoms", names[which], value, 16, 4096, &v)))
            o.size = (int)v;
        else if (which == 4 && (ok = cli_parse_uint("phantoms", names[which], value, 0, UINT64_MAX, &v)))
            o.seed = v;
        if (!ok)
            return CLI_USAGE;
    }
    if (out == NULL || out[0] == '\0') {
        cli_error("phantoms: --out DIR is required");
        usage(stderr);
        return CLI_USAGE;
    }
    clseg_phantom_summary sum;
    char err[4096];
    if (clseg_phantoms_write(out, &o, &sum, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("phantoms: %s", err);
        return CLI_FAILED;
    }
    printf("wrote %zu patients, %zu slices (%zu with tumour) of %dx%d to %s\n", sum.patients, sum.slices,
           sum.tumour_slices, o.size, o.size, out);
    return CLI_OK;
}
