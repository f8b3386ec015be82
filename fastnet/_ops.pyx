# The compiled ops: the ops interface of docs/design.md, with the names, parameters and
# defaults of fastnet/reference/ops.py. Thin wrappers over the pointer-level kernels
# (_kernels): each op checks the dtype once (`is_double`) and runs its one fused body,
# which takes the views' pointers through `block` and calls the kernel without the GIL.
# Arguments are trusted: C-contiguous arrays of one float dtype, shaped as the reference
# documents (fastnet/checks.py validated them).
cimport numpy as cnp

from fastnet cimport _cpu as cpu
from fastnet cimport _kernels as kernels
from fastnet cimport _sklearn_kernels as sk
from fastnet._types cimport (FN_LOSS_BINARY_CROSS_ENTROPY, FN_LOSS_CROSS_ENTROPY, FN_LOSS_MSE,
                             FN_METRIC_ARGMAX_ACCURACY, FN_METRIC_MAE, FN_METRIC_THRESHOLD_ACCURACY, FN_NACT,
                             FN_LOSS_SK_BINARY_LOG_LOSS, FN_LOSS_SK_LOG_LOSS, FN_LOSS_SK_POISSON,
                             FN_LOSS_SK_SQUARED_ERROR, FN_NLOSS, FN_NMETRIC, FN_NOPT, FN_OPT_ADAM, FN_OPT_SGD,
                             FN_OPT_SKLEARNADAM, FN_OPT_SKLEARNSGD, floating)

from fastnet._codes import ACTIVATIONS, LOSSES, dropout_threshold

cnp.import_array()

ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}
LOSS_CODES = {name: code for code, name in enumerate(LOSSES)}
# The codes the compiled core was built with (csrc/fn_codes.h through _types.pxd), for the test
# that the Python, Cython and C views of fastnet/_codes.py agree.
COMPILED_CODES = {
    "FN_NACT": FN_NACT, "FN_NLOSS": FN_NLOSS, "FN_NMETRIC": FN_NMETRIC, "FN_NOPT": FN_NOPT,
    "FN_LOSS_MSE": FN_LOSS_MSE, "FN_LOSS_CROSS_ENTROPY": FN_LOSS_CROSS_ENTROPY,
    "FN_LOSS_BINARY_CROSS_ENTROPY": FN_LOSS_BINARY_CROSS_ENTROPY, "FN_METRIC_MAE": FN_METRIC_MAE,
    "FN_METRIC_ARGMAX_ACCURACY": FN_METRIC_ARGMAX_ACCURACY, "FN_METRIC_THRESHOLD_ACCURACY": FN_METRIC_THRESHOLD_ACCURACY,
    "FN_OPT_SGD": FN_OPT_SGD, "FN_OPT_ADAM": FN_OPT_ADAM, "FN_OPT_SKLEARNSGD": FN_OPT_SKLEARNSGD,
    "FN_OPT_SKLEARNADAM": FN_OPT_SKLEARNADAM, "FN_LOSS_SK_SQUARED_ERROR": FN_LOSS_SK_SQUARED_ERROR,
    "FN_LOSS_SK_LOG_LOSS": FN_LOSS_SK_LOG_LOSS, "FN_LOSS_SK_BINARY_LOG_LOSS": FN_LOSS_SK_BINARY_LOG_LOSS,
    "FN_LOSS_SK_POISSON": FN_LOSS_SK_POISSON,
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


cdef inline bint is_double(object array) except -1:
    """True for float64, False for float32: which specialisation of an op's body runs."""
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray> array)
    if typenum == cnp.NPY_DOUBLE:
        return True
    if typenum == cnp.NPY_FLOAT:
        return False
    raise TypeError(f"fastnet ops take float32 or float64 arrays, got {array.dtype}")


cdef inline int code_of(dict codes, str name, str kind) except -1:
    try:
        return codes[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}") from None


def dense_forward(X, W, b, activation, Z, A):
    """Z = X @ W + b; A = f(Z). Returns True when every Z (and, for exp, every A) is finite."""
    cdef int act = code_of(ACTIVATION_CODES, activation, "activation")
    if is_double(X):
        return _dense_forward[double](X, W, b, act, Z, A)
    return _dense_forward[float](X, W, b, act, Z, A)


cdef bint _dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b, int act,
                         floating[:, ::1] Z, floating[:, ::1] A) except -1:
    cdef Py_ssize_t m = X.shape[0], n_in = W.shape[0], n_out = W.shape[1]
    cdef bint finite
    if m == 0:
        return True
    with nogil:
        finite = kernels.forward(block(&X[m - 1, n_in - 1], m * n_in), block(&W[n_in - 1, n_out - 1], n_in * n_out),
                                 block(&b[n_out - 1], n_out), act, block(&Z[m - 1, n_out - 1], m * n_out),
                                 block(&A[m - 1, n_out - 1], m * n_out), m, n_in, n_out)
    return finite


