# Pointer-level kernels: one body per piece of a training step, fused over float32/float64,
# nogil, on contiguous row-major blocks of m rows, writing into caller-provided outputs and
# allocating nothing. The ops (_ops.pyx) and the engine (_train.pyx, _network.pyx) both run
# on these, so each piece of math exists once; each mirrors fastnet/reference/ops.py.
from fastnet._types cimport floating

# Z = X @ W + b, then A = f(Z); True when every Z (and, for exp, every A) is finite.
cdef bint forward(const floating *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                  Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil
# dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, and dX = dZ @ Wᵀ unless dX is NULL.
cdef void backward(const floating *X, const floating *W, const floating *dZ, double l2, floating *dW,
                   floating *db, floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil
# backward followed by a plain SGD step (no momentum), with the step folded into the dW product:
# dX (unless NULL) and db from the old W; W −= lr·(Xᵀ @ dZ + l2·W); b −= lr·db. dW is not formed.
cdef void backward_sgd(const floating *X, floating *W, floating *b, const floating *dZ, double l2, double lr,
                       floating *db, floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil
# Σ w over m rows (m when w is NULL: every row weighs 1), accumulated in double.
cdef double weight_sum(const floating *w, Py_ssize_t m) noexcept nogil
# Data loss of A (k outputs per row) against targets, Σ wᵢ·lossᵢ / Σ wᵢ (w NULL: the mean over
# rows), and its gradient into dOut: dA for mse, the fused dZ for the cross-entropies. Targets are
# rows Y, or class ids (ids != NULL, cross-entropy). Weights summing to 0: loss 0, dOut all 0.
cdef double loss_grad(int loss, const floating *Z, const floating *A, const floating *Y, const Py_ssize_t *ids,
                      const floating *w, floating *dOut, Py_ssize_t m, Py_ssize_t k) noexcept nogil
# Σ wᵢ·(row i's metric sum) over a batch (fastnet/_codes.py METRICS), as fastnet.losses.metric_sums
# counts it; w NULL weighs every row 1.
cdef double metric_sum(int metric, const floating *A, const floating *Y, const Py_ssize_t *ids,
                       const floating *w, Py_ssize_t m, Py_ssize_t k) noexcept nogil
# v ← μ·v + g; w −= lr·v, or lr·(g + μ·v) with Nesterov; plain w −= lr·g when μ = 0 (v unused).
cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil
# Adam step t (from 1) with bias correction.
cdef void adam(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t, double lr,
               double beta1, double beta2, double eps) noexcept nogil
# Dropout (docs/design.md): the stream of (key, counter, layer), and over n elements of A the
# factors M (scale where an element's bits are >= threshold, else 0) and D = A ⊙ M.
cdef unsigned long long dropout_stream(unsigned long long key, unsigned long long counter,
                                       unsigned long long layer) noexcept nogil
cdef void dropout(const floating *A, floating *M, floating *D, Py_ssize_t n, unsigned long long stream,
                  unsigned long long threshold, floating scale) noexcept nogil
