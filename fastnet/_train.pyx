# The training loop of the compiled engine: stretches of an epoch (gather, forward, loss,
# backward, update) without the GIL, returning to Python at checkpoints (fastnet/engine.py
# asks for about every 50 ms, and the epoch's end) so progress bars, callbacks and Ctrl-C keep
# working. Nothing is allocated per step: batches run in the Network's workspace.
cimport numpy as cnp
from libc.math cimport NAN, fabs, isfinite
from libc.string cimport memcpy
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from fastnet cimport _cpu as cpu
from fastnet cimport _kernels as kernels
from fastnet cimport _sklearn_kernels as sk
from fastnet cimport _sparse as sparse_kernels
from fastnet._network cimport Layer, Network, Rows, forward_rows, laid_out, training_output, typed
from fastnet._sparse cimport CSRRows, SparseBatch, batch_of
from fastnet._types cimport FN_LOSS_BINARY_CROSS_ENTROPY, FN_LOSS_CROSS_ENTROPY, FN_OPT_SGD, FN_OPT_SKLEARNADAM, FN_OPT_SKLEARNSGD, floating

cnp.import_array()


cdef class Stretch:
    """What one ``train`` call did: batches run, optimiser steps taken, sums for the epoch's logs
    (each batch's loss times its weight sum, and the weight sums: rows without sample weights;
    each batch's loss times its rows, as scikit-learn averages; the weighted metric sum and its
    count), the non-finite loss that stopped it (None when every batch was finite), and the
    last batch's loss."""
    cdef readonly Py_ssize_t batches, steps
    cdef readonly double loss_sum, weight_sum, row_loss_sum, metric_sum, metric_count, last_loss
    cdef readonly object failed_loss


cdef struct Sums:
    Py_ssize_t batches, steps
    double loss_sum, weight_sum, row_loss_sum, metric_sum, metric_count, last_loss
    bint failed
    double failed_loss


cdef inline double seconds_now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef inline void *data(object array):
    return cnp.PyArray_DATA(<cnp.ndarray> array)


cdef Py_ssize_t check_arrays(Network net, X, Y, weights, order) except -1:
    """The layout the loops read, checked in C: a guard against misreading memory, not
    user-input validation (fastnet/checks.py and the estimators convert before calling).
    Returns X's rows. X may be a CSRRows matrix (checked when it was made) of the same width."""
    cdef int typenum = cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT
    cdef Py_ssize_t n_in = net.layers[0].n_in, k = net.layers[net.n_layers - 1].n_out
    cdef Py_ssize_t m
    if isinstance(X, CSRRows):
        m = (<CSRRows> X).n_rows
        if (<CSRRows> X).n_cols != n_in or cnp.PyArray_TYPE(<cnp.ndarray> (<CSRRows> X).data) != typenum:
            raise ValueError(f"X must be a CSRRows matrix of {net.dtype} values and {n_in} columns")
    elif not laid_out(X, typenum, 2, -1, n_in):
        raise ValueError(f"X must be a C-contiguous {net.dtype} array of shape (m, {n_in})")
    else:
        m = X.shape[0]
    if laid_out(Y, cnp.NPY_INTP, 1, m, 0):  # class ids: cross-entropy's (their values: check_rows)
        if net.loss != FN_LOSS_CROSS_ENTROPY:
            raise ValueError(f"Y as class ids (intp, ({m},)) must be for cross_entropy and lie in [0, {k})")
    elif not laid_out(Y, typenum, 2, m, k):
        raise ValueError(f"Y must be a C-contiguous {net.dtype} array of shape ({m}, {k}) or intp class ids ({m},)")
    if weights is not None and not laid_out(weights, typenum, 1, m, 0):
        raise ValueError(f"weights must be a C-contiguous {net.dtype} array of shape ({m},)")
    if order is not None and not laid_out(order, cnp.NPY_INTP, 1, m, 0):
        raise ValueError(f"order must be a C-contiguous intp array of shape ({m},) of row numbers in [0, {m})")
    return m


