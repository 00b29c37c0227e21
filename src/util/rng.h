/* A small seedable generator (SplitMix64): the same seed gives the same numbers everywhere. */
#ifndef CLSEG_RNG_H
#define CLSEG_RNG_H

#include <stdint.h>

typedef struct clseg_rng {
    uint64_t state;
} clseg_rng;

static inline uint64_t clseg_rng_next(clseg_rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline float clseg_rng_uniform(clseg_rng *r) { return (float)(clseg_rng_next(r) >> 40) * 0x1.0p-24f; }

#endif
