/* The GEMM template for float and double on the path being built (PT, FN_TGT, VBYTES, MR set). */
#define T float
#define TS s
#include "fn_gemm_tmpl.h"
#undef T
#undef TS

#define T double
#define TS d
#include "fn_gemm_tmpl.h"
#undef T
#undef TS