cdef int check_rows(Network net, const Py_ssize_t *order, const Py_ssize_t *ids, Py_ssize_t start, Py_ssize_t stop,
                    Py_ssize_t m) except -1:
    """The values the loops will index with, for the rows start .. stop − 1 of this call (work in
    proportion to the call's): row numbers of ``order`` in [0, m), class ids in [0, k)."""
    cdef Py_ssize_t r, row, k = net.layers[net.n_layers - 1].n_out
    for r in range(start, stop):
        row = order[r] if order != NULL else r
        if row < 0 or row >= m:
            raise ValueError(f"order must be a C-contiguous intp array of shape ({m},) of row numbers in [0, {m})")
        if ids != NULL and (ids[row] < 0 or ids[row] >= k):
            raise ValueError(f"Y as class ids (intp, ({m},)) must be for cross_entropy and lie in [0, {k})")
    return 0


cdef inline SparseBatch *sparse_input(X, SparseBatch *batch):
    """``batch`` filled from X when X is a CSRRows matrix, else NULL (dense input)."""
    if not isinstance(X, CSRRows):
        return NULL
    batch[0] = batch_of(<CSRRows> X)
    return batch


def admits_batch(Network net, X, Y):
    """Whether ``train_step`` and ``evaluate`` may run ``(X, Y)`` as they are, checked in C: both C-contiguous
    arrays of the network's dtype, X ``(m >= 1, n_in)``, Y ``(m, k)`` with values in [0, 1] for
    the cross-entropies and rows summing to 1 for ``cross_entropy`` (the rules of
    ``checks.as_targets``). Finiteness is left to the step (``stop_on_overflow``); anything
    else goes through fastnet/checks.py."""
    cdef int typenum = cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT
    cdef Py_ssize_t m, k = net.layers[net.n_layers - 1].n_out
    if not laid_out(X, typenum, 2, -1, net.layers[0].n_in):
        return False
    m = X.shape[0]
    if m == 0 or not laid_out(Y, typenum, 2, m, k):
        return False
    if net.loss != FN_LOSS_CROSS_ENTROPY and net.loss != FN_LOSS_BINARY_CROSS_ENTROPY:
        return True
    # half checks.py's tolerance on the row sums: a row near its bound takes the full path
    if net.is_double:
        return targets_valid(<double *> data(Y), m, k, net.loss == FN_LOSS_CROSS_ENTROPY, 0.5e-6)
    return targets_valid(<float *> data(Y), m, k, net.loss == FN_LOSS_CROSS_ENTROPY, 0.5e-3)


cdef bint targets_valid(const floating *Y, Py_ssize_t m, Py_ssize_t k, bint rows_sum_to_one,
                        double tol) noexcept nogil:
    """Every target in [0, 1] (NaN is not), and each row's sum within ``tol`` of 1 if asked."""
    cdef Py_ssize_t i, j
    cdef double total
    for i in range(m):
        total = 0
        for j in range(k):
            if not (0 <= Y[i * k + j] <= 1):
                return False
            total += Y[i * k + j]
        if rows_sum_to_one and fabs(total - 1) > tol:
            return False
    return True


