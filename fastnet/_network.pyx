# The Network of _network.pxd: built from a model's arrays, owner of the row buffers and of the
# thread rules (one training thread at a time; any number of concurrent predicts, each with rows
# of its own; never both at once), and the forward pass that training and inference share.
cimport numpy as cnp
from cpython.pythread cimport PyThread_get_thread_ident
from libc.stdlib cimport calloc, free, malloc

from fastnet cimport _kernels as kernels
from fastnet cimport _sparse as sparse_kernels
from fastnet._sparse cimport SparseBatch
from fastnet._types cimport FN_METRIC_ARGMAX_ACCURACY

import numpy as np

from fastnet._codes import (ACTIVATIONS, FUSED, LOSSES, METRIC_OF_LOSS, METRICS, OPTIMIZERS, SKLEARN_LOSSES,
                            dropout_threshold)
from fastnet.layers import READ_ONLY, TRAINED_ELSEWHERE

cnp.import_array()

IN_USE = ("this model is in use by another thread; use one model per training thread "
          "(copy it with copy.deepcopy or build another)")


cdef Buffer buffer_of(object array, object dtype) except *:
    """The data pointer of ``array`` (C-contiguous, of ``dtype``) as the member of its dtype."""
    cdef Buffer buffer
    cdef void *data = cnp.PyArray_DATA(<cnp.ndarray> array)
    if dtype == np.float64:
        buffer.f64 = <double *> data
    else:
        buffer.f32 = <float *> data
    return buffer


cdef Buffer no_buffer():
    cdef Buffer buffer
    buffer.f64 = NULL
    return buffer


cdef class Rows:
    """Row buffers for one pass at a time (see _network.pxd)."""

    def __cinit__(self, Network net, bint training):
        cdef Py_ssize_t widths = sum(net.layers[i].n_out for i in range(net.n_layers))
        self.training = training
        self.Z = <Buffer *> calloc(net.n_layers, sizeof(Buffer))
        self.A = <Buffer *> calloc(net.n_layers, sizeof(Buffer))
        self.dZ = <Buffer *> calloc(net.n_layers, sizeof(Buffer))
        self.dA = <Buffer *> calloc(net.n_layers, sizeof(Buffer))
        self.M = <Buffer *> calloc(net.n_layers, sizeof(Buffer))
        self.D = <Buffer *> calloc(net.n_layers, sizeof(Buffer))
        if self.Z == NULL or self.A == NULL or self.dZ == NULL or self.dA == NULL or self.M == NULL or self.D == NULL:
            raise MemoryError()
        self.arrays = []
        dropped = sum(net.layers[i].n_out for i in range(net.n_layers) if net.layers[i].dropout != 0)
        self.row_bytes = net.dtype.itemsize * (2 * widths if not training else 4 * widths + 2 * dropped
                                               + net.layers[0].n_in + net.layers[net.n_layers - 1].n_out + 1) \
            + training * sizeof(Py_ssize_t)

    def __dealloc__(self):
        free(self.Z)
        free(self.A)
        free(self.dZ)
        free(self.dA)
        free(self.M)
        free(self.D)

    cdef int grow(self, Network net, Py_ssize_t rows) except -1:
        """Hold ``rows`` rows (at least doubling; never shrinking). Every buffer is allocated before
        any pointer moves, so a MemoryError leaves the rows as they were."""
        cdef int i
        if rows <= self.capacity:
            return 0
        rows = max(rows, 2 * self.capacity)
        # Z, A; for training dZ, dA, and M, D where the layer has dropout
        per_layer = [[np.empty((rows, net.layers[i].n_out), dtype=net.dtype)
                      for _ in range(2 if not self.training else 6 if net.layers[i].dropout != 0 else 4)]
                     for i in range(net.n_layers)]
        extra = []
        if self.training:  # the gathered targets, class ids and weights of a shuffled batch
            extra = [np.empty((rows, net.layers[net.n_layers - 1].n_out), dtype=net.dtype),
                     np.empty(rows, dtype=np.intp), np.empty(rows, dtype=net.dtype)]
        # nothing below allocates or can fail
        for i in range(net.n_layers):
            buffers = per_layer[i]
            self.Z[i], self.A[i] = buffer_of(buffers[0], net.dtype), buffer_of(buffers[1], net.dtype)
            if self.training:
                self.dZ[i], self.dA[i] = buffer_of(buffers[2], net.dtype), buffer_of(buffers[3], net.dtype)
            if len(buffers) == 6:
                self.M[i], self.D[i] = buffer_of(buffers[4], net.dtype), buffer_of(buffers[5], net.dtype)
        if self.training:
            self.Y = buffer_of(extra[0], net.dtype)
            self.ids = <Py_ssize_t *> cnp.PyArray_DATA(<cnp.ndarray> extra[1])
            self.weights = buffer_of(extra[2], net.dtype)
        self.arrays = [per_layer, extra]
        self.capacity = rows
        self.allocations += 1
        return 0

    cdef int grow_gather(self, Network net, Py_ssize_t rows) except -1:
        """Hold ``rows`` gathered input rows: only dense shuffled training needs them (sparse input
        is read where it lies, and its width could be far too large to copy rows of)."""
        if rows <= self.gather_capacity:
            return 0
        rows = max(rows, 2 * self.gather_capacity)
        self.gather = np.empty((rows, net.layers[0].n_in), dtype=net.dtype)
        self.X = buffer_of(self.gather, net.dtype)
        self.gather_capacity = rows
        return 0


