"""``python -m fastnet demo``: train on the handwritten digits and report test accuracy and time.

Recipes (inputs scaled to [0, 1]; split: 30 % held out, ``random_state=42``):

* fastnet's recipe: 64-128-10, relu then softmax, cross-entropy (class ids), Adam(1e-3),
  batch 32, 60 epochs, weight seeds 0/1, shuffle seed 0. Reaches about 0.98.
* seed 002's recipe, adapted to true gradients (docs/design.md, "Seed 002's recipe"):
  ``NN((64, 15, 10), (ReLU, Sigmoid), MSE, SGD(learning_rate=2.0))``, batch 16, 50 epochs,
  ``np.random.seed(1)``. About 0.97.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import numpy as np

from fastnet.data import load_digits, train_test_split


def digits_split() -> list[np.ndarray]:
    """``[X_train, X_test, y_train, y_test]`` with pixels scaled to [0, 1]."""
    X, y = load_digits()
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=42)


def fastnet_recipe(fn: ModuleType) -> Any:
    """The demo's model (untrained)."""
    layers = [fn.Dense(64, 128, "relu", seed=0), fn.Dense(128, 10, "softmax", init="xavier", seed=1)]
    return fn.Sequential(layers, loss="cross_entropy", optimizer=fn.Adam(learning_rate=1e-3), seed=0)


def seed002_recipe(fn: ModuleType) -> Any:
    """Seed 002's network with the adapted hyperparameters (reproducible by np.random.seed(1))."""
    np.random.seed(1)
    return fn.NN(
        dimensions=(64, 15, 10), activations=(fn.ReLU, fn.Sigmoid), loss=fn.MSE, optimizer=fn.SGD(learning_rate=2.0)
    )


def run(backend: str = "fastnet", epochs: int = 60, verbose: int = 1) -> dict[str, float]:
    """Train both recipes on ``backend`` ("fastnet" or "reference"); print and return the results."""
    import importlib

    fn = importlib.import_module("fastnet" if backend == "fastnet" else "fastnet.reference")
    X_train, X_test, y_train, y_test = digits_split()
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels; backend {fn.__name__}")

    model = fastnet_recipe(fn)
    start = time.perf_counter()
    model.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=verbose)
    fit_seconds = time.perf_counter() - start
    accuracy = model.evaluate(X_test, y_test)["accuracy"]

    nn = seed002_recipe(fn)
    start = time.perf_counter()
    nn.fit(X_train, np.eye(10)[y_train], epochs=50, batch_size=16)
    nn_seconds = time.perf_counter() - start
    nn_accuracy = float((nn.predict(X_test).argmax(axis=1) == y_test).mean())

    print()
    print(f"{'recipe':<58} {'test accuracy':>13} {'time':>8}")
    print(f"{'fastnet: 64-128-10 relu/softmax, cross-entropy, Adam':<58} {accuracy:>13.4f} {fit_seconds:>7.2f}s")
    print(f"{'seed 002 (adapted): 64-15-10 relu/sigmoid, MSE, SGD(2.0)':<58} {nn_accuracy:>13.4f} {nn_seconds:>7.2f}s")
    return {
        "accuracy": accuracy,
        "seconds": fit_seconds,
        "seed002_accuracy": nn_accuracy,
        "seed002_seconds": nn_seconds,
    }
