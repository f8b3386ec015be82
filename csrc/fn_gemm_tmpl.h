/* One register-blocked GEMM body for type T on one CPU path (included by fn_instances.h).
 *
 * C is cut into strips of up to NVMAX = 4 vectors (VL lanes each) of columns and the strips
 * into tiles of R <= RMAX(NV) rows, whose R·NV accumulators stay in registers while the tile
 * walks k: per step one broadcast of op(A)[i, p] per row and NV vector loads of op(B)[p, :].
 * Shaped for the small products of small nets (m = 16 or 1, n and k ~ 10–64), where packing,
 * padding and the epilogue would cost as much as the multiply-adds:
 *   - a row-major op(B) (trans_b = 0) is read in place, also by a strip narrower than its NV
 *     vectors: those loads run past column n into the next row of B, still inside B's
 *     storage, and feed only lanes that are never stored. Only the last rows of B, where a
 *     load would leave B, are packed (zero-padded): one row for n = 15 or 10. A transposed
 *     op(B) is packed (the whole strip, per k chunk).
 *   - wide strips, few rows (v3 float64: 3 rows × 16 columns): one strip covers n <= 16, so
 *     each A element is broadcast once per 16 columns; every row count has its own unrolled
 *     tile (no padding rows), and the last strip has just enough vectors for its columns;
 *   - the epilogue is vectorised, with beta = 0 (never reads C) hoisted out of the rows; a
 *     row's last, partial vector is stored lane by lane through a jump table.
 * A is read in place (op(A)[i, p] = A[i·sa_i + p·sa_p]). MR caps the rows of a tile. */
#include <stddef.h>
#include <string.h>
#if FN_GEMM_MASKED
#include <immintrin.h>
#endif

#define VL (VBYTES / (int) sizeof(T)) /* lanes per vector */
#define NVMAX 4                       /* vectors per strip, at most */
#define NR (NVMAX * VL)               /* columns per strip, at most */
#define KC (16384 / (NVMAX * VBYTES)) /* rows of B per k chunk: packed rows take <= 16 KB of stack */
/* Vector registers (x86-64: 16, AVX-512: 32). A tile's step holds its R·NV accumulators plus
 * either NV vectors of B and a broadcast (B first) or R broadcasts and a vector of B (A first).
 * Rows per tile for an NV-vector strip: the most for which one of those fits, at most MR. */
#ifdef FN_VREGS /* set by an instance whose narrower vectors still have AVX-512's 32 registers */
#define NREGS FN_VREGS
#else
#define NREGS (VBYTES >= 64 ? 32 : 16)
#endif
#define BFIRST_FITS(R, NV) ((R) * (NV) + (NV) + 1 <= NREGS)
#define RFIT_(NV) ((NREGS - 1 - (NV)) / (NV) > (NREGS - 1) / ((NV) + 1) ? (NREGS - 1 - (NV)) / (NV) : (NREGS - 1) / ((NV) + 1))
#define RMAX(NV) (RFIT_(NV) < MR ? RFIT_(NV) : MR)

#if defined(__GNUC__)

#if MR < 2 || MR > 8
#error "fn_gemm_tmpl.h: MR must be 2..8 (see the tile switch in gemm)"
#endif

#define V F(gemm_vec)
typedef T V __attribute__((vector_size(VBYTES)));
#define FN_GEMM_INLINE static inline __attribute__((always_inline))

