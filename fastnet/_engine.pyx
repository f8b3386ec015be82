# The whole-network training engine: a model's epoch (gather, forward, loss,
# backward, update) runs here without the GIL, returning to Python only at
# checkpoints (about every 50 ms, and at the epoch's end) so progress bars,
# callbacks and Ctrl-C keep working. One workspace per model, grown to the
# largest batch seen; nothing is allocated per step.
cimport numpy as cnp
from cpython.pythread cimport PyThread_get_thread_ident
from libc.math cimport fabs, isfinite
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from fastnet cimport _kernels as K
from fastnet._types cimport LOSS_CROSS_ENTROPY, LOSS_MSE, floating

import numpy as np

from fastnet._ops import ACTIVATION_CODES, LOSS_CODES  # the name -> code tables of _types.pxd's enums

cnp.import_array()

cdef Py_ssize_t SMALL_BATCH = 1024  # predict_small handles batches up to this many rows
PREDICT_WORKSPACE_BYTES = 64 * 2**20  # predict never grows the workspace past this for a new batch


cdef struct Layer:
    Py_ssize_t n_in, n_out
    int act
    double l2
    void *W
    void *b
    void *dW
    void *db
    void *slot1_W   # SGD velocity or Adam m (NULL when unused)
    void *slot1_b
    void *slot2_W   # Adam v
    void *slot2_b
    void *Z         # workspace rows: pre-activations, activations, their gradients
    void *A
    void *dZ
    void *dA


cdef struct Stats:
    Py_ssize_t batches     # batches completed in this call
    Py_ssize_t steps       # optimiser steps taken
    double loss_sum        # Σ batch loss · batch rows
    double metric_sum
    Py_ssize_t metric_count
    bint failed            # a batch's loss was not finite (no update was applied for it)
    double failed_loss


cdef inline void* data(object array):
    return cnp.PyArray_DATA(<cnp.ndarray> array)


