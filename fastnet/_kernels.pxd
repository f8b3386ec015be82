# The compiled kernels: typed Cython over C-contiguous memoryviews, one body for
# float32 and float64 (fused), nogil, writing into caller-provided outputs and
# allocating nothing. They trust their inputs (fastnet/checks.py validated them);
# a debug build turns bounds checking on and `except -1` carries its errors out.
from fastnet._types cimport floating

cdef int dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b, int act,
                       floating[:, ::1] Z, floating[:, ::1] A) except -1 nogil
cdef int activation_forward(int act, const floating[:, ::1] Z, floating[:, ::1] A) except -1 nogil
cdef int activation_backward(int act, const floating[:, ::1] Z, const floating[:, ::1] A,
                             const floating[:, ::1] dA, floating[:, ::1] dZ) except -1 nogil
cdef int dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ,
                        double l2, floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX,
                        bint want_dX) except -1 nogil
cdef double loss_grad(int loss, const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
                      floating[:, ::1] dOut) except? -1 nogil
cdef double cross_entropy_ids(const floating[:, ::1] Z, const floating[:, ::1] A, const Py_ssize_t[::1] ids,
                              floating[:, ::1] dOut) except? -1 nogil
cdef int sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                    bint nesterov) except -1 nogil
cdef int adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t,
                     double lr, double beta1, double beta2, double eps) except -1 nogil
