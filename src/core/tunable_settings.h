/* Tunable values given by name as "program.NAME=value": the overrides a user types (the context's
 * tunables option, $CLSEG_TUNABLES) and the lines of a tuned file. Resolution
 * (src/opencl/tunables.c) looks a program's tunables up here. */
#ifndef CLSEG_TUNABLE_SETTINGS_H
#define CLSEG_TUNABLE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "clseg/status.h"

#define CLSEG_MAX_TUNABLE_SETTINGS 128
/* The largest value accepted: work-group sizes and counts, all far below it. */
#define CLSEG_TUNABLE_VALUE_MAX 1048576L

typedef struct clseg_tunable_setting {
    char program[32];
    char name[48];
    long value;
    int line; /* the tuned file's line it came from, for messages; 0 otherwise */
} clseg_tunable_setting;

typedef struct clseg_tunable_settings {
    clseg_tunable_setting items[CLSEG_MAX_TUNABLE_SETTINGS];
    size_t count;
} clseg_tunable_settings;

/* Parses one "program.NAME=value" of len bytes (blanks around it and around '=' allowed; the
 * value a whole number from 0 to CLSEG_TUNABLE_VALUE_MAX). On a malformed entry returns false
 * and why (may be NULL) says what is wrong. */
bool clseg_tunable_setting_parse(const char *text, size_t len, clseg_tunable_setting *out, char *why, size_t why_size);

/* Adds the setting, or replaces the value of an earlier one for the same tunable (so the last
 * entry wins). Fails with INVALID_ARGUMENT when the list is full. */
clseg_status clseg_tunable_settings_put(clseg_tunable_settings *s, const clseg_tunable_setting *e);

/* The setting for program.name, or NULL. */
const clseg_tunable_setting *clseg_tunable_settings_find(const clseg_tunable_settings *s, const char *program,
                                                         const char *name);

/* A list of entries separated by commas or blanks, e.g. "gemm.GEMM_PACKED=0,basic.EW_WG=128".
 * On a malformed entry fails with INVALID_ARGUMENT and a message quoting it. */
clseg_status clseg_tunable_settings_parse_list(const char *text, clseg_tunable_settings *out, char *err,
                                               size_t err_size);

#endif