cdef class Network:
    """Training and inference state of one model for the compiled loop.

    Holds pointers into the model's parameter, gradient and optimiser-state arrays (kept alive
    by ``self.arrays``), the training rows (``workspace``) and idle inference rows.
    """

    def __cinit__(self):
        self.layers = NULL

    def __dealloc__(self):
        free(self.layers)

    def __init__(self, model, state, previous=None):
        """Take the pointers of ``model``'s layers and of ``state``, its current optimiser's state
        (None for inference only: training needs a Network built with the state). ``previous``, the
        network this one replaces, hands over the thread that owns the model's fit."""
        cdef Layer *L
        layers = model.layers
        opt = model.optimizer
        self.n_layers = len(layers)
        self.layers = <Layer *> malloc(self.n_layers * sizeof(Layer))
        if self.layers == NULL:
            raise MemoryError()
        self.dtype = model.dtype
        self.is_double = self.dtype == np.float64
        self.loss = LOSSES.index(model.loss)
        self.loss_is_fused = model.loss in FUSED
        self.sklearn_l2 = model.loss in SKLEARN_LOSSES
        self.metric = METRICS.index(METRIC_OF_LOSS[model.loss])
        self.metric_per_row = self.metric == FN_METRIC_ARGMAX_ACCURACY
        self.no_metric = model.loss in SKLEARN_LOSSES
        self.optimizer = OPTIMIZERS.index(opt.kind)
        self.dropout_key = model._dropout_key
        self.read_settings(opt)
        if previous is not None:
            self.owner = (<Network> previous).owner
        self.optimizer_config, self.state = opt, state
        self.arrays, self.idle_rows = [], []
        if state is not None and (state.kind != opt.kind or len(state.slots) != 2 * self.n_layers or any(
                set(slots) != set(opt.slots) for slots in state.slots)):
            raise ValueError(f"the optimizer state does not fit {opt!r} and this model's layers")
        for i, layer in enumerate(layers):
            slots_W, slots_b = ({}, {}) if state is None else (state.slots[2 * i], state.slots[2 * i + 1])
            for array in (*slots_W.values(), *slots_b.values(), layer.dW, layer.db):
                # every pointer below must address an array of its parameter's shape and dtype
                if array.dtype != self.dtype or not array.flags.c_contiguous or array.shape not in (
                        layer.W.shape, layer.b.shape):
                    raise ValueError(f"layer {i}: a gradient or optimiser state array does not match its parameter")
            self.arrays += [layer.W, layer.b, layer.dW, layer.db, *slots_W.values(), *slots_b.values(), layer._trainer]
            L = &self.layers[i]
            L.n_in, L.n_out = layer.n_in, layer.n_out
            L.act = ACTIVATIONS.index(layer.activation)
            L.l2 = layer.l2
            L.W, L.b = buffer_of(layer.W, self.dtype), buffer_of(layer.b, self.dtype)
            L.dW, L.db = buffer_of(layer.dW, self.dtype), buffer_of(layer.db, self.dtype)
            L.velocity_W, L.velocity_b = self.slot(slots_W, "velocity"), self.slot(slots_b, "velocity")
            L.m_W, L.m_b = self.slot(slots_W, "m"), self.slot(slots_b, "m")
            L.v_W, L.v_b = self.slot(slots_W, "v"), self.slot(slots_b, "v")
            L.trainer = <unsigned long long *> cnp.PyArray_DATA(<cnp.ndarray> layer._trainer)
            L.dropout, L.dropout_threshold = layer.dropout, dropout_threshold(layer.dropout)
        self.workspace = Rows(self, True)
        self.reading = Rows(self, False)  # made here: taking it must not allocate (see start_reading)
        self.reading_row_bytes = self.reading.row_bytes

    cdef Buffer slot(self, dict slots, str name) except *:
        return buffer_of(slots[name], self.dtype) if name in slots else no_buffer()

    def read_settings(self, opt):
        """Take the optimiser's hyperparameters (at the start of an epoch or a train_step)."""
        settings = vars(opt)
        self.lr = opt.learning_rate
        self.momentum, self.nesterov = settings.get("momentum", 0.0), settings.get("nesterov", False)
        self.beta1, self.beta2 = settings.get("beta1", 0.0), settings.get("beta2", 0.0)
        self.eps = settings.get("eps", 0.0)
        self.settings_version = settings["_version"]

    @property
    def capacity(self):
        """Rows the training workspace holds."""
        return self.workspace.capacity

    @property
    def allocations(self):
        """Times the training workspace grew."""
        return self.workspace.allocations

    @property
    def row_bytes(self):
        """Training workspace bytes per row."""
        return self.workspace.row_bytes

    @property
    def inference_rows(self):
        """The idle inference row buffers (one per predict that ran at the same time as others)."""
        used = [self.reading] if self.reading.capacity and not self.reading_taken else []
        return tuple(used + self.idle_rows)

    # ---- thread rules (every method below runs with the GIL held) -----------------------------

    def check(self):
        """RuntimeError when another thread is training this model."""
        self.check_thread()

    def claim(self):
        """Mark the calling thread as this model's trainer for a whole ``fit``; returns the previous one."""
        cdef unsigned long previous = self.owner
        self.check_thread()
        if self.readers:
            raise RuntimeError(IN_USE)
        self.owner = PyThread_get_thread_ident()
        return previous

    def release(self, unsigned long previous):
        """Give the model back after ``claim``."""
        self.owner = previous

    cdef int check_thread(self) except -1:
        if self.training or (self.owner != 0 and self.owner != PyThread_get_thread_ident()):
            raise RuntimeError(IN_USE)
        return 0

    cdef int claim_layers_for_this_thread(self) except -1:
        cdef unsigned long long me = PyThread_get_thread_ident()
        cdef int i
        for i in range(self.n_layers):
            if self.layers[i].trainer[1] and self.layers[i].trainer[0] != me:
                raise RuntimeError(TRAINED_ELSEWHERE)
        for i in range(self.n_layers):
            self.layers[i].trainer[0] = me
            self.layers[i].trainer[1] += 1
        return 0

    cdef void release_layers_of_this_thread(self) noexcept:
        cdef int i
        for i in range(self.n_layers):
            self.layers[i].trainer[1] -= 1

    cdef Rows start_training(self, Py_ssize_t rows, bint gather):
        """Before a training stretch of ``rows``-row batches: no other trainer of the model or of its
        layers, and no predict running. Marked before the workspace grows (growing can run other
        threads through the garbage collector), undone if it fails."""
        if self.state is None:
            raise RuntimeError("this Network was built for inference (no optimiser state): train through the model")
        for array in self.arrays:  # training writes every one of them through its pointer
            if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray> array):
                raise ValueError(READ_ONLY)
        self.check_thread()
        if self.readers:
            raise RuntimeError(IN_USE)
        self.claim_layers_for_this_thread()
        self.training = True
        try:
            self.workspace.grow(self, rows)
            if gather:
                self.workspace.grow_gather(self, rows)
        except BaseException:
            self.stop_training()
            raise
        return self.workspace

    cdef void stop_training(self) noexcept:
        self.training = False
        self.release_layers_of_this_thread()

    cdef Rows start_reading(self, Py_ssize_t rows):
        """Before a forward pass of ``rows`` rows: rows of its own, while nothing trains."""
        cdef Rows taken
        self.check_thread()
        # taken and counted before anything that may allocate (the garbage collector can run other
        # threads in between), given back if growing fails
        if not self.reading_taken:
            taken = self.reading
            self.reading_taken = True
        else:
            taken = self.idle_rows.pop() if self.idle_rows else Rows(self, False)
        self.readers += 1
        if self.readers > self.most_readers:
            self.most_readers = self.readers
        try:
            taken.grow(self, rows)
        except BaseException:
            self.stop_reading(taken)
            raise
        return taken

    cdef void stop_reading(self, Rows rows) noexcept:
        self.readers -= 1
        if rows is self.reading:
            self.reading_taken = False
        else:
            self.idle_rows.append(rows)