def train(Network net, X, Y, *, weights=None, order, Py_ssize_t batch_size, Py_ssize_t first, Py_ssize_t last,
          long step, unsigned long long dropout_count=0, double seconds, bint keep_going=False,
          bint stop_on_overflow=False):
    """Train batches ``first .. last-1`` of an epoch over ``(X, Y)`` (validated: C-contiguous, the
    network's dtype; Y may be class ids) with per-row ``weights`` (None, or any finite values of
    that dtype and shape (m,)), taking rows in ``order`` (an intp permutation, or None for in
    place); ``step`` is the optimiser steps taken before, ``dropout_count`` the training batches
    run before (batch b of this call draws the dropout masks of count ``dropout_count + b``). A
    batch whose weights sum to 0 makes no update. Stops early after ``seconds``, or at a non-finite
    loss (whose batch gets no update) unless ``keep_going`` (scikit-learn steps on through NaN).
    ``stop_on_overflow`` also stops, with a NaN ``failed_loss`` and no update, at a batch whose
    forward pass met a non-finite pre-activation (the check of input that skipped
    fastnet/checks.py: see ``admits_batch``). Returns a ``Stretch``."""
    cdef Sums sums
    cdef SparseBatch batch
    cdef Py_ssize_t m = check_arrays(net, X, Y, weights, order)
    cdef SparseBatch *sparse = sparse_input(X, &batch)
    cdef const Py_ssize_t *order_ = NULL if order is None else <Py_ssize_t *> data(order)
    cdef const Py_ssize_t *ids = <Py_ssize_t *> data(Y) if Y.ndim == 1 else NULL
    cdef void *x = NULL if sparse != NULL else data(X)
    cdef void *y = data(Y)
    cdef void *w = NULL if weights is None else data(weights)
    cdef Rows rows
    if batch_size < 1 or not 0 <= first <= last <= (m + batch_size - 1) // batch_size:
        raise ValueError(f"batches {first} .. {last} of size {batch_size} are not batches of {m} rows")
    check_rows(net, order_, ids, first * batch_size, min(last * batch_size, m), m)
    sums.batches = sums.steps = 0
    sums.loss_sum = sums.weight_sum = sums.row_loss_sum = sums.metric_sum = sums.metric_count = sums.last_loss = 0
    sums.failed = False
    sums.failed_loss = 0
    rows = net.start_training(min(batch_size, m), sparse == NULL and order is not None)
    with nogil:
        if net.is_double:
            train_batches(net, rows, <double *> x, sparse, <double *> y, ids, <double *> w, order_, m, batch_size,
                          first, last, step, dropout_count, seconds, keep_going, stop_on_overflow, &sums)
        else:
            train_batches(net, rows, <float *> x, sparse, <float *> y, ids, <float *> w, order_, m, batch_size,
                          first, last, step, dropout_count, seconds, keep_going, stop_on_overflow, &sums)
    net.stop_training()
    cdef Stretch result = Stretch.__new__(Stretch)
    result.batches, result.steps = sums.batches, sums.steps
    result.loss_sum, result.weight_sum, result.row_loss_sum = sums.loss_sum, sums.weight_sum, sums.row_loss_sum
    result.metric_sum, result.metric_count, result.last_loss = sums.metric_sum, sums.metric_count, sums.last_loss
    result.failed_loss = sums.failed_loss if sums.failed else None
    return result


def gradient(Network net, X, Y, *, weights=None):
    """The loss of the whole batch ``(X, Y)`` (validated as for ``train``; with scikit-learn's L2
    term for its losses) and its gradient in every layer's dW and db, without a step: the
    function and gradient L-BFGS asks for."""
    cdef SparseBatch batch
    cdef Py_ssize_t m = check_arrays(net, X, Y, weights, None)
    cdef SparseBatch *sparse = sparse_input(X, &batch)
    cdef const Py_ssize_t *ids = <Py_ssize_t *> data(Y) if Y.ndim == 1 else NULL
    cdef void *x = NULL if sparse != NULL else data(X)
    cdef void *y = data(Y)
    cdef void *w = NULL if weights is None else data(weights)
    cdef Rows rows
    cdef double loss
    cdef int i
    check_rows(net, NULL, ids, 0, m, m)
    for i in range(net.n_layers):
        if net.layers[i].dropout != 0:
            raise ValueError("gradient takes networks without dropout (it computes one deterministic gradient)")
    rows = net.start_training(m, False)
    with nogil:
        if net.is_double:
            loss = batch_gradient(net, rows, <double *> x, sparse, <double *> y, ids, <double *> w, m)
        else:
            loss = batch_gradient(net, rows, <float *> x, sparse, <float *> y, ids, <float *> w, m)
    net.stop_training()
    return loss


