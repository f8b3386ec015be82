"""``Dense``: one affine layer and its activation, written once over a backend's ops."""

from __future__ import annotations

import copy
import threading
from typing import Any, ClassVar

import numpy as np

from fastnet._codes import LAST_LAYER_ONLY
from fastnet.activations import activation_name
from fastnet.checks import (
    OVERFLOW_MESSAGE,
    as_float_array,
    as_matrix,
    as_parameter,
    as_real_array,
    check_dtype,
    check_finite,
    check_int,
    check_real,
)

INITS = {
    # name: scale of a standard normal draw, given (fan_in, fan_out)
    "he": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
    "xavier": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),
    "glorot": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),
    "lecun": lambda fan_in, fan_out: 1.0 / np.sqrt(fan_in),
}


# A forward pass's result: pre-activations Z, activations A, and whether all of them were finite
# (a plain tuple: Dense.forward is on the hot path of hand-written training loops).
Forward = tuple[np.ndarray, np.ndarray, bool]


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """None or a non-negative integer (what ``numpy.random.default_rng`` takes)."""
    return None if seed is None else check_int(name, seed, minimum=0)


def draw_dropout_key(seed: int | None) -> int:
    """The 64-bit key of dropout's generator, derived from ``seed`` (fresh entropy for None) apart
    from the seed's other uses (initial weights, shuffling)."""
    return int(np.random.SeedSequence(seed, spawn_key=(DROPOUT_SPAWN_KEY,)).generate_state(1, np.uint64)[0])


def check_dropout(value: Any) -> float:
    """A dropout probability in [0, 1)."""
    p = check_real("dropout", value)
    if p >= 1:
        raise ValueError(f"dropout must be in [0, 1) (the probability of dropping an output), got {value!r}")
    return p


DROPOUT_SPAWN_KEY = 0xD0  # tells dropout's key apart from the other streams of one seed


