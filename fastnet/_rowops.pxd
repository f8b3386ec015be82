# Pointer-level elementwise steps of a training step, shared by the engine's
# whole-epoch loop (fastnet/_engine.pyx). Row-major (m, n) blocks, contiguous.
# Each mirrors one piece of fastnet/reference/ops.py; the engine's results are
# tested against the reference fit.
from libc.math cimport exp, expf, fabs, isfinite, log, log1p, log1pf, logf, pow, sqrt, sqrtf, tanh, tanhf

from fastnet._types cimport (ACT_IDENTITY, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_SOFTMAX, ACT_TANH,
                             LOSS_CROSS_ENTROPY, LOSS_MSE, floating)


cdef inline floating f_exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    return exp(x)


cdef inline floating f_sigmoid(floating z) noexcept nogil:
    # exp only ever sees a non-positive argument, so it cannot overflow.
    cdef floating e
    if z >= 0:
        return 1 / (1 + f_exp(-z))
    e = f_exp(z)
    return e / (1 + e)


cdef inline floating f_tanh(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    return tanh(x)


cdef inline bint activation_forward(int act, const floating *Z, floating *A, Py_ssize_t m,
                                    Py_ssize_t n) noexcept nogil:
    """A = f(Z) (softmax row-wise); returns True when every Z is finite."""
    cdef Py_ssize_t i, j
    cdef floating z, top, total
    cdef bint finite = True
    for i in range(m * n):
        finite &= isfinite(Z[i])
    if act == ACT_SOFTMAX:
        for i in range(m):
            top = Z[i * n]
            for j in range(1, n):
                top = Z[i * n + j] if Z[i * n + j] > top else top
            total = 0
            for j in range(n):
                A[i * n + j] = f_exp(Z[i * n + j] - top)
                total += A[i * n + j]
            for j in range(n):
                A[i * n + j] /= total
    elif act == ACT_IDENTITY:
        if A != Z:
            for i in range(m * n):
                A[i] = Z[i]
    elif act == ACT_RELU:
        for i in range(m * n):
            A[i] = Z[i] if Z[i] > 0 else 0
    elif act == ACT_LEAKY_RELU:
        for i in range(m * n):
            A[i] = Z[i] if Z[i] > 0 else Z[i] * <floating> 0.01
    elif act == ACT_TANH:
        for i in range(m * n):
            A[i] = f_tanh(Z[i])
    else:
        for i in range(m * n):
            A[i] = f_sigmoid(Z[i])
    return finite


cdef inline void activation_backward(int act, const floating *Z, const floating *A, const floating *dA,
                                     floating *dZ, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """dZ = dA ⊙ f'(·); softmax: A ⊙ (dA − rowsum(dA ⊙ A))."""
    cdef Py_ssize_t i, j
    cdef floating dot
    if act == ACT_SOFTMAX:
        for i in range(m):
            dot = 0
            for j in range(n):
                dot += dA[i * n + j] * A[i * n + j]
            for j in range(n):
                dZ[i * n + j] = A[i * n + j] * (dA[i * n + j] - dot)
    elif act == ACT_IDENTITY:
        for i in range(m * n):
            dZ[i] = dA[i]
    elif act == ACT_RELU:
        for i in range(m * n):
            dZ[i] = dA[i] if Z[i] > 0 else 0
    elif act == ACT_LEAKY_RELU:
        for i in range(m * n):
            dZ[i] = dA[i] if Z[i] > 0 else dA[i] * <floating> 0.01
    elif act == ACT_TANH:
        for i in range(m * n):
            dZ[i] = dA[i] * (1 - A[i] * A[i])
    else:
        for i in range(m * n):
            dZ[i] = dA[i] * A[i] * (1 - A[i])


cdef inline floating row_log_sum_exp(const floating *z, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating top = z[0], total = 0
    for j in range(1, n):
        top = z[j] if z[j] > top else top
    for j in range(n):
        total += f_exp(z[j] - top)
    if floating is float:
        return top + logf(total)
    return top + log(total)


cdef inline double loss_rows(int loss, const floating *Z, const floating *A, const floating *Y, floating *dOut,
                             Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Data loss against target rows Y; dOut = dA (mse) or the fused dZ (cross-entropies)."""
    cdef Py_ssize_t i, j
    cdef double total = 0, lse
    cdef floating diff, z, scale
    if loss == LOSS_MSE:
        scale = <floating> (2.0 / (m * k))
        for i in range(m * k):
            diff = A[i] - Y[i]
            dOut[i] = diff * scale
            total += diff * diff
        return total / (m * k)
    if loss == LOSS_CROSS_ENTROPY:
        scale = <floating> m
        for i in range(m):
            lse = row_log_sum_exp(Z + i * k, k)
            for j in range(k):
                total += Y[i * k + j] * (lse - Z[i * k + j])
                dOut[i * k + j] = (A[i * k + j] - Y[i * k + j]) / scale
        return total / m
    scale = <floating> (m * k)
    for i in range(m * k):
        z = Z[i]
        total += (z if z > 0 else 0) - z * Y[i] + log1p(exp(-fabs(z)))
        dOut[i] = (A[i] - Y[i]) / scale
    return total / (m * k)


cdef inline double loss_ids(const floating *Z, const floating *A, const Py_ssize_t *ids, floating *dZ,
                            Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Softmax cross-entropy with class ids; dZ = (P − onehot) / m."""
    cdef Py_ssize_t i, j
    cdef double total = 0
    cdef floating scale = <floating> m
    for i in range(m):
        total += row_log_sum_exp(Z + i * k, k) - Z[i * k + ids[i]]
        for j in range(k):
            dZ[i * k + j] = A[i * k + j]
        dZ[i * k + ids[i]] -= 1
        for j in range(k):
            dZ[i * k + j] /= scale
    return total / m


cdef inline double metric_rows(int loss, const floating *A, const floating *Y, const Py_ssize_t *ids,
                               Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Sum of the batch metric (as fastnet.losses.metric_sums): |A − Y| for mse, hits otherwise."""
    cdef Py_ssize_t i, j, best, truth
    cdef double total = 0
    if loss == LOSS_MSE:
        for i in range(m * k):
            total += fabs(A[i] - Y[i])
        return total
    if loss == LOSS_CROSS_ENTROPY:
        for i in range(m):
            best = 0
            for j in range(1, k):
                if A[i * k + j] > A[i * k + best]:
                    best = j
            if ids != NULL:
                truth = ids[i]
            else:
                truth = 0
                for j in range(1, k):
                    if Y[i * k + j] > Y[i * k + truth]:
                        truth = j
            total += best == truth
        return total
    for i in range(m * k):
        total += (A[i] > 0.5) == (Y[i] > 0.5)
    return total


cdef inline void column_sums(const floating *dZ, floating *db, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    for j in range(n):
        db[j] = 0
    for i in range(m):
        for j in range(n):
            db[j] += dZ[i * n + j]


cdef inline void sgd_update(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr,
                            double momentum, bint nesterov) noexcept nogil:
    """v ← μ·v + g; w −= lr·v, or lr·(g + μ·v) with Nesterov; w −= lr·g when μ = 0."""
    cdef Py_ssize_t i
    cdef floating rate = <floating> lr, mu = <floating> momentum
    if momentum == 0:
        for i in range(n):
            w[i] -= rate * g[i]
        return
    for i in range(n):
        v[i] = mu * v[i] + g[i]
        w[i] -= rate * ((g[i] + mu * v[i]) if nesterov else v[i])


cdef inline void adam_update(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t,
                             double lr, double beta1, double beta2, double eps) noexcept nogil:
    """Adam step t (from 1) with bias correction, in the reference's operation order."""
    cdef Py_ssize_t i
    cdef floating b1 = <floating> beta1, b2 = <floating> beta2
    cdef floating one_b1 = <floating> (1.0 - beta1), one_b2 = <floating> (1.0 - beta2)
    cdef floating c1 = <floating> (1.0 - pow(beta1, t)), c2 = <floating> (1.0 - pow(beta2, t))
    cdef floating rate = <floating> lr, epsilon = <floating> eps
    for i in range(n):
        m[i] = b1 * m[i] + one_b1 * g[i]
        v[i] = b2 * v[i] + one_b2 * (g[i] * g[i])
        if floating is float:
            w[i] -= rate * (m[i] / c1) / (sqrtf(v[i] / c2) + epsilon)
        else:
            w[i] -= rate * (m[i] / c1) / (sqrt(v[i] / c2) + epsilon)
