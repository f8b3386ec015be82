"""What ``fit`` reports and who it reports to: History, the errors of a non-finite loss, the
callback protocol and its checks (the callbacks themselves are in fastnet/callbacks.py)."""

from __future__ import annotations

import math
from typing import Any


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


def rejected_step(loss: float) -> FloatingPointError:
    """The error of a train_step whose loss is not finite (both backends)."""
    return FloatingPointError(f"train_step: the loss is {loss}; the model was left unchanged")


class NonFiniteLoss(Exception):
    """Raised by an epoch loop at the batch (1-based) where training stopped being finite."""

    def __init__(self, batch: int, value: float, what: str = "the training loss") -> None:
        super().__init__(batch, value, what)
        self.batch, self.value, self.what = batch, value, what


class Callback:
    """Base class with no-op hooks; any object with these methods works as a callback."""

    def on_train_begin(self, model: Any) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Called before each epoch (0-based); the optimiser's settings are read after it."""

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
    hooks = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")
    for i, callback in enumerate(callbacks):
        if not any(callable(getattr(callback, hook, None)) for hook in hooks):
            raise TypeError(f"callbacks[{i}] must have {'/'.join(hooks)}, got {callback!r}")
    return list(callbacks)


class Monitor:
    """Whether a watched log improved: losses and ``mae`` are minimised, accuracies maximised,
    by more than ``min_delta``. Shared by every callback that watches a log."""

    def __init__(self, owner: str, monitor: Any, min_delta: float) -> None:
        from fastnet.checks import check_real

        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a log key such as 'val_loss', got {monitor!r}")
        self.owner, self.monitor = owner, monitor
        self.min_delta = check_real("min_delta", min_delta)
        self.maximize = "accuracy" in monitor
        self.reset()

    def reset(self) -> None:
        self.best = -math.inf if self.maximize else math.inf

    def value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            raise ValueError(
                f"{self.owner}(monitor={self.monitor!r}) found no such log; available: {sorted(logs)} "
                "(val_* logs need validation_data)"
            )
        return logs[self.monitor]

    def improved(self, logs: dict[str, float]) -> bool:
        """True (and the new best recorded) when the log beat the best so far."""
        value = self.value(logs)
        if value > self.best + self.min_delta if self.maximize else value < self.best - self.min_delta:
            self.best = value
            return True
        return False


def check_monitors(callbacks: list[Any], log_keys: set[str]) -> None:
    """ValueError before training when a callback watches a log that ``fit`` will not produce."""
    for i, callback in enumerate(callbacks):
        watch = getattr(callback, "watching", None)
        if isinstance(watch, Monitor) and watch.monitor not in log_keys:
            raise ValueError(
                f"callbacks[{i}]: {watch.owner}(monitor={watch.monitor!r}) watches a log this fit does not produce; "
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