class Dense:
    """A fully connected layer: ``A = f(X @ W + b)``.

    Parameters
    ----------
    n_in, n_out:
        Input and output widths; ``W`` is ``(n_in, n_out)`` and ``b`` is ``(n_out,)``.
    activation:
        ``"identity"``, ``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"``, ``"exp"``,
        ``"gelu"`` or ``"softmax"`` (last layer only), or the matching class such as ``fastnet.ReLU``.
    init:
        ``"he"`` (default), ``"xavier"``/``"glorot"`` or ``"lecun"``; weights are drawn in
        float64 from ``numpy.random.default_rng(seed)`` and cast; biases start at zero.
    l2:
        L2 strength λ on ``W`` only: the objective adds ``(λ/2)·‖W‖²``, so ``dW += λ·W``.
    dtype:
        ``"float64"`` (default) or ``"float32"``; all layers of a model must agree.
    seed:
        Seed for the initial weights, and for the dropout masks of ``forward(X, training=True)``
        outside a model (None draws fresh entropy).
    dropout:
        Probability p in [0, 1) of zeroing each output while training (inverted dropout: the
        kept ones are scaled by 1/(1 − p)); inference is unchanged. In a ``Sequential`` the masks
        come from the model's generator (its seed, its step counter and the layer's index), the
        same in both backends; the last layer of a model takes no dropout.
    """

    _ops: ClassVar[Any] = None  # the backend's ops module, set by fastnet._backend.bind

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: Any = "relu",
        init: str = "he",
        l2: float = 0.0,
        dtype: Any = "float64",
        seed: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        if self._ops is None:
            raise TypeError("use fastnet.Dense or fastnet.reference.Dense, not the backend-free base class")
        # The configuration is read-only after construction (compiled engines cache it).
        self._n_in = check_int("n_in", n_in)
        self._n_out = check_int("n_out", n_out)
        self._activation = activation_name(activation)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.init = init
        self._l2 = check_real("l2", l2)
        self._dtype = check_dtype(dtype)
        self.seed = check_seed(seed)
        self._dropout = check_dropout(dropout)
        self._dropout_key = draw_dropout_key(self.seed)
        self._dropout_calls = 0  # training forwards outside a model: the counter of their masks
        scale = INITS[init](self.n_in, self.n_out)
        draw = np.random.default_rng(self.seed).standard_normal((self.n_in, self.n_out))
        self._W = np.ascontiguousarray(draw * scale, dtype=self.dtype)
        self._b = np.zeros(self.n_out, dtype=self.dtype)
        self._dW = np.zeros_like(self._W)
        self._db = np.zeros_like(self._b)
        # [thread ident, depth] of the thread training this layer (claim_layers; the compiled engine
        # reads and writes it in C), shared by every model that holds the layer
        self._trainer = np.zeros(2, dtype=np.uint64)
        self._X: np.ndarray | None = None
        self._Z: np.ndarray | None = None
        self._A: np.ndarray | None = None
        self._M: np.ndarray | None = None  # the last training forward's dropout factors

    n_in = property(lambda self: self._n_in, doc="Input width.")
    n_out = property(lambda self: self._n_out, doc="Output width.")
    activation = property(lambda self: self._activation, doc="Canonical activation name.")
    l2 = property(lambda self: self._l2, doc="L2 strength on W.")
    dtype = property(lambda self: self._dtype, doc="The layer's dtype (float32 or float64).")
    dropout = property(lambda self: self._dropout, doc="Probability of dropping each output while training.")

    dW = property(
        lambda self: self._dW,
        doc="Gradient of the objective w.r.t. W from the last backward. The attribute cannot be "
        "reassigned (compiled engines hold its address); the array's contents are overwritten by each "
        "backward, and compiled plain-SGD fit folds the update into its GEMM and leaves them unfilled.",
    )
    db = property(
        lambda self: self._db,
        doc="Gradient w.r.t. b from the last backward (the attribute cannot be reassigned; its contents are "
        "overwritten by each backward).",
    )

    # Parameters: assignment validates and copies; in-place writes go straight through.
    @property
    def W(self) -> np.ndarray:
        """Weights, ``(n_in, n_out)``, C-contiguous in the layer's dtype."""
        return self._W

    @W.setter
    def W(self, value: Any) -> None:
        self._W[...] = as_parameter(value, "W", self._W.shape, self.dtype)

    @property
    def b(self) -> np.ndarray:
        """Biases, ``(n_out,)``."""
        return self._b

    @b.setter
    def b(self, value: Any) -> None:
        self._b[...] = as_parameter(value, "b", self._b.shape, self.dtype)

    def __repr__(self) -> str:
        return (
            f"{type(self).__module__}.Dense({self.n_in}, {self.n_out}, activation={self.activation!r}, "
            f"init={self.init!r}, l2={self.l2}, dtype={self.dtype.name!r}"
            + (f", dropout={self.dropout})" if self.dropout else ")")
        )

    # Copies and pickles hold the parameters, gradients and configuration, not the last batch.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_X"] = state["_Z"] = state["_A"] = state["_M"] = None
        state["_trainer"] = np.zeros(2, dtype=np.uint64)  # a copy is not being trained
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickles from before dropout existed: a layer without it
        state.setdefault("_dropout", 0.0)
        state.setdefault("_dropout_key", draw_dropout_key(state.get("seed")))
        state.setdefault("_dropout_calls", 0)
        state.setdefault("_M", None)
        self.__dict__.update(state)
        self._trainer = np.zeros(2, dtype=np.uint64)  # never a read-only memory map: training marks it

    def __copy__(self) -> Dense:
        """A deep copy: a copy of a layer never shares its parameters."""
        return copy.deepcopy(self)

    def config(self) -> dict[str, Any]:
        """Constructor arguments (without the seed: weights are saved separately)."""
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation,
            "init": self.init,
            "l2": self.l2,
            "dtype": self.dtype.name,
            "dropout": self.dropout,
        }

    # Public, validating entry points.
    def forward(self, X: Any, training: bool = False) -> np.ndarray:
        """Return ``A = f(X @ W + b)`` for a batch ``X`` of shape ``(m, n_in)``; keeps what backward needs.

        ``training=True`` applies the layer's dropout (each call draws new masks from the layer's
        own generator; ``backward`` then goes through the same mask).
        """
        if not isinstance(training, (bool, np.bool_)):
            raise TypeError(f"training must be True or False, got {training!r}")
        source, X = X, as_matrix(X, "X", self.dtype, self.n_in, allow_empty=True, finite=False)
        masks = None
        if training and self.dropout:
            masks = (self._dropout_key, self._dropout_calls, 0)
            self._dropout_calls += 1
        _, A, finite = self._forward(X, masks=masks)
        if not finite:  # the kernel saw a non-finite pre-activation: no separate scan of X
            self._X = self._Z = self._A = self._M = None
            check_finite(X, "X", as_real_array(source, "X"))
            raise ValueError(OVERFLOW_MESSAGE)
        return A

    def backward(self, dA: Any) -> np.ndarray:
        """Given ``dA = ∂L/∂A`` for the last forward batch, fill ``dW``/``db`` and return ``dX``."""
        if self._X is None:
            raise ValueError("backward needs a forward call first (no batch is stored)")
        expected = self._A.shape
        dA = as_float_array(dA, "dA", self.dtype)
        if dA.shape != expected:
            raise ValueError(f"dA must have the shape of the last forward output {expected}, got {dA.shape}")
        return self._backward(self._activation_backward(dA), need_dX=True)

    # Internal steps on already-validated arrays, used by the model.
    def _forward(self, X: np.ndarray, keep: bool = True, masks: tuple[int, int, int] | None = None) -> Forward:
        """Z and A for the validated batch X; ``keep`` stores what ``backward`` needs. With ``masks``
        = (key, counter, layer index) and dropout, the A returned is the dropped output."""
        m = X.shape[0]
        Z = np.empty((m, self.n_out), dtype=self.dtype)
        A = np.empty((m, self.n_out), dtype=self.dtype)
        finite = bool(self._ops.dense_forward(X, self._W, self._b, self.activation, Z, A))
        M = None
        out = A
        if masks is not None and self.dropout:
            M, out = np.empty_like(A), np.empty_like(A)
            self._ops.dropout(A, self.dropout, *masks, M, out)
        if keep:
            self._X, self._Z, self._A, self._M = X, Z, A, M
        return Z, out, finite

    def _activation_backward(self, dA: np.ndarray) -> np.ndarray:
        """dZ from the gradient of the layer's output (through the dropout mask, if the forward had one)."""
        if self._M is not None:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging step is reported by its loss
                dA = dA * self._M
        dZ = np.empty_like(dA)
        self._ops.activation_backward(self.activation, self._Z, self._A, dA, dZ)
        return dZ

    def _backward(self, dZ: np.ndarray, need_dX: bool) -> np.ndarray | None:
        dX = np.empty_like(self._X) if need_dX else None
        self._ops.dense_backward(self._X, self._W, dZ, self.l2, self.dW, self.db, dX)
        return dX