def evaluate_chunk(Network net, X, Y, weights, dOut):
    """For the chunk ``(X, Y, weights)`` (validated as for ``train``) and a scratch ``dOut`` of the
    output's shape: (data loss, weight sum, metric sum, metric count), as ``fit`` sums them, and
    whether every pre-activation was finite. Runs in inference rows of its own, as predict does,
    so it changes nothing and may run beside other predicts."""
    cdef SparseBatch batch
    cdef Py_ssize_t m = check_arrays(net, X, Y, weights, None), k = net.layers[net.n_layers - 1].n_out
    cdef SparseBatch *sparse = sparse_input(X, &batch)
    cdef const Py_ssize_t *ids = <Py_ssize_t *> data(Y) if Y.ndim == 1 else NULL
    if not laid_out(dOut, cnp.NPY_DOUBLE if net.is_double else cnp.NPY_FLOAT, 2, m, k):
        raise ValueError(f"dOut must be a C-contiguous {net.dtype} array of shape ({m}, {k})")
    check_rows(net, NULL, ids, 0, m, m)
    cdef void *x = NULL if sparse != NULL else data(X)
    cdef void *y = data(Y)
    cdef void *w = NULL if weights is None else data(weights)
    cdef void *d = data(dOut)
    cdef double sums[4]
    cdef bint finite
    cdef Rows rows = net.start_reading(m)
    with nogil:
        if net.is_double:
            finite = chunk_sums(net, rows, <double *> x, sparse, <double *> y, ids, <double *> w, <double *> d, m,
                                sums)
        else:
            finite = chunk_sums(net, rows, <float *> x, sparse, <float *> y, ids, <float *> w, <float *> d, m, sums)
    net.stop_reading(rows)
    return sums[0], sums[1], sums[2], sums[3], finite


cdef bint chunk_sums(Network net, Rows rows, const floating *X, const SparseBatch *sparse, const floating *Y,
                     const Py_ssize_t *ids, const floating *w, floating *dOut, Py_ssize_t m,
                     double *sums) noexcept nogil:
    cdef int last = net.n_layers - 1
    cdef Py_ssize_t k = net.layers[last].n_out
    cdef bint finite = forward_rows(net, rows, X, sparse, m, False, 0)
    cdef const floating *Y_rows = NULL if ids != NULL else Y
    cdef floating *Z = typed(rows.Z[last], X)
    cdef floating *A = typed(rows.A[last], X)
    sums[0] = kernels.loss_grad(net.loss, Z, A, Y_rows, ids, w, dOut, m, k)
    sums[1] = kernels.weight_sum(w, m)
    sums[2] = kernels.metric_sum(net.metric, A, Y_rows, ids, w, m, k)
    sums[3] = sums[1] if net.metric_per_row else sums[1] * k
    return finite


cdef double batch_gradient(Network net, Rows work, const floating *X, const SparseBatch *sparse, const floating *Y,
                           const Py_ssize_t *ids, const floating *w, Py_ssize_t m) noexcept nogil:
    cdef double loss, weight
    forward_rows(net, work, X, sparse, m, False, 0)
    loss = loss_and_output_gradient(net, work, Y, ids, w, m)
    weight = kernels.weight_sum(w, m)
    if net.sklearn_l2 and weight != 0:
        loss += 0.5 * l2_term(net, X) / weight
    backward_and_update(net, work, X, sparse, m, 0, 1 / weight if net.sklearn_l2 and weight != 0 else 1, False)
    return loss


