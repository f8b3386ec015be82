"""Optimiser configurations: hyperparameters only, the same for both backends.

Their state (velocities, Adam moments, the step count) lives in the model, is
saved with it and continues across ``fit`` calls. ``update`` applies one step
through a backend's ops, so the update math exists once per backend.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from fastnet._codes import OPTIMIZER_SLOTS


def _check_number(name: str, value: Any, low: float, high: float = math.inf, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    below = value <= low if low_open else value < low
    if not math.isfinite(value) or below or value >= high:
        lower = f"> {low}" if low_open else f">= {low}"
        upper = "" if high == math.inf else f" and < {high}"
        raise ValueError(f"{name} must be finite, {lower}{upper}; got {value!r}")
    return value


@dataclass(frozen=True)
class SGD:
    """Stochastic gradient descent, PyTorch's ``torch.optim.SGD`` convention.

    ``v ← momentum·v + g``; ``w −= learning_rate·v``, or with Nesterov
    ``w −= learning_rate·(g + momentum·v)`` using the updated ``v``.
    """

    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False

    kind: ClassVar[str] = "SGD"  # its code in fastnet/_codes.py OPTIMIZERS
    slots: ClassVar[tuple[str, ...]] = OPTIMIZER_SLOTS["SGD"]

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "learning_rate", _check_number("learning_rate", self.learning_rate, 0.0, low_open=True)
        )
        object.__setattr__(self, "momentum", _check_number("momentum", self.momentum, 0.0, 1.0))
        if not isinstance(self.nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {self.nesterov!r}")
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")

    def update(self, ops: Any, w: Any, g: Any, state: dict[str, Any], t: int) -> None:
        """Apply one step to ``w`` in place (``t`` is unused by SGD)."""
        ops.sgd_update(w, g, state["velocity"], self.learning_rate, self.momentum, self.nesterov)


@dataclass(frozen=True)
class Adam:
    """Adam (L2 coupled, as ``torch.optim.Adam``), bias-corrected, step count from 1."""

    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    kind: ClassVar[str] = "Adam"
    slots: ClassVar[tuple[str, ...]] = OPTIMIZER_SLOTS["Adam"]

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "learning_rate", _check_number("learning_rate", self.learning_rate, 0.0, low_open=True)
        )
        object.__setattr__(self, "beta1", _check_number("beta1", self.beta1, 0.0, 1.0))
        object.__setattr__(self, "beta2", _check_number("beta2", self.beta2, 0.0, 1.0))
        object.__setattr__(self, "eps", _check_number("eps", self.eps, 0.0, low_open=True))

    def update(self, ops: Any, w: Any, g: Any, state: dict[str, Any], t: int) -> None:
        """Apply step ``t`` (from 1) to ``w`` in place."""
        ops.adam_update(w, g, state["m"], state["v"], t, self.learning_rate, self.beta1, self.beta2, self.eps)



OPTIMIZERS = {cls.kind: cls for cls in (SGD, Adam)}
Optimizer = SGD | Adam


def check_optimizer(optimizer: Any) -> Optimizer:
    """``optimizer`` itself if it is a fastnet optimiser; ``SGD()`` for None."""
    if optimizer is None:
        return SGD()
    if isinstance(optimizer, (SGD, Adam)):
        return optimizer
    if isinstance(optimizer, type) and optimizer in (SGD, Adam):
        return optimizer()
    raise TypeError(f"optimizer must be fastnet.SGD(...) or fastnet.Adam(...), got {optimizer!r}")


def to_config(optimizer: Optimizer) -> dict[str, Any]:
    """A JSON-ready description, inverted by ``from_config``."""
    return {"name": optimizer.kind, **asdict(optimizer)}


def from_config(config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimiser from ``to_config``'s output; ValueError if malformed."""
    config = dict(config)
    cls = OPTIMIZERS.get(config.pop("name", None))
    if cls is None:
        raise ValueError(f"unknown optimizer in config: {config!r}")
    try:
        return cls(**config)
    except TypeError as exc:
        raise ValueError(f"bad optimizer config {config!r}: {exc}") from None