def claim_layers(layers):
    """Mark ``layers`` (Dense) as trained by this thread, re-entrantly: the rule of
    fastnet.layers.claim_layers in C, where the check and the marks happen under the GIL at once."""
    cdef Py_ssize_t n = len(layers), i
    cdef unsigned long long me = PyThread_get_thread_ident()
    cdef unsigned long long **trainers = <unsigned long long **> malloc(max(n, 1) * sizeof(void *))
    if trainers == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            trainers[i] = <unsigned long long *> cnp.PyArray_DATA(<cnp.ndarray> layers[i]._trainer)
        for i in range(n):  # no Python code runs in these two loops: no other thread can enter
            if trainers[i][1] and trainers[i][0] != me:
                raise RuntimeError(TRAINED_ELSEWHERE)
        for i in range(n):
            trainers[i][0] = me
            trainers[i][1] += 1
    finally:
        free(trainers)


def release_layers(layers):
    """Undo one ``claim_layers`` of ``layers`` by this thread."""
    for layer in layers:
        (<unsigned long long *> cnp.PyArray_DATA(<cnp.ndarray> layer._trainer))[1] -= 1


cdef bint laid_out(object array, int typenum, int ndim, Py_ssize_t rows, Py_ssize_t cols) noexcept:
    cdef cnp.ndarray a
    if not cnp.PyArray_Check(array):
        return False
    a = <cnp.ndarray> array
    return (cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_NDIM(a) == ndim
            and cnp.PyArray_ISNOTSWAPPED(a)  # '>f8' has the same type number
            and cnp.PyArray_ISALIGNED(a)  # the kernels load typed values
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and (rows < 0 or a.shape[0] == rows)
            and (ndim == 1 or a.shape[1] == cols))


cdef bint forward_rows(Network net, Rows rows, const floating *X, const SparseBatch *sparse, Py_ssize_t m,
                       bint training, unsigned long long counter) noexcept nogil:
    cdef const floating *inputs = X
    cdef Layer *L
    cdef int i
    cdef bint finite = True
    for i in range(net.n_layers):
        L = &net.layers[i]
        if i == 0 and sparse != NULL:
            finite &= sparse_kernels.forward(sparse, typed(L.W, X), typed(L.b, X), L.act, typed(rows.Z[i], X),
                                             typed(rows.A[i], X), m, L.n_out)
        else:
            finite &= kernels.forward(inputs, typed(L.W, X), typed(L.b, X), L.act, typed(rows.Z[i], X),
                                      typed(rows.A[i], X), m, L.n_in, L.n_out)
        inputs = typed(rows.A[i], X)
        if training and L.dropout != 0:
            kernels.dropout(inputs, typed(rows.M[i], X), typed(rows.D[i], X), m * L.n_out,
                            kernels.dropout_stream(net.dropout_key, counter, i), L.dropout_threshold,
                            <floating> (1.0 / (1.0 - L.dropout)))
            inputs = typed(rows.D[i], X)
    return finite
