/* The tuned file of a device: what `clseg tune` found fastest there, one "program.NAME=value"
 * per line under '#' comments, read at context creation (src/core/context_tunables.c). */
#ifndef CLSEG_TUNED_FILE_H
#define CLSEG_TUNED_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "clseg/device.h"
#include "clseg/status.h"
#include "core/tunable_settings.h"

/* "<dir>/<16 hex digits>.txt": the hash of the device name, driver version and platform version,
 * so that a driver update, which can change what is fastest, starts from the built-in values. */
void clseg_tuned_file_path(const char *dir, const clseg_device_info *device, char *buf, size_t size);

/* Parses a tuned file's text: blank lines and '#' comments skipped, every other line one
 * "program.NAME=value" (each setting remembers its line). On a malformed line fails with
 * INVALID_ARGUMENT, *bad_line set to its number and err saying what is wrong. */
clseg_status clseg_tuned_file_parse(const char *text, size_t size, clseg_tunable_settings *out, int *bad_line,
                                    char *err, size_t err_size);

/* The text of a tuned file (malloc'd, NUL-terminated; NULL when out of memory): a comment line
 * naming the device, its driver, the date and the writer, then the settings in order. */
char *clseg_tuned_file_format(const clseg_device_info *device, const clseg_tunable_settings *s, time_t when);

/* Writes the tuned file atomically (a reader sees the old or the new one), creating its folder. */
clseg_status clseg_tuned_file_write(const char *path, const clseg_device_info *device, const clseg_tunable_settings *s,
                                    char *err, size_t err_size);

/* Reads and parses the file. An absent file is no error: *found false and no settings. On any
 * other failure err names the file (and the line of a malformed one). */
clseg_status clseg_tuned_file_read(const char *path, clseg_tunable_settings *out, bool *found, char *err,
                                   size_t err_size);

#endif
