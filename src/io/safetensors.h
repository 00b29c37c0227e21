/* The safetensors file format (https://huggingface.co/docs/safetensors), written and read
 * without any external library:
 *
 *   8 bytes   N, little-endian unsigned: the header's length
 *   N bytes   UTF-8 JSON: {"__metadata__": {"key": "value", ...},
 *                          "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
 *             padded with spaces to a multiple of 8
 *   the rest  the tensors' bytes, little-endian, C order, packed without gaps; data_offsets are
 *             relative to the start of this buffer and cover all of it.
 *
 * The reader trusts nothing: every length, offset, shape and string is checked, and a bad file
 * gives BAD_FORMAT with a message "FILE: what is wrong" instead of a crash. */
#ifndef CLSEG_IO_SAFETENSORS_H
#define CLSEG_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/status.h"

/* The element types of the format, in the order of safetensors' own Dtype enum (increasing
 * alignment): its writer puts tensors of later types first, so that every tensor is aligned. */
typedef enum clseg_st_dtype {
    CLSEG_ST_BOOL,
    CLSEG_ST_U8,
    CLSEG_ST_I8,
    CLSEG_ST_F8_E5M2,
    CLSEG_ST_F8_E4M3,
    CLSEG_ST_I16,
    CLSEG_ST_U16,
    CLSEG_ST_F16,
    CLSEG_ST_BF16,
    CLSEG_ST_I32,
    CLSEG_ST_U32,
    CLSEG_ST_F32,
    CLSEG_ST_F64,
    CLSEG_ST_I64,
    CLSEG_ST_U64,
    CLSEG_ST_DTYPE_COUNT
} clseg_st_dtype;

/* Dimensions a tensor may have here (PyTorch allows more; no clseg tensor comes near). */
#define CLSEG_ST_MAX_DIMS 8

/* Headers larger than this are refused, as safetensors itself does. */
#define CLSEG_ST_MAX_HEADER ((uint64_t)100000000)

/* "F32", ...; NULL for a value outside the enum. */
const char *clseg_st_dtype_name(clseg_st_dtype dtype);
/* Bytes per element; 0 for a value outside the enum. */
size_t clseg_st_dtype_size(clseg_st_dtype dtype);

typedef struct clseg_st_tensor {
    const char *name;
    clseg_st_dtype dtype;
    int ndim; /* 0 for a scalar */
    int64_t shape[CLSEG_ST_MAX_DIMS];
    const void *data; /* numel * dtype size bytes, little-endian; may be NULL when that is 0.
                       * In a file that was read: points into the file's buffer, with no
                       * alignment promised (copy it out with memcpy). */
    uint64_t nbytes;  /* filled by the reader; ignored by the writer */
} clseg_st_tensor;

typedef struct clseg_st_meta {
    const char *key;
    const char *value;
} clseg_st_meta;

/* Elements of the tensor's shape (1 for a scalar). */
uint64_t clseg_st_numel(const clseg_st_tensor *t);

/* The header bytes (the 8-byte length and the padded JSON) for these tensors and metadata
 * pairs, in a malloc'd buffer (*header, freed by the caller). *order (malloc'd, may be NULL
 * to skip) receives the tensors' indices in the order their data follows the header: by
 * decreasing alignment, then by name, exactly as safetensors' own writer orders them.
 * INVALID_ARGUMENT for empty, duplicated or reserved names, duplicated metadata keys, bad
 * shapes or missing data. */
clseg_status clseg_safetensors_header(const clseg_st_tensor *tensors, size_t ntensors, const clseg_st_meta *meta,
                                      size_t nmeta, unsigned char **header, size_t *header_size, size_t **order,
                                      char *err, size_t err_size);

/* Writes the file atomically (temporary file, fsync, rename). */
clseg_status clseg_safetensors_write(const char *path, const clseg_st_tensor *tensors, size_t ntensors,
                                     const clseg_st_meta *meta, size_t nmeta, char *err, size_t err_size);

/* A file that was read and checked. */
typedef struct clseg_st_file clseg_st_file;

/* Reads and checks path. With header_only, the data is checked for its size but not read, and
 * the tensors' data pointers are NULL (for reading metadata cheaply). */
clseg_status clseg_safetensors_open(const char *path, int header_only, clseg_st_file **out, char *err,
                                    size_t err_size);

/* Checks the size bytes of a whole file held in memory (copied); label names it in messages. */
clseg_status clseg_safetensors_parse(const char *label, const unsigned char *bytes, size_t size,
                                     clseg_st_file **out, char *err, size_t err_size);

void clseg_safetensors_close(clseg_st_file *file);

/* Tensors in the order of their data. */
size_t clseg_safetensors_count(const clseg_st_file *file);
const clseg_st_tensor *clseg_safetensors_tensor(const clseg_st_file *file, size_t index);
/* NULL when absent. */
const clseg_st_tensor *clseg_safetensors_find(const clseg_st_file *file, const char *name);

/* Metadata pairs in the header's order. */
size_t clseg_safetensors_meta_count(const clseg_st_file *file);
const clseg_st_meta *clseg_safetensors_meta_at(const clseg_st_file *file, size_t index);
/* NULL when absent. */
const char *clseg_safetensors_meta(const clseg_st_file *file, const char *key);

#endif
