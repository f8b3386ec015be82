# scikit-learn's MLP conventions at pointer level (docs/design.md, "scikit-learn's conventions"):
# the per-row losses of its four losses and its two optimisers, fused over float32/float64,
# nogil. Each mirrors a function of fastnet/reference/ops.py; _kernels.loss_grad and the engine
# call them for the SKLEARN_LOSSES and Sklearn* optimiser codes of fastnet/_codes.py.
from fastnet._types cimport floating

# Row loss of one of SKLEARN_LOSSES on k outputs a against targets y (probabilities clipped to
# [eps, 1 − eps] as scikit-learn clips them); writes the fused gradient share·(a − y) to d.
cdef double row_loss(int loss, const floating *a, const floating *y, floating *d, floating share,
                     Py_ssize_t k) noexcept nogil
# v ← μ·v − lr·g; w += v, or with Nesterov w += μ·v − lr·g (the updated v).
cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil
# Adam step t (from 1): m, v moments; w −= lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + eps).
cdef void adam(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t, double lr,
               double beta1, double beta2, double eps) noexcept nogil
