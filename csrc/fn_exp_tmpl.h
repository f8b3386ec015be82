/* exp and expm1 for one type (included twice by fn_exp.h with its constants). */
#define FE_(name, ts) fn_##name##_##ts
#define FE(name, ts) FE_(name, ts)

/* c ? a : b by bit masks: a plain ?: on floats is not if-converted (so not vectorised)
 * by GCC under its default -ftrapping-math. */
static inline T FE(select_, TS)(int c, T a, T b)
{
    UINT ua, ub, mask = -(UINT) c;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & mask) | (ub & ~mask);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* 2^n for the integer n held in k = n + SHIFT (bit arithmetic only, no float→int UB). */
static inline T FE(pow2_, TS)(T k)
{
    UINT u;
    memcpy(&u, &k, sizeof u);
    u = (u - SHIFT_BITS + EXP_BIAS) << MANT_BITS;
    memcpy(&k, &u, sizeof k);
    return k;
}

/* x = n·ln2 + r with |r| <= ln2/2; returns r, sets the two scales 2^n1·2^n2 = 2^n (each
 * normal, so overflow to inf and gradual underflow happen in one rounding at the end). */
static inline T FE(exp_reduce_, TS)(T x, T *s1, T *s2)
{
    T kd = x * LOG2E + SHIFT, n = kd - SHIFT, r = x - n * LN2_HI;
    T k1 = n * (T) 0.5 + SHIFT, n1 = k1 - SHIFT;
    *s1 = FE(pow2_, TS)(k1);
    *s2 = FE(pow2_, TS)((n - n1) + SHIFT);
    return r - n * LN2_LO;
}

static inline T FE(exp, TS)(T x)
{
    T s1, s2, r;
    x = FE(select_, TS)(x < EXP_LO, EXP_LO, x); /* NaN fails both tests and stays NaN */
    x = FE(select_, TS)(x > EXP_HI, EXP_HI, x);
    r = FE(exp_reduce_, TS)(x, &s1, &s2);
    return ((1 + EXPM1_POLY(r)) * s1) * s2;
}

static inline T FE(expm1_neg, TS)(T x)
{
    T s1, s2, r, q, s;
    x = FE(select_, TS)(x < EXP_LO, EXP_LO, x);
    x = FE(select_, TS)(x > 0, 0, x);
    r = FE(exp_reduce_, TS)(x, &s1, &s2);
    q = EXPM1_POLY(r);
    s = s1 * s2; /* 2^n <= 1: s·(1 + q) − 1 without the cancellation of 1 + q − 1 */
    return s * q + (s - 1);
}

#undef FE_
#undef FE
#undef T
#undef UINT
#undef TS
#undef EXP_LO
#undef EXP_HI
#undef LOG2E
#undef LN2_HI
#undef LN2_LO
#undef SHIFT
#undef SHIFT_BITS
#undef EXP_BIAS
#undef MANT_BITS
#undef EXPM1_POLY
