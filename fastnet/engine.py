"""The compiled backend's ``Sequential`` methods that run on the nogil engine.

The reference ``Sequential`` steps batch by batch through the ops; this mixin replaces its
epoch loop, ``train_step`` and ``predict`` with the engine (``fastnet._network`` holds a
model's arrays and workspace, ``fastnet._train`` runs stretches of an epoch and returns at
checkpoints for progress, callbacks and Ctrl-C, ``fastnet._predict`` runs inference).
Tested against the reference ``fit`` (tests/test_training_parity.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fastnet import _predict, _train
from fastnet._network import Network, claim_layers, release_layers
from fastnet.checks import OVERFLOW_MESSAGE, as_real_array, check_finite
from fastnet.model import PREDICT_CHUNK_ROWS, Sequential
from fastnet.training import NonFiniteLoss, rejected_step

CHECKPOINT_SECONDS = 0.05  # return to Python this often during an epoch


class EngineMixin:
    """Routes training and inference of a ``Sequential`` through one cached ``Network``."""

    def _engine(self: Any) -> Network:
        """The cached network, rebuilt when the optimiser, its state or the loss was replaced. It
        takes the state as it is (predict never creates one); training asks ``_training_engine``."""
        net = self.__dict__.get("_engine_cache")
        state = self.current_optimizer_state()
        if net is None or net.optimizer_config is not self.optimizer or net.state is not state:
            net = self._engine_cache = Network(self, state, net)
        return net

    def _reading_engine(self: Any) -> Network:
        """Any cached network, else a new one: inference and the fast paths' admission read only
        the layers and the loss (a new loss drops the cache), not the optimiser."""
        return self.__dict__.get("_engine_cache") or self._engine()

    def _training_engine(self: Any) -> Network:
        """The network with the current optimiser's state (created if missing) and settings (read
        once per epoch or step)."""
        self.prepare_optimizer_state()
        net = self._engine()
        if net.settings_version != self.optimizer._version:
            net.read_settings(self.optimizer)
        return net

    def _fit(self: Any, *args: Any) -> Any:
        # The calling thread owns the model for the whole fit: other threads are refused, even
        # between the engine's checkpoints, while this thread's callbacks may still predict.
        # A network rebuilt during the fit (a callback replaced the optimiser) inherits the owner.
        net = self._training_engine()
        previous = net.claim()
        try:
            return super()._fit(*args)  # type: ignore[misc]
        finally:
            net.release(previous)
            current = self.__dict__.get("_engine_cache")
            if current is not None and current is not net:
                current.release(previous)

    def _before_reconfiguration(self: Any) -> None:
        self._check_thread()
        self.__dict__.pop("_engine_cache", None)  # the engine caches the loss: the next call rebuilds it

    def _claim_layers(self: Any) -> None:
        claim_layers(self.layers)

    def _release_layers(self: Any) -> None:
        release_layers(self.layers)

    # Calls that read or write the whole model are refused while another thread trains it
    # (a model that never had an engine was never trained or run by one).
    def _check_thread(self: Any) -> None:
        net = self.__dict__.get("_engine_cache")
        if net is not None:
            net.check()

    def _admits(self: Any, X: Any, Y: Any, sample_weight: Any, class_weight: Any) -> bool:
        """Whether ``(X, Y)`` without weights is the common call of train_step and evaluate (checked
        in C, ``_train.admits_batch``)."""
        if sample_weight is not None or class_weight is not None:
            return False
        return _train.admits_batch(self._reading_engine(), X, Y)

    def evaluate(self: Any, X: Any, Y: Any, sample_weight: Any = None, class_weight: Any = None) -> dict[str, float]:
        self._check_thread()
        # The common call (as train_step's) runs at once; a non-finite pre-activation or loss
        # sends it through the validating path, which names bad input or gives the same result.
        if self._admits(X, Y, sample_weight, class_weight):
            logs = self._evaluate(X, Y, strict=True)
            if logs is not None:
                return logs
        return super().evaluate(X, Y, sample_weight, class_weight)  # type: ignore[misc]

    def _evaluate(self: Any, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None,
                  strict: bool = False) -> dict[str, float] | None:
        """Loss and metric of validated data on the engine, chunk by chunk; None when ``strict``
        and a pre-activation or the loss was not finite."""
        net = self._reading_engine()
        chunk = min(PREDICT_CHUNK_ROWS, _predict.chunk_rows(net))  # bounded memory, as predict's
        d_out = np.empty((min(X.shape[0], chunk), self.layers[-1].n_out), dtype=self.dtype)
        loss_sum = weight_total = metric_sum = metric_count = 0.0
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, start + chunk)
            wb = None if weights is None else weights[rows]
            Xb = X[rows]
            loss, weight, s, n, finite = _train.evaluate_chunk(net, Xb, Y[rows], wb, d_out[: Xb.shape[0]])
            if strict and not (finite and math.isfinite(loss)):
                return None
            loss_sum, weight_total = loss_sum + loss * weight, weight_total + weight
            metric_sum, metric_count = metric_sum + s, metric_count + n
        return {"loss": loss_sum / weight_total, self.metric: metric_sum / metric_count}

    def set_weights(self: Any, weights: list[Any]) -> None:
        self._check_thread()
        super().set_weights(weights)  # type: ignore[misc]

    def save(self: Any, path: Any) -> None:
        self._check_thread()
        super().save(path)  # type: ignore[misc]

    # help() shows the public methods' own documentation, not the mixin's empty docstrings
    evaluate.__doc__ = Sequential.evaluate.__doc__
    set_weights.__doc__ = Sequential.set_weights.__doc__
    save.__doc__ = Sequential.save.__doc__

    def _run_epoch(
        self: Any, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None, order: np.ndarray | None,
        batch_size: int, epoch: int, progress: Any, interrupt: Any,
    ) -> dict[str, float]:
        net = self._training_engine()
        n_batches = -(-X.shape[0] // batch_size)
        if order is not None:
            order = np.ascontiguousarray(order, dtype=np.intp)
        done = 0
        loss_sum = weight_total = metric_sum = metric_count = 0.0
        while done < n_batches:
            stretch = _train.train(
                net, X, Y, weights=weights, order=order, batch_size=batch_size, first=done, last=n_batches,
                step=self.steps, dropout_count=self._dropout_count, seconds=CHECKPOINT_SECONDS,
            )
            self.count_steps(stretch.steps)
            self._dropout_count += stretch.batches
            done += stretch.batches
            if stretch.failed_loss is not None:
                raise NonFiniteLoss(done, stretch.failed_loss)
            loss_sum += stretch.loss_sum
            weight_total += stretch.weight_sum
            metric_sum += stretch.metric_sum
            metric_count += stretch.metric_count
            progress.batch_end(epoch, done, loss_sum / weight_total if weight_total else 0.0)
            interrupt.check()
        return {"loss": loss_sum / weight_total, self.metric: metric_sum / metric_count}

    def train_step(self: Any, X: Any, Y: Any, sample_weight: Any = None, class_weight: Any = None) -> float:
        # The common call (arrays already in the model's dtype, shape and layout, no weights) is
        # checked in C and steps at once; its finiteness is the forward pass's to report. Any
        # other call, and one whose batch met a non-finite value, takes the validating path,
        # whose errors and results are the same.
        if self._admits(X, Y, sample_weight, class_weight):
            loss = self._train_step(X, Y, stop_on_overflow=True)
            if loss is not None:
                return loss
        return super().train_step(X, Y, sample_weight, class_weight)  # type: ignore[misc]

    train_step.__doc__ = Sequential.train_step.__doc__

    def _train_step(self: Any, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None,
                    stop_on_overflow: bool = False) -> float | None:
        """One step; None, the model unchanged, when ``stop_on_overflow`` met a non-finite
        pre-activation (the caller then validates the input)."""
        before = self._optimizer_state
        try:
            net = self._training_engine()
            state = self._optimizer_state  # the current optimiser's, made by _training_engine if missing
            stretch = _train.train(
                net, X, Y, weights=weights, order=None, batch_size=X.shape[0], first=0, last=1, step=state.step,
                dropout_count=self._dropout_count, seconds=math.inf, stop_on_overflow=stop_on_overflow,
            )
        except BaseException:  # refused (another thread trains the model, read-only arrays): as it was
            self._optimizer_state = before
            raise
        if stretch.failed_loss is not None:
            if state is not before:  # created for this step, as the reference would not
                self.set_optimizer_state(before)
            if stop_on_overflow:
                return None
            raise rejected_step(stretch.failed_loss)
        state.step += stretch.steps
        self._dropout_count += 1
        return stretch.last_loss

    def predict(self: Any, X: Any) -> np.ndarray:
        """Outputs of the last layer for ``X`` ``(m, n_in)``; ``(0, k)`` for zero rows.

        Non-finite input is caught by the forward pass itself (no separate scan of ``X``).
        """
        net = self._reading_engine()
        out = _predict.predict_common(net, X)  # single samples and small batches: checked in C
        if out is not None:
            return out
        source, X = X, self._check_X(X, allow_empty=True, finite=False)
        out = np.empty((X.shape[0], self.layers[-1].n_out), dtype=self.dtype)
        chunk = min(PREDICT_CHUNK_ROWS, _predict.chunk_rows(net))  # bounded memory for huge inputs
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, start + chunk)
            if not _predict.forward(net, X[rows], out[rows]):
                # names the bad entry when the input is not finite, or did not fit the model's dtype
                check_finite(X, "X", as_real_array(source, "X"))
                raise ValueError(OVERFLOW_MESSAGE)
        return out