def activation_backward(activation, Z, A, dA, dZ):
    """dZ = dA ⊙ f'(·); softmax uses its row-wise Jacobian product."""
    cdef int act = code_of(ACTIVATION_CODES, activation, "activation")
    if is_double(Z):
        _activation_backward[double](act, Z, A, dA, dZ)
    else:
        _activation_backward[float](act, Z, A, dA, dZ)


cdef int _activation_backward(int act, const floating[:, ::1] Z, const floating[:, ::1] A,
                              const floating[:, ::1] dA, floating[:, ::1] dZ) except -1:
    cdef Py_ssize_t m = Z.shape[0], n = Z.shape[1], size = m * n
    if size == 0:
        return 0
    with nogil:
        cpu.act_backward(act, block(&Z[m - 1, n - 1], size), block(&A[m - 1, n - 1], size),
                         block(&dA[m - 1, n - 1], size), block(&dZ[m - 1, n - 1], size), m, n)
    return 0


cdef inline int batch_pointers(const floating[:, ::1] X, const floating[:, ::1] dZ, floating[:, ::1] dX,
                               const floating **x, const floating **dz, floating **dx) except -1:
    """The first elements of a backward's batch arrays X, dZ and dX (NULL when dX is None),
    all NULL for a batch of no rows (the kernels then touch none of them)."""
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = dZ.shape[1]
    x[0], dz[0], dx[0] = NULL, NULL, NULL
    if m:
        x[0], dz[0] = block(&X[m - 1, n_in - 1], m * n_in), block(&dZ[m - 1, n_out - 1], m * n_out)
        if dX is not None:
            dx[0] = block(&dX[m - 1, n_in - 1], m * n_in)
    return 0


def dense_backward(X, W, dZ, l2, dW, db, dX=None):
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, dX = dZ @ Wᵀ (skipped when dX is None)."""
    if is_double(X):
        _dense_backward[double](X, W, dZ, l2, dW, db, dX)
    else:
        _dense_backward[float](X, W, dZ, l2, dW, db, dX)


cdef int _dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ, double l2,
                         floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX) except -1:
    cdef Py_ssize_t n_in = W.shape[0], n_out = W.shape[1]
    cdef const floating *x
    cdef const floating *dz
    cdef floating *dx
    batch_pointers(X, dZ, dX, &x, &dz, &dx)
    with nogil:
        kernels.backward(x, block(&W[n_in - 1, n_out - 1], n_in * n_out), dz, l2,
                         block(&dW[n_in - 1, n_out - 1], n_in * n_out), block(&db[n_out - 1], n_out), dx,
                         X.shape[0], n_in, n_out)
    return 0


def dense_backward_sgd(X, W, b, dZ, l2, lr, db, dX=None):
    """dense_backward then a plain SGD step, in place: W −= lr·(Xᵀ @ dZ + l2·W), b −= lr·db.

    db and dX (unless None) are filled as dense_backward does, dX from the weights before the step.
    """
    if is_double(X):
        _dense_backward_sgd[double](X, W, b, dZ, l2, lr, db, dX)
    else:
        _dense_backward_sgd[float](X, W, b, dZ, l2, lr, db, dX)


cdef int _dense_backward_sgd(const floating[:, ::1] X, floating[:, ::1] W, floating[::1] b,
                             const floating[:, ::1] dZ, double l2, double lr, floating[::1] db,
                             floating[:, ::1] dX) except -1:
    cdef Py_ssize_t n_in = W.shape[0], n_out = W.shape[1]
    cdef const floating *x
    cdef const floating *dz
    cdef floating *dx
    batch_pointers(X, dZ, dX, &x, &dz, &dx)
    with nogil:
        kernels.backward_sgd(x, block(&W[n_in - 1, n_out - 1], n_in * n_out), block(&b[n_out - 1], n_out), dz,
                             l2, lr, block(&db[n_out - 1], n_out), dx, X.shape[0], n_in, n_out)
    return 0


def loss_grad(loss, Z, A, Y, dOut, weights=None):
    """Return the data loss Σ wᵢ·lossᵢ / Σ wᵢ (the mean over rows without ``weights``); write its
    gradient, dA (mse) or the fused dZ (cross-entropies), into dOut. Weights summing to 0 give 0
    and a zero gradient.

    For cross_entropy, Y may be class ids of shape (m,) (intp) instead of rows; ``weights`` is
    (m,) in the dtype of Z.
    """
    cdef int code = code_of(LOSS_CODES, loss, "loss")
    rows, ids = (None, Y) if Y.ndim == 1 else (Y, None)
    if ids is not None and code != FN_LOSS_CROSS_ENTROPY:
        raise ValueError(f"class ids as Y are for loss 'cross_entropy' only, got loss {loss!r}")
    if weights is not None and weights.shape != (A.shape[0],):
        raise ValueError(f"weights must have shape ({A.shape[0]},), got {weights.shape}")
    if is_double(Z):
        return _loss_grad[double](code, Z, A, rows, ids, weights, dOut)
    return _loss_grad[float](code, Z, A, rows, ids, weights, dOut)


cdef double _loss_grad(int code, const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
                       const Py_ssize_t[::1] ids, const floating[::1] weights, floating[:, ::1] dOut) except? -1:
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1], size = m * k
    cdef const floating *y = NULL
    cdef const floating *w = NULL
    cdef const Py_ssize_t *id_ = NULL
    cdef double value
    if size == 0:
        return 0.0
    if ids is not None:
        id_ = block(&ids[m - 1], m)
    else:
        y = block(&Y[m - 1, k - 1], size)
    if weights is not None:
        w = block(&weights[m - 1], m)
    with nogil:
        value = kernels.loss_grad(code, block(&Z[m - 1, k - 1], size), block(&A[m - 1, k - 1], size), y, id_, w,
                                  block(&dOut[m - 1, k - 1], size), m, k)
    return value


def dropout(A, p, key, counter, layer, M, D):
    """Inverted dropout of A with probability p: M = 1/(1 − p) where the generator of (key, counter,
    layer) keeps an element, else 0; D = A ⊙ M. key and counter are integers in [0, 2**64)."""
    cdef unsigned long long stream = kernels.dropout_stream(key, counter, layer)
    cdef unsigned long long threshold = dropout_threshold(p)
    if is_double(A):
        _dropout[double](A, M, D, stream, threshold, 1.0 / (1.0 - p))
    else:
        _dropout[float](A, M, D, stream, threshold, 1.0 / (1.0 - p))


cdef int _dropout(const floating[:, ::1] A, floating[:, ::1] M, floating[:, ::1] D, unsigned long long stream,
                  unsigned long long threshold, double scale) except -1:
    cdef Py_ssize_t m = A.shape[0], n = A.shape[1]
    if m * n == 0:
        return 0
    with nogil:
        kernels.dropout(block(&A[m - 1, n - 1], m * n), block(&M[m - 1, n - 1], m * n), block(&D[m - 1, n - 1], m * n),
                        m * n, stream, threshold, <floating> scale)
    return 0


cdef inline int check_in_place(object array, str name) except -1:
    """A C-contiguous ``array``, so its flattened view updates it in place (not a copy)."""
    if not cnp.PyArray_Check(array) or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> array):
        raise ValueError(f"{name} must be a C-contiguous array: it is updated in place")
    return 0


def sgd_update(w, g, v, lr, momentum, nesterov):
    """v ← μ·v + g; w −= lr·v (or lr·(g + μ·v) with Nesterov), in place."""
    run_sgd(w, g, v, lr, momentum, nesterov, False)


def sklearn_sgd_update(w, g, v, lr, momentum, nesterov):
    """scikit-learn's SGD: v ← μ·v − lr·g; w += v (or μ·v − lr·g with Nesterov), in place."""
    run_sgd(w, g, v, lr, momentum, nesterov, True)


