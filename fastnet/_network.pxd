# A model as the compiled engine sees it: its layers' arrays as typed pointers, a workspace of
# rows for forward and backward passes, and which thread may use them. Built by fastnet/engine.py
# from a model; trained by _train.pyx, run for inference by _predict.pyx.
from fastnet._types cimport floating


cdef union Buffer:  # an array of the network's dtype: only the member of that dtype is set
    float *f32
    double *f64


cdef inline floating *typed(Buffer buffer, const floating *like) noexcept nogil:
    """``buffer`` as a pointer of ``like``'s type (``like`` only picks the member; it is never read)."""
    if floating is float:
        return buffer.f32
    else:
        return buffer.f64


cdef struct Layer:
    Py_ssize_t n_in, n_out
    int act
    double l2
    Buffer W, b, dW, db
    Buffer velocity_W, velocity_b  # SGD's slot; NULL for other optimisers or no momentum
    Buffer m_W, m_b, v_W, v_b      # Adam's slots; NULL for other optimisers
    Buffer Z, A, dZ, dA            # workspace rows: pre-activations, activations, their gradients


cdef class Network:
    cdef Layer *layers
    cdef readonly int n_layers
    cdef readonly bint is_double
    cdef readonly object dtype
    cdef int loss, metric, optimizer
    cdef bint loss_is_fused          # the loss's gradient is taken w.r.t. Z (fastnet/_codes.py FUSED)
    cdef bint metric_per_row         # the metric counts rows, not elements
    cdef double lr, momentum, beta1, beta2, eps
    cdef bint nesterov
    cdef readonly Py_ssize_t capacity      # workspace rows
    cdef readonly Py_ssize_t allocations   # times the workspace grew (tests: constant across steps)
    cdef readonly Py_ssize_t row_bytes     # workspace bytes per row
    cdef readonly object optimizer_config  # what the pointers were taken from: a model whose optimiser
    cdef readonly object state             # or optimiser state changed needs a new Network
    cdef list arrays                       # keeps every array behind a pointer alive
    cdef list workspace
    cdef unsigned long owner               # thread running fit on this model (0: none)
    cdef bint busy                         # a nogil section is using the workspace
    cdef Buffer X_rows, Y_rows             # a shuffled batch's gathered inputs and targets
    cdef Py_ssize_t *id_rows               # ... or its class ids

    cdef Buffer slot(self, dict slots, str name) except *
    cdef int check_thread(self) except -1
    cdef int grow(self, Py_ssize_t rows) except -1
    cdef int enter(self, Py_ssize_t rows) except -1
    cdef void leave(self) noexcept


# Forward m rows through every layer into the workspace; True when every pre-activation is finite.
cdef bint forward_rows(Network net, const floating *X, Py_ssize_t m) noexcept nogil
