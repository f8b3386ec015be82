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
        FN_LOSS_SK_SQUARED_ERROR
        FN_LOSS_SK_LOG_LOSS
        FN_LOSS_SK_BINARY_LOG_LOSS
        FN_LOSS_SK_POISSON
        FN_NLOSS
        FN_METRIC_MAE
        FN_METRIC_ARGMAX_ACCURACY
        FN_METRIC_THRESHOLD_ACCURACY
        FN_NMETRIC
        FN_OPT_SGD
        FN_OPT_ADAM
        FN_OPT_SKLEARNSGD
        FN_OPT_SKLEARNADAM
        FN_NOPT
    const unsigned long long FN_DROPOUT_GAMMA
    const unsigned long long FN_DROPOUT_MIX_1
    const unsigned long long FN_DROPOUT_MIX_2

# Multiply-adds below which a compiled call keeps the GIL (predict's fast path, a layer's forward
# and backward): letting it go and taking it back costs about 700 instructions, some 5 % of a
# forward of the digits net's first layer (16×64×15), and a hold that short blocks no one.
cdef enum:
    NOGIL_WORK = 65536

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
