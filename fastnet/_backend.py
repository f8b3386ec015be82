"""Bind the backend-free API (layers, model, NN, model files) to one backend's ops."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from fastnet import io, layers, model, nn


def bind(ops: Any, module: str, engine: type | None = None, fast_layer: type | None = None) -> SimpleNamespace:
    """Return ``Dense``, ``Sequential``, ``NN`` and ``load`` that compute with ``ops``.

    ``engine`` is a mixin whose methods replace the model's Python training loop, ``fast_layer`` one
    whose methods take the common calls of ``Dense`` before its validating ones (compiled backend).
    """

    class Dense(*((fast_layer,) if fast_layer else ()), layers.Dense):
        __doc__ = layers.Dense.__doc__
        _ops = ops

    class Sequential(*((engine,) if engine else ()), model.Sequential):
        __doc__ = model.Sequential.__doc__
        _layer_type = Dense

    class NN(nn.NN):
        __doc__ = nn.NN.__doc__
        _sequential = Sequential

    def load(path: str | os.PathLike[str]) -> Sequential:
        """Read a model file written by ``Sequential.save`` (by either backend) into this backend."""
        return io.load(path, Sequential)

    for obj in (Dense, Sequential, NN, load):
        obj.__module__ = module
        obj.__qualname__ = obj.__name__
    return SimpleNamespace(Dense=Dense, Sequential=Sequential, NN=NN, load=load)
