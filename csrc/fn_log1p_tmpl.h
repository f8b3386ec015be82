/* log1p for one type (included twice by fn_log1p.h with its constants). */
#define FE_(name, ts) fn_##name##_##ts
#define FE(name, ts) FE_(name, ts)

/* 1 + x = u + e exactly (u = 1 + x rounded) by TwoSum: no test of which of 1 and |x| is larger,
 * and only additions, so FMA contraction cannot break the exactness. */
static inline T FE(log1p_split_, TS)(T x, T *e)
{
    T u = 1 + x, v = u - 1;
    *e = (1 - (u - v)) + (x - v);
    return u;
}

/* u = 2^k·m with m in [√½, √2): integer arithmetic on the bits (exact, also for u near the
 * largest finite value, where the exponent field reaches its all-ones value). k comes out as
 * a float through the mantissa of 2^MANT_BITS: an int64 → double conversion has no packed
 * instruction before AVX-512, and would keep the double loop scalar. */
static inline T FE(log1p_reduce_, TS)(T u, T *k)
{
    UINT iu, ik;
    memcpy(&iu, &u, sizeof iu);
    iu += ONE_BITS - SQRT_HALF_BITS;
    ik = (iu >> MANT_BITS) | TWO_MANT_BITS; /* 2^MANT_BITS + k + EXP_BIAS */
    iu = (iu & MANT_MASK) + SQRT_HALF_BITS;
    memcpy(k, &ik, sizeof ik);
    *k -= (T) (TWO_MANT + EXP_BIAS);
    memcpy(&u, &iu, sizeof iu);
    return u;
}

/* log1p(x) = k·ln2 + log1p(f) + e/u with f = m − 1 (exact), log1p(f) = 2·atanh(f/(2 + f))
 * by fdlibm's rational form; e/u corrects for the rounding of 1 + x. */
static inline T FE(log1p, TS)(T x)
{
    T e, k, u = FE(log1p_split_, TS)(x, &e);
    T f = FE(log1p_reduce_, TS)(u, &k) - 1;
    T s = f / (2 + f), z = s * s, w = z * z;
    T r = LOG_POLY(z, w), hfsq = (T) 0.5 * f * f;
    T y = (((s * (hfsq + r) + (k * LN2_LO + e / u)) - hfsq) + f) + k * LN2_HI;
    y = FE(select_, TS)(x == 0, x, y); /* −0 stays −0 */
    y = FE(select_, TS)(x == (T) INFINITY, x, y);
    y = FE(select_, TS)(x == -1, (T) -INFINITY, y);
    return FE(select_, TS)(x < -1, (T) NAN, y); /* NaN in, NaN out through the arithmetic */
}

#undef FE_
#undef FE
#undef T
#undef UINT
#undef TS
#undef ONE_BITS
#undef SQRT_HALF_BITS
#undef TWO_MANT_BITS
#undef TWO_MANT
#undef MANT_MASK
#undef MANT_BITS
#undef EXP_BIAS
#undef LN2_HI
#undef LN2_LO
#undef LOG_POLY
