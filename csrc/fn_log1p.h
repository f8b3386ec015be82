/* Hand-written log1p for float and double, branch-free so loops over it vectorise, no libm
 * call: fn_log1p_s / fn_log1p_d (static inline). The reduction and the polynomials are
 * fdlibm's (as musl's log1p), with the correction for the rounding of 1 + x applied for
 * every x instead of behind branches. (float64 on the default SSE2 path stays scalar, as exp
 * does: GCC has no SSE2 form of the 64-bit masks of fn_select_d.)
 * Edge cases match numpy.log1p: log1p(±0) = ±0, subnormal x → x, log1p(−1) = −inf,
 * x < −1 → NaN, log1p(inf) = inf, NaN → NaN. Float math stays float.
 * Max error against a long double reference (tests/test_vlog1p.py checks <= 1.5 ulp), over
 * [0, 1] (binary cross-entropy's arguments, exp(−|z|)) and (−1, max] with subnormals, 8·10⁶
 * random points per type, every float32:
 *   float64: 0.82 ulp on the default path (no FMA), 0.75 ulp on x86-64-v3/v4 (FMA);
 *   float32: 0.86 ulp default, 0.76 ulp x86-64-v3/v4. numpy.log1p itself: 0.61 / 1.9 ulp. */
#ifndef FN_LOG1P_H
#define FN_LOG1P_H

#include <math.h> /* INFINITY, NAN */
#include <stdint.h>
#include <string.h>

#include "fn_exp.h" /* fn_select_s / fn_select_d */

/* float: R(z) to degree 4 in z = s², s = f/(2 + f) (musl's log1pf) */
#define T float
#define UINT uint32_t
#define TS s
#define ONE_BITS 0x3F800000u
#define SQRT_HALF_BITS 0x3F3504F3u /* √½ */
#define TWO_MANT_BITS 0x4B000000u  /* 2²³ */
#define TWO_MANT 8388608.0f
#define MANT_MASK 0x007FFFFFu
#define MANT_BITS 23
#define EXP_BIAS 127
#define LN2_HI 6.9313812256e-01f /* 7 low mantissa bits zero: k·LN2_HI is exact for |k| <= 128 */
#define LN2_LO 9.0580006145e-06f
#define LOG_POLY(z, w)                                                                                   \
    ((z) * (0.66666662693f + (w) * 0.28498786688f) + (w) * (0.40000972152f + (w) * 0.24279078841f))
#include "fn_log1p_tmpl.h"

/* double: R(z) to degree 7 in z (fdlibm's log, |error| < 2^−58.45 on |s| <= 0.1716) */
#define T double
#define UINT uint64_t
#define TS d
#define ONE_BITS 0x3FF0000000000000u
#define SQRT_HALF_BITS 0x3FE6A09E667F3BCDu
#define TWO_MANT_BITS 0x4330000000000000u /* 2⁵² */
#define TWO_MANT 4503599627370496.0
#define MANT_MASK 0x000FFFFFFFFFFFFFu
#define MANT_BITS 52
#define EXP_BIAS 1023
#define LN2_HI 6.93147180369123816490e-01 /* 21 low mantissa bits zero: k·LN2_HI exact */
#define LN2_LO 1.90821492927058770002e-10
#define LOG_POLY(z, w)                                                                                    \
    ((z) * (6.666666666666735130e-01 + (w) * (2.857142874366239149e-01 + (w) * (1.818357216161805012e-01 + \
     (w) * 1.479819860511658591e-01))) +                                                                  \
     (w) * (3.999999999940941908e-01 + (w) * (2.222219843214978396e-01 + (w) * 1.531383769920937332e-01)))
#include "fn_log1p_tmpl.h"

#endif
