/* Elementwise kernels for type T on one CPU path (included by fn_instances.h). Each case is
 * its own simple loop so the compiler vectorises it; the finiteness flag is an integer AND
 * (z − z is 0 exactly when z is finite), which vectorises where a float reduction would not.
 * A ?: whose arm does float math is written as fn_select_ (see fn_exp_tmpl.h), else GCC's
 * default -ftrapping-math keeps the branch and the loop stays scalar. */
#define FE_(name, ts) fn_##name##_##ts
#define FE(name, ts) FE_(name, ts)

/* tanh(x) = sign(x)·(−expm1(−2|x|) / (2 + expm1(−2|x|))): accurate near 0, ±1 for large |x|. */
FN_TGT static inline T F(tanh)(T x)
{
    T e = FE(expm1_neg, TS)(-2 * (x < 0 ? -x : x));
    T t = -e / (2 + e);
    return x < 0 ? -t : t;
}

/* GELU's inner tanh, t = tanh(√(2/π)(x + 0.044715 x³)). */
FN_TGT static inline T F(gelu_tanh)(T x)
{
    return F(tanh)((T) FN_GELU_SQRT_2_OVER_PI * (x + (T) FN_GELU_CUBIC * x * x * x));
}

FN_TGT void F(vexp)(ptrdiff_t n, const T *x, T *y)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = FE(exp, TS)(x[i]);
}

FN_TGT void F(vlog1p)(ptrdiff_t n, const T *x, T *y)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] = FE(log1p, TS)(x[i]);
}

/* exp(z − the row's max) / its row's sum. The exp runs once over all m·n shifted values: per
 * row, rows of 10 would leave most of each exp loop to its scalar tail. */
FN_TGT static int F(softmax)(ptrdiff_t m, ptrdiff_t n, const T *z, T *a)
{
    ptrdiff_t len = m * n;
    int ok = 1;
    for (ptrdiff_t i = 0; i < len; i++) ok &= z[i] - z[i] == 0;
    for (ptrdiff_t i = 0; i < len; i += n) {
        T top = z[i];
        for (ptrdiff_t j = 1; j < n; j++) top = z[i + j] > top ? z[i + j] : top;
        for (ptrdiff_t j = 0; j < n; j++) a[i + j] = z[i + j] - top;
    }
    for (ptrdiff_t i = 0; i < len; i++) a[i] = FE(exp, TS)(a[i]);
    for (ptrdiff_t i = 0; i < len; i += n) {
        T total = 0;
        for (ptrdiff_t j = 0; j < n; j++) total += a[i + j];
        for (ptrdiff_t j = 0; j < n; j++) a[i + j] = a[i + j] / total;
    }
    return ok;
}

FN_TGT int F(act_forward)(int act, ptrdiff_t m, ptrdiff_t n, const T *z, T *a)
{
    ptrdiff_t len = m * n, i;
    int ok = 1;
    if (act == FN_ACT_SOFTMAX) return F(softmax)(m, n, z, a);
    for (i = 0; i < len; i++) ok &= z[i] - z[i] == 0;
    switch (act) {
    case FN_ACT_IDENTITY:
        if (a != z)
            for (i = 0; i < len; i++) a[i] = z[i];
        break;
    case FN_ACT_RELU:
        for (i = 0; i < len; i++) a[i] = z[i] <= 0 ? 0 : z[i]; /* NaN stays NaN, as np.maximum */
        break;
    case FN_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++) a[i] = FE(select_, TS)(z[i] > 0, z[i], z[i] * (T) FN_LEAKY_SLOPE);
        break;
    case FN_ACT_TANH:
        for (i = 0; i < len; i++) a[i] = F(tanh)(z[i]);
        break;
    case FN_ACT_SIGMOID: /* exp sees only −|z|, so it cannot overflow */
        for (i = 0; i < len; i++) {
            T e = FE(exp, TS)(z[i] < 0 ? z[i] : -z[i]);
            a[i] = (z[i] >= 0 ? 1 : e) / (1 + e);
        }
        break;
    case FN_ACT_EXP: /* the only activation whose output overflows for a finite z */
        for (i = 0; i < len; i++) a[i] = FE(exp, TS)(z[i]);
        for (i = 0; i < len; i++) ok &= a[i] - a[i] == 0;
        break;
    default: /* gelu, tanh approximation */
        for (i = 0; i < len; i++) a[i] = (T) 0.5 * z[i] * (1 + F(gelu_tanh)(z[i]));
    }
    return ok;
}

FN_TGT void F(act_backward)(int act, ptrdiff_t m, ptrdiff_t n, const T *z, const T *a, const T *da, T *dz)
{
    ptrdiff_t len = m * n, i;
    switch (act) {
    case FN_ACT_IDENTITY:
        for (i = 0; i < len; i++) dz[i] = da[i];
        break;
    case FN_ACT_RELU:
        for (i = 0; i < len; i++) dz[i] = da[i] * (T) (z[i] > 0); /* the oracle's dA·(Z > 0) */
        break;
    case FN_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++) dz[i] = FE(select_, TS)(z[i] > 0, da[i], da[i] * (T) FN_LEAKY_SLOPE);
        break;
    case FN_ACT_TANH:
        /* (1 − a)(1 + a), not 1 − a²: no cancellation, and no a·a + c for FMA contraction to
         * round differently from the oracle (which uses the same form) */
        for (i = 0; i < len; i++) dz[i] = da[i] * ((1 - a[i]) * (1 + a[i]));
        break;
    case FN_ACT_SIGMOID:
        for (i = 0; i < len; i++) dz[i] = da[i] * a[i] * (1 - a[i]);
        break;
    case FN_ACT_EXP:
        for (i = 0; i < len; i++) dz[i] = da[i] * a[i];
        break;
    case FN_ACT_GELU:
        /* ½(1 + t) + ½x(1 − t)(1 + t)·√(2/π)(1 + 3·0.044715 x²), with x clamped to ±FN_GELU_SATURATION,
         * where t is ±1 exactly: x³ and x² cannot overflow into inf·0 */
        for (i = 0; i < len; i++) {
            T x = FE(select_, TS)(z[i] > (T) FN_GELU_SATURATION, (T) FN_GELU_SATURATION, z[i]);
            x = FE(select_, TS)(x < (T) -FN_GELU_SATURATION, (T) -FN_GELU_SATURATION, x);
            T t = F(gelu_tanh)(x);
            T slope = (T) FN_GELU_SQRT_2_OVER_PI * (1 + (T) (3 * FN_GELU_CUBIC) * x * x);
            dz[i] = da[i] * ((T) 0.5 * (1 + t) + (T) 0.5 * x * ((1 - t) * (1 + t)) * slope);
        }
        break;
    default: /* softmax: the row-wise Jacobian product */
        for (ptrdiff_t r = 0; r < m; r++, a += n, da += n, dz += n) {
            T dot = 0;
            for (i = 0; i < n; i++) dot += da[i] * a[i];
            for (i = 0; i < n; i++) dz[i] = a[i] * (da[i] - dot);
        }
    }
}

#undef FE_
#undef FE
