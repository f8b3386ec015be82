# The compiled backend's Dense for hand-written training loops: forward, backward and the W/b
# setters admit the common call (an exact ndarray, C-contiguous, aligned, native byte order, of
# the layer's dtype and shape, finite where the full path checks finiteness) with a few C
# comparisons and run the kernels directly. Anything else, and any call that would fail, goes to
# fastnet/layers.py's methods (fastnet/checks.py), which convert or raise as always; a call taken
# here has the same result, bit for bit, and the same effect on the layer (docs/design.md).
cimport numpy as cnp
from libc.string cimport memmove

from fastnet cimport _cpu as cpu
from fastnet cimport _kernels as kernels
from fastnet._network cimport laid_out
from fastnet._types cimport NOGIL_WORK, floating

import sys

from fastnet._codes import ACTIVATIONS
from fastnet.layers import Dense

cnp.import_array()

cdef extern from *:
    """
    #include <stdint.h>
    /* 32-bit words that may alias the floats they are read from (GCC and Clang assume strict aliasing) */
    #if defined(__GNUC__)
    typedef uint32_t __attribute__((may_alias)) fn_word;
    #else
    typedef uint32_t fn_word;
    #endif
    """
    ctypedef unsigned int word "fn_word"

cdef Py_ssize_t HIGH_WORD = 1 if sys.byteorder == "little" else 0  # the word of a double's exponent
cdef dict ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}
# the full paths: everything the checks below do not admit
cdef object full_forward = Dense.forward
cdef object full_backward = Dense.backward
cdef object full_set_W = Dense.W.fset
cdef object full_set_b = Dense.b.fset


cdef inline bint admits(object array, int typenum, int ndim, Py_ssize_t rows, Py_ssize_t cols) noexcept:
    """``array`` as checks.py would convert it to itself (no copy; a subclass converts to a
    base-class view), in the layout the kernels read through one pointer (the engine's rule);
    ``rows`` < 0: any number of rows."""
    return cnp.PyArray_CheckExact(array) and laid_out(array, typenum, ndim, rows, cols)


cdef bint all_finite(const floating *p, Py_ssize_t n) noexcept nogil:
    """Every p[i] finite: its exponent field is not all ones. Read as the 32-bit word that holds the
    exponent, an integer test that vectorises on every x86-64; a double's compare (z − z == 0) makes
    64-bit masks, which the baseline instruction set cannot AND into a flag, so it stays scalar."""
    cdef const word *w = <const word *> p
    cdef Py_ssize_t i
    cdef word bad = 0
    if floating is float:
        for i in range(n):
            bad |= (w[i] & <word> 0x7f800000) == <word> 0x7f800000
    else:
        w += HIGH_WORD
        for i in range(n):
            bad |= (w[2 * i] & <word> 0x7ff00000) == <word> 0x7ff00000
    return bad == 0


cdef inline bint finite(cnp.ndarray a) noexcept:
    if cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE:
        return all_finite(<double *> cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a))
    return all_finite(<float *> cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a))


cdef inline bint writeable(object array) noexcept:
    return cnp.PyArray_ISWRITEABLE(<cnp.ndarray> array)


cdef inline cnp.ndarray empty(Py_ssize_t rows, Py_ssize_t cols, int typenum):
    cdef cnp.npy_intp dims[2]
    dims[0], dims[1] = rows, cols
    return cnp.PyArray_EMPTY(2, dims, typenum, 0)


cdef inline void *data(object array) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray> array)