cdef void train_batches(Network net, Rows work, const floating *X, const SparseBatch *sparse, const floating *Y,
                        const Py_ssize_t *ids, const floating *weights, const Py_ssize_t *order, Py_ssize_t m,
                        Py_ssize_t batch_size,
                        Py_ssize_t first, Py_ssize_t last, long step, unsigned long long dropout_count, double seconds,
                        bint keep_going, bint stop_on_overflow, Sums *sums) noexcept nogil:
    cdef double deadline = seconds_now() + seconds, loss, weight
    cdef Py_ssize_t batch, start, rows, r, n_in = net.layers[0].n_in
    cdef Py_ssize_t k = net.layers[net.n_layers - 1].n_out
    cdef const floating *Xb
    cdef const floating *Yb
    cdef const Py_ssize_t *idb
    cdef const floating *wb
    cdef SparseBatch batch_rows    # the batch's rows of sparse input
    cdef const SparseBatch *Sb = NULL
    cdef floating *X_rows = typed(work.X, X)
    cdef floating *Y_rows = typed(work.Y, X)
    cdef floating *w_rows = typed(work.weights, X)
    for batch in range(first, last):
        start = batch * batch_size
        rows = min(batch_size, m - start)
        if order == NULL:  # no shuffle: the batch is a contiguous slice of the data
            Xb = X + start * n_in if X != NULL else NULL
            Yb = Y + start * k
            idb = ids + start if ids != NULL else NULL
            wb = weights + start if weights != NULL else NULL
        else:
            if X != NULL:
                for r in range(rows):
                    memcpy(X_rows + r * n_in, X + order[start + r] * n_in, n_in * sizeof(floating))
            if ids != NULL:
                for r in range(rows):
                    work.ids[r] = ids[order[start + r]]
            else:
                for r in range(rows):
                    memcpy(Y_rows + r * k, Y + order[start + r] * k, k * sizeof(floating))
            if weights != NULL:
                for r in range(rows):
                    w_rows[r] = weights[order[start + r]]
            Xb, Yb = X_rows if X != NULL else NULL, Y_rows
            idb = work.ids if ids != NULL else NULL
            wb = w_rows if weights != NULL else NULL
        if sparse != NULL:  # read in place, through the order
            batch_rows = sparse[0]
            batch_rows.rows, batch_rows.first = order + start if order != NULL else NULL, start
            Sb = &batch_rows
        if not forward_rows(net, work, Xb, Sb, rows, True, dropout_count + sums.batches) and stop_on_overflow:
            sums.failed = True
            sums.failed_loss = NAN
            return
        loss = loss_and_output_gradient(net, work, Yb, idb, wb, rows)
        weight = kernels.weight_sum(wb, rows)
        if net.sklearn_l2 and weight != 0:  # scikit-learn reports the L2 term in the loss
            loss += 0.5 * l2_term(net, X) / weight
        if not net.no_metric:
            sums.metric_sum += kernels.metric_sum(net.metric, typed(work.A[net.n_layers - 1], X), Yb, idb, wb, rows, k)
            sums.metric_count += weight if net.metric_per_row else weight * k
        sums.batches += 1
        sums.last_loss = loss
        if not isfinite(loss) and not keep_going:
            sums.failed = True
            sums.failed_loss = loss
            return
        if weight != 0:  # a batch of no weight has no gradient: no step
            backward_and_update(net, work, Xb, Sb, rows, step + sums.steps + 1, 1 / weight if net.sklearn_l2 else 1,
                                True)
            sums.steps += 1
        sums.loss_sum += loss * weight
        sums.row_loss_sum += loss * rows
        sums.weight_sum += weight
        if seconds_now() > deadline:
            return


cdef double loss_and_output_gradient(Network net, Rows work, const floating *Yb, const Py_ssize_t *idb,
                                     const floating *wb, Py_ssize_t rows) noexcept nogil:
    """The batch's data loss; leaves ∂L/∂Z of the last layer in its dZ rows."""
    cdef int last = net.n_layers - 1
    cdef Layer *out = &net.layers[last]
    cdef floating *Z = typed(work.Z[last], Yb)
    cdef floating *A = typed(work.A[last], Yb)
    cdef floating *dZ = typed(work.dZ[last], Yb)
    cdef floating *dA = typed(work.dA[last], Yb)
    cdef double loss
    if net.loss_is_fused:  # the loss's gradient is already dZ
        return kernels.loss_grad(net.loss, Z, A, Yb, idb, wb, dZ, rows, out.n_out)
    loss = kernels.loss_grad(net.loss, Z, A, Yb, idb, wb, dA, rows, out.n_out)
    cpu.act_backward(out.act, Z, A, dA, dZ, rows, out.n_out)
    return loss


