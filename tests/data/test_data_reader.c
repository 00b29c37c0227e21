/* The kaggle_3m reader: the real sample's counts and pixels, layouts, and every kind of bad input. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "data/tiff_io.h"
#include "data_test_util.h"
#include "test_util.h"

/* --- the real sample (SOURCE.md) ---------------------------------------------------------- */

static const struct {
    const char *name;
    size_t slices, tumour;
} real_patients[] = {
    {"TCGA_CS_5396_20010302", 24, 11}, {"TCGA_DU_6408_19860521", 56, 27}, {"TCGA_DU_7018_19911220", 36, 18},
    {"TCGA_DU_8168_19970503", 36, 15}, {"TCGA_FG_5962_20000626", 51, 26}, {"TCGA_FG_A4MU_20030903", 36, 18},
    {"TCGA_HT_7608_19940304", 28, 14}, {"TCGA_HT_7882_19970125", 32, 17}, {"TCGA_HT_A5RC_19990831", 32, 15},
    {"TCGA_HT_A61A_20000127", 88, 37},
};

START_TEST(real_sample_counts)
{
    const char *dir = dt_lgg_dir();
    if (dir == NULL) {
        printf("real_sample_counts: no LGG sample (set CLSEG_LGG_DIR): skipped\n");
        return;
    }
    char err[2048];
    clseg_dataset *ds = dt_load(dir, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 10);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 419);
    ck_assert_uint_eq(clseg_dataset_tumour_slice_count(ds), 198);
    ck_assert_int_eq(clseg_dataset_channels(ds), 3);
    ck_assert_uint_eq(clseg_dataset_skipped(ds), 0);
    for (size_t p = 0; p < 10; p++) {
        clseg_patient_info pi;
        ck_assert_int_eq(clseg_dataset_patient(ds, p, &pi), CLSEG_STATUS_SUCCESS);
        ck_assert_str_eq(pi.name, real_patients[p].name);
        ck_assert_uint_eq(pi.slices, real_patients[p].slices);
        ck_assert_uint_eq(pi.tumour_slices, real_patients[p].tumour);
        /* data.csv's Patient column is the folder name without the date */
        ck_assert_ptr_nonnull(pi.csv_row);
        ck_assert_int_eq(strncmp(pi.csv_row, pi.name, 12), 0);
        ck_assert_int_eq(pi.csv_row[12], ',');
        for (size_t i = 0; i < pi.slices; i++) { /* numeric order: 1, 2, ..., 10, not 1, 10, 11 */
            clseg_slice_info si;
            ck_assert_int_eq(clseg_dataset_slice(ds, pi.first_slice + i, &si), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(si.number, (int)i + 1);
            ck_assert_uint_eq(si.patient, p);
            ck_assert_int_eq(si.width, 256);
            ck_assert_int_eq(si.height, 256);
            ck_assert(si.has_mask && si.mask_path != NULL);
        }
    }
    clseg_dataset_destroy(ds);
}
END_TEST

/* Channel sums, tumour pixel count and pixel (x 100, y 128) of three slices, computed once by
 * this reader and checked against the raw bytes of the files (pixel data starts at byte 8). */
static const struct {
    const char *patient;
    int number;
    uint64_t sums[3];
    size_t tumour_pixels;
    uint8_t pixel[3];
} real_slices[] = {
    {"TCGA_CS_5396_20010302", 10, {1779605, 2054955, 2276903}, 0, {38, 45, 82}},
    {"TCGA_HT_A61A_20000127", 40, {1294590, 454996, 1276078}, 2211, {56, 18, 50}},
    {"TCGA_DU_6408_19860521", 30, {1278186, 2207099, 1541587}, 5227, {52, 159, 60}},
};

