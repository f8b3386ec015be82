# The kernel bodies declared in _kernels.pxd. Products and elementwise math go through
# _cpu (micro-kernels or BLAS); each body mirrors one function of fastnet/reference/ops.py.
from libc.math cimport fabs, pow

from fastnet cimport _cpu as cpu
from fastnet._types cimport (FN_LOSS_CROSS_ENTROPY, FN_LOSS_MSE, FN_METRIC_ARGMAX_ACCURACY, FN_METRIC_MAE,
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


cdef double cross_entropy(const floating *Z, const floating *A, const floating *Y, const Py_ssize_t *ids,
                          floating *dOut, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Softmax cross-entropy −(1/m) Σ Y log P and dZ = (P − Y)/m; Y is onehot(ids) when ids != NULL."""
    cdef Py_ssize_t i, j, row
    cdef double total = 0
    cdef floating scale = <floating> m, lse
    for i in range(m):
        row = i * k
        lse = row_log_sum_exp(Z + row, dOut + row, k)  # dOut is the exps' scratch until overwritten
        if ids != NULL:
            total += lse - Z[row + ids[i]]
            for j in range(row, row + k):
                dOut[j] = A[j] / scale
            dOut[row + ids[i]] = (A[row + ids[i]] - 1) / scale
        else:
            for j in range(row, row + k):
                total += Y[j] * (lse - Z[j])
                dOut[j] = (A[j] - Y[j]) / scale
    return total / m


cdef double loss_grad(int loss, const floating *Z, const floating *A, const floating *Y, const Py_ssize_t *ids,
                      floating *dOut, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    # The scalar loss is accumulated in double in both dtypes (a reduction, not per-element math).
    cdef Py_ssize_t i
    cdef double total = 0
    cdef floating diff, z, scale
    if m == 0 or k == 0:
        return 0
    if loss == FN_LOSS_MSE:
        scale = <floating> (2.0 / (m * k))
        for i in range(m * k):
            diff = A[i] - Y[i]
            dOut[i] = diff * scale
            total += diff * diff
        return total / (m * k)
    if loss == FN_LOSS_CROSS_ENTROPY:
        return cross_entropy(Z, A, Y, ids, dOut, m, k)
    scale = <floating> (m * k)  # binary cross-entropy from logits
    for i in range(m * k):
        dOut[i] = -Z[i] if Z[i] > 0 else Z[i]  # exp(−|z|) cannot overflow
    cpu.vexp(dOut, dOut, m * k)
    cpu.vlog1p(dOut, dOut, m * k)
    for i in range(m * k):
        z = Z[i]
        total += (z if z > 0 else 0) - z * Y[i] + dOut[i]
        dOut[i] = (A[i] - Y[i]) / scale
    return total / (m * k)


cdef inline Py_ssize_t row_argmax(const floating *row, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t j, best = 0
    for j in range(1, k):
        if row[j] > row[best]:
            best = j
    return best


cdef double metric_sum(int metric, const floating *A, const floating *Y, const Py_ssize_t *ids,
                       Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t i, truth
    cdef double total = 0
    if metric == FN_METRIC_MAE:
        for i in range(m * k):
            total += fabs(A[i] - Y[i])
    elif metric == FN_METRIC_ARGMAX_ACCURACY:
        for i in range(m):
            truth = ids[i] if ids != NULL else row_argmax(Y + i * k, k)
            total += row_argmax(A + i * k, k) == truth
    else:  # threshold accuracy: both sides of 0.5
        for i in range(m * k):
            total += (A[i] > 0.5) == (Y[i] > 0.5)
    return total


cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating rate = <floating> lr, mu = <floating> momentum
    if momentum == 0:
        for i in range(n):
            w[i] -= rate * g[i]
        return
    for i in range(n):
        v[i] = mu * v[i] + g[i]
        if nesterov:
            w[i] -= rate * (g[i] + mu * v[i])
        else:
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
