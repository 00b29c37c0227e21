/* Phantoms: the kaggle_3m layout and file format, a round trip through the reader, determinism. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>

#include "data/tiff_io.h"
#include "data_test_util.h"
#include "test_util.h"

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*size + 1);
    ck_assert_uint_eq(fread(b, 1, *size, f), *size);
    fclose(f);
    return b;
}

START_TEST(round_trip_through_the_reader)
{
    char *dir = test_tmpdir("clseg-phantom");
    clseg_phantom_options o = {3, 12, 64, 21};
    clseg_phantom_summary sum;
    char err[1024];
    ck_assert_int_eq(clseg_phantoms_write(dir, &o, &sum, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert(sum.patients == 3 && sum.slices == 36);
    clseg_dataset *ds = dt_load(dir, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 3);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 36);
    ck_assert_uint_eq(clseg_dataset_tumour_slice_count(ds), sum.tumour_slices);
    ck_assert_int_eq(clseg_dataset_channels(ds), 3);
    for (size_t p = 0; p < 3; p++) {
        clseg_patient_info pi;
        clseg_dataset_patient(ds, p, &pi);
        char want[64];
        snprintf(want, sizeof want, "PHANTOM_XX_%04zu_20260101", p + 1);
        ck_assert_str_eq(pi.name, want);
        ck_assert_ptr_nonnull(pi.csv_row);
        ck_assert_int_eq(strncmp(pi.csv_row, want, 15), 0);
        /* tumours grow and shrink: clear first and last slices, some in between */
        ck_assert(pi.tumour_slices > 0 && pi.tumour_slices < pi.slices);
        size_t area[12], peak = 0;
        for (size_t s = 0; s < 12; s++) {
            clseg_slice_info si;
            clseg_dataset_slice(ds, pi.first_slice + s, &si);
            area[s] = 0;
            for (int i = 0; i < 64 * 64; i++)
                area[s] += si.mask[i];
            peak = area[s] > area[peak] ? s : peak;
            /* what the reader gives back is the file's content */
            size_t size;
            unsigned char *bytes = slurp(si.mask_path, &size);
            tiff_image m;
            ck_assert_int_eq(tiff_io_decode(bytes, size, si.mask_path, &m, err, sizeof err), CLSEG_STATUS_SUCCESS);
            for (int i = 0; i < 64 * 64; i++) {
                ck_assert(m.pixels[i] == 0 || m.pixels[i] == 255);
                ck_assert_uint_eq(si.mask[i], m.pixels[i] / 255);
            }
            tiff_image_free(&m);
            free(bytes);
        }
        ck_assert(area[0] == 0 && area[11] == 0 && peak > 0 && peak < 11);
        ck_assert(area[peak - 1] <= area[peak] && area[peak + 1] <= area[peak]);
    }
    clseg_dataset_destroy(ds);
    dt_rmtree(dir);
    free(dir);
}
END_TEST

/* Tag numbers of a little-endian classic TIFF's first directory. */
static size_t tag_list(const unsigned char *b, size_t size, uint16_t *tags, size_t max)
{
    ck_assert(size > 8 && memcmp(b, "II*\0", 4) == 0);
    uint32_t off = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
    ck_assert_uint_lt(off + 2, size);
    size_t n = b[off] | b[off + 1] << 8;
    ck_assert_uint_le(n, max);
    for (size_t i = 0; i < n; i++)
        tags[i] = (uint16_t)(b[off + 2 + 12 * i] | b[off + 3 + 12 * i] << 8);
    return n;
}

