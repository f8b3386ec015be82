# The one fused float type of the compiled core: every kernel is written once for both.
ctypedef fused floating:
    float
    double

# Activation and loss codes shared by _kernels, _ops and _engine (names live in Python).
cdef enum:
    ACT_IDENTITY = 0
    ACT_RELU = 1
    ACT_LEAKY_RELU = 2
    ACT_TANH = 3
    ACT_SIGMOID = 4
    ACT_SOFTMAX = 5

cdef enum:
    LOSS_MSE = 0
    LOSS_CROSS_ENTROPY = 1
    LOSS_BINARY_CROSS_ENTROPY = 2