cdef bint run_forward(const floating *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                      Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept:
    """_ops.dense_forward's kernel call (it skips an empty batch): True when Z is finite."""
    cdef bint ok
    if m * n_in * n_out < NOGIL_WORK:
        return kernels.forward(X, W, b, act, Z, A, m, n_in, n_out)
    with nogil:
        ok = kernels.forward(X, W, b, act, Z, A, m, n_in, n_out)
    return ok


cdef void backward_block(const floating *X, const floating *W, const floating *Z, const floating *A,
                         const floating *dA, int act, double l2, floating *dZ, floating *dW, floating *db,
                         floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    """_ops.activation_backward then _ops.dense_backward: dZ, then dW, db and dX (an empty batch
    touches no row: dW = l2·W, db = 0)."""
    if m:
        cpu.act_backward(act, Z, A, dA, dZ, m, n_out)
    kernels.backward(X, W, dZ, l2, dW, db, dX, m, n_in, n_out)


cdef void run_backward(const floating *X, const floating *W, const floating *Z, const floating *A,
                       const floating *dA, int act, double l2, floating *dZ, floating *dW, floating *db,
                       floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept:
    if m * n_in * n_out < NOGIL_WORK:
        backward_block(X, W, Z, A, dA, act, l2, dZ, dW, db, dX, m, n_in, n_out)
        return
    with nogil:
        backward_block(X, W, Z, A, dA, act, l2, dZ, dW, db, dX, m, n_in, n_out)


# The getters in C too: a hand-written update (layer.W -= lr * layer.dW) reads two of them.
def get_W(self):
    return self._W


def get_b(self):
    return self._b


def get_dW(self):
    return self._dW


def get_db(self):
    return self._db


def set_W(self, value):
    assign(self, self._W, value, full_set_W)


def set_b(self, value):
    assign(self, self._b, value, full_set_b)


cdef int assign(object layer, cnp.ndarray param, object value, object full_set) except -1:
    """``param[...] = value`` for a finite ``value`` of its dtype, shape and layout, and nothing for
    ``param`` itself (``layer.W -= step`` wrote it in place, then hands it back) while it is finite;
    everything else through ``full_set``, which converts, or raises and leaves ``param`` as it was."""
    cdef int ndim = cnp.PyArray_NDIM(param)
    if not cnp.PyArray_ISWRITEABLE(param):  # a memory-mapped layer: the full path refuses it
        full_set(layer, value)
        return 0
    if value is param:
        if not finite(param):
            full_set(layer, value)  # names the non-finite entry
        return 0
    if admits(value, cnp.PyArray_TYPE(param), ndim, cnp.PyArray_DIM(param, 0), cnp.PyArray_DIM(param, ndim - 1)) \
            and finite(<cnp.ndarray> value):
        memmove(cnp.PyArray_DATA(param), data(value), cnp.PyArray_NBYTES(param))  # value may be a view of param
        return 0
    full_set(layer, value)
    return 0


class FastDense:
    """The compiled backend's fast paths of ``Dense``, mixed in before ``fastnet.layers.Dense``."""

    def forward(self, X, training=False):
        cdef cnp.ndarray W = self._W
        cdef int typenum = cnp.PyArray_TYPE(W)
        cdef Py_ssize_t m, n_in = cnp.PyArray_DIM(W, 0), n_out = cnp.PyArray_DIM(W, 1)
        cdef bint ok
        # training=True with dropout draws masks: the full path
        if not (training is False or (training is True and not self._dropout)) or not admits(X, typenum, 2, -1, n_in):
            return full_forward(self, X, training)
        cdef int act = ACTIVATION_CODES[self._activation]
        m = cnp.PyArray_DIM(<cnp.ndarray> X, 0)
        Z, A = empty(m, n_out, typenum), empty(m, n_out, typenum)
        if typenum == cnp.NPY_DOUBLE:
            ok = run_forward(<double *> data(X), <double *> data(W), <double *> data(self._b), act,
                             <double *> data(Z), <double *> data(A), m, n_in, n_out)
        else:
            ok = run_forward(<float *> data(X), <float *> data(W), <float *> data(self._b), act,
                             <float *> data(Z), <float *> data(A), m, n_in, n_out)
        if not ok:  # the full path runs it again and names the non-finite entry, or reports the overflow
            return full_forward(self, X, training)
        self._X, self._Z, self._A, self._M = X, Z, A, None
        return A

    def backward(self, dA):
        X, Z, A = self._X, self._Z, self._A
        cdef cnp.ndarray W = self._W
        cdef int typenum = cnp.PyArray_TYPE(W)
        cdef Py_ssize_t m, n_in = cnp.PyArray_DIM(W, 0), n_out = cnp.PyArray_DIM(W, 1)
        # no batch stored, a dropout mask to apply, a dA to convert or refuse, or read-only gradients
        # (a memory-mapped layer): the full path
        if X is None or self._M is not None or not admits(dA, typenum, 2, cnp.PyArray_DIM(<cnp.ndarray> A, 0), n_out) \
                or not finite(<cnp.ndarray> dA) or not writeable(self._dW) or not writeable(self._db):
            return full_backward(self, dA)
        cdef int act = ACTIVATION_CODES[self._activation]
        cdef double l2 = self._l2
        m = cnp.PyArray_DIM(<cnp.ndarray> X, 0)
        dZ, dX = empty(m, n_out, typenum), empty(m, n_in, typenum)
        if typenum == cnp.NPY_DOUBLE:
            run_backward(<double *> data(X), <double *> data(W), <double *> data(Z), <double *> data(A),
                         <double *> data(dA), act, l2, <double *> data(dZ), <double *> data(self._dW),
                         <double *> data(self._db), <double *> data(dX), m, n_in, n_out)
        else:
            run_backward(<float *> data(X), <float *> data(W), <float *> data(Z), <float *> data(A),
                         <float *> data(dA), act, l2, <float *> data(dZ), <float *> data(self._dW),
                         <float *> data(self._db), <float *> data(dX), m, n_in, n_out)
        return dX

    W = property(get_W, set_W, doc=Dense.W.__doc__)
    b = property(get_b, set_b, doc=Dense.b.__doc__)
    dW = property(get_dW, doc=Dense.dW.__doc__)
    db = property(get_db, doc=Dense.db.__doc__)


for _name in ("forward", "backward"):
    getattr(FastDense, _name).__doc__ = getattr(Dense, _name).__doc__
