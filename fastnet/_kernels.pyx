# The kernel bodies declared in _kernels.pxd. Each mirrors one function of
# fastnet/reference/ops.py (the oracle it is tested against).
from libc.math cimport exp, fabs, isfinite, log, log1p, pow, sqrt, tanh

from fastnet._blas cimport gemm
from fastnet._types cimport (ACT_IDENTITY, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_SOFTMAX, ACT_TANH,
                             LOSS_BINARY_CROSS_ENTROPY, LOSS_CROSS_ENTROPY, LOSS_MSE, floating)

cdef double LEAKY_SLOPE = 0.01


cdef inline floating sigmoid(floating z) noexcept nogil:
    # exp only ever sees a non-positive argument, so it cannot overflow.
    cdef floating e
    if z >= 0:
        return 1 / (1 + exp(-z))
    e = exp(z)
    return e / (1 + e)


cdef int dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b, int act,
                       floating[:, ::1] Z, floating[:, ::1] A) except -1 nogil:
    """Z = X @ W + b, then A = f(Z); returns 1 when every Z is finite, else 0."""
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = W.shape[1], i, j
    if m == 0:
        return 1
    for i in range(m):  # the bias rides in the GEMM as its beta·C term
        for j in range(n_out):
            Z[i, j] = b[j]
    gemm(False, False, <int> m, <int> n_out, <int> n_in, <floating> 1, &X[0, 0], <int> n_in,
         &W[0, 0], <int> n_out, <floating> 1, &Z[0, 0], <int> n_out)
    return activation_forward(act, Z, A)


cdef int activation_forward(int act, const floating[:, ::1] Z, floating[:, ::1] A) except -1 nogil:
    """A = f(Z) elementwise (softmax row-wise); returns 1 when every Z is finite, else 0."""
    cdef Py_ssize_t m = Z.shape[0], n = Z.shape[1], i, j
    cdef floating z, top, total
    cdef bint finite = True
    for i in range(m):
        for j in range(n):
            finite &= isfinite(Z[i, j])
        if act == ACT_SOFTMAX:
            top = Z[i, 0]
            for j in range(1, n):
                if Z[i, j] > top:
                    top = Z[i, j]
            total = 0
            for j in range(n):
                A[i, j] = exp(Z[i, j] - top)
                total += A[i, j]
            for j in range(n):
                A[i, j] /= total
            continue
        for j in range(n):
            z = Z[i, j]
            if act == ACT_IDENTITY:
                A[i, j] = z
            elif act == ACT_RELU:
                A[i, j] = z if z > 0 else 0
            elif act == ACT_LEAKY_RELU:
                A[i, j] = z if z > 0 else z * <floating> LEAKY_SLOPE
            elif act == ACT_TANH:
                A[i, j] = tanh(z)
            else:
                A[i, j] = sigmoid(z)
    return finite


cdef int activation_backward(int act, const floating[:, ::1] Z, const floating[:, ::1] A,
                             const floating[:, ::1] dA, floating[:, ::1] dZ) except -1 nogil:
    """dZ = dA ⊙ f'(Z), with softmax's row-wise Jacobian product A ⊙ (dA − rowsum(dA ⊙ A))."""
    cdef Py_ssize_t m = Z.shape[0], n = Z.shape[1], i, j
    cdef floating a, dot
    for i in range(m):
        if act == ACT_SOFTMAX:
            dot = 0
            for j in range(n):
                dot += dA[i, j] * A[i, j]
            for j in range(n):
                dZ[i, j] = A[i, j] * (dA[i, j] - dot)
            continue
        for j in range(n):
            if act == ACT_IDENTITY:
                dZ[i, j] = dA[i, j]
            elif act == ACT_RELU:
                dZ[i, j] = dA[i, j] if Z[i, j] > 0 else 0
            elif act == ACT_LEAKY_RELU:
                dZ[i, j] = dA[i, j] if Z[i, j] > 0 else dA[i, j] * <floating> LEAKY_SLOPE
            elif act == ACT_TANH:
                a = A[i, j]
                dZ[i, j] = dA[i, j] * (1 - a * a)
            else:
                a = A[i, j]
                dZ[i, j] = dA[i, j] * a * (1 - a)
    return 0


