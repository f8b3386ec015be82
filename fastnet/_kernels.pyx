# The kernel bodies declared in _kernels.pxd. Products and elementwise math go through
# _cpu (micro-kernels or BLAS); each body mirrors one function of fastnet/reference/ops.py.
from libc.math cimport fabs, pow

from fastnet cimport _cpu as cpu
from fastnet cimport _sklearn_kernels as sklearn
from fastnet._types cimport (FN_DROPOUT_GAMMA, FN_DROPOUT_MIX_1, FN_DROPOUT_MIX_2, FN_LOSS_BINARY_CROSS_ENTROPY,
                             FN_LOSS_CROSS_ENTROPY, FN_LOSS_MSE, FN_LOSS_SK_SQUARED_ERROR, FN_METRIC_ARGMAX_ACCURACY, FN_METRIC_MAE,
                             floating, typed_log, typed_sqrt)


cdef bint forward(const floating *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                  Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    cdef Py_ssize_t i, j
    if m == 0:
        return True
    for i in range(m):  # the bias rides in the GEMM as its beta·C term
        for j in range(n_out):
            Z[i * n_out + j] = b[j]
    cpu.gemm(False, False, m, n_out, n_in, <floating> 1, X, n_in, W, n_out, <floating> 1, Z, n_out)
    return cpu.act_forward(act, Z, A, m, n_out)


cdef inline void column_sums(const floating *dZ, floating *db, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    for j in range(n):
        db[j] = 0
    for i in range(m):
        for j in range(n):
            db[j] += dZ[i * n + j]


cdef void backward(const floating *X, const floating *W, const floating *dZ, double l2, floating *dW,
                   floating *db, floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating lam = <floating> l2
    column_sums(dZ, db, m, n_out)
    if l2 != 0 or m == 0:  # dW starts as λ·W and the GEMM adds Xᵀ @ dZ onto it
        for i in range(n_in * n_out):
            dW[i] = lam * W[i]
    if m == 0:
        return
    if dX != NULL:
        cpu.gemm(False, True, m, n_in, n_out, <floating> 1, dZ, n_out, W, n_out, <floating> 0, dX, n_in)
    cpu.gemm(True, False, n_in, n_out, m, <floating> 1, X, n_in, dZ, n_out, <floating> (1 if l2 != 0 else 0),
             dW, n_out)


cdef void backward_sgd(const floating *X, floating *W, floating *b, const floating *dZ, double l2, double lr,
                       floating *db, floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    # w −= lr·(Xᵀ dZ + λw) is a shrink by (1 − lr·λ) and a GEMM with alpha = −lr, beta = 1 onto W
    # itself, after dX used the old weights: one pass over W instead of three.
    cdef Py_ssize_t i
    cdef floating shrink = <floating> (1 - lr * l2)
    if dX != NULL and m:
        cpu.gemm(False, True, m, n_in, n_out, <floating> 1, dZ, n_out, W, n_out, <floating> 0, dX, n_in)
    column_sums(dZ, db, m, n_out)
    if l2 != 0:
        for i in range(n_in * n_out):
            W[i] *= shrink
    if m:
        cpu.gemm(True, False, n_in, n_out, m, <floating> -lr, X, n_in, dZ, n_out, <floating> 1, W, n_out)
    sgd(b, db, NULL, n_out, lr, 0, False)


cdef inline floating row_log_sum_exp(const floating *z, floating *scratch, Py_ssize_t n) noexcept nogil:
    """log Σ exp(z) over one row, max-shifted; scratch (n values) receives exp(z − max)."""
    cdef Py_ssize_t j
    cdef floating top = z[0], total = 0
    for j in range(1, n):
        if z[j] > top:
            top = z[j]
    for j in range(n):
        scratch[j] = z[j] - top
    cpu.vexp(scratch, scratch, n)
    for j in range(n):
        total += scratch[j]
    return top + typed_log(total)


cdef double weight_sum(const floating *w, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i
    cdef double total = 0
    if w == NULL:
        return m
    for i in range(m):
        total += w[i]
    return total


cdef inline double cross_entropy_row(const floating *z, const floating *a, const floating *y, Py_ssize_t id_,
                                     floating *d, floating share, Py_ssize_t k) noexcept nogil:
    """One row's −Σ y log p, writing share·(p − y) to d; y is onehot(id_) when y is NULL."""
    cdef Py_ssize_t j
    cdef double total = 0
    cdef floating lse = row_log_sum_exp(z, d, k)  # d is the exps' scratch until overwritten
    if y == NULL:
        for j in range(k):
            d[j] = a[j] * share
        d[id_] = (a[id_] - 1) * share
        return lse - z[id_]
    for j in range(k):
        total += y[j] * (lse - z[j])
        d[j] = (a[j] - y[j]) * share
    return total


cdef double loss_grad(int loss, const floating *Z, const floating *A, const floating *Y, const Py_ssize_t *ids,
                      const floating *w, floating *dOut, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    # Row i's share of the batch loss is wᵢ/Σw (1/m unweighted), and of its gradient too; per
    # element, 1/k of that for the element means (scikit-learn's losses have no 1/k in their
    # gradient). The scalar loss is accumulated in double in both dtypes (a reduction, not
    # per-element math).
    cdef Py_ssize_t i, j, row
    cdef double total = 0, row_total, wi, wsum = weight_sum(w, m), per_weight
    cdef floating diff, z, share
    if m == 0 or k == 0:
        return 0
    if wsum == 0:  # no sample counts: no loss and no gradient
        for i in range(m * k):
            dOut[i] = 0
        return 0
    if loss == FN_LOSS_BINARY_CROSS_ENTROPY:
        for i in range(m * k):
            dOut[i] = -Z[i] if Z[i] > 0 else Z[i]  # exp(−|z|) cannot overflow
        cpu.vexp(dOut, dOut, m * k)
        cpu.vlog1p(dOut, dOut, m * k)  # log1p(exp(−|z|))
    # a row's gradient share per unit of weight: d(diff²)/dA = 2·diff; element means divide by k
    if loss == FN_LOSS_CROSS_ENTROPY or loss >= FN_LOSS_SK_SQUARED_ERROR:
        per_weight = 1.0 / wsum
    else:
        per_weight = (2.0 if loss == FN_LOSS_MSE else 1.0) / (wsum * k)
    for i in range(m):
        wi = 1.0 if w == NULL else w[i]
        row = i * k
        row_total = 0
        share = <floating> (wi * per_weight)
        if loss == FN_LOSS_MSE:
            for j in range(row, row + k):
                diff = A[j] - Y[j]
                dOut[j] = diff * share
                row_total += diff * diff
            row_total /= k
        elif loss == FN_LOSS_CROSS_ENTROPY:
            row_total = cross_entropy_row(Z + row, A + row, Y + row if ids == NULL else NULL,
                                          ids[i] if ids != NULL else 0, dOut + row, share, k)
        elif loss == FN_LOSS_BINARY_CROSS_ENTROPY:  # from logits: max(z, 0) − z·y + log1p(exp(−|z|))
            for j in range(row, row + k):
                z = Z[j]
                row_total += (z if z > 0 else 0) - z * Y[j] + dOut[j]
                dOut[j] = (A[j] - Y[j]) * share
            row_total /= k
        else:
            row_total = sklearn.row_loss(loss, A + row, Y + row, dOut + row, share, k)
        total += row_total if w == NULL else wi * row_total
    return total / wsum


cdef inline Py_ssize_t row_argmax(const floating *row, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t j, best = 0
    for j in range(1, k):
        if row[j] > row[best]:
            best = j
    return best


cdef double metric_sum(int metric, const floating *A, const floating *Y, const Py_ssize_t *ids,
                       const floating *w, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t i, j, truth
    cdef double total = 0, row_total
    for i in range(m):
        row_total = 0
        if metric == FN_METRIC_MAE:
            for j in range(i * k, i * k + k):
                row_total += fabs(A[j] - Y[j])
        elif metric == FN_METRIC_ARGMAX_ACCURACY:
            truth = ids[i] if ids != NULL else row_argmax(Y + i * k, k)
            row_total = row_argmax(A + i * k, k) == truth
        else:  # threshold accuracy: both sides of 0.5
            for j in range(i * k, i * k + k):
                row_total += (A[j] > 0.5) == (Y[j] > 0.5)
        total += row_total if w == NULL else w[i] * row_total
    return total


cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating rate = <floating> lr, mu = <floating> momentum
    if momentum == 0:
        for i in range(n):
            w[i] -= rate * g[i]
        return
    if nesterov:  # one loop per form: a choice inside would keep the loop from vectorising
        for i in range(n):
            v[i] = mu * v[i] + g[i]
            w[i] -= rate * (g[i] + mu * v[i])
    else:
        for i in range(n):
            v[i] = mu * v[i] + g[i]
            w[i] -= rate * v[i]


cdef void adam(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t, double lr,
               double beta1, double beta2, double eps) noexcept nogil:
    # in the reference's operation order
    cdef Py_ssize_t i
    cdef floating b1 = <floating> beta1, b2 = <floating> beta2
    cdef floating one_b1 = <floating> (1.0 - beta1), one_b2 = <floating> (1.0 - beta2)
    cdef floating c1 = <floating> (1.0 - pow(beta1, t)), c2 = <floating> (1.0 - pow(beta2, t))
    cdef floating rate = <floating> lr, epsilon = <floating> eps
    for i in range(n):
        m[i] = b1 * m[i] + one_b1 * g[i]
        v[i] = b2 * v[i] + one_b2 * (g[i] * g[i])
        w[i] -= rate * (m[i] / c1) / (typed_sqrt(v[i] / c2) + epsilon)


cdef inline unsigned long long mix64(unsigned long long z) noexcept nogil:
    """SplitMix64's finaliser (arithmetic modulo 2**64, as C defines it for unsigned types)."""
    z = (z ^ (z >> 30)) * FN_DROPOUT_MIX_1
    z = (z ^ (z >> 27)) * FN_DROPOUT_MIX_2
    return z ^ (z >> 31)


cdef unsigned long long dropout_stream(unsigned long long key, unsigned long long counter,
                                       unsigned long long layer) noexcept nogil:
    return mix64(mix64(key + counter * FN_DROPOUT_GAMMA) + (layer + 1) * FN_DROPOUT_GAMMA)


cdef void dropout(const floating *A, floating *M, floating *D, Py_ssize_t n, unsigned long long stream,
                  unsigned long long threshold, floating scale) noexcept nogil:
    cdef Py_ssize_t e
    for e in range(n):  # element e's bits: the stream's (e + 1)-th SplitMix64 output
        M[e] = scale if mix64(stream + <unsigned long long> (e + 1) * FN_DROPOUT_GAMMA) >= threshold else 0
        D[e] = A[e] * M[e]
