# The compiled ops: the ops interface of docs/design.md, with the names, parameters and
# defaults of fastnet/reference/ops.py. Thin wrappers over the pointer-level kernels
# (_kernels): Cython picks the float32 or float64 body from the arrays' dtype (the fused
# signatures are the one dtype switch), views give their pointers through `block`, and the
# kernel runs without the GIL. Arguments are trusted: C-contiguous arrays of one float
# dtype, shaped as the reference documents (fastnet/checks.py validated them).
from fastnet cimport _cpu as cpu
from fastnet cimport _kernels as kernels
from fastnet._types cimport (FN_LOSS_BINARY_CROSS_ENTROPY, FN_LOSS_CROSS_ENTROPY, FN_LOSS_MSE,
                             FN_METRIC_ARGMAX_ACCURACY, FN_METRIC_MAE, FN_METRIC_THRESHOLD_ACCURACY, FN_NACT,
                             FN_NLOSS, FN_NMETRIC, FN_NOPT, FN_OPT_ADAM, FN_OPT_SGD, floating)

from fastnet._codes import ACTIVATIONS, LOSSES

ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}
LOSS_CODES = {name: code for code, name in enumerate(LOSSES)}
# The codes the compiled core was built with (csrc/fn_codes.h through _types.pxd), for the test
# that the Python, Cython and C views of fastnet/_codes.py agree.
COMPILED_CODES = {
    "FN_NACT": FN_NACT, "FN_NLOSS": FN_NLOSS, "FN_NMETRIC": FN_NMETRIC, "FN_NOPT": FN_NOPT,
    "FN_LOSS_MSE": FN_LOSS_MSE, "FN_LOSS_CROSS_ENTROPY": FN_LOSS_CROSS_ENTROPY,
    "FN_LOSS_BINARY_CROSS_ENTROPY": FN_LOSS_BINARY_CROSS_ENTROPY, "FN_METRIC_MAE": FN_METRIC_MAE,
    "FN_METRIC_ARGMAX_ACCURACY": FN_METRIC_ARGMAX_ACCURACY, "FN_METRIC_THRESHOLD_ACCURACY": FN_METRIC_THRESHOLD_ACCURACY,
    "FN_OPT_SGD": FN_OPT_SGD, "FN_OPT_ADAM": FN_OPT_ADAM,
}

ctypedef fused element:
    float
    double
    Py_ssize_t


cdef inline element *block(const element *last, Py_ssize_t size) noexcept nogil:
    """The start of the ``size`` contiguous elements that end at ``last``.

    Callers pass ``&view[rows - 1, cols - 1]``, the last element the kernel will touch: a debug
    build bounds-checks that index, so a view smaller than the kernel assumes raises IndexError
    instead of being overrun. Never called for an empty block."""
    return <element *> last - (size - 1)


cdef inline int code_of(dict codes, str name, str kind) except -1:
    try:
        return codes[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}") from None


def dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b, activation,
                  floating[:, ::1] Z, floating[:, ::1] A):
    """Z = X @ W + b; A = f(Z). Returns True when every Z (and, for exp, every A) is finite."""
    cdef int act = code_of(ACTIVATION_CODES, activation, "activation")
    cdef Py_ssize_t m = X.shape[0], n_in = W.shape[0], n_out = W.shape[1]
    cdef bint finite
    if m == 0:
        return True
    with nogil:
        finite = kernels.forward(block(&X[m - 1, n_in - 1], m * n_in), block(&W[n_in - 1, n_out - 1], n_in * n_out),
                                 block(&b[n_out - 1], n_out), act, block(&Z[m - 1, n_out - 1], m * n_out),
                                 block(&A[m - 1, n_out - 1], m * n_out), m, n_in, n_out)
    return finite


def activation_backward(activation, const floating[:, ::1] Z, const floating[:, ::1] A,
                        const floating[:, ::1] dA, floating[:, ::1] dZ):
    """dZ = dA ⊙ f'(·); softmax uses its row-wise Jacobian product."""
    cdef int act = code_of(ACTIVATION_CODES, activation, "activation")
    cdef Py_ssize_t m = Z.shape[0], n = Z.shape[1], size = m * n
    if size == 0:
        return
    with nogil:
        cpu.act_backward(act, block(&Z[m - 1, n - 1], size), block(&A[m - 1, n - 1], size),
                         block(&dA[m - 1, n - 1], size), block(&dZ[m - 1, n - 1], size), m, n)


def dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ, l2,
                   floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX=None):
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, dX = dZ @ Wᵀ (skipped when dX is None)."""
    cdef Py_ssize_t m = X.shape[0], n_in = W.shape[0], n_out = W.shape[1]
    cdef double lam = l2
    cdef const floating *x = NULL
    cdef const floating *dz = NULL
    cdef floating *dx = NULL
    if m:
        x, dz = block(&X[m - 1, n_in - 1], m * n_in), block(&dZ[m - 1, n_out - 1], m * n_out)
        if dX is not None:
            dx = block(&dX[m - 1, n_in - 1], m * n_in)
    with nogil:
        kernels.backward(x, block(&W[n_in - 1, n_out - 1], n_in * n_out), dz, lam,
                         block(&dW[n_in - 1, n_out - 1], n_in * n_out), block(&db[n_out - 1], n_out), dx,
                         m, n_in, n_out)


def dense_backward_sgd(const floating[:, ::1] X, floating[:, ::1] W, floating[::1] b, const floating[:, ::1] dZ,
                       l2, lr, floating[::1] db, floating[:, ::1] dX=None):
    """dense_backward then a plain SGD step, in place: W −= lr·(Xᵀ @ dZ + l2·W), b −= lr·db.

    db and dX (unless None) are filled as dense_backward does, dX from the weights before the step.
    """
    cdef Py_ssize_t m = X.shape[0], n_in = W.shape[0], n_out = W.shape[1]
    cdef double lam = l2, rate = lr
    cdef const floating *x = NULL
    cdef const floating *dz = NULL
    cdef floating *dx = NULL
    if m:
        x, dz = block(&X[m - 1, n_in - 1], m * n_in), block(&dZ[m - 1, n_out - 1], m * n_out)
        if dX is not None:
            dx = block(&dX[m - 1, n_in - 1], m * n_in)
    with nogil:
        kernels.backward_sgd(x, block(&W[n_in - 1, n_out - 1], n_in * n_out), block(&b[n_out - 1], n_out), dz,
                             lam, rate, block(&db[n_out - 1], n_out), dx, m, n_in, n_out)


def loss_grad(loss, Z, A, Y, dOut):
    """Return the data loss; write dA (mse) or the fused dZ (cross-entropies) into dOut.

    For cross_entropy, Y may be class ids of shape (m,) (intp) instead of rows.
    """
    cdef int code = code_of(LOSS_CODES, loss, "loss")
    if Y.ndim == 1:
        return _loss_grad(code, Z, A, None, Y, dOut)
    return _loss_grad(code, Z, A, Y, None, dOut)


def _loss_grad(int code, const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
               const Py_ssize_t[::1] ids, floating[:, ::1] dOut):
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1], size = m * k
    cdef const floating *y = NULL
    cdef const Py_ssize_t *id_ = NULL
    cdef double value
    if size == 0:
        return 0.0
    if ids is not None:
        id_ = block(&ids[m - 1], m)
    else:
        y = block(&Y[m - 1, k - 1], size)
    with nogil:
        value = kernels.loss_grad(code, block(&Z[m - 1, k - 1], size), block(&A[m - 1, k - 1], size), y, id_,
                                  block(&dOut[m - 1, k - 1], size), m, k)
    return value


def sgd_update(w, g, v, lr, momentum, nesterov):
    """v ← μ·v + g; w −= lr·v (or lr·(g + μ·v) with Nesterov), in place."""
    _sgd_update(w.reshape(-1), g.reshape(-1), v.reshape(-1), lr, momentum, nesterov)


def _sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                bint nesterov):
    cdef Py_ssize_t n = w.shape[0]
    if n == 0:
        return
    with nogil:
        kernels.sgd(block(&w[n - 1], n), block(&g[n - 1], n), block(&v[n - 1], n), n, lr, momentum, nesterov)


def adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    """Adam step t (from 1) with bias correction, in place."""
    _adam_update(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t, lr, beta1, beta2, eps)


def _adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t, double lr,
                 double beta1, double beta2, double eps):
    cdef Py_ssize_t n = w.shape[0]
    if n == 0:
        return
    with nogil:
        kernels.adam(block(&w[n - 1], n), block(&g[n - 1], n), block(&m[n - 1], n), block(&v[n - 1], n), n, t, lr,
                     beta1, beta2, eps)
