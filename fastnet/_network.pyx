# The Network of _network.pxd: built from a model's arrays, owner of the workspace and of the
# one-thread-at-a-time rule, and the forward pass that training and inference share.
cimport numpy as cnp
from cpython.pythread cimport PyThread_get_thread_ident
from libc.stdlib cimport free, malloc

from fastnet cimport _kernels as kernels
from fastnet._types cimport FN_METRIC_ARGMAX_ACCURACY

import numpy as np

from fastnet._codes import ACTIVATIONS, FUSED, LOSSES, METRIC_OF_LOSS, METRICS, OPTIMIZERS

cnp.import_array()


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


cdef class Network:
    """Training and inference state of one model for the compiled loop.

    Holds pointers into the model's parameter, gradient and optimiser-state arrays (kept alive
    by ``self.arrays``) and a workspace for ``capacity`` rows, grown to the largest batch seen.
    """

    def __cinit__(self):
        self.layers = NULL

    def __dealloc__(self):
        free(self.layers)

    def __init__(self, model):
        """Take the pointers of ``model``'s layers and of its current optimiser's state."""
        cdef Layer *L
        layers = model.layers
        state = model.prepare_optimizer_state()
        opt = model.optimizer
        self.n_layers = len(layers)
        self.layers = <Layer *> malloc(self.n_layers * sizeof(Layer))
        if self.layers == NULL:
            raise MemoryError()
        self.dtype = model.dtype
        self.is_double = self.dtype == np.float64
        self.loss = LOSSES.index(model.loss)
        self.loss_is_fused = model.loss in FUSED
        self.metric = METRICS.index(METRIC_OF_LOSS[model.loss])
        self.metric_per_row = self.metric == FN_METRIC_ARGMAX_ACCURACY
        self.optimizer = OPTIMIZERS.index(state.kind)
        hyper = vars(opt)
        self.lr = opt.learning_rate
        self.momentum, self.nesterov = hyper.get("momentum", 0.0), hyper.get("nesterov", False)
        self.beta1, self.beta2, self.eps = hyper.get("beta1", 0.0), hyper.get("beta2", 0.0), hyper.get("eps", 0.0)
        self.optimizer_config, self.state = opt, state
        self.arrays, self.workspace = [], []
        self.capacity = self.allocations = 0
        self.row_bytes = self.dtype.itemsize * (4 * sum(layer.n_out for layer in layers) + layers[0].n_in
                                                + layers[self.n_layers - 1].n_out) + sizeof(Py_ssize_t)
        for i, layer in enumerate(layers):
            slots_W, slots_b = state.slots[2 * i], state.slots[2 * i + 1]
            for array in (*slots_W.values(), *slots_b.values(), layer.dW, layer.db):
                # every pointer below must address an array of its parameter's shape and dtype
                if array.dtype != self.dtype or not array.flags.c_contiguous or array.shape not in (
                        layer.W.shape, layer.b.shape):
                    raise ValueError(f"layer {i}: a gradient or optimiser state array does not match its parameter")
            self.arrays += [layer.W, layer.b, layer.dW, layer.db, *slots_W.values(), *slots_b.values()]
            L = &self.layers[i]
            L.n_in, L.n_out = layer.n_in, layer.n_out
            L.act = ACTIVATIONS.index(layer.activation)
            L.l2 = layer.l2
            L.W, L.b = buffer_of(layer.W, self.dtype), buffer_of(layer.b, self.dtype)
            L.dW, L.db = buffer_of(layer.dW, self.dtype), buffer_of(layer.db, self.dtype)
            L.velocity_W, L.velocity_b = self.slot(slots_W, "velocity"), self.slot(slots_b, "velocity")
            L.m_W, L.m_b = self.slot(slots_W, "m"), self.slot(slots_b, "m")
            L.v_W, L.v_b = self.slot(slots_W, "v"), self.slot(slots_b, "v")
            L.Z = L.A = L.dZ = L.dA = no_buffer()

    cdef Buffer slot(self, dict slots, str name) except *:
        return buffer_of(slots[name], self.dtype) if name in slots else no_buffer()

    # ---- thread ownership: a model's workspace serves one thread at a time ----------------

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
        """Give the model back after ``claim``."""
        self.owner = previous

    cdef int check_thread(self) except -1:
        if self.busy or (self.owner != 0 and self.owner != PyThread_get_thread_ident()):
            raise RuntimeError("this model is in use by another thread; use one model per thread "
                               "(copy it with fastnet.load/save or build another)")
        return 0

    cdef int enter(self, Py_ssize_t rows) except -1:
        """Before a nogil section on ``rows`` rows: the thread check, the workspace, the busy mark."""
        self.check_thread()
        self.grow(rows)
        self.busy = True
        return 0

    cdef void leave(self) noexcept:
        self.busy = False

    # ---- workspace ---------------------------------------------------------------------------

    cdef int grow(self, Py_ssize_t rows) except -1:
        """Make the workspace hold ``rows`` rows (at least doubling; it never shrinks)."""
        cdef Layer *L
        if rows <= self.capacity:
            return 0
        rows = max(rows, 2 * self.capacity)
        space = []
        for i in range(self.n_layers):
            L = &self.layers[i]
            buffers = [np.empty((rows, L.n_out), dtype=self.dtype) for _ in range(4)]
            L.Z, L.A = buffer_of(buffers[0], self.dtype), buffer_of(buffers[1], self.dtype)
            L.dZ, L.dA = buffer_of(buffers[2], self.dtype), buffer_of(buffers[3], self.dtype)
            space += buffers
        inputs = np.empty((rows, self.layers[0].n_in), dtype=self.dtype)
        targets = np.empty((rows, self.layers[self.n_layers - 1].n_out), dtype=self.dtype)
        ids = np.empty(rows, dtype=np.intp)
        self.X_rows, self.Y_rows = buffer_of(inputs, self.dtype), buffer_of(targets, self.dtype)
        self.id_rows = <Py_ssize_t *> cnp.PyArray_DATA(<cnp.ndarray> ids)
        self.workspace = space + [inputs, targets, ids]
        self.capacity = rows
        self.allocations += 1
        return 0


cdef bint forward_rows(Network net, const floating *X, Py_ssize_t m) noexcept nogil:
    cdef const floating *inputs = X
    cdef Layer *L
    cdef int i
    cdef bint finite = True
    for i in range(net.n_layers):
        L = &net.layers[i]
        finite &= kernels.forward(inputs, typed(L.W, X), typed(L.b, X), L.act, typed(L.Z, X), typed(L.A, X), m,
                                  L.n_in, L.n_out)
        inputs = typed(L.A, X)
    return finite