def check_layer_stack(layers: Any, layer_type: type[Dense], model_module: str) -> list[Dense]:
    """``layers`` as a list of distinct ``layer_type`` layers whose sizes chain and dtypes agree,
    with last-layer-only activations last; TypeError/ValueError naming the offending index."""
    if isinstance(layers, Dense):
        layers = [layers]
    try:
        layers = list(layers)
    except TypeError:
        raise TypeError(f"layers must be a list of Dense layers, got {type(layers).__name__}") from None
    if not layers:
        raise ValueError("layers must hold at least one Dense layer, got an empty list")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Dense):
            raise TypeError(f"layers[{i}] must be a Dense layer, got {type(layer).__name__}")
        if not isinstance(layer, layer_type):
            raise ValueError(
                f"layers[{i}] is a {type(layer).__module__}.Dense but this is "
                f"{model_module}.Sequential: build every layer from one backend"
            )
    for i, (a, b) in enumerate(zip(layers, layers[1:])):
        if a.n_out != b.n_in:
            raise ValueError(
                f"layer sizes do not chain: layers[{i}] has n_out={a.n_out} but layers[{i + 1}] has n_in={b.n_in}"
            )
        if a.dtype != b.dtype:
            raise ValueError(
                f"all layers must share one dtype: layers[{i}] is {a.dtype.name}, layers[{i + 1}] is {b.dtype.name}"
            )
    for i, layer in enumerate(layers[:-1]):
        if layer.activation in LAST_LAYER_ONLY:
            raise ValueError(f"{layer.activation} is allowed only in the last layer, found in layers[{i}]")
    if layers[-1].dropout:
        raise ValueError(
            f"the last layer (layers[{len(layers) - 1}]) has dropout={layers[-1].dropout}: a model's output "
            "takes no dropout; put it on the hidden layers"
        )
    if len({id(layer) for layer in layers}) != len(layers):
        raise ValueError("layers must be distinct Dense objects (the same layer appears twice)")
    return layers


READ_ONLY = ("the model's parameters, gradients or optimiser state are read-only (a memory-mapped load?): "
             "train a copy (copy.deepcopy(model)), whose arrays are its own")
TRAINED_ELSEWHERE = (
    "a Dense layer of this model is being trained by another thread (a model sharing it is in fit or "
    "train_step); train models that share layers from one thread at a time"
)
_CLAIMS = threading.Lock()  # makes a claim's check-and-set atomic between threads


def claim_layers(layers: tuple[Dense, ...]) -> None:
    """Mark ``layers`` as trained by this thread (re-entrant: a depth count); RuntimeError, nothing
    claimed, when another thread trains one of them. The compiled engine has the same rule in C."""
    me = threading.get_ident()
    with _CLAIMS:
        if any(layer._trainer[1] and layer._trainer[0] != me for layer in layers):
            raise RuntimeError(TRAINED_ELSEWHERE)
        for layer in layers:
            layer._trainer[0] = me
            layer._trainer[1] += 1


def release_layers(layers: tuple[Dense, ...]) -> None:
    """Undo one ``claim_layers`` of ``layers`` by this thread."""
    with _CLAIMS:
        for layer in layers:
            layer._trainer[1] -= 1
