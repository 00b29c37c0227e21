/* What the safetensors reader and writer share. */
#ifndef CLSEG_IO_SAFETENSORS_INTERNAL_H
#define CLSEG_IO_SAFETENSORS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

/* 1 and *dtype set when name is one of the format's dtypes. */
int clseg_st_dtype_parse(const char *name, clseg_st_dtype *dtype);

/* 1 and *nbytes = numel * element size when no dimension is negative and nothing overflows. */
int clseg_st_checked_nbytes(const clseg_st_tensor *t, uint64_t *nbytes);

/* Length of the longest prefix of s[0..n) that is valid UTF-8 (n when all of it is). */
size_t clseg_utf8_valid_prefix(const unsigned char *s, size_t n);

#endif
