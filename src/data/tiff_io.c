#include "data/tiff_io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "clseg/data.h"
#include "core/internal.h"
#include "util/files.h"

/* libtiff's largest single allocation for one file; a forged strip count cannot exceed it. */
#define TIFF_IO_MAX_ALLOC ((tmsize_t)256 << 20)

_Static_assert(TIFF_IO_MAX_SIDE == 16384u, "clseg_tiff_write's message states the largest side");

/* A file in memory, for libtiff's client I/O: the same reader serves files and the fuzzer. */
typedef struct mem_file {
    unsigned char *data;
    size_t size, cap, pos;
} mem_file;

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
    mem_file *f = (mem_file *)h;
    if (n < 0)
        return -1;
    size_t left = f->pos < f->size ? f->size - f->pos : 0;
    size_t take = (size_t)n < left ? (size_t)n : left;
    if (take > 0)
        memcpy(buf, f->data + f->pos, take);
    f->pos += take;
    return (tmsize_t)take;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
    mem_file *f = (mem_file *)h;
    if (n < 0 || f->pos > SIZE_MAX / 2 || (size_t)n > SIZE_MAX / 2 - f->pos)
        return -1;
    size_t end = f->pos + (size_t)n;
    if (end > f->cap) {
        size_t cap = f->cap > 0 ? f->cap : 65536;
        while (cap < end)
            cap *= 2;
        unsigned char *grown = realloc(f->data, cap);
        if (grown == NULL)
            return -1;
        f->data = grown;
        f->cap = cap;
    }
    if (f->pos > f->size) /* a seek past the end leaves a hole of zeros */
        memset(f->data + f->size, 0, f->pos - f->size);
    memcpy(f->data + f->pos, buf, (size_t)n);
    f->pos = end;
    if (end > f->size)
        f->size = end;
    return n;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    mem_file *f = (mem_file *)h;
    uint64_t base = whence == SEEK_CUR ? f->pos : whence == SEEK_END ? f->size : 0;
    /* toff_t is unsigned: a negative relative offset arrives wrapped around */
    uint64_t pos = base + off;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return (toff_t)-1;
    if (pos > (uint64_t)1 << 40)
        return (toff_t)-1;
    f->pos = (size_t)pos;
    return pos;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mem_size(thandle_t h) { return ((mem_file *)h)->size; }

static int mem_map(thandle_t h, void **base, toff_t *size)
{
    (void)h;
    (void)base;
    (void)size;
    return 0;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h;
    (void)base;
    (void)size;
}

/* libtiff's messages for one handle: the first error is kept, warnings are dropped (the real
 * files' padded last strip, for one, is harmless). */
typedef struct tiff_msgs {
    char first_error[512];
} tiff_msgs;

__attribute__((format(printf, 4, 0))) static int on_error(TIFF *tif, void *user, const char *module,
                                                           const char *fmt, va_list ap)
{
    (void)tif;
    tiff_msgs *m = user;
    if (m->first_error[0] == '\0') {
        int n = snprintf(m->first_error, sizeof m->first_error, "%s: ", module != NULL ? module : "libtiff");
        if (n > 0 && (size_t)n < sizeof m->first_error)
            vsnprintf(m->first_error + n, sizeof m->first_error - (size_t)n, fmt, ap);
    }
    return 1;
}

__attribute__((format(printf, 4, 0))) static int on_warning(TIFF *tif, void *user, const char *module,
                                                             const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

static TIFF *open_mem(mem_file *f, const char *name, const char *mode, tiff_msgs *msgs)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (opts == NULL)
        return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, msgs);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, msgs);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, TIFF_IO_MAX_ALLOC);
    TIFF *tif = TIFFClientOpenExt(name, mode, (thandle_t)f, mem_read, mem_write, mem_seek, mem_close, mem_size,
                                  mem_map, mem_unmap, opts);
    TIFFOpenOptionsFree(opts);
    return tif;
}

bool tiff_io_is_tiff(const void *data, size_t size)
{
    const unsigned char *p = data;
    if (size < 4)
        return false;
    bool le = p[0] == 'I' && p[1] == 'I' && p[3] == 0 && (p[2] == 42 || p[2] == 43);
    bool be = p[0] == 'M' && p[1] == 'M' && p[2] == 0 && (p[3] == 42 || p[3] == 43);
    return le || be;
}

void tiff_image_free(tiff_image *image)
{
    free(image->pixels);
    image->pixels = NULL;
}

