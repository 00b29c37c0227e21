#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("clseg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_log_to_stderr(clseg_log_level level, const char *message, void *user)
{
    const cli_common *common = user;
    static const char *const names[] = {"debug", "info", "warning", "error"};
    int threshold = common->verbose >= 2 ? CLSEG_LOG_DEBUG : common->verbose == 1 ? CLSEG_LOG_INFO : CLSEG_LOG_WARN;
    if ((int)level >= threshold)
        fprintf(stderr, "clseg: %s: %s\n", names[level], message);
}

clseg_context *cli_context(const cli_common *common, const char *selector)
{
    clseg_context_options opts = clseg_context_options_default();
    opts.device = selector;
    opts.log = cli_log_to_stderr;
    opts.log_user = (void *)common;
    clseg_context *ctx = NULL;
    char err[8192];
    clseg_status st = clseg_context_create(&opts, &ctx, err, sizeof err);
    if (st != CLSEG_STATUS_SUCCESS) {
        cli_error("%s", err);
        return NULL;
    }
    return ctx;
}

int cli_parse_common(int argc, char **argv, int i, cli_common *common)
{
    const char *arg = argv[i];
    if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
        common->verbose++;
        return 1;
    }
    if (strcmp(arg, "-vv") == 0) {
        common->verbose += 2;
        return 1;
    }
    if (strncmp(arg, "--device=", 9) == 0) {
        common->device = arg + 9;
        return 1;
    }
    if (strcmp(arg, "--device") == 0) {
        if (i + 1 >= argc || argv[i + 1][0] == '\0') {
            cli_error("--device needs a value: P:D, cpu, gpu, accel, ref or part of a device name "
                      "(see 'clseg devices')");
            return -1;
        }
        common->device = argv[i + 1];
        return 2;
    }
    return 0;
}

int cli_next_arg(const cli_spec *spec, int argc, char **argv, int *i, cli_common *common, const char **value)
{
    int used = cli_parse_common(argc, argv, *i, common);
    if (used < 0)
        return CLI_ARG_BAD;
    if (used > 0) {
        *i += used - 1;
        return CLI_ARG_COMMON;
    }
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        spec->usage(stdout);
        return CLI_ARG_HELP;
    }
    for (int k = 0; k < spec->valued + spec->flags; k++) {
        if (strcmp(arg, spec->names[k]) != 0)
            continue;
        if (k >= spec->valued)
            return k;
        if (*i + 1 >= argc || argv[*i + 1][0] == '\0') {
            cli_error("%s: %s needs a value", spec->cmd, arg);
            return CLI_ARG_BAD;
        }
        *value = argv[++*i];
        return k;
    }
    cli_error("%s: unknown argument '%s'", spec->cmd, arg);
    spec->usage(stderr);
    return CLI_ARG_BAD;
}

const char *cli_bytes(char *buf, size_t size, unsigned long long bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

bool cli_parse_uint(const char *cmd, const char *opt, const char *text, unsigned long long lo, unsigned long long hi,
                    unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] == '\0' || text[0] == '-' || text[0] == '+' || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
        cli_error("%s: %s needs a whole number from %llu to %llu, not '%s'", cmd, opt, lo, hi, text);
        return false;
    }
    *out = v;
    return true;
}

double cli_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cli_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
