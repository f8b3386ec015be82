"""What ``fit`` reports and who it reports to: History, callbacks, EarlyStopping."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class History:
    """Per-epoch logs of one ``fit`` call: ``history["loss"][i]`` is epoch ``epoch[i]``'s loss."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class Callback:
    """Base class with no-op hooks; any object with these methods works as a callback."""

    def on_train_begin(self, model: Any) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Called after each epoch (0-based); return True to stop training."""
        return None

    def on_train_end(self, model: Any) -> None:
        """Called once after the last epoch, also when a callback stopped training early."""


def check_callbacks(callbacks: Any) -> list[Any]:
    """A list of objects that have at least one of the callback hooks."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    hooks = ("on_train_begin", "on_epoch_end", "on_train_end")
    for i, callback in enumerate(callbacks):
        if not any(callable(getattr(callback, hook, None)) for hook in hooks):
            raise TypeError(f"callbacks[{i}] must have on_train_begin/on_epoch_end/on_train_end, got {callback!r}")
    return list(callbacks)


def check_monitors(callbacks: list[Any], log_keys: set[str]) -> None:
    """ValueError before training when an EarlyStopping watches a log that ``fit`` will not produce."""
    for i, callback in enumerate(callbacks):
        monitor = getattr(callback, "monitor", None)
        if isinstance(callback, EarlyStopping) and monitor not in log_keys:
            raise ValueError(
                f"callbacks[{i}]: EarlyStopping(monitor={monitor!r}) watches a log this fit does not produce; "
                f"available: {sorted(log_keys)} (val_* logs need validation_data)"
            )


def call_hook(callbacks: list[Any], hook: str, *args: Any) -> bool:
    """Call ``hook`` on every callback that has it; True when any asked to stop."""
    stop = False
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            stop = bool(method(*args)) or stop
    return stop


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Losses and ``mae`` are minimised, accuracies maximised. With
    ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, restore_best_weights: bool = True
    ) -> None:
        from fastnet.checks import check_int, check_real

        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a log key such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = check_real("min_delta", min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.maximize = "accuracy" in monitor
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None

    def on_train_begin(self, model: Any) -> None:
        self._model = model
        self.best = -math.inf if self.maximize else math.inf
        self.best_epoch = None
        self.stopped_epoch = None
        self._wait = 0
        self._best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping(monitor={self.monitor!r}) found no such log; available: {sorted(logs)} "
                "(val_* logs need validation_data)"
            )
        value = logs[self.monitor]
        improved = value > self.best + self.min_delta if self.maximize else value < self.best - self.min_delta
        if improved:
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_weights = self._model.get_weights()
            return False
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model: Any) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            model.set_weights(self._best_weights)
