# Inference on the compiled engine: the fast path for the common call (a C-contiguous batch of
# the model's dtype and width, at most SMALL_BATCH rows), whose checks are a few C comparisons,
# and the forward of one validated chunk for everything else (fastnet/engine.py). Each call
# runs in inference rows of its own, without the GIL: any number of threads predict at once.
cimport numpy as cnp
from libc.string cimport memcpy

from fastnet._network cimport Network, Rows, forward_rows, laid_out
from fastnet._types cimport NOGIL_WORK
from fastnet._sparse cimport CSRRows, SparseBatch, batch_of

from fastnet.checks import OVERFLOW_MESSAGE, check_finite

cnp.import_array()

cdef Py_ssize_t SMALL_BATCH = 1024  # the fast path takes batches up to this many rows
PREDICT_WORKSPACE_BYTES = 64 * 2**20  # inference rows of one call stay under this for a new batch


def chunk_rows(Network net):
    """Rows per chunk of a large predict: its inference rows stay under PREDICT_WORKSPACE_BYTES."""
    return max(PREDICT_WORKSPACE_BYTES // net.reading_row_bytes, 1)


cdef bint admits(Network net, X) noexcept:
    """Whether ``predict_common`` takes ``X`` as it is: anything else goes through fastnet/checks.py."""
    cdef Py_ssize_t m
    if not laid_out(X, cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT, 2, -1, net.layers[0].n_in):
        return False
    m = cnp.PyArray_DIM(<cnp.ndarray> X, 0)
    return 0 < m <= SMALL_BATCH and m * net.reading_row_bytes <= PREDICT_WORKSPACE_BYTES


def predict_common(Network net, X, bint strict=True):
    """The network's output for X as a new array when X is the common call (C-contiguous, the
    network's dtype and width, 1 to SMALL_BATCH rows), else None (the caller validates X).
    When a pre-activation is not finite: ValueError (naming X's entry when X itself is not
    finite) if ``strict``, else None (the caller's full path decides)."""
    if not admits(net, X):
        return None
    cdef cnp.npy_intp dims[2]
    dims[0], dims[1] = cnp.PyArray_DIM(<cnp.ndarray> X, 0), net.layers[net.n_layers - 1].n_out
    out = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT, 0)
    if forward_into(net, X, out):
        return out
    if not strict:
        return None
    check_finite(X, "X")
    raise ValueError(OVERFLOW_MESSAGE)


def forward(Network net, X, out):
    """Write the network's output for the validated batch ``X`` (C-contiguous, or a CSRRows matrix
    of the network's dtype and width) into ``out`` (C-contiguous, of ``X``'s rows); True when
    every pre-activation was finite."""
    return forward_into(net, X, out)


cdef bint forward_into(Network net, X, out) except -1:
    cdef int typenum = cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT
    cdef SparseBatch batch
    cdef SparseBatch *sparse = NULL
    cdef void *x = NULL
    cdef Py_ssize_t m, last = net.n_layers - 1
    if isinstance(X, CSRRows):
        if (<CSRRows> X).n_cols != net.layers[0].n_in or (<CSRRows> X).data.dtype != net.dtype:
            raise ValueError(f"X must be a CSRRows matrix of {net.dtype} values and {net.layers[0].n_in} columns")
        batch, sparse, m = batch_of(<CSRRows> X), &batch, (<CSRRows> X).n_rows
    else:
        if not laid_out(X, typenum, 2, -1, net.layers[0].n_in):
            raise ValueError(f"X must be a C-contiguous {net.dtype} array of {net.layers[0].n_in} columns")
        m, x = cnp.PyArray_DIM(<cnp.ndarray> X, 0), cnp.PyArray_DATA(<cnp.ndarray> X)
    if not laid_out(out, typenum, 2, m, net.layers[last].n_out):
        raise ValueError(f"out must be a C-contiguous {net.dtype} array of shape ({m}, {net.layers[last].n_out})")
    cdef Py_ssize_t size = m * net.layers[last].n_out
    cdef void *y = cnp.PyArray_DATA(<cnp.ndarray> out)
    cdef bint finite
    cdef Py_ssize_t i, work = 0
    for i in range(net.n_layers):
        work += m * net.layers[i].n_in * net.layers[i].n_out
    cdef Rows rows = net.start_reading(m)
    if work < NOGIL_WORK:  # less work than letting the GIL go and taking it back
        finite = forward_out(net, rows, x, sparse, m, y, size)
    else:
        with nogil:
            finite = forward_out(net, rows, x, sparse, m, y, size)
    net.stop_reading(rows)
    return finite


cdef bint forward_out(Network net, Rows rows, const void *x, const SparseBatch *sparse, Py_ssize_t m, void *y,
                      Py_ssize_t size) noexcept nogil:
    """The forward pass in ``rows``, its output copied to ``y``; True when every pre-activation was finite."""
    cdef bint finite
    cdef int last = net.n_layers - 1
    if net.is_double:
        finite = forward_rows(net, rows, <const double *> x, sparse, m, False, 0)
        memcpy(y, rows.A[last].f64, size * sizeof(double))
    else:
        finite = forward_rows(net, rows, <const float *> x, sparse, m, False, 0)
        memcpy(y, rows.A[last].f32, size * sizeof(float))
    return finite