cdef inline void through_mask(floating *dA, const floating *M, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t e
    for e in range(n):
        dA[e] *= M[e]


cdef double l2_term(Network net, const floating *like) noexcept nogil:
    """Σ over layers of l2·‖W‖²."""
    cdef int i
    cdef double norms = 0
    cdef Layer *L
    for i in range(net.n_layers):
        L = &net.layers[i]
        norms += L.l2 * sum_of_squares(typed(L.W, like), L.n_in * L.n_out)
    return norms


cdef inline double sum_of_squares(const floating *w, Py_ssize_t n) noexcept nogil:
    """Σ w², in eight running sums: one sum is a chain of dependent adds (4 cycles each), which
    made this term cost as much as a small layer's product every step."""
    cdef double s[8]
    cdef Py_ssize_t e, j
    for j in range(8):
        s[j] = 0
    for e in range(0, n - n % 8, 8):
        for j in range(8):
            s[j] += w[e + j] * w[e + j]
    for e in range(n - n % 8, n):
        s[0] += w[e] * w[e]
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


cdef void backward_and_update(Network net, Rows work, const floating *Xb, const SparseBatch *sparse, Py_ssize_t rows,
                              long t, double l2_scale, bint update) noexcept nogil:
    """Back-propagate from the last layer's dZ, updating each layer once its dX is computed (with
    ``update``; else only its dW and db are filled); each layer's L2 strength is scaled by
    ``l2_scale`` (scikit-learn's 1/Σw)."""
    cdef int i
    cdef Layer *L
    cdef Layer *below
    cdef const floating *inputs
    cdef floating *dX
    cdef floating *W
    cdef floating *b
    cdef floating *dZ
    cdef Py_ssize_t size
    cdef bint plain_sgd = update and net.optimizer == FN_OPT_SGD and net.momentum == 0 and sparse == NULL
    for i in range(net.n_layers - 1, -1, -1):
        L = &net.layers[i]
        below = &net.layers[i - 1] if i > 0 else NULL
        inputs = Xb if i == 0 else training_output(net, work, i - 1, Xb)
        dX = typed(work.dA[i - 1], Xb) if i > 0 else NULL
        W, b, dZ = typed(L.W, Xb), typed(L.b, Xb), typed(work.dZ[i], Xb)
        size = L.n_in * L.n_out
        if plain_sgd:
            kernels.backward_sgd(inputs, W, b, dZ, L.l2 * l2_scale, net.lr, typed(L.db, Xb), dX, rows, L.n_in,
                                 L.n_out)
        else:
            if i == 0 and sparse != NULL:
                sparse_kernels.backward(sparse, W, dZ, L.l2 * l2_scale, typed(L.dW, Xb), typed(L.db, Xb), rows,
                                        L.n_in, L.n_out)
            else:
                kernels.backward(inputs, W, dZ, L.l2 * l2_scale, typed(L.dW, Xb), typed(L.db, Xb), dX, rows,
                                 L.n_in, L.n_out)
            if not update:
                pass
            elif net.optimizer == FN_OPT_SKLEARNSGD:
                sk.sgd(W, typed(L.dW, Xb), typed(L.velocity_W, Xb), size, net.lr, net.momentum, net.nesterov)
                sk.sgd(b, typed(L.db, Xb), typed(L.velocity_b, Xb), L.n_out, net.lr, net.momentum, net.nesterov)
            elif net.optimizer == FN_OPT_SKLEARNADAM:
                sk.adam(W, typed(L.dW, Xb), typed(L.m_W, Xb), typed(L.v_W, Xb), size, t, net.lr, net.beta1,
                        net.beta2, net.eps)
                sk.adam(b, typed(L.db, Xb), typed(L.m_b, Xb), typed(L.v_b, Xb), L.n_out, t, net.lr, net.beta1,
                        net.beta2, net.eps)
            elif net.optimizer == FN_OPT_SGD:
                kernels.sgd(W, typed(L.dW, Xb), typed(L.velocity_W, Xb), size, net.lr, net.momentum, net.nesterov)
                kernels.sgd(b, typed(L.db, Xb), typed(L.velocity_b, Xb), L.n_out, net.lr, net.momentum,
                            net.nesterov)
            else:
                kernels.adam(W, typed(L.dW, Xb), typed(L.m_W, Xb), typed(L.v_W, Xb), size, t, net.lr, net.beta1,
                             net.beta2, net.eps)
                kernels.adam(b, typed(L.db, Xb), typed(L.m_b, Xb), typed(L.v_b, Xb), L.n_out, t, net.lr,
                             net.beta1, net.beta2, net.eps)
        if i > 0:
            if below.dropout != 0:  # the gradient reaches A through the mask: dA ⊙ M
                through_mask(dX, typed(work.M[i - 1], Xb), rows * below.n_out)
            cpu.act_backward(below.act, typed(work.Z[i - 1], Xb), typed(work.A[i - 1], Xb), typed(work.dA[i - 1], Xb),
                             typed(work.dZ[i - 1], Xb), rows, below.n_out)
