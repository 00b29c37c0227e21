/* The LGG data pipeline on the host: a kaggle_3m-style dataset reader, patient-level splits, a
 * batch loader (preprocessing, augmentation, a background thread) and a phantom generator.
 * Batches are float32 NCHW host arrays; nothing here touches OpenCL. */
#ifndef CLSEG_DATA_H
#define CLSEG_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/export.h"
#include "clseg/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- dataset: <root>/<PATIENT>/<PATIENT>_<N>.tif + <PATIENT>_<N>_mask.tif ------------------ */

typedef struct clseg_dataset clseg_dataset;

/* Why a file (or folder) was left out of a dataset. */
typedef enum clseg_skip_reason {
    CLSEG_SKIP_NOT_TIFF = 0,      /* the file does not start like a TIFF */
    CLSEG_SKIP_DAMAGED,           /* a TIFF that libtiff cannot read: truncated, bad directory */
    CLSEG_SKIP_UNSUPPORTED,       /* bit depth, sample format, layout or colour model not handled */
    CLSEG_SKIP_SIZE_MISMATCH,     /* image and mask of different sizes */
    CLSEG_SKIP_CHANNEL_MISMATCH,  /* an image whose channel count differs from the dataset's */
    CLSEG_SKIP_NO_MASK,           /* an image without its _mask file */
    CLSEG_SKIP_NO_IMAGE,          /* a mask without its image */
    CLSEG_SKIP_BAD_NAME,          /* a .tif not named <PATIENT>_<N>[_mask].tif, or a repeated N */
    CLSEG_SKIP_EMPTY_FOLDER,      /* a patient folder without any slice */
    CLSEG_SKIP_UNREADABLE,        /* the file or folder could not be opened or read */
    CLSEG_SKIP_BAD_CSV,           /* data.csv present but without a Patient column */
    CLSEG_SKIP_REASON_COUNT
} clseg_skip_reason;

/* "not a TIFF", "no mask", ...; never NULL. */
CLSEG_API const char *clseg_skip_reason_str(clseg_skip_reason reason);

typedef struct clseg_dataset_options {
    /* Fail on the first bad file or folder instead of skipping it. */
    bool strict;
    /* Keep images that have no _mask file (new scans to predict on): their slices have
     * has_mask false and an all-zero mask. Otherwise they are skipped (CLSEG_SKIP_NO_MASK). */
    bool allow_missing_masks;
} clseg_dataset_options;

/* Reads every patient folder under root (in name order; slices by N) into host memory; images
 * keep their 8-bit samples, masks become {0,1}. root may also be a single patient folder (its
 * .tif files directly inside; the folder's name is the patient's) or a single image file (a
 * one-slice dataset whose patient is the file's folder; its mask is <stem>_mask.tif beside it,
 * and any file name is accepted, N being 0 when the name has no _<N>). opts may be NULL (not
 * strict, masks required). Fails when root is missing or holds no usable slice; in strict mode
 * also on the first problem, whose message names the file. err (may be NULL) receives the
 * message. */
CLSEG_API clseg_status clseg_dataset_load(const char *root, const clseg_dataset_options *opts, clseg_dataset **out,
                                          char *err, size_t err_size);
CLSEG_API void clseg_dataset_destroy(clseg_dataset *ds);

CLSEG_API size_t clseg_dataset_patient_count(const clseg_dataset *ds);
CLSEG_API size_t clseg_dataset_slice_count(const clseg_dataset *ds);
CLSEG_API size_t clseg_dataset_tumour_slice_count(const clseg_dataset *ds);
/* Samples per image pixel, the same for every slice: 3 (RGB) or 1 (grayscale). */
CLSEG_API int clseg_dataset_channels(const clseg_dataset *ds);

typedef struct clseg_patient_info {
    const char *name;        /* the folder name, e.g. TCGA_CS_5396_20010302 */
    size_t first_slice;      /* its slices are first_slice .. first_slice + slices - 1 */
    size_t slices;
    size_t tumour_slices;
    const char *csv_row;     /* its data.csv row as written, or NULL */
} clseg_patient_info;

