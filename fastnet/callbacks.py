"""The callbacks people reach for: early stopping, learning-rate schedules, checkpoints, CSV logs.

Each works alike in both backends: hooks run between epochs, and the optimiser's settings
are read at the start of every epoch, so a schedule gives both the same trajectory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from fastnet.checks import check_int, check_real
from fastnet.training import Callback, Monitor


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Losses and ``mae`` are minimised, accuracies maximised. With
    ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, restore_best_weights: bool = True
    ) -> None:
        self.watching = Monitor("EarlyStopping", monitor, min_delta)
        self.monitor, self.min_delta, self.maximize = monitor, self.watching.min_delta, self.watching.maximize
        self.patience = check_int("patience", patience, minimum=0)
        self.restore_best_weights = bool(restore_best_weights)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None

    @property
    def best(self) -> float:
        """The best value of the watched log so far."""
        return self.watching.best

    def on_train_begin(self, model: Any) -> None:
        self._model = model
        self.watching.reset()
        self.best_epoch = None
        self.stopped_epoch = None
        self._wait = 0
        self._best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.watching.improved(logs):
            self.best_epoch, self._wait = epoch, 0
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


class LearningRateScheduler(Callback):
    """Set the learning rate before each epoch to ``schedule(epoch, lr)`` (epoch from 0, lr the
    current rate), e.g. ``LearningRateScheduler(lambda epoch, lr: lr * 0.9)``."""

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise TypeError(f"schedule must be a function (epoch, lr) -> lr, got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_train_begin(self, model: Any) -> None:
        self._model = model

    def on_epoch_begin(self, epoch: int) -> None:
        optimizer = self._model.optimizer
        rate = self.schedule(epoch, optimizer.learning_rate)
        try:
            optimizer.learning_rate = rate
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"LearningRateScheduler: schedule({epoch}, ...) returned {rate!r}: {exc}") from None
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {optimizer.learning_rate:.6g}")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` (not below ``min_lr``) when ``monitor`` has not improved
    by more than ``min_delta`` for ``patience`` epochs (Keras' rule, as ``EarlyStopping``); then wait
    ``cooldown`` epochs before watching again."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        verbose: int = 0,
    ) -> None:
        self.watching = Monitor("ReduceLROnPlateau", monitor, min_delta)
        self.monitor = monitor
        self.factor = check_real("factor", factor)
        if not 0.0 < self.factor < 1.0:
            raise ValueError(f"factor must lie in (0, 1), got {factor!r}")
        self.patience = check_int("patience", patience, minimum=0)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_real("min_lr", min_lr)
        self.verbose = verbose

    def on_train_begin(self, model: Any) -> None:
        self._model = model
        self.watching.reset()
        self._wait = self._cooling = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        improved = self.watching.improved(logs)
        if self._cooling:
            self._cooling -= 1
            self._wait = 0
            return
        self._wait = 0 if improved else self._wait + 1
        optimizer = self._model.optimizer
        if self._wait >= self.patience and optimizer.learning_rate > self.min_lr:  # EarlyStopping's rule
            optimizer.learning_rate = max(optimizer.learning_rate * self.factor, self.min_lr)
            self._wait, self._cooling = 0, self.cooldown
            if self.verbose:
                print(f"Epoch {epoch + 1}: ReduceLROnPlateau set the learning rate to {optimizer.learning_rate:.6g}")


class ModelCheckpoint(Callback):
    """Save the model after each epoch (atomic model files), or only when ``monitor`` improved with
    ``save_best_only``. ``path`` may name the epoch and logs: ``"model-{epoch:03d}-{val_loss:.3f}.npz"``
    (``epoch`` counted from 1 there, as on the progress bar)."""

    def __init__(self, path: str | os.PathLike[str], monitor: str = "val_loss", save_best_only: bool = False) -> None:
        self.path = os.fspath(path)
        self.monitor, self.save_best_only = monitor, bool(save_best_only)
        self.watching = Monitor("ModelCheckpoint", monitor, 0.0) if self.save_best_only else None
        self.saved: list[str] = []

    def on_train_begin(self, model: Any) -> None:
        self._model = model
        if self.watching is not None:
            self.watching.reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.watching is not None and not self.watching.improved(logs):
            return
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint path {self.path!r} names a field this fit does not log: {exc}") from None
        self._model.save(path)
        self.saved.append(path)


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` from 0, then the logs) to ``path``; ``append`` keeps an
    existing file's rows. The file is opened for each row and closed again, so an interrupted or
    failed fit keeps its epochs and leaves no file open."""

    def __init__(self, path: str | os.PathLike[str], separator: str = ",", append: bool = False) -> None:
        self.path, self.separator, self.append = os.fspath(path), separator, bool(append)

    def on_train_begin(self, model: Any) -> None:
        if not self.append:
            open(self.path, "w", encoding="utf-8").close()
        self._header = os.path.isfile(self.path) and os.path.getsize(self.path) > 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        with open(self.path, "a", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, ["epoch", *logs], delimiter=self.separator)
            if not self._header:
                writer.writeheader()
                self._header = True
            writer.writerow({"epoch": epoch, **logs})