/* Strips and tags of a slice file, as libtiff sees them. */
static void check_layout(const char *path, uint16_t spp, uint32_t rows_per_strip, uint32_t strips, uint64_t strip_bytes)
{
    TIFF *tif = dt_tiff_open(path, "r");
    ck_assert_ptr_nonnull(tif);
    uint16_t v16 = 0;
    uint32_t v32 = 0;
    ck_assert(!TIFFIsBigEndian(tif) && !TIFFIsBigTIFF(tif) && !TIFFIsTiled(tif));
    ck_assert(TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &v32) && v32 == 256);
    ck_assert(TIFFGetField(tif, TIFFTAG_SAMPLESPERPIXEL, &v16) && v16 == spp);
    ck_assert(TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &v16) && v16 == 8);
    ck_assert(TIFFGetField(tif, TIFFTAG_COMPRESSION, &v16) && v16 == COMPRESSION_NONE);
    ck_assert(TIFFGetField(tif, TIFFTAG_PLANARCONFIG, &v16) && v16 == PLANARCONFIG_CONTIG);
    ck_assert(TIFFGetField(tif, TIFFTAG_SAMPLEFORMAT, &v16) && v16 == SAMPLEFORMAT_UINT);
    ck_assert(TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &v16) &&
              v16 == (spp == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK));
    ck_assert(TIFFGetField(tif, TIFFTAG_ROWSPERSTRIP, &v32) && v32 == rows_per_strip);
    ck_assert_uint_eq(TIFFNumberOfStrips(tif), strips);
    for (uint32_t s = 0; s < strips; s++) { /* contiguous from byte 8, the last strip padded */
        ck_assert_uint_eq(TIFFGetStrileByteCount(tif, s), strip_bytes);
        ck_assert_uint_eq(TIFFGetStrileOffset(tif, s), 8 + s * strip_bytes);
    }
    TIFFClose(tif);
}

