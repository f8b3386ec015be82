"""Activation names, and the seed-002-style classes that stand for them.

Layers store an activation as its canonical string; the classes exist so
seed 002's ``NN(..., activations=(ReLU, Sigmoid), ...)`` reads as it did in
the blog post. Both spellings are accepted wherever an activation is asked for.
"""

from __future__ import annotations

from typing import Any

from fastnet._codes import ACTIVATIONS, LAST_LAYER_ONLY

__all__ = ["ACTIVATIONS", "LAST_LAYER_ONLY", "Identity", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softmax", "Exp",
           "GELU", "activation_name"]
_ALIASES = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu", "logistic": "sigmoid"}


class _Named:
    """An activation or loss referred to by name; never instantiated."""

    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = cls.__doc__ or f"The {cls.name!r} function."


class Identity(_Named):
    """f(z) = z."""

    name = "identity"


class ReLU(_Named):
    """f(z) = max(z, 0); f'(0) = 0."""

    name = "relu"


class LeakyReLU(_Named):
    """f(z) = z if z > 0 else s·z, with the slope s = 0.01 (``LEAKY_SLOPE``); f'(0) = s."""

    name = "leaky_relu"


class Tanh(_Named):
    """f(z) = tanh(z)."""

    name = "tanh"


class Sigmoid(_Named):
    """f(z) = 1 / (1 + exp(−z)), computed without overflow."""

    name = "sigmoid"


class Softmax(_Named):
    """Row-wise softmax (max-subtracted); last layer only."""

    name = "softmax"


class Exp(_Named):
    """f(z) = exp(z): a positive output, such as a Poisson rate (overflow is reported, not returned)."""

    name = "exp"


class GELU(_Named):
    """f(z) = ½z(1 + tanh(√(2/π)(z + 0.044715 z³))): PyTorch's ``GELU(approximate="tanh")``."""

    name = "gelu"


def resolve_name(value: Any, choices: tuple[str, ...], aliases: dict[str, str], argument: str) -> str:
    """Canonical name for a string or a ``_Named`` class (or instance); else a clear error."""
    if isinstance(value, type) and issubclass(value, _Named) or isinstance(value, _Named):
        value = value.name
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be one of {', '.join(choices)} (a string or fastnet class), got {value!r}")
    key = value.strip().lower()
    key = aliases.get(key, key)
    if key not in choices:
        raise ValueError(f"{argument} must be one of {', '.join(choices)}, got {value!r}")
    return key


def activation_name(value: Any, argument: str = "activation") -> str:
    """Canonical activation name for ``value`` (string or class such as ``ReLU``)."""
    return resolve_name(value, ACTIVATIONS, _ALIASES, argument)
