# The sparse first-layer kernels declared in _sparse.pxd.
cimport numpy as cnp

from fastnet cimport _cpu as cpu

import numpy as np

cnp.import_array()

cdef extern from *:
    """
    #if defined(__GNUC__)
    #define fn_prefetch(p) __builtin_prefetch(p)
    #else
    #define fn_prefetch(p) ((void) 0)
    #endif
    """
    void fn_prefetch(const void *p) nogil

# The rows of W (dW) that stored entries select are scattered over a matrix far larger than the
# caches, so each is a memory miss the loop would wait for: fetch the row AHEAD entries on.
cdef enum:
    AHEAD = 8


cdef class CSRRows:
    """A CSR matrix as the engine reads it, checked once so the nogil loops cannot read outside it:
    ``data`` in float32 or float64, ``indices`` and ``indptr`` as intp, all C-contiguous, every
    column index in [0, n_cols), indptr non-decreasing from 0 to len(data)."""

    def __init__(self, data, indices, indptr, Py_ssize_t n_cols):
        data = np.ascontiguousarray(data)
        if data.dtype not in (np.float32, np.float64) or data.ndim != 1:
            raise TypeError(f"data must be float32 or float64 values, got {data.dtype} of shape {data.shape}")
        indices = np.ascontiguousarray(indices, dtype=np.intp)
        indptr = np.ascontiguousarray(indptr, dtype=np.intp)
        if indices.shape != data.shape or indptr.ndim != 1 or indptr.shape[0] < 1:
            raise ValueError("indices must match data, and indptr hold n_rows + 1 offsets")
        if indptr[0] != 0 or indptr[-1] != data.shape[0] or np.any(np.diff(indptr) < 0):
            raise ValueError("indptr must rise from 0 to the number of stored values")
        if indices.size and (indices.min() < 0 or indices.max() >= n_cols):
            raise ValueError(f"column indices must lie in [0, {n_cols})")
        self.data, self.indices, self.indptr = data, indices, indptr
        self.n_rows, self.n_cols = indptr.shape[0] - 1, n_cols

    @classmethod
    def of(cls, X, dtype):
        """A scipy.sparse matrix or array (CSR or CSC) in ``dtype``; CSC is converted to CSR once."""
        X = X.tocsr()
        return cls(X.data.astype(dtype, copy=False), X.indices, X.indptr, X.shape[1])

    def rows(self, Py_ssize_t start, Py_ssize_t stop):
        """Rows start .. stop − 1 as a CSRRows sharing nothing it need not copy."""
        offsets = self.indptr[start:stop + 1]
        lo, hi = offsets[0], offsets[-1]
        return CSRRows(self.data[lo:hi], self.indices[lo:hi], offsets - lo, self.n_cols)


cdef SparseBatch batch_of(CSRRows X):
    cdef SparseBatch batch
    batch.data = cnp.PyArray_DATA(<cnp.ndarray> X.data)
    batch.indices = <Py_ssize_t *> cnp.PyArray_DATA(<cnp.ndarray> X.indices)
    batch.indptr = <Py_ssize_t *> cnp.PyArray_DATA(<cnp.ndarray> X.indptr)
    batch.rows = NULL
    batch.first = 0
    return batch


cdef inline Py_ssize_t row_of(const SparseBatch *X, Py_ssize_t r) noexcept nogil:
    return X.rows[r] if X.rows != NULL else X.first + r


cdef inline void fetch_row(const SparseBatch *X, Py_ssize_t p, Py_ssize_t end, const void *M,
                           Py_ssize_t row_bytes) noexcept nogil:
    """Prefetch the row of M (row_bytes long) that stored entry p + AHEAD selects, if it is in this row."""
    cdef Py_ssize_t c
    cdef const char *row
    if p + AHEAD < end:
        row = <const char *> M + X.indices[p + AHEAD] * row_bytes
        for c in range(0, row_bytes, 64):
            fn_prefetch(row + c)


cdef bint forward(const SparseBatch *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                  Py_ssize_t m, Py_ssize_t n_out) noexcept nogil:
    cdef Py_ssize_t r, p, j, row
    cdef const floating *values = <const floating *> X.data
    cdef const floating *w
    cdef floating *z
    cdef floating v
    for r in range(m):
        row, z = row_of(X, r), Z + r * n_out
        for j in range(n_out):
            z[j] = b[j]
        for p in range(X.indptr[row], X.indptr[row + 1]):
            fetch_row(X, p, X.indptr[row + 1], W, n_out * sizeof(floating))
            v, w = values[p], W + X.indices[p] * n_out
            for j in range(n_out):
                z[j] += v * w[j]
    return cpu.act_forward(act, Z, A, m, n_out)


cdef void backward(const SparseBatch *X, const floating *W, const floating *dZ, double l2, floating *dW,
                   floating *db, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    cdef Py_ssize_t r, p, j, row
    cdef const floating *values = <const floating *> X.data
    cdef const floating *dz
    cdef floating *dw
    cdef floating v, lam = <floating> l2
    for j in range(n_out):
        db[j] = 0
    for j in range(n_in * n_out):
        dW[j] = lam * W[j]
    for r in range(m):
        row, dz = row_of(X, r), dZ + r * n_out
        for j in range(n_out):
            db[j] += dz[j]
        for p in range(X.indptr[row], X.indptr[row + 1]):
            fetch_row(X, p, X.indptr[row + 1], dW, n_out * sizeof(floating))
            v, dw = values[p], dW + X.indices[p] * n_out
            for j in range(n_out):
                dw[j] += v * dz[j]