FN_TGT FN_GEMM_INLINE V F(gemm_load)(const T *p) /* an unaligned vector load */
{
    V x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* acc[r][v] += Σ_{p<kc} ap[r·sa_i + p·sa_p] · b[p·sb + v·VL : +VL] for r < R, v < NV. R and NV are
 * constants at every (inlined) call, so the loops over them unroll and acc lives in registers. */
FN_TGT FN_GEMM_INLINE void F(gemm_steps)(const int R, const int NV, ptrdiff_t kc, const T *ap, ptrdiff_t sa_i,
                                         ptrdiff_t sa_p, const T *b, ptrdiff_t sb, V acc[][NVMAX])
{
    if (BFIRST_FITS(R, NV)) { /* NV vectors of B, then one broadcast at a time */
        _Pragma("GCC unroll 2") for (ptrdiff_t p = 0; p < kc; p++, ap += sa_p, b += sb)
        {
            V bv[NVMAX];
            for (int v = 0; v < NV; v++) bv[v] = F(gemm_load)(b + v * VL);
            for (int r = 0; r < R; r++) {
                V a = ap[r * sa_i] - (V){0}; /* a broadcast (x − 0 folds away; x + 0 would not) */
                for (int v = 0; v < NV; v++) acc[r][v] += a * bv[v];
            }
        }
    } else { /* the R broadcasts, then one vector of B at a time */
        _Pragma("GCC unroll 2") for (ptrdiff_t p = 0; p < kc; p++, ap += sa_p, b += sb)
        {
            V a[MR];
            for (int r = 0; r < R; r++) a[r] = ap[r * sa_i] - (V){0};
            for (int v = 0; v < NV; v++) {
                V bv = F(gemm_load)(b + v * VL);
                for (int r = 0; r < R; r++) acc[r][v] += a[r] * bv;
            }
        }
    }
}

/* dst[0:w] = x[0:w] (+ beta·dst[0:w] when BETA), 0 < w < VL: the stored part of a row's last,
 * partial vector. With MASK (AVX-512 paths, tiles of several rows) it is stored (and loaded) in
 * one masked instruction, else element by element through a jump table (cases fall through):
 * for a 15-wide C on AVX-512 the lanes cost as much as a short product's multiply-adds, while
 * a single row's masked store made 1-sample predict slower (the next pass reads it back). */
FN_TGT FN_GEMM_INLINE void F(gemm_store_part)(const int MASK, const int BETA, T *dst, V x, ptrdiff_t w, T beta)
{
#if FN_GEMM_MASKED && VBYTES == 64
    if (MASK && sizeof(T) == 8) {
        __mmask8 lanes = (__mmask8) ((1u << w) - 1);
        if (BETA) x += beta * (V) _mm512_maskz_loadu_pd(lanes, dst);
        _mm512_mask_storeu_pd((void *) dst, lanes, (__m512d) x);
        return;
    }
    if (MASK) {
        __mmask16 lanes = (__mmask16) ((1u << w) - 1);
        if (BETA) x += beta * (V) _mm512_maskz_loadu_ps(lanes, dst);
        _mm512_mask_storeu_ps((void *) dst, lanes, (__m512) x);
        return;
    }
#elif FN_GEMM_MASKED && VBYTES == 32 /* AVX-512VL's masked forms of the 256-bit vectors */
    __mmask8 lanes = (__mmask8) ((1u << w) - 1);
    if (MASK && sizeof(T) == 8) {
        if (BETA) x += beta * (V) _mm256_maskz_loadu_pd(lanes, dst);
        _mm256_mask_storeu_pd((void *) dst, lanes, (__m256d) x);
        return;
    }
    if (MASK) {
        if (BETA) x += beta * (V) _mm256_maskz_loadu_ps(lanes, dst);
        _mm256_mask_storeu_ps((void *) dst, lanes, (__m256) x);
        return;
    }
#endif
#define FN_GEMM_LANE(J)                                                                                         \
    case (J) + 1:                                                                                               \
        if ((J) < VL)                                                                                           \
            dst[J] = BETA ? x[(J) % VL] + beta * dst[J] : x[(J) % VL];                                          \
        __attribute__((fallthrough));
    switch (w) {
        FN_GEMM_LANE(14)
        FN_GEMM_LANE(13)
        FN_GEMM_LANE(12)
        FN_GEMM_LANE(11)
        FN_GEMM_LANE(10)
        FN_GEMM_LANE(9)
        FN_GEMM_LANE(8)
        FN_GEMM_LANE(7)
        FN_GEMM_LANE(6)
        FN_GEMM_LANE(5)
        FN_GEMM_LANE(4)
        FN_GEMM_LANE(3)
        FN_GEMM_LANE(2)
        FN_GEMM_LANE(1)
        FN_GEMM_LANE(0)
    default:
        break;
    }
#undef FN_GEMM_LANE
}

/* C[0:R, 0:nr] = alpha·acc (+ beta·C when BETA): whole vectors, and the first w lanes of the
 * last one when it is partial. */
FN_TGT FN_GEMM_INLINE void F(gemm_store)(const int R, const int NV, const int BETA, V acc[][NVMAX], T alpha,
                                         T beta, T *C, ptrdiff_t ldc, ptrdiff_t nr)
{
    ptrdiff_t w = nr - (NV - 1) * VL; /* valid lanes of a row's last vector (1..VL) */
    for (int r = 0; r < R; r++) {
        T *cr = C + r * ldc;
        for (int v = 0; v < NV; v++) {
            V x = alpha * acc[r][v], c;
            if (v < NV - 1 || w == VL) {
                if (BETA) {
                    memcpy(&c, cr + v * VL, sizeof c);
                    x += beta * c;
                }
                memcpy(cr + v * VL, &x, sizeof x);
            } else
                F(gemm_store_part)(R >= 4, BETA, cr + v * VL, x, w, beta);
        }
    }
}

/* C[0:R, 0:nr] = alpha·op(A)[0:R, :]·op(B)[:, 0:nr] + beta·C over kc steps: op(B) rows [0, k1)
 * read in place from b (row stride sb), rows [k1, kc) from the packed bp (row stride NR). */
FN_TGT FN_GEMM_INLINE void F(gemm_tile)(const int R, const int NV, ptrdiff_t kc, ptrdiff_t k1, const T *A,
                                        ptrdiff_t sa_i, ptrdiff_t sa_p, const T *b, ptrdiff_t sb, const T *bp,
                                        T alpha, T beta, T *C, ptrdiff_t ldc, ptrdiff_t nr)
{
    V acc[MR][NVMAX];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = (V){0};
    F(gemm_steps)(R, NV, k1, A, sa_i, sa_p, b, sb, acc);
    if (k1 < kc)
        F(gemm_steps)(R, NV, kc - k1, A + k1 * sa_p, sa_i, sa_p, bp, NR, acc);
    if (beta == 0)
        F(gemm_store)(R, NV, 0, acc, alpha, beta, C, ldc, nr);
    else
        F(gemm_store)(R, NV, 1, acc, alpha, beta, C, ldc, nr);
}

/* Rows [0, rows) of an op(B) strip (nr columns) into bp, zero-padded to nv vectors. */
FN_TGT static void F(gemm_pack)(ptrdiff_t rows, ptrdiff_t nr, int nv, const T *B, ptrdiff_t sb_p, ptrdiff_t sb_j,
                                T *restrict bp)
{
    for (ptrdiff_t p = 0; p < rows; p++)
        for (int v = nr / VL; v < nv; v++) memset(bp + p * NR + v * VL, 0, VBYTES);
    if (sb_p == 1) { /* transposed B: VL columns at a time, one vector of bp per row */
        ptrdiff_t c0 = 0;
        for (; c0 + VL <= nr; c0 += VL)
            for (ptrdiff_t p = 0; p < rows; p++)
                for (int c = 0; c < VL; c++) bp[p * NR + c0 + c] = B[(c0 + c) * sb_j + p];
        for (ptrdiff_t c = c0; c < nr; c++)
            for (ptrdiff_t p = 0; p < rows; p++) bp[p * NR + c] = B[c * sb_j + p];
    } else
        for (ptrdiff_t p = 0; p < rows; p++) {
            const T *src = B + p * sb_p;
            for (ptrdiff_t c = 0; c < nr; c++) bp[p * NR + c] = src[c * sb_j];
        }
}

/* The tiles of one strip of NV vectors, rows i0.. in steps of RMAX(NV). */
#define FN_GEMM_ROW(NV, R)                                                                                      \
    case R:                                                                                                     \
        if ((R) <= RMAX(NV))                                                                                    \
            F(gemm_tile)((R) <= RMAX(NV) ? (R) : 1, NV, kc, k1, Ai, sa_i, sa_p, b, sb_p, bp, alpha, b_eff, Ci,     \
                         ldc, nr);                                                                              \
        break;
#define FN_GEMM_STRIP(NV)                                                                                       \
    case NV:                                                                                                    \
        for (ptrdiff_t i0 = 0; i0 < m; i0 += RMAX(NV)) {                                                        \
            const T *Ai = A + i0 * sa_i + p0 * sa_p;                                                            \
            T *Ci = C + i0 * ldc + j0;                                                                          \
            switch (m - i0 < RMAX(NV) ? m - i0 : RMAX(NV)) {                                                    \
                FN_GEMM_ROW(NV, 8)                                                                              \
                FN_GEMM_ROW(NV, 7)                                                                              \
                FN_GEMM_ROW(NV, 6)                                                                              \
                FN_GEMM_ROW(NV, 5)                                                                              \
                FN_GEMM_ROW(NV, 4)                                                                              \
                FN_GEMM_ROW(NV, 3)                                                                              \
                FN_GEMM_ROW(NV, 2)                                                                              \
                FN_GEMM_ROW(NV, 1)                                                                              \
            }                                                                                                   \
        }                                                                                                       \
        break;

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
        int nv = (int) ((nr + VL - 1) / VL);
        /* In place, the strip's loads reach over = nv·VL − nr elements past column n − 1 of
         * row p: inside B while (k − 1 − p)·ldb >= over, i.e. for p < k_in. */
        ptrdiff_t over = nv * VL - nr, k_in = k;
        if (trans_b)
            k_in = 0;
        else if (over > 0)
            k_in = ldb > 0 ? k - (over + ldb - 1) / ldb : 0;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
            ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
            ptrdiff_t k1 = k_in - p0 < 0 ? 0 : k_in - p0 < kc ? k_in - p0 : kc;
            T b_eff = p0 == 0 ? beta : 1; /* later chunks add onto the first */
            const T *b = B + p0 * sb_p + j0 * sb_j;
            if (k1 < kc)
                F(gemm_pack)(kc - k1, nr, nv, b + k1 * sb_p, sb_p, sb_j, bp);
            switch (nv) {
                FN_GEMM_STRIP(4)
                FN_GEMM_STRIP(3)
                FN_GEMM_STRIP(2)
                FN_GEMM_STRIP(1)
            }
        }
    }
}

#undef FN_GEMM_STRIP
#undef FN_GEMM_ROW
#undef FN_GEMM_INLINE
#undef V

#else /* portable fallback (non-GNU compilers build only the default path): plain loops */

FN_TGT void F(gemm)(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *A, ptrdiff_t lda,
                    const T *B, ptrdiff_t ldb, T beta, T *C, ptrdiff_t ldc)
{
    ptrdiff_t sa_i = trans_a ? 1 : lda, sa_p = trans_a ? lda : 1;
    ptrdiff_t sb_p = trans_b ? 1 : ldb, sb_j = trans_b ? ldb : 1;
    for (ptrdiff_t i = 0; i < m; i++) {
        T *cr = C + i * ldc;
        for (ptrdiff_t j = 0; j < n; j++) cr[j] = beta == 0 ? 0 : beta * cr[j];
        for (ptrdiff_t p = 0; p < k; p++) {
            T a = alpha * A[i * sa_i + p * sa_p];
            for (ptrdiff_t j = 0; j < n; j++) cr[j] += a * B[p * sb_p + j * sb_j];
        }
    }
}

#endif

#undef RMAX
#undef RFIT_
#undef BFIRST_FITS
#undef NREGS
#undef VL
#undef NVMAX
#undef NR
#undef KC
