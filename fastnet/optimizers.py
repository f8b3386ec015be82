"""Optimiser configurations: hyperparameters only, the same for both backends.

Their state (velocities, Adam moments, the step count) lives in the model, is
saved with it and continues across ``fit`` calls. ``update`` applies one step
through a backend's ops, so the update math exists once per backend.

Settings can be changed (``model.optimizer.learning_rate = 0.01``), each assignment
validated as the constructor validates it; a model trains with its own copy of the
configuration it was given, and reads it at the start of every epoch (never in the
middle of one), so schedules act alike in both backends.
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


class _Settings:
    """Validation on construction and on every assignment, and a version that counts changes
    (the compiled engine rereads the settings when it moved)."""

    def _checked(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def _check_together(self) -> None:
        """Rules between settings; ValueError when broken."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self.__dataclass_fields__:  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self).__name__} has no setting {name!r}")
        previous = self.__dict__.get(name, _UNSET)
        object.__setattr__(self, name, self._checked(name, value))
        if previous is not _UNSET:  # an assignment after construction: the pair rules still hold
            try:
                self._check_together()
            except ValueError:
                object.__setattr__(self, name, previous)
                raise
        object.__setattr__(self, "_version", self.__dict__.get("_version", 0) + 1)

    def __post_init__(self) -> None:
        self._check_together()


_UNSET = object()


@dataclass
class SGD(_Settings):
    """Stochastic gradient descent, PyTorch's ``torch.optim.SGD`` convention.

    ``v ← momentum·v + g``; ``w −= learning_rate·v``, or with Nesterov
    ``w −= learning_rate·(g + momentum·v)`` using the updated ``v``.
    """

    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False

    kind: ClassVar[str] = "SGD"  # its code in fastnet/_codes.py OPTIMIZERS
    slots: ClassVar[tuple[str, ...]] = OPTIMIZER_SLOTS["SGD"]

    def _checked(self, name: str, value: Any) -> Any:
        if name == "nesterov":
            if not isinstance(value, bool):
                raise TypeError(f"nesterov must be True or False, got {value!r}")
            return value
        if name == "momentum":
            return _check_number("momentum", value, 0.0, 1.0)
        return _check_number("learning_rate", value, 0.0, low_open=True)

    def _check_together(self) -> None:
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")

    def update(self, ops: Any, w: Any, g: Any, state: dict[str, Any], t: int) -> None:
        """Apply one step to ``w`` in place (``t`` is unused by SGD)."""
        ops.sgd_update(w, g, state["velocity"], self.learning_rate, self.momentum, self.nesterov)


@dataclass
class Adam(_Settings):
    """Adam (L2 coupled, as ``torch.optim.Adam``), bias-corrected, step count from 1."""

    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    kind: ClassVar[str] = "Adam"
    slots: ClassVar[tuple[str, ...]] = OPTIMIZER_SLOTS["Adam"]

    def _checked(self, name: str, value: Any) -> Any:
        if name in ("beta1", "beta2"):
            return _check_number(name, value, 0.0, 1.0)
        return _check_number(name, value, 0.0, low_open=True)  # learning_rate, eps

    def update(self, ops: Any, w: Any, g: Any, state: dict[str, Any], t: int) -> None:
        """Apply step ``t`` (from 1) to ``w`` in place."""
        ops.adam_update(w, g, state["m"], state["v"], t, self.learning_rate, self.beta1, self.beta2, self.eps)


@dataclass
class SklearnSGD(SGD):
    """scikit-learn's SGD, for ``fastnet.sklearn``: ``v ← momentum·v − learning_rate·g``, then
    ``w += v``, or with Nesterov ``w += momentum·v − learning_rate·g`` using the updated ``v``.
    As scikit-learn, momentum may be 1 and Nesterov may go with momentum 0."""

    kind: ClassVar[str] = "SklearnSGD"
    slots: ClassVar[tuple[str, ...]] = OPTIMIZER_SLOTS["SklearnSGD"]

    def _checked(self, name: str, value: Any) -> Any:
        if name == "momentum":
            return _check_number("momentum", value, 0.0, math.nextafter(1.0, 2.0))
        return super()._checked(name, value)

    def _check_together(self) -> None:
        pass

    def update(self, ops: Any, w: Any, g: Any, state: dict[str, Any], t: int) -> None:
        """Apply one step to ``w`` in place (``t`` is unused by SGD)."""
        ops.sklearn_sgd_update(w, g, state["velocity"], self.learning_rate, self.momentum, self.nesterov)


@dataclass
class SklearnAdam(Adam):
    """scikit-learn's Adam, for ``fastnet.sklearn``: the step's rate is
    ``learning_rate·√(1 − β2ᵗ)/(1 − β1ᵗ)`` and ``eps`` is added to the uncorrected ``√v``."""

    kind: ClassVar[str] = "SklearnAdam"
    slots: ClassVar[tuple[str, ...]] = OPTIMIZER_SLOTS["SklearnAdam"]

    def update(self, ops: Any, w: Any, g: Any, state: dict[str, Any], t: int) -> None:
        """Apply step ``t`` (from 1) to ``w`` in place."""
        ops.sklearn_adam_update(w, g, state["m"], state["v"], t, self.learning_rate, self.beta1, self.beta2, self.eps)


OPTIMIZERS = {cls.kind: cls for cls in (SGD, Adam, SklearnSGD, SklearnAdam)}
Optimizer = SGD | Adam


def check_optimizer(optimizer: Any) -> Optimizer:
    """``optimizer`` itself if it is a fastnet optimiser; ``SGD()`` for None."""
    if optimizer is None:
        return SGD()
    if type(optimizer) in (SGD, Adam):  # scikit-learn's variants belong to fastnet.sklearn
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
