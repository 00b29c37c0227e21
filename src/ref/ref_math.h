/* How the reference math is written once and compiled twice. A family's math lives in
 * ref/<family>_math.inc, over the scalar type REAL with function names REF(name); its
 * ref/<family>.c compiles that file for float (the reference backend, named clseg_ref32_*) and
 * for double (clseg_ref64_*, which the tests differentiate by finite differences in float64)
 * through ref/ref_instantiate.h. Whatever the type, the math runs in double inside. */
#ifndef CLSEG_REF_MATH_H
#define CLSEG_REF_MATH_H

#include <stddef.h>
#include <stdint.h>

#define CLSEG_REF32(name) clseg_ref32_##name
#define CLSEG_REF64(name) clseg_ref64_##name

/* dst = beta dst + g, where beta == 0 overwrites (an unset dst may hold NaN). */
#define CLSEG_REF_ACCUMULATE(dst, beta, g) ((dst) = (beta) == 0 ? (g) : (beta) * (dst) + (g))

#endif
