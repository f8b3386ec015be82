# The compiled ops: DESIGN.md's ops interface, the same names, parameters and
# defaults as fastnet/reference/ops.py. Each wrapper picks the float32 or float64
# specialisation of a kernel in _kernels.pyx and runs it without the GIL.
# Arguments are trusted: C-contiguous arrays of one float dtype (fastnet/checks.py).
cimport numpy as cnp

from fastnet cimport _kernels as k
from fastnet._types cimport (floating, ACT_IDENTITY, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_SOFTMAX, ACT_TANH,
                             LOSS_BINARY_CROSS_ENTROPY, LOSS_CROSS_ENTROPY, LOSS_MSE)

cnp.import_array()

ACTIVATION_CODES = {"identity": ACT_IDENTITY, "relu": ACT_RELU, "leaky_relu": ACT_LEAKY_RELU,
                    "tanh": ACT_TANH, "sigmoid": ACT_SIGMOID, "softmax": ACT_SOFTMAX}
LOSS_CODES = {"mse": LOSS_MSE, "cross_entropy": LOSS_CROSS_ENTROPY,
              "binary_cross_entropy": LOSS_BINARY_CROSS_ENTROPY}


cdef inline int code_of(dict codes, str name, str kind) except -1:
    try:
        return codes[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}") from None


cdef inline bint is_double(object array) except -1:
    """True for float64, False for float32; any other dtype is a caller bug."""
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray> array)
    if typenum == cnp.NPY_DOUBLE:
        return True
    if typenum == cnp.NPY_FLOAT:
        return False
    raise TypeError(f"fastnet ops take float32 or float64 arrays, got {array.dtype}")


def dense_forward(X, W, b, activation, Z, A):
    """Z = X @ W + b; A = f(Z). Returns True when every Z is finite (so non-finite input is seen)."""
    cdef int act = code_of(ACTIVATION_CODES, activation, "activation")
    cdef int finite
    if is_double(X):
        finite = _dense_forward[double](X, W, b, act, Z, A)
    else:
        finite = _dense_forward[float](X, W, b, act, Z, A)
    return bool(finite)


cdef int _dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b,
                        int act, floating[:, ::1] Z, floating[:, ::1] A) except -1:
    with nogil:
        return k.dense_forward(X, W, b, act, Z, A)


def activation_backward(activation, Z, A, dA, dZ):
    """dZ = dA ⊙ f'(·); softmax uses its row-wise Jacobian product."""
    cdef int act = code_of(ACTIVATION_CODES, activation, "activation")
    if is_double(Z):
        _activation_backward[double](act, Z, A, dA, dZ)
    else:
        _activation_backward[float](act, Z, A, dA, dZ)


cdef int _activation_backward(int act, const floating[:, ::1] Z, const floating[:, ::1] A,
                              const floating[:, ::1] dA, floating[:, ::1] dZ) except -1:
    with nogil:
        return k.activation_backward(act, Z, A, dA, dZ)


def dense_backward(X, W, dZ, l2, dW, db, dX=None):
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, dX = dZ @ Wᵀ (skipped when dX is None)."""
    if is_double(X):
        _dense_backward[double](X, W, dZ, l2, dW, db, dX if dX is not None else dZ, dX is not None)
    else:
        _dense_backward[float](X, W, dZ, l2, dW, db, dX if dX is not None else dZ, dX is not None)


cdef int _dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ,
                         double l2, floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX,
                         bint want_dX) except -1:
    with nogil:
        return k.dense_backward(X, W, dZ, l2, dW, db, dX, want_dX)


def loss_grad(loss, Z, A, Y, dOut):
    """Return the data loss; write dA (mse) or the fused dZ (cross-entropies) into dOut.

    For cross_entropy, Y may be class ids of shape (m,) (intp) instead of rows.
    """
    cdef int code = code_of(LOSS_CODES, loss, "loss")
    if code == LOSS_CROSS_ENTROPY and Y.ndim == 1:
        if is_double(Z):
            return _cross_entropy_ids[double](Z, A, Y, dOut)
        return _cross_entropy_ids[float](Z, A, Y, dOut)
    if is_double(Z):
        return _loss_grad[double](code, Z, A, Y, dOut)
    return _loss_grad[float](code, Z, A, Y, dOut)


cdef double _loss_grad(int code, const floating[:, ::1] Z, const floating[:, ::1] A,
                       const floating[:, ::1] Y, floating[:, ::1] dOut) except? -1:
    with nogil:
        return k.loss_grad(code, Z, A, Y, dOut)


cdef double _cross_entropy_ids(const floating[:, ::1] Z, const floating[:, ::1] A,
                               const Py_ssize_t[::1] ids, floating[:, ::1] dOut) except? -1:
    with nogil:
        return k.cross_entropy_ids(Z, A, ids, dOut)


def sgd_update(w, g, v, lr, momentum, nesterov):
    """v ← μ·v + g; w −= lr·v (or lr·(g + μ·v) with Nesterov), in place."""
    if is_double(w):
        _sgd_update[double](w.reshape(-1), g.reshape(-1), v.reshape(-1), lr, momentum, nesterov)
    else:
        _sgd_update[float](w.reshape(-1), g.reshape(-1), v.reshape(-1), lr, momentum, nesterov)


cdef int _sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                     bint nesterov) except -1:
    with nogil:
        return k.sgd_update(w, g, v, lr, momentum, nesterov)


def adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    """Adam step t (from 1) with bias correction, in place."""
    if is_double(w):
        _adam_update[double](w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t, lr, beta1, beta2, eps)
    else:
        _adam_update[float](w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t, lr, beta1, beta2, eps)


cdef int _adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t,
                      double lr, double beta1, double beta2, double eps) except -1:
    with nogil:
        return k.adam_update(w, g, m, v, t, lr, beta1, beta2, eps)