CLSEG_API clseg_status clseg_dataset_patient(const clseg_dataset *ds, size_t index, clseg_patient_info *info);
/* The index of the patient folder called name, or (size_t)-1. */
CLSEG_API size_t clseg_dataset_find_patient(const clseg_dataset *ds, const char *name);

typedef struct clseg_slice_info {
    size_t patient;         /* patient index */
    int number;             /* N of <PATIENT>_<N>.tif */
    int width, height, channels;
    bool tumour;            /* the mask has at least one pixel set */
    bool has_mask;          /* false: no mask file (allow_missing_masks); mask is all zeros */
    const uint8_t *image;   /* height x width x channels, interleaved */
    const uint8_t *mask;    /* height x width, values 0 and 1 */
    const char *image_path;
    const char *mask_path;  /* NULL when has_mask is false */
} clseg_slice_info;

CLSEG_API clseg_status clseg_dataset_slice(const clseg_dataset *ds, size_t index, clseg_slice_info *info);

/* The skip report of a non-strict load: one entry per file or folder left out, in the order met. */
CLSEG_API size_t clseg_dataset_skipped(const clseg_dataset *ds);
CLSEG_API size_t clseg_dataset_skipped_by_reason(const clseg_dataset *ds, clseg_skip_reason reason);
/* "path: problem" of skip entry i, and its reason; NULL past the end. */
CLSEG_API const char *clseg_dataset_skip_message(const clseg_dataset *ds, size_t i, clseg_skip_reason *reason);

/* --- patient-level splits ----------------------------------------------------------------- */

typedef enum clseg_subset { CLSEG_SUBSET_TRAIN = 0, CLSEG_SUBSET_VAL, CLSEG_SUBSET_TEST } clseg_subset;

typedef struct clseg_split clseg_split;

/* Shuffles the patients by seed and cuts them into test, validation and training sets of
 * round(fraction * patients) each; a set with a non-zero fraction gets at least one patient and
 * training keeps at least one, when there are enough patients. 0 <= fractions, sum < 1. */
CLSEG_API clseg_status clseg_split_random(const clseg_dataset *ds, uint64_t seed, double val_fraction,
                                          double test_fraction, clseg_split **out, char *err, size_t err_size);
/* Sets from patient folder names; an unknown name or a patient named twice is an error.
 * Patients in no list are left out. A list may be empty (count 0). */
CLSEG_API clseg_status clseg_split_from_lists(const clseg_dataset *ds, const char *const *train, size_t train_count,
                                              const char *const *val, size_t val_count, const char *const *test,
                                              size_t test_count, clseg_split **out, char *err, size_t err_size);
CLSEG_API void clseg_split_destroy(clseg_split *split);
/* The set's patient indices (ascending) and its slice indices (ascending); returns the count. */
CLSEG_API size_t clseg_split_patients(const clseg_split *split, clseg_subset subset, const size_t **patients);
CLSEG_API size_t clseg_split_slices(const clseg_split *split, clseg_subset subset, const size_t **slices);

/* --- batches: preprocessing, augmentation and a background loader ------------------------- */

typedef enum clseg_normalize {
    CLSEG_NORMALIZE_UNIT = 0,  /* sample / 255, in [0, 1] */
    /* Per patient volume: clip to its 10th..99th percentile, scale to [0, 1], then subtract
     * each channel's mean and divide by its standard deviation (brain-segmentation-pytorch). */
    CLSEG_NORMALIZE_VOLUME
} clseg_normalize;

/* "unit", "volume"; parse returns INVALID_ARGUMENT for other names. */
CLSEG_API const char *clseg_normalize_str(clseg_normalize mode);
CLSEG_API clseg_status clseg_normalize_parse(const char *name, clseg_normalize *mode);

/* Random transforms, the same geometry for image and mask; a zero field turns its one off. */
typedef struct clseg_augment_options {
    float flip_probability; /* horizontal flip */
    float rotate_degrees;   /* uniform in [-r, r], about the centre */
    float scale;            /* zoom by a factor uniform in [1 - s, 1 + s] */
    float intensity;        /* image only: x * (1 + u) + v, u and v uniform in [-i, i] */
} clseg_augment_options;

