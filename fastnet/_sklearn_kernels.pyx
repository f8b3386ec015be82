# The bodies declared in _sklearn_kernels.pxd, in scikit-learn's operation order.
from libc.float cimport DBL_EPSILON, FLT_EPSILON
from libc.math cimport pow, sqrt

from fastnet._types cimport (FN_LOSS_SK_BINARY_LOG_LOSS, FN_LOSS_SK_LOG_LOSS, FN_LOSS_SK_POISSON,
                             FN_LOSS_SK_SQUARED_ERROR, floating, typed_log, typed_sqrt)


cdef inline floating xlogy(floating x, floating y) noexcept nogil:
    """x·log(y), 0 where x is 0 (scipy.special.xlogy)."""
    return 0 if x == 0 else x * typed_log(y)


cdef double row_loss(int loss, const floating *a, const floating *y, floating *d, floating share,
                     Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t j
    cdef double total = 0
    cdef floating eps = FLT_EPSILON if floating is float else DBL_EPSILON
    cdef floating p, diff
    for j in range(k):
        diff = a[j] - y[j]
        d[j] = diff * share
        if loss == FN_LOSS_SK_SQUARED_ERROR:
            total += diff * diff
        elif loss == FN_LOSS_SK_POISSON:  # half the Poisson deviance, with its constant term
            total += xlogy(y[j], y[j] / a[j]) - y[j] + a[j]
        else:
            p = min(max(a[j], eps), 1 - eps)
            if loss == FN_LOSS_SK_LOG_LOSS:
                total -= xlogy(y[j], p)
            else:  # FN_LOSS_SK_BINARY_LOG_LOSS
                total -= xlogy(y[j], p) + xlogy(1 - y[j], 1 - p)
    # squared error: half the mean over the outputs; the others sum over them
    return 0.5 * total / k if loss == FN_LOSS_SK_SQUARED_ERROR else total


cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating rate = <floating> lr, mu = <floating> momentum
    if nesterov:  # one loop per form: a choice inside would keep the loop from vectorising
        for i in range(n):
            v[i] = mu * v[i] - rate * g[i]
            w[i] += mu * v[i] - rate * g[i]
    else:
        for i in range(n):
            v[i] = mu * v[i] - rate * g[i]
            w[i] += v[i]


cdef void adam(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t, double lr,
               double beta1, double beta2, double eps) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating b1 = <floating> beta1, b2 = <floating> beta2
    cdef floating one_b1 = <floating> (1.0 - beta1), one_b2 = <floating> (1.0 - beta2)
    cdef floating rate = <floating> (lr * sqrt(1.0 - pow(beta2, t)) / (1.0 - pow(beta1, t)))
    cdef floating epsilon = <floating> eps
    for i in range(n):
        m[i] = b1 * m[i] + one_b1 * g[i]
        v[i] = b2 * v[i] + one_b2 * (g[i] * g[i])
        w[i] += -rate * m[i] / (typed_sqrt(v[i]) + epsilon)
