# Inference on the compiled engine: the fast path for the common call (a C-contiguous batch of
# the model's dtype and width, at most SMALL_BATCH rows), whose checks are a few C comparisons,
# and the forward of one validated chunk for everything else (fastnet/engine.py). Each call
# runs in inference rows of its own, without the GIL: any number of threads predict at once.
cimport numpy as cnp
from libc.string cimport memcpy

from fastnet._network cimport Network, Rows, forward_rows
from fastnet._sparse cimport CSRRows, SparseBatch, batch_of

from fastnet.checks import OVERFLOW_MESSAGE, check_finite

cnp.import_array()

cdef Py_ssize_t SMALL_BATCH = 1024  # the fast path takes batches up to this many rows
PREDICT_WORKSPACE_BYTES = 64 * 2**20  # inference rows of one call stay under this for a new batch


def chunk_rows(Network net):
    """Rows per chunk of a large predict: its inference rows stay under PREDICT_WORKSPACE_BYTES."""
    return max(PREDICT_WORKSPACE_BYTES // net.reading_row_bytes, 1)


def admits(Network net, X):
    """Whether ``predict_small`` takes ``X`` as it is: anything else goes through fastnet/checks.py."""
    cdef Py_ssize_t m
    if not cnp.PyArray_Check(X) or cnp.PyArray_NDIM(<cnp.ndarray> X) != 2:
        return False
    m = cnp.PyArray_DIM(<cnp.ndarray> X, 0)
    return (cnp.PyArray_TYPE(<cnp.ndarray> X) == (cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray> X)  # '>f8' has the same type number
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> X) and 0 < m <= SMALL_BATCH
            and m * net.reading_row_bytes <= PREDICT_WORKSPACE_BYTES
            and cnp.PyArray_DIM(<cnp.ndarray> X, 1) == net.layers[0].n_in)


def predict_small(Network net, X):
    """The network's output for an ``X`` that ``admits`` accepted, as a new array; ValueError when
    X is not finite (naming the entry) or overflows the network."""
    cdef cnp.npy_intp dims[2]
    dims[0], dims[1] = cnp.PyArray_DIM(<cnp.ndarray> X, 0), net.layers[net.n_layers - 1].n_out
    out = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT, 0)
    if not forward_into(net, X, out):
        check_finite(X, "X")  # names the bad entry when the input itself is not finite
        raise ValueError(OVERFLOW_MESSAGE)
    return out


def forward(Network net, X, out):
    """Write the network's output for the validated batch ``X`` (C-contiguous, or a CSRRows matrix
    of the network's dtype and width) into ``out`` (C-contiguous, of ``X``'s rows); True when
    every pre-activation was finite."""
    return forward_into(net, X, out)


cdef inline bint laid_out(object array, int typenum, Py_ssize_t rows, Py_ssize_t cols) noexcept:
    """A 2-D C-contiguous ndarray of that type and shape: the layout the nogil forward reads and writes."""
    if not cnp.PyArray_Check(array) or cnp.PyArray_NDIM(<cnp.ndarray> array) != 2:
        return False
    cdef cnp.ndarray a = <cnp.ndarray> array
    return (cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and a.shape[0] == rows and a.shape[1] == cols)


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
        if not laid_out(X, typenum, cnp.PyArray_DIM(<cnp.ndarray> X, 0) if cnp.PyArray_Check(X) else -1,
                        net.layers[0].n_in):
            raise ValueError(f"X must be a C-contiguous {net.dtype} array of {net.layers[0].n_in} columns")
        m, x = cnp.PyArray_DIM(<cnp.ndarray> X, 0), cnp.PyArray_DATA(<cnp.ndarray> X)
    if not laid_out(out, typenum, m, net.layers[last].n_out):
        raise ValueError(f"out must be a C-contiguous {net.dtype} array of shape ({m}, {net.layers[last].n_out})")
    cdef Py_ssize_t size = m * net.layers[last].n_out
    cdef void *y = cnp.PyArray_DATA(<cnp.ndarray> out)
    cdef bint finite
    cdef Rows rows = net.start_reading(m)
    with nogil:
        if net.is_double:
            finite = forward_rows(net, rows, <double *> x, sparse, m, False, 0)
            memcpy(y, rows.A[last].f64, size * sizeof(double))
        else:
            finite = forward_rows(net, rows, <float *> x, sparse, m, False, 0)
            memcpy(y, rows.A[last].f32, size * sizeof(float))
    net.stop_reading(rows)
    return finite
