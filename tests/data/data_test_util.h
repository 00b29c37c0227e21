/* Helpers of the data pipeline's tests: temporary datasets and hand-made TIFFs. */
#ifndef CLSEG_DATA_TEST_UTIL_H
#define CLSEG_DATA_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/data.h"

/* The real LGG sample: $CLSEG_LGG_DIR, else CLSEG_SOURCE_ROOT/../shared/data/lgg; NULL when
 * it is not there (its tests then return early, reported as skipped). */
const char *dt_lgg_dir(void);

/* Removes a folder tree (a dataset: root, patient folders, files). */
void dt_rmtree(const char *dir);

/* Writes a phantom dataset into a new temporary folder; the caller frees and removes it. */
char *dt_phantoms(int patients, int slices, int size, uint64_t seed);

/* Writes phantoms to a new temporary folder (*root) and loads them; for test fixtures. */
clseg_dataset *dt_fixture_open(int patients, int slices, int size, uint64_t seed, char **root);
void dt_fixture_close(clseg_dataset *ds, char *root);

/* Opens a TIFF with libtiff, its messages silenced; NULL on failure. */
struct tiff;
struct tiff *dt_tiff_open(const char *path, const char *mode);

/* Writes a TIFF through libtiff with the given layout; pixels hold height x width x spp
 * samples of bits/8 bytes each, interleaved. Fails the test on error. */
typedef struct dt_tiff {
    uint32_t width, height;
    uint16_t spp, bits, sample_format, planar, photometric, compression; /* 0: the usual */
    bool min_is_white; /* PHOTOMETRIC_MINISWHITE is 0, so it needs its own flag */
} dt_tiff;
void dt_write_tiff(const char *path, const dt_tiff *t, const void *pixels);

/* A 3-channel image and a 0/255 mask of w x h with a deterministic pattern. */
void dt_pattern(uint8_t *rgb, uint8_t *mask, int w, int h, int channels, uint32_t seed);

/* Writes bytes to dir/name; returns the path (caller frees). */
char *dt_write_file(const char *dir, const char *name, const void *data, size_t size);

/* dir/a/b... joined; caller frees. */
char *dt_path(const char *dir, const char *name);

/* Loads root, failing the test unless the status is want; returns the dataset (NULL on error). */
clseg_dataset *dt_load(const char *root, bool strict, clseg_status want, char *err, size_t err_size);

#endif
