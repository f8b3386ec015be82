/* Instantiate every templated kernel for float and double on one CPU path (the GEMM too, unless
 * the path builds its own GEMM bodies: FN_GEMM_OWN_BODIES). */
#include <stdint.h>

#include "fn_exp.h"
#include "fn_gemm.h"
#include "fn_log1p.h"
#include "fn_tmpl.h"
#include "fn_vmath.h"

#ifndef FN_GEMM_OWN_BODIES
#include "fn_gemm_bodies.h"
#endif

#define T float
#define UINT uint32_t
#define TS s
#include "fn_vmath_tmpl.h"
#undef T
#undef UINT
#undef TS

#define T double
#define UINT uint64_t
#define TS d
#include "fn_vmath_tmpl.h"
#undef T
#undef UINT
#undef TS
