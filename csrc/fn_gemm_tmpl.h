/* One register-blocked GEMM body for type T on one CPU path (included by fn_instances.h).
 * B is packed NR columns at a time (zero-padded, KC rows per chunk) into a stack buffer,
 * so every operand layout feeds the same MR×NR tile whose accumulators stay in registers;
 * A is read in place (one broadcast per row and step). */
#include <stddef.h>
#include <string.h>

#define NR (2 * VBYTES / (int) sizeof(T)) /* two vectors per tile row */
#define KC 256                            /* rows of B per packed chunk: <= 32 KB of stack */

FN_TGT static void F(pack)(ptrdiff_t kc, ptrdiff_t nr, const T *B, ptrdiff_t sb_p, ptrdiff_t sb_j, T *restrict bp)
{
    for (ptrdiff_t p = 0; p < kc; p++) {
        const T *b = B + p * sb_p;
        ptrdiff_t c = 0;
        if (sb_j == 1)
            for (; c < nr; c++) bp[p * NR + c] = b[c];
        else
            for (; c < nr; c++) bp[p * NR + c] = b[c * sb_j];
        for (; c < NR; c++) bp[p * NR + c] = 0;
    }
}

/* C[0:mr, 0:nr] = alpha·(rows of A)·bp + beta·C; rows past mr repeat row 0 (discarded). */
FN_TGT static inline void F(tile)(ptrdiff_t kc, const T *const *arow, ptrdiff_t sa_p, const T *restrict bp, T alpha,
                                  T beta, T *C, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr)
{
    T out[MR][NR];
#if defined(__GNUC__) /* vector types pin the 2·MR accumulators to registers (plain arrays spilled) */
    typedef T V __attribute__((vector_size(VBYTES)));
    enum { VL = VBYTES / (int) sizeof(T) };
    V acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = (V){0};
    for (ptrdiff_t p = 0; p < kc; p++) {
        V b0, b1;
        memcpy(&b0, bp + p * NR, sizeof b0);
        memcpy(&b1, bp + p * NR + VL, sizeof b1);
        for (int r = 0; r < MR; r++) {
            V a = arow[r][p * sa_p] - (V){0}; /* a broadcast (x − 0 folds away; x + 0 would not) */
            acc[r][0] += a * b0;
            acc[r][1] += a * b1;
        }
    }
    for (int r = 0; r < MR; r++) {
        memcpy(&out[r][0], &acc[r][0], sizeof acc[r][0]);
        memcpy(&out[r][VL], &acc[r][1], sizeof acc[r][1]);
    }
#else /* portable fallback (non-GNU compilers build only the default path) */
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++) out[r][c] = 0;
    for (ptrdiff_t p = 0; p < kc; p++)
        for (int r = 0; r < MR; r++)
            for (int c = 0; c < NR; c++) out[r][c] += arow[r][p * sa_p] * bp[p * NR + c];
#endif
    for (ptrdiff_t r = 0; r < mr; r++) {
        T *cr = C + r * ldc;
        if (beta == 0)
            for (ptrdiff_t c = 0; c < nr; c++) cr[c] = alpha * out[r][c];
        else
            for (ptrdiff_t c = 0; c < nr; c++) cr[c] = alpha * out[r][c] + beta * cr[c];
    }
}

FN_TGT void F(gemm)(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *A, ptrdiff_t lda,
                    const T *B, ptrdiff_t ldb, T beta, T *C, ptrdiff_t ldc)
{
    /* op(A)[i, p] = A[i*sa_i + p*sa_p], op(B)[p, j] = B[p*sb_p + j*sb_j] */
    ptrdiff_t sa_i = trans_a ? 1 : lda, sa_p = trans_a ? lda : 1;
    ptrdiff_t sb_p = trans_b ? 1 : ldb, sb_j = trans_b ? ldb : 1;
    T bp[KC * NR];
    if (k == 0) {
        for (ptrdiff_t i = 0; i < m; i++)
            for (ptrdiff_t j = 0; j < n; j++) C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j];
        return;
    }
    for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {
        ptrdiff_t nr = n - j0 < NR ? n - j0 : NR;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
            ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
            T b_eff = p0 == 0 ? beta : 1; /* later chunks add onto the first */
            F(pack)(kc, nr, B + p0 * sb_p + j0 * sb_j, sb_p, sb_j, bp);
            for (ptrdiff_t i0 = 0; i0 < m; i0 += MR) {
                ptrdiff_t mr = m - i0 < MR ? m - i0 : MR;
                const T *arow[MR];
                for (int r = 0; r < MR; r++) arow[r] = A + (i0 + (r < mr ? r : 0)) * sa_i + p0 * sa_p;
                F(tile)(kc, arow, sa_p, bp, alpha, b_eff, C + i0 * ldc + j0, ldc, mr, nr);
            }
        }
    }
}

#undef NR
#undef KC
