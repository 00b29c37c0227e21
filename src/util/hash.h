#ifndef CLSEG_HASH_H
#define CLSEG_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits; chain calls by passing the previous result as seed (start: CLSEG_FNV_SEED). */
#define CLSEG_FNV_SEED UINT64_C(0xcbf29ce484222325)
uint64_t clseg_fnv1a64(const void *data, size_t size, uint64_t seed);

#endif
