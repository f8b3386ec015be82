/* The public micro-kernel entry points: one table per kernel, indexed by the active path. */
#include "fn_cpu.h"
#include "fn_gemm.h"
#include "fn_vmath.h"

#define DECLARE(PT)                                                                                              \
    void fn_gemm_s_##PT(int, int, ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *, ptrdiff_t,             \
                        const float *, ptrdiff_t, float, float *, ptrdiff_t);                                    \
    void fn_gemm_d_##PT(int, int, ptrdiff_t, ptrdiff_t, ptrdiff_t, double, const double *, ptrdiff_t,           \
                        const double *, ptrdiff_t, double, double *, ptrdiff_t);                                 \
    void fn_vexp_s_##PT(ptrdiff_t, const float *, float *);                                                      \
    void fn_vexp_d_##PT(ptrdiff_t, const double *, double *);                                                    \
    void fn_vlog1p_s_##PT(ptrdiff_t, const float *, float *);                                                    \
    void fn_vlog1p_d_##PT(ptrdiff_t, const double *, double *);                                                  \
    int fn_act_forward_s_##PT(int, ptrdiff_t, ptrdiff_t, const float *, float *);                                \
    int fn_act_forward_d_##PT(int, ptrdiff_t, ptrdiff_t, const double *, double *);                              \
    void fn_act_backward_s_##PT(int, ptrdiff_t, ptrdiff_t, const float *, const float *, const float *,         \
                                float *);                                                                        \
    void fn_act_backward_d_##PT(int, ptrdiff_t, ptrdiff_t, const double *, const double *, const double *,      \
                                double *);

DECLARE(default)
#if FN_HAVE_X86_PATHS
DECLARE(v3)
DECLARE(v4)
#define TABLE(name) {name##_default, name##_v3, name##_v4}
#else /* only the default path exists; fn_path_supported() never selects the others */
#define TABLE(name) {name##_default, name##_default, name##_default}
#endif

#define GEMM_ARGS(T)                                                                                            \
    int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *A, ptrdiff_t lda,       \
        const T *B, ptrdiff_t ldb, T beta, T *C, ptrdiff_t ldc
static void (*const gemm_s[FN_NPATHS])(GEMM_ARGS(float)) = TABLE(fn_gemm_s);
static void (*const gemm_d[FN_NPATHS])(GEMM_ARGS(double)) = TABLE(fn_gemm_d);
void fn_gemm_s(GEMM_ARGS(float)) { gemm_s[fn_path](trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc); }
void fn_gemm_d(GEMM_ARGS(double)) { gemm_d[fn_path](trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc); }

static void (*const vexp_s[FN_NPATHS])(ptrdiff_t, const float *, float *) = TABLE(fn_vexp_s);
static void (*const vexp_d[FN_NPATHS])(ptrdiff_t, const double *, double *) = TABLE(fn_vexp_d);
void fn_vexp_s(ptrdiff_t n, const float *x, float *y) { vexp_s[fn_path](n, x, y); }
void fn_vexp_d(ptrdiff_t n, const double *x, double *y) { vexp_d[fn_path](n, x, y); }

static void (*const vlog1p_s[FN_NPATHS])(ptrdiff_t, const float *, float *) = TABLE(fn_vlog1p_s);
static void (*const vlog1p_d[FN_NPATHS])(ptrdiff_t, const double *, double *) = TABLE(fn_vlog1p_d);
void fn_vlog1p_s(ptrdiff_t n, const float *x, float *y) { vlog1p_s[fn_path](n, x, y); }
void fn_vlog1p_d(ptrdiff_t n, const double *x, double *y) { vlog1p_d[fn_path](n, x, y); }

static int (*const fwd_s[FN_NPATHS])(int, ptrdiff_t, ptrdiff_t, const float *, float *) = TABLE(fn_act_forward_s);
static int (*const fwd_d[FN_NPATHS])(int, ptrdiff_t, ptrdiff_t, const double *, double *) = TABLE(fn_act_forward_d);
int fn_act_forward_s(int act, ptrdiff_t m, ptrdiff_t n, const float *z, float *a) { return fwd_s[fn_path](act, m, n, z, a); }
int fn_act_forward_d(int act, ptrdiff_t m, ptrdiff_t n, const double *z, double *a) { return fwd_d[fn_path](act, m, n, z, a); }

static void (*const bwd_s[FN_NPATHS])(int, ptrdiff_t, ptrdiff_t, const float *, const float *, const float *,
                                      float *) = TABLE(fn_act_backward_s);
static void (*const bwd_d[FN_NPATHS])(int, ptrdiff_t, ptrdiff_t, const double *, const double *, const double *,
                                      double *) = TABLE(fn_act_backward_d);
void fn_act_backward_s(int act, ptrdiff_t m, ptrdiff_t n, const float *z, const float *a, const float *da, float *dz)
{
    bwd_s[fn_path](act, m, n, z, a, da, dz);
}
void fn_act_backward_d(int act, ptrdiff_t m, ptrdiff_t n, const double *z, const double *a, const double *da,
                       double *dz)
{
    bwd_d[fn_path](act, m, n, z, a, da, dz);
}