/* Checks the tags against what the reader handles; returns the status and fills err. */
static clseg_status check_layout(TIFF *tif, const char *name, uint32_t w, uint32_t h, uint16_t *spp_out,
                                 uint16_t *planar_out, bool *invert, char *err, size_t err_size)
{
    uint16_t bps = 1, spp = 1, fmt = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG, photo = 0, comp = 1;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo))
        photo = spp == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    if (w == 0 || h == 0) {
        clseg_errbuf_set(err, err_size, "%s: image of %ux%u pixels", name, w, h);
        return CLSEG_STATUS_BAD_FORMAT;
    }
    if (w > TIFF_IO_MAX_SIDE || h > TIFF_IO_MAX_SIDE || (uint64_t)w * h > TIFF_IO_MAX_PIXELS) {
        clseg_errbuf_set(err, err_size, "%s: %ux%u pixels is larger than the reader accepts", name, w, h);
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    if (fmt != SAMPLEFORMAT_UINT && fmt != SAMPLEFORMAT_VOID) {
        clseg_errbuf_set(err, err_size, "%s: sample format %s is not supported (unsigned integers only)", name,
                         fmt == SAMPLEFORMAT_IEEEFP ? "float" : fmt == SAMPLEFORMAT_INT ? "signed integer" : "other");
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    if (bps != 8) {
        clseg_errbuf_set(err, err_size, "%s: %u bits per sample is not supported (8-bit only)", name, bps);
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    if (spp != 1 && spp != 3) {
        clseg_errbuf_set(err, err_size, "%s: %u samples per pixel is not supported (1 or 3)", name, spp);
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    bool photo_ok = spp == 3 ? photo == PHOTOMETRIC_RGB
                             : photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_MINISWHITE;
    if (!photo_ok) {
        clseg_errbuf_set(err, err_size, "%s: photometric interpretation %u with %u samples is not supported", name,
                         photo, spp);
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    if (planar != PLANARCONFIG_CONTIG && planar != PLANARCONFIG_SEPARATE) {
        clseg_errbuf_set(err, err_size, "%s: planar configuration %u is invalid", name, planar);
        return CLSEG_STATUS_BAD_FORMAT;
    }
    if (TIFFIsTiled(tif)) {
        clseg_errbuf_set(err, err_size, "%s: tiled TIFFs are not supported (strips only)", name);
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    if (!TIFFIsCODECConfigured(comp)) {
        clseg_errbuf_set(err, err_size, "%s: compression scheme %u is not supported", name, comp);
        return CLSEG_STATUS_NOT_SUPPORTED;
    }
    uint64_t line = TIFFScanlineSize64(tif);
    uint64_t want = (uint64_t)w * (planar == PLANARCONFIG_CONTIG ? spp : 1);
    if (line != want) {
        clseg_errbuf_set(err, err_size, "%s: scanline of %llu bytes where %llu were expected", name,
                         (unsigned long long)line, (unsigned long long)want);
        return CLSEG_STATUS_BAD_FORMAT;
    }
    *spp_out = spp;
    *planar_out = planar;
    *invert = spp == 1 && photo == PHOTOMETRIC_MINISWHITE;
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status read_pixels(TIFF *tif, const char *name, tiff_image *im, uint16_t planar, bool invert,
                                const tiff_msgs *msgs, char *err, size_t err_size)
{
    size_t w = im->width, h = im->height, c = im->channels;
    size_t total = w * h * c;
    im->pixels = malloc(total);
    uint8_t *line = malloc(w * c);
    if (im->pixels == NULL || line == NULL) {
        free(line);
        tiff_image_free(im);
        clseg_errbuf_set(err, err_size, "%s: out of host memory for %zux%zu pixels", name, w, h);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    size_t planes = planar == PLANARCONFIG_SEPARATE ? c : 1;
    for (size_t s = 0; s < planes; s++) {
        for (size_t y = 0; y < h; y++) {
            if (TIFFReadScanline(tif, line, (uint32_t)y, (uint16_t)s) < 0) {
                free(line);
                tiff_image_free(im);
                clseg_errbuf_set(err, err_size, "%s: truncated or damaged at row %zu (%s)", name, y,
                                 msgs->first_error[0] ? msgs->first_error : "read error");
                return CLSEG_STATUS_BAD_FORMAT;
            }
            uint8_t *row = im->pixels + y * w * c;
            if (planes == 1)
                memcpy(row, line, w * c);
            else
                for (size_t x = 0; x < w; x++)
                    row[x * c + s] = line[x];
        }
    }
    free(line);
    if (invert)
        for (size_t i = 0; i < total; i++)
            im->pixels[i] = (uint8_t)(255 - im->pixels[i]);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status tiff_io_decode(const void *data, size_t size, const char *name, tiff_image *image, char *err,
                            size_t err_size)
{
    memset(image, 0, sizeof *image);
    if (!tiff_io_is_tiff(data, size)) {
        clseg_errbuf_set(err, err_size, "%s: not a TIFF file (%zu bytes, no TIFF header)", name, size);
        return CLSEG_STATUS_BAD_FORMAT;
    }
    /* libtiff only reads through the handle; the cast drops const for its generic I/O struct */
    mem_file f = {(unsigned char *)(uintptr_t)data, size, size, 0};
    tiff_msgs msgs = {{0}};
    TIFF *tif = open_mem(&f, name, "rm", &msgs);
    if (tif == NULL) {
        clseg_errbuf_set(err, err_size, "%s: truncated or damaged TIFF (%s)", name,
                         msgs.first_error[0] ? msgs.first_error : "cannot open");
        return CLSEG_STATUS_BAD_FORMAT;
    }
    uint32_t w = 0, h = 0;
    uint16_t spp = 0, planar = 0;
    bool invert = false;
    clseg_status st;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
        clseg_errbuf_set(err, err_size, "%s: damaged TIFF without image width or length", name);
        st = CLSEG_STATUS_BAD_FORMAT;
    } else {
        st = check_layout(tif, name, w, h, &spp, &planar, &invert, err, err_size);
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        image->width = w;
        image->height = h;
        image->channels = spp;
        st = read_pixels(tif, name, image, planar, invert, &msgs, err, err_size);
    }
    TIFFClose(tif);
    if (st != CLSEG_STATUS_SUCCESS)
        memset(image, 0, sizeof *image);
    return st;
}

clseg_status tiff_io_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                            unsigned char **data, size_t *size, char *err, size_t err_size)
{
    *data = NULL;
    *size = 0;
    if (width == 0 || height == 0 || width > TIFF_IO_MAX_SIDE || height > TIFF_IO_MAX_SIDE ||
        (channels != 1 && channels != 3)) {
        clseg_errbuf_set(err, err_size, "cannot encode a %ux%u image of %u channels", width, height, channels);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    size_t row_bytes = (size_t)width * channels;
    /* the real files' writer cut strips at 8 KiB: 11 rows of 256 RGB pixels, 32 of a mask */
    size_t rows = (8192 + row_bytes - 1) / row_bytes;
    if (rows > height)
        rows = height;
    size_t strip_bytes = rows * row_bytes;
    mem_file f = {0};
    tiff_msgs msgs = {{0}};
    unsigned char *strip = malloc(strip_bytes);
    TIFF *tif = strip != NULL ? open_mem(&f, "memory", "wl", &msgs) : NULL;
    bool ok = tif != NULL;
    if (ok) {
        ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width) && TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height) &&
             TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8) && TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, channels) &&
             TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE) &&
             TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, channels == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)rows) &&
             TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
        for (uint32_t y = 0, s = 0; ok && y < height; y += (uint32_t)rows, s++) {
            size_t n = height - y < rows ? height - y : rows;
            memcpy(strip, pixels + (size_t)y * row_bytes, n * row_bytes);
            memset(strip + n * row_bytes, 0, strip_bytes - n * row_bytes);
            /* raw strips keep the full size for the last one too, as the real files have it */
            ok = TIFFWriteRawStrip(tif, s, strip, (tmsize_t)strip_bytes) == (tmsize_t)strip_bytes;
        }
        ok = ok && TIFFWriteDirectory(tif);
        TIFFClose(tif);
    }
    free(strip);
    if (!ok) {
        free(f.data);
        clseg_errbuf_set(err, err_size, "cannot encode a %ux%u TIFF: %s", width, height,
                         msgs.first_error[0] ? msgs.first_error : "out of host memory");
        return msgs.first_error[0] ? CLSEG_STATUS_INTERNAL : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    *data = f.data;
    *size = f.size;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_tiff_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
                              char *err, size_t err_size)
{
    const char *bad = NULL;
    if (path == NULL || path[0] == '\0')
        bad = "no file name given";
    else if (pixels == NULL)
        bad = "pixels is NULL";
    else if (width < 1 || height < 1 || width > (int)TIFF_IO_MAX_SIDE || height > (int)TIFF_IO_MAX_SIDE)
        bad = "width and height must be 1..16384";
    else if (channels != 1 && channels != 3)
        bad = "channels must be 1 (a mask) or 3";
    if (bad != NULL) {
        clseg_errbuf_set(err, err_size, "cannot write TIFF '%s' (%dx%d, %d channels): %s", path ? path : "(null)",
                         width, height, channels, bad);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    unsigned char *data = NULL;
    size_t size = 0;
    char msg[512];
    clseg_status st = tiff_io_encode(pixels, (uint32_t)width, (uint32_t)height, (uint32_t)channels, &data, &size, msg,
                                     sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "cannot write TIFF '%s': %s", path, msg);
        return st;
    }
    const void *parts[1] = {data};
    st = clseg_write_file_atomic(path, parts, &size, 1, err, err_size);
    free(data);
    return st;
}
