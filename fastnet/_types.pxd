# The one fused float type of the compiled core (every kernel is written once for both),
# and the codes of fastnet/_codes.py as the build generated them into csrc/fn_codes.h.
ctypedef fused floating:
    float
    double

cdef extern from "fn_codes.h" nogil:
    enum:
        FN_NACT
        FN_LOSS_MSE
        FN_LOSS_CROSS_ENTROPY
        FN_LOSS_BINARY_CROSS_ENTROPY
        FN_NLOSS
        FN_METRIC_MAE
        FN_METRIC_ARGMAX_ACCURACY
        FN_METRIC_THRESHOLD_ACCURACY
        FN_NMETRIC
        FN_OPT_SGD
        FN_OPT_ADAM
        FN_NOPT

# libm by the type of its argument (float math stays float).
from libc.math cimport log, logf, sqrt, sqrtf


cdef inline floating typed_log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating typed_sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)