/* 0.5, 15 degrees, 0.05, 0.1. */
CLSEG_API clseg_augment_options clseg_augment_options_default(void);

#define CLSEG_DATA_MAX_CHANNELS 3

typedef struct clseg_loader_options {
    const size_t *slices;     /* dataset slice indices to draw from (e.g. a split's); NULL: all */
    size_t slice_count;
    int batch_size;           /* >= 1 */
    int size;                 /* output height = width; 0: the slices' own size (all equal) */
    /* Which image channels, in this order (e.g. {1} for FLAIR only); channel_count 0: all. */
    int channels[CLSEG_DATA_MAX_CHANNELS];
    int channel_count;
    clseg_normalize normalize;
    bool shuffle;             /* a new order every epoch; false: the given order */
    bool drop_last;           /* leave out an epoch's last, partial batch */
    bool augment;
    clseg_augment_options augmentation;
    /* > 0: draw this share of every epoch from slices with tumour, with replacement
     * (oversampling them); 0: every slice once per epoch. */
    float tumour_fraction;
    uint64_t seed;            /* the same seed gives the same batches in the same order */
    /* The sequence number (epoch * batches_per_epoch + index) of the first batch delivered:
     * a resumed run continues the exact batch sequence of an uninterrupted one. 0: the start. */
    uint64_t first_batch;
} clseg_loader_options;

/* Batch size 8, native size, all channels, unit scaling, shuffled, no augmentation, seed 1. */
CLSEG_API clseg_loader_options clseg_loader_options_default(void);

typedef struct clseg_batch {
    const float *images;  /* n x c x h x w */
    const float *masks;   /* n x 1 x h x w, values 0 and 1 */
    int n, c, h, w;
    uint64_t epoch;
    size_t index;          /* the batch's place in its epoch */
    const size_t *slices;  /* the n dataset slice indices it holds */
} clseg_batch;

typedef struct clseg_loader clseg_loader;

/* Allocates every buffer and starts the thread, which prepares the next batch while the caller
 * holds the current one. The dataset must outlive the loader. */
CLSEG_API clseg_status clseg_loader_create(const clseg_dataset *ds, const clseg_loader_options *opts,
                                           clseg_loader **out, char *err, size_t err_size);
/* Waits for the next batch; its arrays stay valid until the next call or destroy. Epochs follow
 * one another without end. */
CLSEG_API clseg_status clseg_loader_next(clseg_loader *loader, clseg_batch *batch);
CLSEG_API size_t clseg_loader_batches_per_epoch(const clseg_loader *loader);
/* Stops the thread and frees everything. */
CLSEG_API void clseg_loader_destroy(clseg_loader *loader);

/* --- writing slices --------------------------------------------------------------------- */

/* Writes an 8-bit TIFF as the kaggle_3m files are (classic little-endian, uncompressed,
 * interleaved, padded last strip): channels 1 (a mask: 0/255) or 3. Atomic: a failed write
 * leaves any old file as it was; err names path and the problem. */
CLSEG_API clseg_status clseg_tiff_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
                                        char *err, size_t err_size);

/* --- phantoms: a synthetic dataset in the kaggle_3m layout and file format --------------- */

typedef struct clseg_phantom_options {
    int patients;  /* 1 .. 9999 */
    int slices;    /* per patient, 1 .. 1000 */
    int size;      /* height = width, 16 .. 4096 */
    uint64_t seed;
} clseg_phantom_options;

/* 6 patients, 20 slices, 256, seed 1. */
CLSEG_API clseg_phantom_options clseg_phantom_options_default(void);

typedef struct clseg_phantom_summary {
    size_t patients, slices, tumour_slices;
} clseg_phantom_summary;

/* Writes PHANTOM_XX_<NNNN>_20260101/ folders of head-like 3-channel slices with tumours that
 * grow and shrink across slices, their 0/255 masks and a data.csv into dir (created if
 * missing). The same options give the same bytes. summary may be NULL. */
CLSEG_API clseg_status clseg_phantoms_write(const char *dir, const clseg_phantom_options *opts,
                                            clseg_phantom_summary *summary, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