cdef inline double seconds_now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef class Engine:
    """Training and inference state of one model for the compiled loop.

    Holds pointers into the model's parameter, gradient and optimiser-state arrays
    (kept alive by ``self.arrays``) and a workspace for ``capacity`` rows.
    """

    cdef Layer *layers
    cdef int n_layers, loss, optimizer, nesterov
    cdef bint is_double
    cdef double lr, momentum, beta1, beta2, eps
    cdef readonly Py_ssize_t capacity
    cdef readonly Py_ssize_t allocations   # times the workspace grew (tests: constant across steps)
    cdef readonly Py_ssize_t row_bytes     # workspace bytes per row of batch
    cdef readonly object optimizer_config  # what the pointers were taken from: a model whose optimiser
    cdef readonly object state             # or state list changed needs a new Engine
    cdef list arrays                       # keeps every array behind a pointer alive
    cdef list workspace
    cdef object dtype
    cdef unsigned long owner               # thread running fit on this model (0: none)
    cdef bint busy                         # a nogil section is using the workspace
    cdef void *X_rows                      # gathered batch inputs and targets
    cdef void *Y_rows
    cdef Py_ssize_t *id_rows

    def __cinit__(self):
        self.layers = NULL

    def __dealloc__(self):
        free(self.layers)

    def __init__(self, model):
        cdef Layer *L
        layers = model.layers
        self.n_layers = len(layers)
        self.layers = <Layer *> malloc(self.n_layers * sizeof(Layer))
        if self.layers == NULL:
            raise MemoryError()
        self.dtype = model.dtype
        self.is_double = self.dtype == np.float64
        self.loss = LOSS_CODES[model.loss]
        self.arrays = []
        self.workspace = []
        self.capacity = 0
        self.allocations = 0
        opt = model.optimizer
        self.optimizer = 1 if type(opt).__name__ == "Adam" else 0
        if self.optimizer:
            self.lr, self.beta1, self.beta2, self.eps = opt.learning_rate, opt.beta1, opt.beta2, opt.eps
            self.momentum, self.nesterov = 0.0, False
        else:
            self.lr, self.momentum, self.nesterov = opt.learning_rate, opt.momentum, opt.nesterov
        state = model._optimizer_state()
        self.optimizer_config, self.state = opt, state
        self.row_bytes = self.dtype.itemsize * (4 * sum(layer.n_out for layer in layers) + layers[0].n_in
                                                + layers[len(layers) - 1].n_out) + sizeof(Py_ssize_t)
        for i, layer in enumerate(layers):
            slots_W, slots_b = state[2 * i], state[2 * i + 1]
            for slot in (*slots_W.values(), *slots_b.values(), layer.dW, layer.db):
                # every pointer below must address an array of its parameter's shape and dtype
                if slot.dtype != self.dtype or not slot.flags.c_contiguous or slot.shape not in (
                        layer.W.shape, layer.b.shape):
                    raise ValueError(f"layer {i}: a gradient or optimiser state array does not match its parameter")
            self.arrays += [layer.W, layer.b, layer.dW, layer.db, *slots_W.values(), *slots_b.values()]
            L = &self.layers[i]
            L.n_in = layer.n_in
            L.n_out = layer.n_out
            L.act = ACTIVATION_CODES[layer.activation]
            L.l2 = layer.l2
            L.W = data(layer.W)
            L.b = data(layer.b)
            L.dW = data(layer.dW)
            L.db = data(layer.db)
            names = list(slots_W)
            L.slot1_W = data(slots_W[names[0]])
            L.slot1_b = data(slots_b[names[0]])
            L.slot2_W = data(slots_W[names[1]]) if len(names) > 1 else NULL
            L.slot2_b = data(slots_b[names[1]]) if len(names) > 1 else NULL

    def check(self):
        """RuntimeError when another thread is using this model."""
        self.check_thread()

    def claim(self):
        """Mark the calling thread as this model's user for a whole ``fit``; returns the previous owner."""
        cdef unsigned long previous = self.owner
        self.check_thread()
        self.owner = PyThread_get_thread_ident()
        return previous

    def release(self, unsigned long previous):
        self.owner = previous

    cdef int check_thread(self) except -1:
        # A model's workspace serves one thread at a time: refuse rather than race.
        if self.busy or (self.owner != 0 and self.owner != PyThread_get_thread_ident()):
            raise RuntimeError("this model is in use by another thread; use one model per thread "
                               "(copy it with fastnet.load/save or build another)")
        return 0

    def reserve(self, Py_ssize_t rows):
        """Grow the workspace to hold ``rows`` rows (never shrinks)."""
        self.grow(rows)

    cdef int grow(self, Py_ssize_t rows) except -1:
        cdef Layer *L
        if rows <= self.capacity:
            return 0
        rows = max(rows, 2 * self.capacity)
        space = []
        for i in range(self.n_layers):
            L = &self.layers[i]
            buffers = [np.empty((rows, L.n_out), dtype=self.dtype) for _ in range(4)]
            L.Z = data(buffers[0])
            L.A = data(buffers[1])
            L.dZ = data(buffers[2])
            L.dA = data(buffers[3])
            space += buffers
        inputs = np.empty((rows, self.layers[0].n_in), dtype=self.dtype)
        targets = np.empty((rows, self.layers[self.n_layers - 1].n_out), dtype=self.dtype)
        ids = np.empty(rows, dtype=np.intp)
        self.X_rows = data(inputs)
        self.Y_rows = data(targets)
        self.id_rows = <Py_ssize_t *> data(ids)
        self.workspace = space + [inputs, targets, ids]
        self.capacity = rows
        self.allocations += 1
        return 0

    def run(self, X, Y, order, Py_ssize_t batch_size, Py_ssize_t first, Py_ssize_t last, long step,
            double seconds):
        """Train batches ``first .. last-1`` of an epoch in ``order`` (None: in place), stopping
        early after ``seconds``. Returns (batches, steps, loss_sum, metric_sum, metric_count,
        failed_loss or None)."""
        cdef Stats st
        cdef Py_ssize_t m = X.shape[0]
        cdef Py_ssize_t *rows = NULL if order is None else <Py_ssize_t *> data(order)
        cdef Py_ssize_t *ids = <Py_ssize_t *> data(Y) if Y.ndim == 1 else NULL
        cdef void *x = data(X)
        cdef void *y = data(Y)
        self.check_thread()
        self.grow(min(batch_size, m))
        st.batches = st.steps = st.metric_count = 0
        st.loss_sum = st.metric_sum = 0
        st.failed = False
        self.busy = True
        with nogil:
            if self.is_double:
                train_batches[double](self, <double *> x, <double *> y, ids, rows, m, batch_size,
                                      first, last, step, seconds, &st)
            else:
                train_batches[float](self, <float *> x, <float *> y, ids, rows, m, batch_size,
                                     first, last, step, seconds, &st)
        self.busy = False
        return (st.batches, st.steps, st.loss_sum, st.metric_sum, st.metric_count,
                st.failed_loss if st.failed else None)

    def predict_small(self, X):
        """Fast path for a C-contiguous batch of the model's dtype with at most SMALL_BATCH rows:
        returns a new output array, None when non-finite, NotImplemented when X needs the general path."""
        cdef Layer *first = &self.layers[0]
        cdef Layer *last = &self.layers[self.n_layers - 1]
        cdef Py_ssize_t m
        cdef cnp.npy_intp dims[2]
        if not cnp.PyArray_Check(X) or cnp.PyArray_NDIM(<cnp.ndarray> X) != 2:
            return NotImplemented
        m = cnp.PyArray_DIM(<cnp.ndarray> X, 0)
        if (cnp.PyArray_TYPE(<cnp.ndarray> X) != (cnp.NPY_DOUBLE if self.is_double else cnp.NPY_FLOAT)
                or not cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray> X)  # '>f8' has the same type number
                or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> X) or m == 0 or m > SMALL_BATCH
                or (m > self.capacity and m * self.row_bytes > PREDICT_WORKSPACE_BYTES)
                or cnp.PyArray_DIM(<cnp.ndarray> X, 1) != first.n_in):
            return NotImplemented
        dims[0], dims[1] = m, last.n_out
        out = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE if self.is_double else cnp.NPY_FLOAT, 0)
        return out if self.forward_into(data(X), data(out), m) else None

    def forward(self, X, out):
        """Write the network's output for ``X`` into ``out`` (C-contiguous); True when finite."""
        return bool(self.forward_into(data(X), data(out), X.shape[0]))

    cdef int forward_into(self, void *x, void *out, Py_ssize_t m) except -1:
        """Forward ``m`` rows at ``x`` through the workspace and copy the output to ``out``."""
        cdef Layer *last = &self.layers[self.n_layers - 1]
        cdef bint finite
        self.check_thread()
        self.grow(m)
        self.busy = True
        with nogil:
            if self.is_double:
                finite = forward_rows[double](self, <double *> x, m)
            else:
                finite = forward_rows[float](self, <float *> x, m)
        self.busy = False
        memcpy(out, last.A, m * last.n_out * (sizeof(double) if self.is_double else sizeof(float)))
        return finite