START_TEST(real_file_format)
{
    char *dir = test_tmpdir("clseg-phantom");
    clseg_phantom_options o = {1, 2, 256, 1};
    char err[1024];
    ck_assert_int_eq(clseg_phantoms_write(dir, &o, NULL, err, sizeof err), CLSEG_STATUS_SUCCESS);
    char *img = dt_path(dir, "PHANTOM_XX_0001_20260101/PHANTOM_XX_0001_20260101_1.tif");
    char *mask = dt_path(dir, "PHANTOM_XX_0001_20260101/PHANTOM_XX_0001_20260101_1_mask.tif");
    check_layout(img, 3, 11, 24, 8448);
    check_layout(mask, 1, 32, 8, 8192);
    size_t size;
    unsigned char *bytes = slurp(img, &size);
    uint16_t tags[64], real_tags[64];
    size_t ntags = tag_list(bytes, size, tags, 64);
    ck_assert_uint_eq(ntags, 11);
    /* the directory follows the pixels, as in the real files */
    ck_assert_uint_eq(bytes[4] | bytes[5] << 8 | bytes[6] << 16, 8 + 24 * 8448);
    free(bytes);
    const char *lgg = dt_lgg_dir();
    if (lgg != NULL) { /* the same tags as a real slice and mask */
        const char *names[2] = {"TCGA_CS_5396_20010302/TCGA_CS_5396_20010302_1.tif",
                                "TCGA_CS_5396_20010302/TCGA_CS_5396_20010302_1_mask.tif"};
        const char *ours[2] = {img, mask};
        for (int k = 0; k < 2; k++) {
            char *real = dt_path(lgg, names[k]);
            unsigned char *a = slurp(real, &size);
            size_t nreal = tag_list(a, size, real_tags, 64);
            free(a);
            a = slurp(ours[k], &size);
            ck_assert_uint_eq(tag_list(a, size, tags, 64), nreal);
            ck_assert_int_eq(memcmp(tags, real_tags, nreal * sizeof *tags), 0);
            free(a);
            free(real);
        }
    }
    char *csv = dt_path(dir, "data.csv");
    unsigned char *text = slurp(csv, &size);
    text[size] = '\0';
    ck_assert_int_eq(strncmp((char *)text, "Patient,RNASeqCluster,MethylationCluster,", 41), 0);
    ck_assert_ptr_nonnull(strstr((char *)text, "\nPHANTOM_XX_0001,"));
    free(text);
    free(csv);
    free(img);
    free(mask);
    dt_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(encode_decode_round_trip)
{
    const uint32_t shapes[][3] = {{16, 16, 1}, {37, 23, 3}, {256, 256, 3}, {5, 300, 1}, {1, 1, 3}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        uint32_t w = shapes[k][0], h = shapes[k][1], c = shapes[k][2];
        uint8_t *px = malloc((size_t)w * h * c);
        dt_pattern(px, NULL, (int)w, (int)h, (int)c, (uint32_t)k);
        unsigned char *data;
        size_t size;
        char err[512];
        ck_assert_int_eq(tiff_io_encode(px, w, h, c, &data, &size, err, sizeof err), CLSEG_STATUS_SUCCESS);
        tiff_image im;
        ck_assert_int_eq(tiff_io_decode(data, size, "memory", &im, err, sizeof err), CLSEG_STATUS_SUCCESS);
        ck_assert(im.width == w && im.height == h && im.channels == c);
        ck_assert_int_eq(memcmp(im.pixels, px, (size_t)w * h * c), 0);
        tiff_image_free(&im);
        free(data);
        free(px);
    }
}
END_TEST

static bool same_file(const char *a_dir, const char *b_dir, const char *name)
{
    char *a = dt_path(a_dir, name), *b = dt_path(b_dir, name);
    size_t na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    bool same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    free(a);
    free(b);
    return same;
}

START_TEST(seed_decides_every_byte)
{
    char *a = dt_phantoms(2, 3, 48, 5), *b = dt_phantoms(2, 3, 48, 5), *c = dt_phantoms(2, 3, 48, 6);
    const char *files[] = {"PHANTOM_XX_0001_20260101/PHANTOM_XX_0001_20260101_2.tif",
                           "PHANTOM_XX_0002_20260101/PHANTOM_XX_0002_20260101_3_mask.tif", "data.csv"};
    for (int k = 0; k < 3; k++)
        ck_assert(same_file(a, b, files[k]));
    ck_assert(!same_file(a, c, files[0]));
    dt_rmtree(a);
    dt_rmtree(b);
    dt_rmtree(c);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* Head-like: dark background, a textured inside, noise. */
START_TEST(looks_like_a_head)
{
    char *dir = dt_phantoms(1, 5, 128, 8);
    char err[1024];
    clseg_dataset *ds = dt_load(dir, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    clseg_slice_info si;
    clseg_dataset_slice(ds, 2, &si);
    double corner = 0, centre = 0, centre_sq = 0;
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) {
            corner += si.image[(y * 128 + x) * 3 + 1];
            double v = si.image[((y + 59) * 128 + x + 59) * 3 + 1];
            centre += v;
            centre_sq += v * v;
        }
    corner /= 100;
    centre /= 100;
    double sd = centre_sq / 100 - centre * centre;
    ck_assert_msg(corner < 10.0 && centre > 30.0 && sd > 4.0, "corner %g centre %g var %g", corner, centre, sd);
    clseg_dataset_destroy(ds);
    dt_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(errors_are_reported)
{
    char *dir = test_tmpdir("clseg-phantom");
    char *file = dt_write_file(dir, "occupied", "x", 1);
    clseg_phantom_options o = {1, 1, 16, 1};
    char err[1024] = "";
    ck_assert_int_eq(clseg_phantoms_write(file, &o, NULL, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_msg(strstr(err, "occupied") != NULL, "%s", err);
    char *below = dt_path(file, "sub");
    ck_assert_int_eq(clseg_phantoms_write(below, &o, NULL, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_msg(strstr(err, "occupied") != NULL, "%s", err);
    const clseg_phantom_options bad[] = {{0, 1, 16, 1}, {1, 0, 16, 1}, {1, 1, 15, 1}, {1, 1, 5000, 1}, {10000, 1, 16, 1}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        ck_assert_int_eq(clseg_phantoms_write(dir, &bad[k], NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_phantoms_write(NULL, &o, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    free(below);
    free(file);
    dt_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data_phantom");
    TCase *tc = tcase_create("phantom");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_through_the_reader);
    tcase_add_test(tc, real_file_format);
    tcase_add_test(tc, encode_decode_round_trip);
    tcase_add_test(tc, seed_decides_every_byte);
    tcase_add_test(tc, looks_like_a_head);
    tcase_add_test(tc, errors_are_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run(suite(), true); }
