/* File helpers that never leave a half-written file behind. */
#ifndef CLSEG_FILES_H
#define CLSEG_FILES_H

#include <stddef.h>

#include "clseg/status.h"

/* Creates dir and its missing parents (like mkdir -p). */
clseg_status clseg_mkdir_p(const char *dir, char *err, size_t err_size);

/* Writes the parts one after another to a temporary file beside path, flushes it to disk and
 * renames it over path, so a reader sees the old file or the new one, never a mix. */
clseg_status clseg_write_file_atomic(const char *path, const void *const *parts, const size_t *sizes, size_t nparts,
                                     char *err, size_t err_size);

/* Reads a whole file of at most max_bytes into a malloc'd buffer (*data, freed by the caller). */
clseg_status clseg_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size, char *err,
                             size_t err_size);

#endif
