# Sparse input to a network's first layer: CSR rows read where they lie (a batch is a list of
# row numbers, never a copy, never densified). Used by the engine (_network.forward_rows,
# _train, _predict) for fastnet.sklearn's sparse X; each kernel mirrors its dense twin in
# _kernels (forward, backward) and is tested against it on the densified matrix.
from fastnet._types cimport floating


cdef class CSRRows:
    cdef readonly object data, indices, indptr  # data in the network's dtype; indices, indptr intp
    cdef readonly Py_ssize_t n_rows, n_cols


cdef struct SparseBatch:
    const void *data            # the matrix's values (float or double, as the network)
    const Py_ssize_t *indices   # column of each value
    const Py_ssize_t *indptr    # row i's values are [indptr[i], indptr[i + 1])
    const Py_ssize_t *rows      # the batch's row numbers, or NULL for first, first + 1, ...
    Py_ssize_t first


cdef SparseBatch batch_of(CSRRows X)
# Z = X_batch @ W + b, A = f(Z) over m rows; True when every Z (and, for exp, A) is finite.
cdef bint forward(const SparseBatch *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                  Py_ssize_t m, Py_ssize_t n_out) noexcept nogil
# dW = X_batchᵀ @ dZ + l2·W (a scatter over the stored entries), db = column sums of dZ.
cdef void backward(const SparseBatch *X, const floating *W, const floating *dZ, double l2, floating *dW,
                   floating *db, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil
