/* Compiles the reference math file CLSEG_REF_MATH (see ref/ref_math.h) for float and for
 * double. Include it once, in the family's ref/<family>.c, after defining CLSEG_REF_MATH. */
#ifndef CLSEG_REF_MATH
#error "define CLSEG_REF_MATH as the family's math file before including ref/ref_instantiate.h"
#endif

#define REAL float
#define REF CLSEG_REF32
#include CLSEG_REF_MATH
#undef REAL
#undef REF

#define REAL double
#define REF CLSEG_REF64
#include CLSEG_REF_MATH
#undef REAL
#undef REF
#undef CLSEG_REF_MATH
