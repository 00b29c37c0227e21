#include "clseg/picture.h"

#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "util/files.h"

/* A side above this is surely a caller's mistake (a swapped or uninitialised size), not a picture. */
#define PNG_MAX_SIDE (1 << 15)

/* Where libpng puts the encoded bytes: the whole file is built in memory first and then written
 * in one atomic step, so no half-written PNG can ever appear under the final name. */
typedef struct png_sink {
    unsigned char *data;
    size_t size, cap;
    int out_of_memory;
    char message[256]; /* libpng's complaint, when it gives up */
} png_sink;

static void on_error(png_structp png, png_const_charp msg)
{
    png_sink *sink = png_get_error_ptr(png);
    snprintf(sink->message, sizeof sink->message, "%s", msg);
    png_longjmp(png, 1);
}

/* The library never prints; libpng's warnings (none are expected for plain 8-bit images) drop. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void on_write(png_structp png, png_bytep data, size_t n)
{
    png_sink *sink = png_get_io_ptr(png);
    if (n > sink->cap - sink->size) {
        size_t cap = sink->cap > 0 ? sink->cap : 1 << 16;
        while (cap - sink->size < n) {
            if (cap > SIZE_MAX / 2) {
                sink->out_of_memory = 1;
                png_error(png, "the encoded picture does not fit in memory");
            }
            cap *= 2;
        }
        unsigned char *grown = realloc(sink->data, cap);
        if (grown == NULL) {
            sink->out_of_memory = 1;
            png_error(png, "out of host memory for the encoded picture");
        }
        sink->data = grown;
        sink->cap = cap;
    }
    memcpy(sink->data + sink->size, data, n);
    sink->size += n;
}

static void on_flush(png_structp png)
{
    (void)png;
}

/* Runs libpng; its errors land back here by longjmp (nothing this function keeps in locals is
 * read after one), and it returns -1 then. */
static int encode(png_structp png, png_infop info, const uint8_t *pixels, int width, int height, int channels)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    int type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int y = 0; y < height; y++)
        png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, NULL);
    return 0;
}

clseg_status clseg_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels, char *err,
                             size_t err_size)
{
    if (path == NULL || path[0] == '\0') {
        clseg_errbuf_set(err, err_size, "(no path): a PNG needs a file name");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (pixels == NULL) {
        clseg_errbuf_set(err, err_size, "%s: no pixels given", path);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (width <= 0 || height <= 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE) {
        clseg_errbuf_set(err, err_size, "%s: %d x %d pixels, each side must be 1 to %d", path, width, height,
                         PNG_MAX_SIDE);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (channels != 1 && channels != 3 && channels != 4) {
        clseg_errbuf_set(err, err_size, "%s: %d channels, expected 1 (grey), 3 (RGB) or 4 (RGBA)", path, channels);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }

    png_sink sink = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        clseg_errbuf_set(err, err_size, "%s: out of host memory starting the PNG encoder", path);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    png_set_write_fn(png, &sink, on_write, on_flush);
    int failed = encode(png, info, pixels, width, height, channels);
    png_destroy_write_struct(&png, &info);
    if (failed) {
        free(sink.data);
        clseg_errbuf_set(err, err_size, "%s: cannot encode the PNG: %s", path, sink.message);
        return sink.out_of_memory ? CLSEG_STATUS_OUT_OF_HOST_MEMORY : CLSEG_STATUS_IO;
    }

    const void *parts[1] = {sink.data};
    size_t sizes[1] = {sink.size};
    char why[512] = "";
    clseg_status st = clseg_write_file_atomic(path, parts, sizes, 1, why, sizeof why);
    free(sink.data);
    if (st != CLSEG_STATUS_SUCCESS)
        clseg_errbuf_set(err, err_size, "%s: %s", path, why);
    return st;
}