cdef int dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ,
                        double l2, floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX,
                        bint want_dX) except -1 nogil:
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, and dX = dZ @ Wᵀ when want_dX."""
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = W.shape[1], i, j
    cdef floating lam = <floating> l2
    for j in range(n_out):
        db[j] = 0
    if m == 0:
        for i in range(n_in):
            for j in range(n_out):
                dW[i, j] = lam * W[i, j]
        return 0
    if want_dX:
        gemm(False, True, <int> m, <int> n_in, <int> n_out, <floating> 1, &dZ[0, 0], <int> n_out,
             &W[0, 0], <int> n_out, <floating> 0, &dX[0, 0], <int> n_in)
    if l2 != 0:  # dW starts as λ·W and the GEMM adds Xᵀ @ dZ onto it
        for i in range(n_in):
            for j in range(n_out):
                dW[i, j] = lam * W[i, j]
    gemm(True, False, <int> n_in, <int> n_out, <int> m, <floating> 1, &X[0, 0], <int> n_in,
         &dZ[0, 0], <int> n_out, <floating> (1 if l2 != 0 else 0), &dW[0, 0], <int> n_out)
    for i in range(m):
        for j in range(n_out):
            db[j] += dZ[i, j]
    return 0


cdef inline floating row_log_sum_exp(const floating[:, ::1] Z, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t j, n = Z.shape[1]
    cdef floating top = Z[i, 0], total = 0
    for j in range(1, n):
        if Z[i, j] > top:
            top = Z[i, j]
    for j in range(n):
        total += exp(Z[i, j] - top)
    return top + log(total)


cdef double loss_grad(int loss, const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
                      floating[:, ::1] dOut) except? -1 nogil:
    """Data loss of (A, Y) and its gradient: dA for mse, the fused dZ for the cross-entropies."""
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1], i, j
    cdef double total = 0, lse
    cdef floating diff, z, scale
    if loss == LOSS_MSE:
        scale = <floating> (2.0 / (m * k))
        for i in range(m):
            for j in range(k):
                diff = A[i, j] - Y[i, j]
                dOut[i, j] = diff * scale
                total += diff * diff
        return total / (m * k)
    if loss == LOSS_CROSS_ENTROPY:
        scale = <floating> m
        for i in range(m):
            lse = row_log_sum_exp(Z, i)
            for j in range(k):
                total += Y[i, j] * (lse - Z[i, j])
                dOut[i, j] = (A[i, j] - Y[i, j]) / scale
        return total / m
    scale = <floating> (m * k)
    for i in range(m):
        for j in range(k):
            z = Z[i, j]
            total += (z if z > 0 else 0) - z * Y[i, j] + log1p(exp(-fabs(z)))
            dOut[i, j] = (A[i, j] - Y[i, j]) / scale
    return total / (m * k)


cdef double cross_entropy_ids(const floating[:, ::1] Z, const floating[:, ::1] A, const Py_ssize_t[::1] ids,
                              floating[:, ::1] dOut) except? -1 nogil:
    """Softmax cross-entropy with class ids: loss and dZ = (P − onehot(ids)) / m."""
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1], i, j
    cdef double total = 0
    cdef floating scale = <floating> m
    for i in range(m):
        total += row_log_sum_exp(Z, i) - Z[i, ids[i]]
        for j in range(k):
            dOut[i, j] = A[i, j]
        dOut[i, ids[i]] -= 1
        for j in range(k):
            dOut[i, j] /= scale
    return total / m


cdef int sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                    bint nesterov) except -1 nogil:
    """v ← μ·v + g; w −= lr·v, or lr·(g + μ·v) with Nesterov; plain w −= lr·g when μ = 0."""
    cdef Py_ssize_t i, n = w.shape[0]
    cdef floating rate = <floating> lr, mu = <floating> momentum
    if momentum == 0:
        for i in range(n):
            w[i] -= rate * g[i]
        return 0
    for i in range(n):
        v[i] = mu * v[i] + g[i]
        if nesterov:
            w[i] -= rate * (g[i] + mu * v[i])
        else:
            w[i] -= rate * v[i]
    return 0


cdef int adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t,
                     double lr, double beta1, double beta2, double eps) except -1 nogil:
    """Adam step t (from 1) with bias correction, in the reference's operation order."""
    cdef Py_ssize_t i, n = w.shape[0]
    cdef floating b1 = <floating> beta1, b2 = <floating> beta2
    cdef floating one_b1 = <floating> (1.0 - beta1), one_b2 = <floating> (1.0 - beta2)
    cdef floating c1 = <floating> (1.0 - pow(beta1, t)), c2 = <floating> (1.0 - pow(beta2, t))
    cdef floating rate = <floating> lr, epsilon = <floating> eps
    for i in range(n):
        m[i] = b1 * m[i] + one_b1 * g[i]
        v[i] = b2 * v[i] + one_b2 * (g[i] * g[i])
        w[i] -= rate * (m[i] / c1) / (sqrt(v[i] / c2) + epsilon)
    return 0
