/* 8-bit TIFF slices in memory, read and written through libtiff with per-handle messages. */
#ifndef CLSEG_DATA_TIFF_IO_H
#define CLSEG_DATA_TIFF_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/status.h"

/* Largest width or height, and pixel count, the reader accepts: far above any MR slice, low
 * enough that a forged header cannot make it allocate gigabytes. */
#define TIFF_IO_MAX_SIDE 16384u
#define TIFF_IO_MAX_PIXELS (1u << 26)

typedef struct tiff_image {
    uint32_t width, height, channels; /* channels 1 or 3 */
    uint8_t *pixels;                  /* height x width x channels, interleaved; malloc'd */
} tiff_image;

/* True when data starts with a TIFF or BigTIFF header in either byte order. */
bool tiff_io_is_tiff(const void *data, size_t size);

/* Decodes the first image of a TIFF held in memory: 8-bit unsigned samples, 1 or 3 per pixel,
 * contiguous or planar, strips (any compression libtiff was built with). MinIsWhite is
 * inverted to MinIsBlack. name is used in messages. On failure image->pixels is NULL and the
 * status is BAD_FORMAT (not a TIFF, damaged), NOT_SUPPORTED or OUT_OF_HOST_MEMORY. */
clseg_status tiff_io_decode(const void *data, size_t size, const char *name, tiff_image *image, char *err,
                            size_t err_size);

/* Encodes pixels as the kaggle_3m files are: classic little-endian TIFF, uncompressed,
 * contiguous, strips of about 8 KiB whose last one is padded to full size, SampleFormat set.
 * *data is malloc'd. */
clseg_status tiff_io_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                            unsigned char **data, size_t *size, char *err, size_t err_size);

void tiff_image_free(tiff_image *image);

#endif
