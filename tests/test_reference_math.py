"""The NumPy oracle against small examples computed by hand, and closed forms of exp and gelu."""

import math
import warnings

import numpy as np
import pytest

import fastnet.reference as fr
from fastnet.reference import ops

X = np.array([[1.0, -2.0], [0.5, 0.0]])
W = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 0.0]])
b = np.array([0.0, 1.0, -0.5])
Z_EXPECTED = np.array([[0.0, 5.0, -1.5], [0.5, 2.0, -1.0]])  # X @ W + b by hand


def gelu_by_hand(z):
    """½z(1 + tanh(√(2/π)(z + 0.044715 z³))), elementwise with the math module."""
    return np.vectorize(lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))))(z)


def gelu_slope_by_hand(z):
    """d/dz of gelu_by_hand: ½(1 + tanh u) + ½z·sech²(u)·u′ with u′ = √(2/π)(1 + 3·0.044715 z²)."""

    def slope(v):
        c = math.sqrt(2 / math.pi)
        u = c * (v + 0.044715 * v**3)
        return 0.5 * (1 + math.tanh(u)) + 0.5 * v * (1 / math.cosh(u) ** 2) * c * (1 + 3 * 0.044715 * v**2)

    return np.vectorize(slope)(z)


def forward(activation):
    Z, A = np.empty((2, 3)), np.empty((2, 3))
    ops.dense_forward(X, W, b, activation, Z, A)
    return Z, A


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("identity", Z_EXPECTED),
        ("relu", [[0.0, 5.0, 0.0], [0.5, 2.0, 0.0]]),
        ("leaky_relu", [[0.0, 5.0, -0.015], [0.5, 2.0, -0.01]]),
        ("tanh", np.tanh(Z_EXPECTED)),
        (
            "sigmoid",
            [
                [0.5, 1 / (1 + np.exp(-5)), 1 / (1 + np.exp(1.5))],
                [1 / (1 + np.exp(-0.5)), 1 / (1 + np.exp(-2)), 1 / (1 + np.e)],
            ],
        ),
        ("softmax", np.exp(Z_EXPECTED) / np.exp(Z_EXPECTED).sum(1, keepdims=True)),
        ("exp", np.exp(Z_EXPECTED)),
        ("gelu", gelu_by_hand(Z_EXPECTED)),
    ],
)
def test_dense_forward_by_hand(activation, expected):
    Z, A = forward(activation)
    np.testing.assert_allclose(Z, Z_EXPECTED, rtol=0, atol=1e-15)
    np.testing.assert_allclose(A, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "activation, derivative",
    [
        ("identity", lambda z, a: np.ones_like(z)),
        ("relu", lambda z, a: (z > 0).astype(float)),  # relu'(0) = 0
        ("leaky_relu", lambda z, a: np.where(z > 0, 1.0, 0.01)),  # leaky'(0) = 0.01
        ("tanh", lambda z, a: 1 / np.cosh(z) ** 2),
        ("sigmoid", lambda z, a: a * (1 - a)),
        ("exp", lambda z, a: np.exp(z)),
        ("gelu", lambda z, a: gelu_slope_by_hand(z)),
    ],
)
def test_activation_backward_by_hand(activation, derivative):
    Z, A = forward(activation)
    dA = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    dZ = np.empty_like(dA)
    ops.activation_backward(activation, Z, A, dA, dZ)
    # f' comes from A, which carries tanh's rounding: relative 1e-12 where 1 − A² is small
    np.testing.assert_allclose(dZ, dA * derivative(Z, A), rtol=1e-12)
    if activation == "relu":
        assert dZ[0, 0] == 0.0  # Z[0, 0] == 0 exactly: relu'(0) = 0
    if activation == "leaky_relu":
        assert dZ[0, 0] == 0.01 * dA[0, 0]
    if activation == "gelu":
        assert dZ[0, 0] == 0.5 * dA[0, 0]  # gelu'(0) = 1/2