START_TEST(real_sample_pixels)
{
    const char *dir = dt_lgg_dir();
    if (dir == NULL) {
        printf("real_sample_pixels: no LGG sample (set CLSEG_LGG_DIR): skipped\n");
        return;
    }
    char err[2048];
    clseg_dataset *ds = dt_load(dir, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    for (size_t k = 0; k < 3; k++) {
        size_t p = clseg_dataset_find_patient(ds, real_slices[k].patient);
        ck_assert_uint_ne(p, (size_t)-1);
        clseg_patient_info pi;
        clseg_dataset_patient(ds, p, &pi);
        clseg_slice_info si;
        ck_assert_int_eq(clseg_dataset_slice(ds, pi.first_slice + (size_t)real_slices[k].number - 1, &si),
                         CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(si.number, real_slices[k].number);
        uint64_t sums[3] = {0, 0, 0};
        size_t tumour = 0;
        for (size_t i = 0; i < 256 * 256; i++) {
            for (int c = 0; c < 3; c++)
                sums[c] += si.image[i * 3 + (size_t)c];
            ck_assert_uint_le(si.mask[i], 1);
            tumour += si.mask[i];
        }
        for (int c = 0; c < 3; c++) {
            ck_assert_uint_eq(sums[c], real_slices[k].sums[c]);
            ck_assert_uint_eq(si.image[(128 * 256 + 100) * 3 + c], real_slices[k].pixel[c]);
        }
        ck_assert_uint_eq(tumour, real_slices[k].tumour_pixels);
        ck_assert(si.tumour == (tumour > 0));
    }
    clseg_dataset_destroy(ds);
}
END_TEST

/* --- hand-made datasets ------------------------------------------------------------------- */

static void write_encoded(const char *dir, const char *name, const uint8_t *px, int w, int h, int c)
{
    unsigned char *data = NULL;
    size_t size = 0;
    char err[512];
    ck_assert_int_eq(tiff_io_encode(px, (uint32_t)w, (uint32_t)h, (uint32_t)c, &data, &size, err, sizeof err),
                     CLSEG_STATUS_SUCCESS);
    free(dt_write_file(dir, name, data, size));
    free(data);
}

/* root/patient/patient_n.tif and its mask, image w x h, mask mw x mh. */
static void write_pair(const char *root, const char *patient, int n, int w, int h, int mw, int mh)
{
    char *dir = dt_path(root, patient), name[256];
    mkdir(dir, 0777);
    uint8_t *rgb = malloc((size_t)w * h * 3), *mask = malloc((size_t)mw * mh * 3);
    dt_pattern(rgb, NULL, w, h, 3, (uint32_t)n);
    dt_pattern(mask, mask, mw, mh, 1, 0);
    snprintf(name, sizeof name, "%s_%d.tif", patient, n);
    write_encoded(dir, name, rgb, w, h, 3);
    snprintf(name, sizeof name, "%s_%d_mask.tif", patient, n);
    write_encoded(dir, name, mask, mw, mh, 1);
    free(rgb);
    free(mask);
    free(dir);
}

static char *patient_file(const char *root, const char *patient, const char *suffix)
{
    char name[512];
    snprintf(name, sizeof name, "%s/%s/%s%s", root, patient, patient, suffix);
    char *p = malloc(strlen(name) + 1);
    strcpy(p, name);
    return p;
}

/* Replaces root/patient/patient<suffix> with the TIFF t of a pattern. */
static void rewrite_tiff(const char *root, const char *patient, const char *suffix, const dt_tiff *t)
{
    size_t bytes = (size_t)t->width * t->height * t->spp * (t->bits / 8);
    uint8_t *px = calloc(bytes, 1);
    char *path = patient_file(root, patient, suffix);
    dt_write_tiff(path, t, px);
    free(path);
    free(px);
}

typedef void (*make_case_fn)(const char *root);

/* Patient folder B_CASE, with a good pair B_CASE_1 when pair, and the file name holding text. */
static void with_file(const char *root, bool pair, const char *name, const char *text)
{
    char *dir = dt_path(root, "B_CASE");
    if (pair)
        write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    else
        ck_assert_int_eq(mkdir(dir, 0777), 0);
    free(dt_write_file(dir, name, text, strlen(text)));
    free(dir);
}

static void case_not_tiff(const char *root) { with_file(root, true, "B_CASE_1.tif", "hello, not an image\n"); }

static void case_truncated(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    char *path = patient_file(root, "B_CASE", "_1.tif");
    ck_assert_int_eq(truncate(path, 1500), 0);
    free(path);
}

static void case_truncated_ifd(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    char *path = patient_file(root, "B_CASE", "_1_mask.tif");
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(truncate(path, sb.st_size - 40), 0); /* the directory sits at the end */
    free(path);
}

static void case_size_mismatch(const char *root) { write_pair(root, "B_CASE", 1, 32, 32, 16, 32); }

static void case_no_mask(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    char *path = patient_file(root, "B_CASE", "_1_mask.tif");
    unlink(path);
    free(path);
}

static void case_no_image(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    char *path = patient_file(root, "B_CASE", "_1.tif");
    unlink(path);
    free(path);
}

static void case_16bit(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    dt_tiff t = {32, 32, 3, 16, 0, 0, 0, 0, false};
    rewrite_tiff(root, "B_CASE", "_1.tif", &t);
}

static void case_float(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    dt_tiff t = {32, 32, 1, 32, SAMPLEFORMAT_IEEEFP, 0, 0, 0, false};
    rewrite_tiff(root, "B_CASE", "_1_mask.tif", &t);
}

static void case_signed(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    dt_tiff t = {32, 32, 3, 8, SAMPLEFORMAT_INT, 0, 0, 0, false};
    rewrite_tiff(root, "B_CASE", "_1.tif", &t);
}

static void case_rgba(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    dt_tiff t = {32, 32, 4, 8, 0, 0, PHOTOMETRIC_RGB, 0, false};
    rewrite_tiff(root, "B_CASE", "_1.tif", &t);
}

static void case_empty_folder(const char *root)
{
    char *dir = dt_path(root, "B_CASE");
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    free(dir);
}

static void case_bad_name(const char *root) { with_file(root, false, "B_CASE_1a.tif", "II*"); }

static void case_repeated(const char *root) { with_file(root, true, "B_CASE_01.tif", "II*"); }

static void case_channels(const char *root)
{
    write_pair(root, "B_CASE", 1, 32, 32, 32, 32);
    dt_tiff t = {32, 32, 1, 8, 0, 0, 0, 0, false};
    rewrite_tiff(root, "B_CASE", "_1.tif", &t);
}

static void case_bad_csv(const char *root)
{
    const char text[] = "Name,Grade\nB_CASE,2\n";
    free(dt_write_file(root, "data.csv", text, sizeof text - 1));
}

static const struct {
    const char *what;
    make_case_fn make;
    clseg_skip_reason reason;
    clseg_status strict_status;
    const char *file;    /* what the message must name */
    const char *problem; /* and a word of the problem */
} bad_cases[] = {
    {"not a TIFF", case_not_tiff, CLSEG_SKIP_NOT_TIFF, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1.tif", "not a TIFF"},
    {"truncated pixels", case_truncated, CLSEG_SKIP_DAMAGED, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1.tif", "truncated"},
    {"truncated directory", case_truncated_ifd, CLSEG_SKIP_DAMAGED, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1_mask.tif",
     "truncated"},
    {"sizes differ", case_size_mismatch, CLSEG_SKIP_SIZE_MISMATCH, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1.tif", "16x32"},
    {"no mask", case_no_mask, CLSEG_SKIP_NO_MASK, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1.tif", "without its _mask"},
    {"no image", case_no_image, CLSEG_SKIP_NO_IMAGE, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1_mask.tif", "without its image"},
    {"16-bit", case_16bit, CLSEG_SKIP_UNSUPPORTED, CLSEG_STATUS_NOT_SUPPORTED, "B_CASE_1.tif", "16 bits"},
    {"float", case_float, CLSEG_SKIP_UNSUPPORTED, CLSEG_STATUS_NOT_SUPPORTED, "B_CASE_1_mask.tif", "float"},
    {"signed", case_signed, CLSEG_SKIP_UNSUPPORTED, CLSEG_STATUS_NOT_SUPPORTED, "B_CASE_1.tif", "signed"},
    {"4 samples", case_rgba, CLSEG_SKIP_UNSUPPORTED, CLSEG_STATUS_NOT_SUPPORTED, "B_CASE_1.tif", "4 samples"},
    {"empty folder", case_empty_folder, CLSEG_SKIP_EMPTY_FOLDER, CLSEG_STATUS_BAD_FORMAT, "B_CASE", "without slices"},
    {"bad name", case_bad_name, CLSEG_SKIP_BAD_NAME, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1a.tif", "not named"},
    {"repeated number", case_repeated, CLSEG_SKIP_BAD_NAME, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1.tif", "repeats"},
    {"channels differ", case_channels, CLSEG_SKIP_CHANNEL_MISMATCH, CLSEG_STATUS_BAD_FORMAT, "B_CASE_1.tif",
     "1 channels"},
    {"data.csv", case_bad_csv, CLSEG_SKIP_BAD_CSV, CLSEG_STATUS_BAD_FORMAT, "data.csv", "Patient column"},
};

/* Each bad case beside a good patient: the default skips it and reports why; strict fails on
 * it with a message naming the file and the problem. */
START_TEST(bad_input_case)
{
    int i = _i;
    char *root = test_tmpdir("clseg-bad");
    write_pair(root, "A_GOOD", 1, 32, 32, 32, 32);
    write_pair(root, "A_GOOD", 2, 32, 32, 32, 32);
    bad_cases[i].make(root);
    char err[2048];
    clseg_dataset *ds = dt_load(root, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 1);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 2);
    ck_assert_msg(clseg_dataset_skipped(ds) == 1, "%s: %zu skipped", bad_cases[i].what, clseg_dataset_skipped(ds));
    ck_assert_uint_eq(clseg_dataset_skipped_by_reason(ds, bad_cases[i].reason), 1);
    clseg_skip_reason reason;
    const char *msg = clseg_dataset_skip_message(ds, 0, &reason);
    ck_assert_int_eq(reason, bad_cases[i].reason);
    ck_assert_msg(strstr(msg, bad_cases[i].file) && strstr(msg, bad_cases[i].problem), "%s: '%s'", bad_cases[i].what,
                  msg);
    ck_assert_ptr_null(clseg_dataset_skip_message(ds, 1, NULL));
    clseg_dataset_destroy(ds);

    dt_load(root, true, bad_cases[i].strict_status, err, sizeof err);
    ck_assert_msg(strstr(err, bad_cases[i].file) && strstr(err, bad_cases[i].problem), "%s strict: '%s'",
                  bad_cases[i].what, err);
    dt_rmtree(root);
    free(root);
}
END_TEST

/* Every case at once: the report counts each reason, strict stops at the first (A_ sorts first). */
START_TEST(bad_inputs_together)
{
    char *root = test_tmpdir("clseg-bad");
    write_pair(root, "A_GOOD", 1, 32, 32, 32, 32);
    const char *names[] = {"B_NOTTIFF", "C_NOMASK", "D_SIZE"};
    for (int k = 0; k < 3; k++) {
        write_pair(root, names[k], 1, 32, 32, 32, 32);
        write_pair(root, names[k], 2, 32, 32, 32, 32);
    }
    char *dir = dt_path(root, "B_NOTTIFF");
    free(dt_write_file(dir, "B_NOTTIFF_2_mask.tif", "II", 2));
    free(dir);
    char *path = patient_file(root, "C_NOMASK", "_1_mask.tif");
    unlink(path);
    free(path);
    write_pair(root, "D_SIZE", 3, 32, 32, 32, 31);
    char err[2048];
    clseg_dataset *ds = dt_load(root, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 4);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 1 + 1 + 1 + 2);
    ck_assert_uint_eq(clseg_dataset_skipped(ds), 3);
    ck_assert_uint_eq(clseg_dataset_skipped_by_reason(ds, CLSEG_SKIP_NOT_TIFF), 1);
    ck_assert_uint_eq(clseg_dataset_skipped_by_reason(ds, CLSEG_SKIP_NO_MASK), 1);
    ck_assert_uint_eq(clseg_dataset_skipped_by_reason(ds, CLSEG_SKIP_SIZE_MISMATCH), 1);
    clseg_dataset_destroy(ds);
    dt_load(root, true, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
    ck_assert_msg(strstr(err, "B_NOTTIFF_2_mask.tif") != NULL, "%s", err);
    dt_rmtree(root);
    free(root);
}
END_TEST

START_TEST(missing_or_empty_root)
{
    char err[2048];
    dt_load("/nonexistent/clseg-lgg", false, CLSEG_STATUS_IO, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/clseg-lgg"));
    char *root = test_tmpdir("clseg-empty");
    dt_load(root, false, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(err, "no usable slices"));
    char *file = dt_write_file(root, "plain", "x", 1);
    dt_load(file, false, CLSEG_STATUS_IO, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(err, "not a folder"));
    /* only bad patients: nothing usable is an error even when skipping */
    case_not_tiff(root);
    dt_load(root, false, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(err, "B_CASE_1.tif"));
    free(file);
    dt_rmtree(root);
    free(root);
    clseg_dataset *ds = NULL;
    ck_assert_int_eq(clseg_dataset_load(NULL, NULL, &ds, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

/* Contiguous, planar, MinIsWhite, compressed: the same pixels come out. */
START_TEST(layouts_read_alike)
{
    char *dir = test_tmpdir("clseg-layout");
    enum { W = 37, H = 23 };
    uint8_t rgb[W * H * 3], gray[W * H];
    dt_pattern(rgb, NULL, W, H, 3, 5);
    dt_pattern(gray, NULL, W, H, 1, 6);
    const struct {
        dt_tiff t;
        const uint8_t *px;
        bool invert;
    } layouts[] = {
        {{W, H, 3, 8, 0, PLANARCONFIG_CONTIG, 0, 0, false}, rgb, false},
        {{W, H, 3, 8, 0, PLANARCONFIG_SEPARATE, 0, 0, false}, rgb, false},
        {{W, H, 3, 8, SAMPLEFORMAT_VOID, PLANARCONFIG_SEPARATE, 0, COMPRESSION_LZW, false}, rgb, false},
        {{W, H, 3, 8, 0, 0, 0, COMPRESSION_ADOBE_DEFLATE, false}, rgb, false},
        {{W, H, 1, 8, 0, 0, 0, 0, false}, gray, false},
        {{W, H, 1, 8, 0, 0, 0, COMPRESSION_PACKBITS, true}, gray, true},
    };
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        char *path = dt_path(dir, "x.tif");
        dt_write_tiff(path, &layouts[k].t, layouts[k].px);
        unsigned char *bytes = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "rb");
        fseek(f, 0, SEEK_END);
        size = (size_t)ftell(f);
        rewind(f);
        bytes = malloc(size);
        ck_assert_uint_eq(fread(bytes, 1, size, f), size);
        fclose(f);
        tiff_image im;
        char err[1024];
        ck_assert_msg(tiff_io_decode(bytes, size, path, &im, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%zu: %s", k,
                      err);
        ck_assert_uint_eq(im.width, W);
        ck_assert_uint_eq(im.height, H);
        ck_assert_uint_eq(im.channels, layouts[k].t.spp);
        for (size_t i = 0; i < (size_t)W * H * im.channels; i++) {
            uint8_t want = layouts[k].invert ? (uint8_t)(255 - layouts[k].px[i]) : layouts[k].px[i];
            ck_assert_msg(im.pixels[i] == want, "layout %zu sample %zu: %u != %u", k, i, im.pixels[i], want);
        }
        tiff_image_free(&im);
        free(bytes);
        free(path);
    }
    dt_rmtree(dir);
    free(dir);
}
END_TEST

/* A grayscale dataset, masks stored 0/1 or 0/255, and a mask with RGB samples. */
START_TEST(grayscale_and_mask_values)
{
    char *root = test_tmpdir("clseg-gray");
    char *dir = dt_path(root, "G_1");
    mkdir(dir, 0777);
    enum { W = 20, H = 12 };
    uint8_t img[W * H], mask[W * H], mask3[W * H * 3];
    dt_pattern(img, mask, W, H, 1, 3);
    write_encoded(dir, "G_1_1.tif", img, W, H, 1);
    write_encoded(dir, "G_1_1_mask.tif", mask, W, H, 1);
    uint8_t ones[W * H];
    for (int i = 0; i < W * H; i++) {
        ones[i] = mask[i] ? 1 : 0;
        mask3[i * 3] = mask3[i * 3 + 1] = 0;
        mask3[i * 3 + 2] = mask[i];
    }
    write_encoded(dir, "G_1_2.tif", img, W, H, 1);
    write_encoded(dir, "G_1_2_mask.tif", ones, W, H, 1);
    write_encoded(dir, "G_1_3.tif", img, W, H, 1);
    write_encoded(dir, "G_1_3_mask.tif", mask3, W, H, 3);
    char err[2048];
    clseg_dataset *ds = dt_load(root, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_int_eq(clseg_dataset_channels(ds), 1);
    ck_assert_uint_eq(clseg_dataset_tumour_slice_count(ds), 3);
    for (size_t s = 0; s < 3; s++) {
        clseg_slice_info si;
        clseg_dataset_slice(ds, s, &si);
        ck_assert_int_eq(si.channels, 1);
        ck_assert(si.has_mask && si.mask_path != NULL);
        ck_assert_int_eq(memcmp(si.image, img, sizeof img), 0);
        ck_assert_int_eq(memcmp(si.mask, ones, sizeof ones), 0);
    }
    clseg_dataset_destroy(ds);
    free(dir);
    dt_rmtree(root);
    free(root);
}
END_TEST

/* --- optional masks, other roots, writing ----------------------------------------------- */

static clseg_dataset *load_opts(const char *root, bool strict, bool allow_missing, clseg_status want, char *err,
                                size_t err_size)
{
    clseg_dataset_options o = {.strict = strict, .allow_missing_masks = allow_missing};
    clseg_dataset *ds = NULL;
    err[0] = '\0';
    clseg_status st = clseg_dataset_load(root, &o, &ds, err, err_size);
    ck_assert_msg(st == want, "load %s: status %d, wanted %d: %s", root, st, want, err);
    ck_assert(st == CLSEG_STATUS_SUCCESS ? ds != NULL : ds == NULL);
    return ds;
}

/* The pattern write_pair puts in slice n of a w x h image, for comparing pixels. */
static uint8_t *expected_image(int n, int w, int h)
{
    uint8_t *rgb = malloc((size_t)w * h * 3);
    dt_pattern(rgb, NULL, w, h, 3, (uint32_t)n);
    return rgb;
}

static void remove_file(const char *root, const char *patient, const char *suffix)
{
    char *path = patient_file(root, patient, suffix);
    ck_assert_int_eq(unlink(path), 0);
    free(path);
}

/* Images without masks: skipped by default; kept with has_mask false and a zero mask when
 * allowed, beside slices whose masks are real; a patient with no mask at all is kept too. */
START_TEST(missing_masks_allowed_or_skipped)
{
    char *root = test_tmpdir("clseg-nomask");
    for (int n = 1; n <= 3; n++)
        write_pair(root, "A_PART", n, 32, 32, 32, 32);
    write_pair(root, "B_NONE", 1, 32, 32, 32, 32);
    remove_file(root, "A_PART", "_2_mask.tif");
    remove_file(root, "B_NONE", "_1_mask.tif");
    char err[2048];
    clseg_dataset *ds = load_opts(root, false, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 1);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 2);
    ck_assert_uint_eq(clseg_dataset_skipped_by_reason(ds, CLSEG_SKIP_NO_MASK), 2);
    for (size_t i = 0; i < 2; i++) {
        clseg_slice_info si;
        clseg_dataset_slice(ds, i, &si);
        ck_assert(si.has_mask && si.mask_path != NULL && si.tumour);
    }
    clseg_dataset_destroy(ds);
    load_opts(root, true, false, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
    ck_assert_msg(strstr(err, "A_PART_2.tif") && strstr(err, "_mask"), "%s", err);

    ds = load_opts(root, true, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 2);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 4);
    ck_assert_uint_eq(clseg_dataset_tumour_slice_count(ds), 2);
    ck_assert_uint_eq(clseg_dataset_skipped(ds), 0);
    const struct {
        int number;
        bool has_mask;
    } want[] = {{1, true}, {2, false}, {3, true}, {1, false}};
    for (size_t i = 0; i < 4; i++) {
        clseg_slice_info si;
        ck_assert_int_eq(clseg_dataset_slice(ds, i, &si), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(si.number, want[i].number);
        ck_assert_msg(si.has_mask == want[i].has_mask, "slice %zu", i);
        ck_assert(si.tumour == want[i].has_mask);
        ck_assert(want[i].has_mask ? si.mask_path != NULL : si.mask_path == NULL);
        uint8_t *rgb = expected_image(si.number, 32, 32);
        ck_assert_int_eq(memcmp(si.image, rgb, 32 * 32 * 3), 0);
        free(rgb);
        size_t set = 0;
        for (size_t k = 0; k < 32 * 32; k++)
            set += si.mask[k];
        ck_assert(want[i].has_mask ? set > 0 : set == 0);
    }
    clseg_patient_info pi;
    clseg_dataset_patient(ds, 1, &pi);
    ck_assert_str_eq(pi.name, "B_NONE");
    ck_assert_uint_eq(pi.tumour_slices, 0);
    clseg_dataset_destroy(ds);
    dt_rmtree(root);
    free(root);
}
END_TEST

/* Slice by slice, a and b hold the same numbers and pixels. */
static void same_slices(const clseg_dataset *a, size_t a_first, const clseg_dataset *b, size_t b_first, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        clseg_slice_info x, y;
        ck_assert_int_eq(clseg_dataset_slice(a, a_first + i, &x), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_dataset_slice(b, b_first + i, &y), CLSEG_STATUS_SUCCESS);
        ck_assert(x.number == y.number && x.width == y.width && x.height == y.height && x.tumour == y.tumour);
        ck_assert_int_eq(memcmp(x.image, y.image, (size_t)x.width * x.height * 3), 0);
        ck_assert_int_eq(memcmp(x.mask, y.mask, (size_t)x.width * x.height), 0);
        ck_assert_str_eq(x.image_path, y.image_path);
    }
}

/* A patient's own folder as root: one patient named after it, the same slices as through the
 * dataset root; however its path is spelt. A dataset root with a stray .tif stays a root. */
START_TEST(patient_folder_as_root)
{
    char *root = test_tmpdir("clseg-onept");
    for (int n = 1; n <= 3; n++)
        write_pair(root, "P_ONE", n, 24, 20, 24, 20);
    write_pair(root, "P_TWO", 1, 24, 20, 24, 20);
    char err[2048];
    clseg_dataset *all = load_opts(root, true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(all), 2);
    char *dir = dt_path(root, "P_ONE"), spelt[4200];
    snprintf(spelt, sizeof spelt, "%s//", dir);
    const char *spellings[] = {dir, spelt};
    for (size_t k = 0; k < 2; k++) {
        clseg_dataset *ds = load_opts(spellings[k], true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
        ck_assert_uint_eq(clseg_dataset_patient_count(ds), 1);
        ck_assert_uint_eq(clseg_dataset_slice_count(ds), 3);
        clseg_patient_info pi;
        clseg_dataset_patient(ds, 0, &pi);
        ck_assert_str_eq(pi.name, "P_ONE");
        ck_assert_uint_eq(pi.tumour_slices, 3);
        ck_assert_ptr_null(pi.csv_row);
        if (k == 0)
            same_slices(ds, 0, all, 0, 3);
        clseg_dataset_destroy(ds);
    }
    /* "." is named after the folder it stands for */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    clseg_dataset *ds = load_opts(".", true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_int_eq(chdir(cwd), 0);
    clseg_patient_info pi;
    clseg_dataset_patient(ds, 0, &pi);
    ck_assert_str_eq(pi.name, "P_ONE");
    clseg_dataset_destroy(ds);

    /* a misnamed .tif in the folder is skipped (strict: named in the error) */
    free(dt_write_file(dir, "other_1.tif", "II*", 3));
    ds = load_opts(dir, false, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 3);
    ck_assert_uint_eq(clseg_dataset_skipped_by_reason(ds, CLSEG_SKIP_BAD_NAME), 1);
    clseg_dataset_destroy(ds);
    load_opts(dir, true, false, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
    ck_assert_msg(strstr(err, "other_1.tif") != NULL, "%s", err);
    char *other = dt_path(dir, "other_1.tif");
    ck_assert_int_eq(unlink(other), 0);
    free(other);

    /* a stray .tif beside patient folders that hold slices: still a dataset root */
    free(dt_write_file(root, "stray.tif", "II*", 3));
    ds = load_opts(root, true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 2);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 4);
    clseg_dataset_destroy(ds);
    clseg_dataset_destroy(all);
    free(dir);
    dt_rmtree(root);
    free(root);
}
END_TEST

/* One image file as root: a one-slice dataset named after its folder, its mask beside it
 * required unless allowed; N from the name or 0; a mask file is refused. */
START_TEST(single_file_as_root)
{
    char *root = test_tmpdir("clseg-file");
    write_pair(root, "P_TWO", 7, 24, 20, 24, 20);
    write_pair(root, "P_TWO", 8, 24, 20, 24, 20);
    char err[2048];
    clseg_dataset *all = load_opts(root, true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    char *image = patient_file(root, "P_TWO", "_7.tif"), *mask = patient_file(root, "P_TWO", "_7_mask.tif");
    clseg_dataset *ds = load_opts(image, true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_patient_count(ds), 1);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 1);
    clseg_patient_info pi;
    clseg_dataset_patient(ds, 0, &pi);
    ck_assert_str_eq(pi.name, "P_TWO");
    clseg_slice_info si;
    clseg_dataset_slice(ds, 0, &si);
    ck_assert_int_eq(si.number, 7);
    ck_assert(si.has_mask && si.tumour);
    ck_assert_str_eq(si.mask_path, mask);
    same_slices(ds, 0, all, 0, 1);
    clseg_dataset_destroy(ds);

    /* the mask as root */
    load_opts(mask, false, true, CLSEG_STATUS_INVALID_ARGUMENT, err, sizeof err);
    ck_assert_msg(strstr(err, mask) && strstr(err, "is a mask"), "%s", err);

    /* any name: N is 0 without a trailing _<N> */
    char *dir = dt_path(root, "P_TWO"), *scan = dt_path(dir, "scan.tif"), *scan_mask = dt_path(dir, "scan_mask.tif");
    ck_assert_int_eq(rename(image, scan), 0);
    ck_assert_int_eq(rename(mask, scan_mask), 0);
    ds = load_opts(scan, true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    clseg_dataset_slice(ds, 0, &si);
    ck_assert_int_eq(si.number, 0);
    ck_assert_str_eq(si.mask_path, scan_mask);
    uint8_t *rgb = expected_image(7, 24, 20);
    ck_assert_int_eq(memcmp(si.image, rgb, 24 * 20 * 3), 0);
    clseg_dataset_destroy(ds);

    /* without its mask: an error naming the image and the mask sought, or a zero mask if allowed */
    ck_assert_int_eq(unlink(scan_mask), 0);
    for (int strict = 0; strict < 2; strict++) {
        load_opts(scan, strict, false, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
        ck_assert_msg(strstr(err, scan) && strstr(err, "scan_mask.tif"), "%s", err);
    }
    ds = load_opts(scan, true, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    clseg_dataset_slice(ds, 0, &si);
    ck_assert(!si.has_mask && !si.tumour && si.mask_path == NULL);
    ck_assert_int_eq(memcmp(si.image, rgb, 24 * 20 * 3), 0);
    for (size_t k = 0; k < 24 * 20; k++)
        ck_assert_int_eq(si.mask[k], 0);
    clseg_dataset_destroy(ds);

    /* a file that is not a TIFF, named .tif: the error names it */
    char *fake = dt_write_file(dir, "P_TWO_9.tif", "not a tiff", 10);
    load_opts(fake, false, true, CLSEG_STATUS_BAD_FORMAT, err, sizeof err);
    ck_assert_msg(strstr(err, fake) && strstr(err, "not a TIFF"), "%s", err);

    free(rgb);
    free(fake);
    free(scan);
    free(scan_mask);
    free(dir);
    free(image);
    free(mask);
    clseg_dataset_destroy(all);
    dt_rmtree(root);
    free(root);
}
END_TEST

/* clseg_tiff_write's files are the encoder's bytes and read back through a patient folder;
 * it replaces a file whole, and refuses bad arguments and unwritable paths by name. */
START_TEST(tiff_write_round_trip)
{
    char *root = test_tmpdir("clseg-write");
    char *dir = dt_path(root, "FAKE_PT");
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    enum { W = 37, H = 23 };
    uint8_t rgb[2][W * H * 3], mask[2][W * H];
    char err[1024];
    for (int n = 1; n <= 2; n++) {
        dt_pattern(rgb[n - 1], mask[n - 1], W, H, 3, (uint32_t)(40 + n));
        if (n == 2)
            memset(mask[1], 0, sizeof mask[1]);
        char name[64];
        snprintf(name, sizeof name, "FAKE_PT_%d.tif", n);
        char *path = dt_path(dir, name);
        ck_assert_msg(clseg_tiff_write(path, rgb[n - 1], W, H, 3, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
        /* the bytes are the encoder's */
        unsigned char *want = NULL;
        size_t want_size = 0;
        ck_assert_int_eq(tiff_io_encode(rgb[n - 1], W, H, 3, &want, &want_size, err, sizeof err), CLSEG_STATUS_SUCCESS);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        unsigned char *got = malloc(want_size + 1);
        ck_assert_uint_eq(fread(got, 1, want_size + 1, f), want_size);
        fclose(f);
        ck_assert_int_eq(memcmp(got, want, want_size), 0);
        free(got);
        free(want);
        free(path);
        snprintf(name, sizeof name, "FAKE_PT_%d_mask.tif", n);
        path = dt_path(dir, name);
        /* written first as something else: the second write replaces it whole */
        uint8_t junk[4 * 4] = {0};
        ck_assert_int_eq(clseg_tiff_write(path, junk, 4, 4, 1, err, sizeof err), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_tiff_write(path, mask[n - 1], W, H, 1, err, sizeof err), CLSEG_STATUS_SUCCESS);
        free(path);
    }
    clseg_dataset *ds = load_opts(dir, true, false, CLSEG_STATUS_SUCCESS, err, sizeof err);
    ck_assert_uint_eq(clseg_dataset_slice_count(ds), 2);
    ck_assert_uint_eq(clseg_dataset_tumour_slice_count(ds), 1);
    for (size_t i = 0; i < 2; i++) {
        clseg_slice_info si;
        clseg_dataset_slice(ds, i, &si);
        ck_assert(si.width == W && si.height == H && si.channels == 3 && si.has_mask);
        ck_assert_int_eq(memcmp(si.image, rgb[i], sizeof rgb[i]), 0);
        for (size_t k = 0; k < (size_t)W * H; k++)
            ck_assert_int_eq(si.mask[k], mask[i][k] ? 1 : 0);
    }
    clseg_dataset_destroy(ds);

    /* a folder that is a file: IO, the message names the path */
    char *plain = dt_write_file(root, "plain", "x", 1), *inside = dt_path(plain, "x.tif");
    ck_assert_int_eq(clseg_tiff_write(inside, rgb[0], W, H, 3, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_msg(strstr(err, inside) != NULL, "%s", err);
    /* bad arguments: nothing written, the message names the path and the problem */
    char *out = dt_path(root, "out.tif");
    const struct {
        const uint8_t *px;
        int w, h, c;
        const char *word;
    } bad[] = {{rgb[0], W, H, 2, "channels"}, {rgb[0], 0, H, 3, "width"}, {rgb[0], W, 20000, 3, "height"},
               {NULL, W, H, 3, "pixels"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_int_eq(clseg_tiff_write(out, bad[k].px, bad[k].w, bad[k].h, bad[k].c, err, sizeof err),
                         CLSEG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strstr(err, out) && strstr(err, bad[k].word), "%s", err);
        ck_assert_int_ne(access(out, F_OK), 0);
    }
    ck_assert_int_eq(clseg_tiff_write(NULL, rgb[0], W, H, 3, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    free(out);
    free(inside);
    free(plain);
    free(dir);
    dt_rmtree(root);
    free(root);
}
END_TEST

/* Every file of tests/data/regress (hand-made and fuzzer-found inputs) gives a clean error. */
START_TEST(regression_inputs)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/regress", CLSEG_SOURCE_ROOT);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        char *path = dt_path(dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        unsigned char buf[1 << 16];
        size_t size = fread(buf, 1, sizeof buf, f);
        fclose(f);
        tiff_image im;
        char err[1024] = "";
        clseg_status st = tiff_io_decode(buf, size, e->d_name, &im, err, sizeof err);
        ck_assert_msg(st == CLSEG_STATUS_BAD_FORMAT || st == CLSEG_STATUS_NOT_SUPPORTED, "%s: status %d", path, st);
        ck_assert_ptr_null(im.pixels);
        ck_assert_msg(strstr(err, e->d_name) != NULL, "%s: message '%s'", path, err);
        free(path);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data_reader");
    TCase *tc = tcase_create("reader");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, real_sample_counts);
    tcase_add_test(tc, real_sample_pixels);
    tcase_add_loop_test(tc, bad_input_case, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, bad_inputs_together);
    tcase_add_test(tc, missing_or_empty_root);
    tcase_add_test(tc, layouts_read_alike);
    tcase_add_test(tc, grayscale_and_mask_values);
    tcase_add_test(tc, regression_inputs);
    tcase_add_test(tc, missing_masks_allowed_or_skipped);
    tcase_add_test(tc, patient_folder_as_root);
    tcase_add_test(tc, single_file_as_root);
    tcase_add_test(tc, tiff_write_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run(suite(), true); }