cdef int run_sgd(w, g, v, double lr, double momentum, bint nesterov, bint sklearn) except -1:
    check_in_place(w, "w")
    check_in_place(v, "v")
    if is_double(w):
        _sgd_update[double](w.reshape(-1), g.reshape(-1), v.reshape(-1), lr, momentum, nesterov, sklearn)
    else:
        _sgd_update[float](w.reshape(-1), g.reshape(-1), v.reshape(-1), lr, momentum, nesterov, sklearn)
    return 0


cdef int _sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                     bint nesterov, bint sklearn) except -1:
    cdef Py_ssize_t n = w.shape[0]
    if n == 0:
        return 0
    with nogil:
        if sklearn:
            sk.sgd(block(&w[n - 1], n), block(&g[n - 1], n), block(&v[n - 1], n), n, lr, momentum, nesterov)
        else:
            kernels.sgd(block(&w[n - 1], n), block(&g[n - 1], n), block(&v[n - 1], n), n, lr, momentum, nesterov)
    return 0


def adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    """Adam step t (from 1) with bias correction, in place."""
    run_adam(w, g, m, v, t, lr, beta1, beta2, eps, False)


def sklearn_adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    """scikit-learn's Adam step t (from 1): eps added to √v before the bias correction, in place."""
    run_adam(w, g, m, v, t, lr, beta1, beta2, eps, True)


cdef int run_adam(w, g, m, v, long t, double lr, double beta1, double beta2, double eps, bint sklearn) except -1:
    check_in_place(w, "w")
    check_in_place(m, "m")
    check_in_place(v, "v")
    if is_double(w):
        _adam_update[double](w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t, lr, beta1, beta2, eps,
                             sklearn)
    else:
        _adam_update[float](w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t, lr, beta1, beta2, eps,
                            sklearn)
    return 0


cdef int _adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t, double lr,
                      double beta1, double beta2, double eps, bint sklearn) except -1:
    cdef Py_ssize_t n = w.shape[0]
    if n == 0:
        return 0
    with nogil:
        if sklearn:
            sk.adam(block(&w[n - 1], n), block(&g[n - 1], n), block(&m[n - 1], n), block(&v[n - 1], n), n, t, lr,
                    beta1, beta2, eps)
        else:
            kernels.adam(block(&w[n - 1], n), block(&g[n - 1], n), block(&m[n - 1], n), block(&v[n - 1], n), n, t,
                         lr, beta1, beta2, eps)
    return 0