def activation_of(activation, z, dA=None):
    """(A, dZ) of the oracle for a 1-row Z (dA: ones unless given), warnings as errors."""
    Z = np.asarray(z).reshape(1, -1)
    A, dZ = np.empty_like(Z), np.empty_like(Z)
    dA = np.ones_like(Z) if dA is None else np.asarray(dA, Z.dtype).reshape(Z.shape)
    n = Z.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        finite = ops.dense_forward(Z, np.eye(n, dtype=Z.dtype), np.zeros(n, Z.dtype), activation, np.empty_like(Z), A)
        ops.activation_backward(activation, Z, A, dA, dZ)
    return A[0], dZ[0], finite


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_closed_forms(dtype):
    rtol = {np.float32: 1e-6, np.float64: 1e-15}[dtype]
    A, dZ, finite = activation_of("gelu", np.array([0.0, 1.0, -1.0, 2.0], dtype))
    assert finite and A.dtype == dtype
    assert A[0] == 0 and dZ[0] == 0.5  # gelu(0) = 0, gelu'(0) = 1/2
    np.testing.assert_allclose(A[1:], [0.8411919906082768, -0.15880800939172324, 1.954597694087775], rtol=rtol)
    np.testing.assert_allclose(dZ[1:], gelu_slope_by_hand([1.0, -1.0, 2.0]), rtol=10 * rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_saturates_to_z_and_0_without_nan(dtype):
    """Past the saturation, gelu(z) = z with slope 1 and gelu(−z) = 0 with slope 0, up to the largest
    float, whose cube overflows."""
    big = np.array([25.0, 100.0, 1e4, 1e15, np.sqrt(np.finfo(dtype).max), np.finfo(dtype).max], dtype)
    A, dZ, finite = activation_of("gelu", np.concatenate([big, -big]))
    assert finite and not np.isnan(A).any() and not np.isnan(dZ).any()
    np.testing.assert_array_equal(A[: big.size], big)
    np.testing.assert_array_equal(A[big.size:], 0)
    np.testing.assert_array_equal(dZ, np.r_[np.ones(big.size), np.zeros(big.size)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_closed_forms_and_overflow(dtype):
    rtol = {np.float32: 1e-6, np.float64: 1e-15}[dtype]
    dA = np.array([2.0, 3.0, -1.0, 0.5], dtype)
    A, dZ, finite = activation_of("exp", np.array([0.0, 1.0, -1.0, 3.0], dtype), dA)
    assert finite
    np.testing.assert_allclose(A, [1.0, math.e, 1 / math.e, math.exp(3.0)], rtol=rtol)
    np.testing.assert_array_equal(dZ, dA * A)  # exp' = exp
    edge = float(np.log(np.finfo(dtype).max))
    A, dZ, finite = activation_of("exp", np.array([edge * 1.01, -1e4, edge * 0.99], dtype))
    assert finite is False  # the overflow is reported, not warned about
    assert A[0] == np.inf and A[1] == 0 and np.isfinite(A[2]) and dZ[0] == np.inf and dZ[1] == 0


def test_softmax_backward_is_the_jacobian_product():
    Z, A = forward("softmax")
    dA = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    dZ = np.empty_like(dA)
    ops.activation_backward("softmax", Z, A, dA, dZ)
    for i in range(2):
        p = A[i]
        jacobian = np.diag(p) - np.outer(p, p)
        np.testing.assert_allclose(dZ[i], jacobian @ dA[i], rtol=1e-13, atol=1e-16)


def test_dense_backward_by_hand():
    dZ = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    dW, db, dX = np.empty((2, 3)), np.empty(3), np.empty((2, 2))
    ops.dense_backward(X, W, dZ, 0.5, dW, db, dX)
    # Xᵀ @ dZ by hand: column 0 = 1*1 + 0.5*2 = 2, ...
    np.testing.assert_allclose(dW, np.array([[2.0, 0.5, -1.0], [-2.0, 0.0, 2.0]]) + 0.5 * W)
    np.testing.assert_allclose(db, [3.0, 1.0, -1.0])
    np.testing.assert_allclose(dX, [[2.0, 0.5], [4.0, 0.0]])


def test_mse_by_hand():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    Y = np.array([[0.0, 2.0], [1.0, 5.0]])
    dA = np.empty_like(A)
    loss = ops.loss_grad("mse", A, A, Y, dA)
    assert loss == pytest.approx((1 + 0 + 4 + 1) / 4)
    np.testing.assert_allclose(dA, 2 * (A - Y) / 4)


def test_cross_entropy_by_hand_ids_and_rows():
    Z = np.array([[0.0, np.log(3.0)], [np.log(2.0), np.log(2.0)]])  # P = [1/4, 3/4], [1/2, 1/2]
    A = np.exp(Z) / np.exp(Z).sum(1, keepdims=True)
    ids = np.array([1, 0], dtype=np.intp)
    d1, d2 = np.empty_like(Z), np.empty_like(Z)
    expected = -(np.log(0.75) + np.log(0.5)) / 2
    assert ops.loss_grad("cross_entropy", Z, A, ids, d1) == pytest.approx(expected, rel=1e-14)
    onehot = np.eye(2)[ids]
    assert ops.loss_grad("cross_entropy", Z, A, onehot, d2) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(d1, (A - onehot) / 2, rtol=1e-14)
    np.testing.assert_allclose(d2, d1, rtol=1e-14)


def test_binary_cross_entropy_by_hand():
    Z = np.array([[0.0, 2.0]])
    A = 1 / (1 + np.exp(-Z))
    Y = np.array([[1.0, 0.0]])
    dZ = np.empty_like(Z)
    expected = (-np.log(0.5) - np.log(1 - 1 / (1 + np.exp(-2.0)))) / 2
    assert ops.loss_grad("binary_cross_entropy", Z, A, Y, dZ) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(dZ, (A - Y) / 2, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite_and_silent(dtype):
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    A = np.empty_like(Z)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for activation in ("sigmoid", "tanh", "softmax"):
            ops.dense_forward(Z, np.eye(3, dtype=dtype), np.zeros(3, dtype), activation, np.empty_like(Z), A)
            assert np.isfinite(A).all()
        P = np.empty_like(Z)
        ops.dense_forward(Z, np.eye(3, dtype=dtype), np.zeros(3, dtype), "softmax", np.empty_like(Z), P)
        d = np.empty_like(Z)
        ce = ops.loss_grad("cross_entropy", Z, P, np.array([1, 0], dtype=np.intp), d)  # P of the true class is 0
        assert np.isfinite(ce) and ce == pytest.approx(2e4, rel=1e-6)
        S = np.empty_like(Z)
        ops.dense_forward(Z, np.eye(3, dtype=dtype), np.zeros(3, dtype), "sigmoid", np.empty_like(Z), S)
        bce = ops.loss_grad("binary_cross_entropy", Z, S, np.array([[0, 1, 1], [1, 0, 0]], dtype=dtype), d)
        assert np.isfinite(bce)


def test_sgd_momentum_and_nesterov_by_hand():
    w, g, v = np.array([1.0]), np.array([0.5]), np.array([0.2])
    ops.sgd_update(w, g, v, 0.1, 0.9, False)  # v = 0.9*0.2 + 0.5 = 0.68; w = 1 - 0.068
    np.testing.assert_allclose([w[0], v[0]], [0.932, 0.68])
    w, v = np.array([1.0]), np.array([0.2])
    ops.sgd_update(w, g, v, 0.1, 0.9, True)  # w = 1 - 0.1*(0.5 + 0.9*0.68)
    np.testing.assert_allclose(w, [1 - 0.1 * (0.5 + 0.612)])
    w, v = np.array([1.0]), np.array([0.0])
    ops.sgd_update(w, g, v, 0.1, 0.0, False)
    np.testing.assert_allclose(w, [0.95])


def test_adam_first_steps_by_hand():
    w, g, m, v = np.array([1.0]), np.array([0.5]), np.zeros(1), np.zeros(1)
    ops.adam_update(w, g, m, v, 1, 0.1, 0.9, 0.999, 1e-8)
    # step 1: m̂ = g, v̂ = g², so w moves by lr·g/(|g| + eps) ≈ lr
    np.testing.assert_allclose(w, [1 - 0.1 * 0.5 / (0.5 + 1e-8)])
    np.testing.assert_allclose([m[0], v[0]], [0.05, 0.00025])
    ops.adam_update(w, np.array([-1.0]), m, v, 2, 0.1, 0.9, 0.999, 1e-8)
    m2, v2 = 0.9 * 0.05 - 0.1, 0.999 * 0.00025 + 0.001
    m_hat, v_hat = m2 / (1 - 0.81), v2 / (1 - 0.999**2)
    np.testing.assert_allclose(w, [1 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)])


def test_optimizers_match_pytorch_convention_over_a_model_step():
    """One SGD step of a 1-layer identity model equals w − lr·(∂L/∂w + λw), by hand."""
    layer = fr.Dense(2, 1, activation="identity", l2=0.1, seed=0)
    layer.W = [[1.0], [2.0]]
    model = fr.Sequential([layer], loss="mse", optimizer=fr.SGD(learning_rate=0.5))
    Xb, Yb = np.array([[1.0, 1.0]]), np.array([[1.0]])
    loss = model.train_step(Xb, Yb)
    assert loss == pytest.approx(4.0)  # (3 − 1)²
    grad_w = 2 * 2 * Xb.T + 0.1 * np.array([[1.0], [2.0]])
    np.testing.assert_allclose(layer.W, np.array([[1.0], [2.0]]) - 0.5 * grad_w)
    np.testing.assert_allclose(layer.b, [-0.5 * 4.0])
