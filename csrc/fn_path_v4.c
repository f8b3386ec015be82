/* The x86-64-v4 instances (AVX-512, 32 zmm registers: an 8×(2 vectors) tile); tiles of 4 or
 * more rows store a row's partial last vector through a mask. The GEMM has two bodies, both
 * with the 32 registers: 512-bit vectors (v4z), and 256-bit ones (v4y) for a C whose last
 * 512-bit vector would be at most half used: 10 columns take 3 of its vectors (12 lanes)
 * instead of 2 (16 lanes). */
#include "fn_cpu.h"
#if FN_HAVE_X86_PATHS
#include "fn_gemm.h"
#include "fn_tmpl.h"
#define FN_TGT FN_TARGET_V4
#define FN_GEMM_MASKED 1
#define FN_VREGS 32
#define MR 8

#define PT v4y
#define VBYTES 32
#include "fn_gemm_bodies.h"
#undef VBYTES
#undef PT

#define PT v4z
#define VBYTES 64
#include "fn_gemm_bodies.h"
#undef PT

#define PT v4
#define FN_GEMM_OWN_BODIES
#include "fn_instances.h"

/* C (m×n) on the 256-bit body when its width leaves the last 512-bit vector at most half used
 * (and is under four such vectors, where the idle lanes are a large share) and it has rows
 * enough for that to outweigh the body's fixed costs (not a 1-sample predict), else the
 * 512-bit one. */
static inline int narrow(ptrdiff_t m, ptrdiff_t n, ptrdiff_t lanes)
{
    return m >= 4 && n < 4 * lanes && n % lanes != 0 && n % lanes <= lanes / 2;
}

void fn_gemm_s_v4(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                  ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc)
{
    (narrow(m, n, 16) ? fn_gemm_s_v4y : fn_gemm_s_v4z)(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                                                        ldc);
}

void fn_gemm_d_v4(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const double *A,
                  ptrdiff_t lda, const double *B, ptrdiff_t ldb, double beta, double *C, ptrdiff_t ldc)
{
    (narrow(m, n, 8) ? fn_gemm_d_v4y : fn_gemm_d_v4z)(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C,
                                                       ldc);
}
#endif
