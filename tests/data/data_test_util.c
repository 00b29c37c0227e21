#include "data_test_util.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "test_util.h"

const char *dt_lgg_dir(void)
{
    static char path[4096]; /* test-only cache of a constant */
    const char *env = getenv("CLSEG_LGG_DIR");
    if (env != NULL && env[0] != '\0')
        snprintf(path, sizeof path, "%s", env);
    else
        snprintf(path, sizeof path, "%s/../shared/data/lgg", CLSEG_SOURCE_ROOT);
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? path : NULL;
}

void dt_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        unlink(dir);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = dt_path(dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            dt_rmtree(p);
        else
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

char *dt_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *dt_phantoms(int patients, int slices, int size, uint64_t seed)
{
    char *dir = test_tmpdir("clseg-data");
    clseg_phantom_options o = {patients, slices, size, seed};
    char err[1024] = "";
    ck_assert_msg(clseg_phantoms_write(dir, &o, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    return dir;
}

static int quiet(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

TIFF *dt_tiff_open(const char *path, const char *mode)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(o, quiet, NULL);
    TIFFOpenOptionsSetWarningHandlerExtR(o, quiet, NULL);
    TIFF *tif = TIFFOpenExt(path, mode, o);
    TIFFOpenOptionsFree(o);
    return tif;
}

clseg_dataset *dt_fixture_open(int patients, int slices, int size, uint64_t seed, char **root)
{
    *root = dt_phantoms(patients, slices, size, seed);
    char err[1024];
    return dt_load(*root, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
}

void dt_fixture_close(clseg_dataset *ds, char *root)
{
    clseg_dataset_destroy(ds);
    dt_rmtree(root);
    free(root);
}

void dt_write_tiff(const char *path, const dt_tiff *t, const void *pixels)
{
    TIFF *tif = dt_tiff_open(path, "w");
    ck_assert_msg(tif != NULL, "cannot create %s", path);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, t->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, t->height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, t->bits);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, t->spp);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, t->sample_format ? t->sample_format : SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, t->planar ? t->planar : PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
                 t->min_is_white ? PHOTOMETRIC_MINISWHITE
                 : t->photometric ? t->photometric
                 : t->spp == 3    ? PHOTOMETRIC_RGB
                                  : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, t->compression ? t->compression : COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 7u);
    size_t bps = t->bits / 8, w = t->width;
    bool planar = t->planar == PLANARCONFIG_SEPARATE;
    size_t line_bytes = w * bps * (planar ? 1 : t->spp);
    unsigned char *line = malloc(line_bytes);
    const unsigned char *px = pixels;
    for (uint16_t s = 0; s < (planar ? t->spp : 1); s++)
        for (uint32_t y = 0; y < t->height; y++) {
            for (size_t x = 0; x < w; x++) {
                if (planar)
                    memcpy(line + x * bps, px + ((y * w + x) * t->spp + s) * bps, bps);
                else
                    memcpy(line + x * bps * t->spp, px + (y * w + x) * t->spp * bps, bps * t->spp);
            }
            ck_assert_int_eq(TIFFWriteScanline(tif, line, y, s), 1);
        }
    free(line);
    TIFFClose(tif);
}

void dt_pattern(uint8_t *rgb, uint8_t *mask, int w, int h, int channels, uint32_t seed)
{
    uint32_t x32 = seed * 2654435761u + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            for (int c = 0; c < channels; c++) {
                x32 ^= x32 << 13;
                x32 ^= x32 >> 17;
                x32 ^= x32 << 5;
                rgb[i * channels + c] = (uint8_t)((x * 7 + y * 3 + c * 50) ^ (x32 & 15));
            }
            if (mask != NULL) {
                int dx = x - w / 3, dy = y - h / 2;
                mask[i] = dx * dx + 2 * dy * dy < (w * h) / 16 ? 255 : 0;
            }
        }
}

char *dt_write_file(const char *dir, const char *name, const void *data, size_t size)
{
    char *p = dt_path(dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", p);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
    return p;
}

clseg_dataset *dt_load(const char *root, bool strict, clseg_status want, char *err, size_t err_size)
{
    clseg_dataset_options o = {.strict = strict};
    clseg_dataset *ds = NULL;
    err[0] = '\0';
    clseg_status st = clseg_dataset_load(root, &o, &ds, err, err_size);
    ck_assert_msg(st == want, "load %s: status %d (%s), wanted %d: %s", root, st, clseg_status_str(st), want, err);
    ck_assert(st == CLSEG_STATUS_SUCCESS ? ds != NULL : ds == NULL);
    return ds;
}
