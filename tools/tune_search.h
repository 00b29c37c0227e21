/* The search of `clseg tune`: one tunable at a time, each candidate timed on a fresh context that
 * builds the kernels with it. */
#ifndef CLSEG_TUNE_SEARCH_H
#define CLSEG_TUNE_SEARCH_H

#include <stdbool.h>

#include "cli.h"
#include "core/tunable_settings.h"

/* A context on the device with these tunable overrides ("" for none; the user's
 * $CLSEG_TUNABLES is then ignored) and tuned-file folder (NULL: the default, "off"),
 * logging to stderr; prints the error and returns NULL on failure. */
clseg_context *tune_context(const cli_common *common, const char *tunables, const char *tuned_dir);

/* "program.NAME=value,..." of the settings. */
void tune_settings_text(const clseg_tunable_settings *s, char *buf, size_t size);

/* Coordinate search from the built-in values (the tuned file and $CLSEG_TUNABLES left out):
 * for each program with a workload, each tunable in turn takes the candidate that runs the
 * workload fastest, kept only when at least 3% faster than the best so far. Prints a table per
 * tunable. only (NULL: all) names the programs to search, comma-separated. *chosen receives the
 * value of every tunable searched. False after a failure (printed). */
bool tune_search(const cli_common *common, bool quick, const char *only, clseg_tunable_settings *chosen);

/* Whether every name in the comma-separated list is a program with a workload; prints the ones
 * there are otherwise. */
bool tune_programs_known(const char *list);

#endif
