# A model as the compiled engine sees it: its layers' arrays as typed pointers, row buffers for
# forward and backward passes, and which threads may use them. Built by fastnet/engine.py from a
# model; trained by _train.pyx, run for inference by _predict.pyx.
from fastnet._sparse cimport SparseBatch
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
    unsigned long long *trainer    # the Dense's [thread ident, depth] of its training thread
    double dropout                 # probability of dropping an output while training (0: none)
    unsigned long long dropout_threshold  # fastnet._codes.dropout_threshold(dropout)


cdef class Network


cdef class Rows:
    """Row buffers for one pass at a time through a network: per layer Z and A (and, for training,
    dZ and dA, the gathered inputs, targets and sample weights of a shuffled batch), grown to
    ``capacity`` rows."""
    cdef Buffer *Z
    cdef Buffer *A
    cdef Buffer *dZ
    cdef Buffer *dA
    cdef Buffer *M                        # training, layers with dropout: the mask's factors
    cdef Buffer *D                        # ... and the dropped output the next layer reads
    cdef Buffer X, Y, weights
    cdef object gather                    # the array behind X (dense shuffled training only)
    cdef Py_ssize_t gather_capacity
    cdef Py_ssize_t *ids
    cdef readonly Py_ssize_t capacity
    cdef readonly Py_ssize_t allocations  # times it grew (tests: constant across steps)
    cdef readonly Py_ssize_t row_bytes    # bytes per row
    cdef readonly bint training           # with the gradient and gather buffers
    cdef list arrays                      # keeps every buffer alive

    cdef int grow(self, Network net, Py_ssize_t rows) except -1
    cdef int grow_gather(self, Network net, Py_ssize_t rows) except -1


cdef class Network:
    cdef Layer *layers
    cdef readonly int n_layers
    cdef readonly bint is_double
    cdef readonly object dtype
    cdef int loss, metric, optimizer
    cdef unsigned long long dropout_key  # the model's dropout key (fastnet.layers.draw_dropout_key)
    cdef bint loss_is_fused          # the loss's gradient is taken w.r.t. Z (fastnet/_codes.py FUSED)
    cdef bint sklearn_l2             # scikit-learn's loss: L2 divided by the batch's Σw, and in the loss
    cdef bint metric_per_row         # the metric counts rows, not elements
    cdef bint no_metric              # scikit-learn's losses: its estimators report no metric
    cdef double lr, momentum, beta1, beta2, eps
    cdef bint nesterov
    cdef readonly long settings_version    # the optimiser's settings version read_settings took
    cdef readonly object optimizer_config  # what the pointers were taken from: a model whose optimiser
    cdef readonly object state             # or optimiser state changed needs a new Network
    cdef list arrays                       # keeps every array behind a pointer alive
    cdef readonly Rows workspace           # the training rows (one training thread at a time)
    cdef readonly Py_ssize_t reading_row_bytes  # bytes per row of inference rows
    cdef Rows reading                      # the first predict's inference rows (no list operations)
    cdef bint reading_taken
    cdef list idle_rows                    # more inference rows, one taken per further concurrent predict
    cdef unsigned long owner               # thread running fit on this model (0: none)
    cdef bint training                     # a training stretch is running
    cdef readonly int readers              # predicts running now
    cdef readonly int most_readers         # the most predicts seen running at once

    cdef Buffer slot(self, dict slots, str name) except *
    cdef int check_thread(self) except -1
    cdef int claim_layers_for_this_thread(self) except -1
    cdef void release_layers_of_this_thread(self) noexcept
    cdef Rows start_training(self, Py_ssize_t rows, bint gather)
    cdef void stop_training(self) noexcept
    cdef Rows start_reading(self, Py_ssize_t rows)
    cdef void stop_reading(self, Rows rows) noexcept


# Forward m rows of X through every layer into ``rows``; True when every pre-activation is finite.
# Whether ``array`` is an ndarray of that type number and dimension count, native byte order,
# C-contiguous, with ``rows`` rows (any when negative) and, when 2-D, ``cols`` columns: the
# layout the nogil loops read and write, checked in C before they run.
cdef bint laid_out(object array, int typenum, int ndim, Py_ssize_t rows, Py_ssize_t cols) noexcept
# The layers' forward pass over m rows of X (or of ``sparse`` when not NULL; X is then NULL and
# only types the call) into ``rows``; with ``training``, each layer with dropout also writes its
# mask's factors M and dropped output D (which the next layer reads), drawn for the model's
# training batch number ``counter``. True when every Z was finite.
cdef bint forward_rows(Network net, Rows rows, const floating *X, const SparseBatch *sparse, Py_ssize_t m,
                       bint training, unsigned long long counter) noexcept nogil
# The output layer i hands on while training: D with dropout, else A.
cdef inline floating *training_output(Network net, Rows rows, int i, const floating *like) noexcept nogil:
    return typed(rows.D[i], like) if net.layers[i].dropout != 0 else typed(rows.A[i], like)
