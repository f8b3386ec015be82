/* The x86-64-v4 instances (AVX-512, 32 zmm registers: an 8×(2 vectors) tile), partial vectors
 * stored through masks. GEMMs whose C is narrow go to a 256-bit body with the same 32 registers
 * (FN_GEMM_NARROW_PT), built first so the 512-bit body can call it. */
#include "fn_cpu.h"
#if FN_HAVE_X86_PATHS
#include "fn_gemm.h"
#include "fn_tmpl.h"
#define FN_TGT FN_TARGET_V4
#define FN_GEMM_MASKED 1
#define MR 8

#define PT v4y
#define VBYTES 32
#define FN_VREGS 32
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
#undef FN_VREGS
#undef VBYTES
#undef PT

#define PT v4
#define VBYTES 64
#define FN_GEMM_NARROW_PT v4y
#include "fn_instances.h"
#endif
