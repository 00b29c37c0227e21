/* What a clseg_dataset holds, shared by the data pipeline's files. */
#ifndef CLSEG_DATA_DATASET_H
#define CLSEG_DATA_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/data.h"

typedef struct data_slice {
    size_t patient;
    int number;
    uint32_t width, height;
    bool tumour;
    bool has_mask;  /* false: no mask file (allow_missing_masks); the mask is all zeros */
    uint8_t *image; /* height x width x channels, then height x width mask bytes in {0,1} */
    uint8_t *mask;  /* points into the same allocation as image */
    char *image_path;
    char *mask_path; /* NULL without a mask file */
} data_slice;

typedef struct data_patient {
    char *name;
    size_t first, count, tumour;
    char *csv_row;
} data_patient;

typedef struct data_skip {
    clseg_skip_reason reason;
    char *message;
} data_skip;

struct clseg_dataset {
    int channels;
    data_patient *patients;
    size_t patient_count, patient_cap;
    data_slice *slices;
    size_t slice_count, slice_cap;
    size_t tumour_count;
    data_skip *skips;
    size_t skip_count, skip_cap;
    size_t skip_by_reason[CLSEG_SKIP_REASON_COUNT];
};

/* Grows an array of elements of size elem to hold at least need; false when out of memory. */
bool data_reserve(void **array, size_t *cap, size_t need, size_t elem);

/* Reads data.csv at path and gives each patient whose folder name starts with a row's Patient
 * id its row. BAD_FORMAT or IO with a message in msg when the file is unusable. */
clseg_status data_read_csv(clseg_dataset *ds, const char *path, char *msg, size_t msg_size);

/* A malloc'd copy of s, or NULL. */
char *data_strdup(const char *s);

/* folders.c: the dataset's folders and file names. */
char *data_join_path(const char *dir, const char *name);
/* The visible entries of dir that are folders (want_dirs) or regular files, sorted by name. */
clseg_status data_list_dir(const char *dir, bool want_dirs, char ***names_out, size_t *count_out, char *err,
                           size_t err_size);
void data_free_names(char **names, size_t count);
/* Whether the first n characters of s end with suffix, ignoring case. */
bool data_ends_with(const char *s, size_t n, const char *suffix);
/* The length of the .tif or .tiff ending of name's first n characters; 0 when it has none. */
size_t data_tif_ext_len(const char *name, size_t n);
char *data_copy_prefix(const char *s, size_t n);
/* The folder part of a file's path ("." when it has none); malloc'd. */
char *data_parent_dir(const char *path);
/* The folder's own name; ".", ".." and "/" resolved to a real name. malloc'd or NULL. */
char *data_folder_name(const char *dir);
/* Whether root is one patient's folder (see folders.c for the rule) rather than a dataset root. */
clseg_status data_is_patient_folder(const char *root, bool *patient, char *err, size_t err_size);

#endif