cdef bint forward_rows(Engine e, const floating *X, Py_ssize_t m) noexcept nogil:
    """Forward through every layer into the workspace; True when every pre-activation is finite."""
    cdef const floating *inputs = X
    cdef Layer *L
    cdef int i
    cdef bint finite = True
    for i in range(e.n_layers):
        L = &e.layers[i]
        finite &= K.forward(inputs, <floating *> L.W, <floating *> L.b, L.act, <floating *> L.Z,
                            <floating *> L.A, m, L.n_in, L.n_out)
        inputs = <floating *> L.A
    return finite


cdef double metric_sum(int loss, const floating *A, const floating *Y, const Py_ssize_t *ids,
                       Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Sum of the batch metric, as fastnet.losses.metric_sums: |A − Y| for mse, hits otherwise."""
    cdef Py_ssize_t i, j, best, truth
    cdef double total = 0
    if loss == LOSS_MSE:
        for i in range(m * k):
            total += fabs(A[i] - Y[i])
        return total
    if loss == LOSS_CROSS_ENTROPY:
        for i in range(m):
            best = 0
            for j in range(1, k):
                if A[i * k + j] > A[i * k + best]:
                    best = j
            if ids != NULL:
                truth = ids[i]
            else:
                truth = 0
                for j in range(1, k):
                    if Y[i * k + j] > Y[i * k + truth]:
                        truth = j
            total += best == truth
        return total
    for i in range(m * k):
        total += (A[i] > 0.5) == (Y[i] > 0.5)
    return total


cdef void train_batches(Engine e, const floating *X, const floating *Y, const Py_ssize_t *ids,
                        const Py_ssize_t *order, Py_ssize_t m, Py_ssize_t batch_size, Py_ssize_t first,
                        Py_ssize_t last, long step, double seconds, Stats *st) noexcept nogil:
    cdef double deadline = seconds_now() + seconds, loss
    cdef Py_ssize_t batch, start, rows, r, n_in = e.layers[0].n_in
    cdef Layer *out = &e.layers[e.n_layers - 1]
    cdef Py_ssize_t k = out.n_out
    cdef const floating *Xb
    cdef const floating *Yb
    cdef const Py_ssize_t *idb
    for batch in range(first, last):
        start = batch * batch_size
        rows = min(batch_size, m - start)
        if order == NULL:  # no shuffle: the batch is a contiguous slice of the data
            Xb = X + start * n_in
            Yb = Y + start * k
            idb = ids + start if ids != NULL else NULL
        else:
            for r in range(rows):
                memcpy(<floating *> e.X_rows + r * n_in, X + order[start + r] * n_in, n_in * sizeof(floating))
            if ids != NULL:
                for r in range(rows):
                    e.id_rows[r] = ids[order[start + r]]
            else:
                for r in range(rows):
                    memcpy(<floating *> e.Y_rows + r * k, Y + order[start + r] * k, k * sizeof(floating))
            Xb = <floating *> e.X_rows
            Yb = <floating *> e.Y_rows
            idb = e.id_rows if ids != NULL else NULL
        forward_rows(e, Xb, rows)
        loss = loss_and_output_gradient(e, Yb, idb, rows)
        st.metric_sum += metric_sum(e.loss, <floating *> out.A, Yb, idb, rows, k)
        st.metric_count += rows if e.loss == LOSS_CROSS_ENTROPY else rows * k
        if not isfinite(loss):
            st.failed = True
            st.failed_loss = loss
            st.batches += 1
            return
        backward_and_update(e, Xb, rows, step + st.steps + 1)
        st.steps += 1
        st.batches += 1
        st.loss_sum += loss * rows
        if seconds_now() > deadline:
            return


cdef double loss_and_output_gradient(Engine e, const floating *Yb, const Py_ssize_t *idb,
                                     Py_ssize_t rows) noexcept nogil:
    """The batch's data loss; leaves ∂L/∂Z of the last layer in its dZ."""
    cdef Layer *out = &e.layers[e.n_layers - 1]
    cdef double loss
    if idb != NULL:
        return K.loss_ids(<floating *> out.Z, <floating *> out.A, idb, <floating *> out.dZ, rows, out.n_out)
    if e.loss != LOSS_MSE:  # cross-entropies are fused with their activation: the gradient is dZ
        return K.loss_rows(e.loss, <floating *> out.Z, <floating *> out.A, Yb, <floating *> out.dZ, rows,
                           out.n_out)
    loss = K.loss_rows(e.loss, <floating *> out.Z, <floating *> out.A, Yb, <floating *> out.dA, rows, out.n_out)
    K.act_backward(out.act, <floating *> out.Z, <floating *> out.A, <floating *> out.dA, <floating *> out.dZ,
                   rows, out.n_out)
    return loss


cdef void backward_and_update(Engine e, const floating *Xb, Py_ssize_t rows, long t) noexcept nogil:
    """Back-propagate from the last layer's dZ, updating each layer once its dX is computed."""
    cdef int i
    cdef Layer *L
    cdef Layer *below
    cdef const floating *inputs
    cdef floating *dX
    cdef floating *W
    cdef Py_ssize_t size, j
    cdef floating shrink
    cdef bint plain_sgd = e.optimizer == 0 and e.momentum == 0
    for i in range(e.n_layers - 1, -1, -1):
        L = &e.layers[i]
        below = &e.layers[i - 1] if i > 0 else NULL
        inputs = Xb if i == 0 else <floating *> below.A
        dX = <floating *> below.dA if i > 0 else NULL
        W = <floating *> L.W
        size = L.n_in * L.n_out
        if plain_sgd:
            # Plain SGD rides in the dW GEMM: w −= lr·(Xᵀ dZ + λw) is a shrink by (1 − lr·λ) and a
            # GEMM with alpha = −lr, beta = 1 onto W itself, after dX used the old weights.
            if dX != NULL:
                K.gemm(False, True, rows, L.n_in, L.n_out, <floating> 1, <floating *> L.dZ, L.n_out, W, L.n_out,
                       <floating> 0, dX, L.n_in)
            K.column_sums(<floating *> L.dZ, <floating *> L.db, rows, L.n_out)
            if L.l2 != 0:
                shrink = <floating> (1 - e.lr * L.l2)
                for j in range(size):
                    W[j] *= shrink
            K.gemm(True, False, L.n_in, L.n_out, rows, <floating> -e.lr, inputs, L.n_in, <floating *> L.dZ,
                   L.n_out, <floating> 1, W, L.n_out)
            K.sgd(<floating *> L.b, <floating *> L.db, NULL, L.n_out, e.lr, 0, False)
        else:
            K.backward(inputs, W, <floating *> L.dZ, L.l2, <floating *> L.dW, <floating *> L.db, dX, rows,
                       L.n_in, L.n_out)
            if e.optimizer == 0:
                K.sgd(W, <floating *> L.dW, <floating *> L.slot1_W, size, e.lr, e.momentum, e.nesterov)
                K.sgd(<floating *> L.b, <floating *> L.db, <floating *> L.slot1_b, L.n_out, e.lr, e.momentum,
                      e.nesterov)
            else:
                K.adam(W, <floating *> L.dW, <floating *> L.slot1_W, <floating *> L.slot2_W, size, t, e.lr,
                       e.beta1, e.beta2, e.eps)
                K.adam(<floating *> L.b, <floating *> L.db, <floating *> L.slot1_b, <floating *> L.slot2_b,
                       L.n_out, t, e.lr, e.beta1, e.beta2, e.eps)
        if i > 0:
            K.act_backward(below.act, <floating *> below.Z, <floating *> below.A, <floating *> below.dA,
                           <floating *> below.dZ, rows, below.n_out)
