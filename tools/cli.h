/* What the clseg subcommands share: option parsing helpers, context creation and messages. */
#ifndef CLSEG_CLI_H
#define CLSEG_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "clseg/clseg.h"

/* Exit codes of the clseg command. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

typedef struct cli_common {
    const char *device; /* --device SEL; NULL: $CLSEG_DEVICE, else the default */
    int verbose;        /* -v: 1 shows info messages, -vv debug */
} cli_common;

/* Prints "clseg: " and the message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Creates a context on the chosen device, logging to stderr; prints the error and returns NULL
 * on failure. */
clseg_context *cli_context(const cli_common *common, const char *selector);

/* Parses the options every computing command takes (--device SEL, -v); *consumed is how many
 * argv entries it used (0 when argv[0] is not one of them, -1 on error). */
int cli_parse_common(int argc, char **argv, int i, cli_common *common);

/* A command's options for cli_next_arg: names[0 .. valued-1] take a value, the next flags
 * names do not. */
typedef struct cli_spec {
    const char *cmd; /* "train", for messages */
    const char *const *names;
    int valued, flags;
    void (*usage)(FILE *f);
} cli_spec;

enum {
    CLI_ARG_COMMON = -1, /* --device SEL or -v, stored in common */
    CLI_ARG_HELP = -2,   /* -h or --help: the usage is printed */
    CLI_ARG_BAD = -3     /* unknown, or an option without its value: reported, with the usage */
};

/* The argument walk every command shares: the index in spec->names of argv[*i] (*value set for
 * an option with a value, and *i moved past it), or a CLI_ARG_ code. */
int cli_next_arg(const cli_spec *spec, int argc, char **argv, int *i, cli_common *common, const char **value);

/* The library's messages on stderr: warnings and errors, -v adds info, -vv debug (user: the
 * command's cli_common). */
void cli_log_to_stderr(clseg_log_level level, const char *message, void *user);

/* Monotonic time in seconds, for timing. */
double cli_seconds(void);

/* qsort's comparison of doubles, ascending (for medians). */
int cli_compare_doubles(const void *a, const void *b);

/* Parses a whole number in [lo, hi] given to option opt of command cmd; prints what is wrong and
 * returns false otherwise. */
bool cli_parse_uint(const char *cmd, const char *opt, const char *text, unsigned long long lo, unsigned long long hi,
                    unsigned long long *out);

/* A "1.5 GiB"-style size. */
const char *cli_bytes(char *buf, size_t size, unsigned long long bytes);

typedef int (*cli_command_fn)(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_phantoms(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_bench_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_tune(int argc, char **argv);

#endif
