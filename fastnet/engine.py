"""The compiled backend's ``Sequential`` methods that run on the nogil engine (``fastnet._engine``).

The reference ``Sequential`` steps batch by batch through the ops; this mixin
replaces its epoch loop, ``train_step`` and ``predict`` with the engine, which
runs many batches per call and returns at checkpoints for progress, callbacks
and Ctrl-C. Tested against the reference ``fit`` (tests/test_training_parity.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fastnet._engine import PREDICT_WORKSPACE_BYTES, Engine
from fastnet.checks import OVERFLOW_MESSAGE, check_finite
from fastnet.model import PREDICT_CHUNK_ROWS, NonFiniteLoss

CHECKPOINT_SECONDS = 0.05  # return to Python this often during an epoch


class EngineMixin:
    """Routes training and inference of a ``Sequential`` through one cached ``Engine``."""

    def _engine(self: Any) -> Engine:
        """The cached engine, rebuilt when the optimiser or its state arrays were replaced."""
        engine = self.__dict__.get("_engine_cache")
        if engine is None or engine.optimizer_config is not self.optimizer or engine.state is not self._opt_state:
            self._optimizer_state()  # creates or re-kinds the state first
            engine = self._engine_cache = Engine(self)
        return engine

    def _fit(self: Any, *args: Any) -> Any:
        # The calling thread owns the model for the whole fit: other threads are refused, even
        # between the engine's checkpoints, while this thread's callbacks may still predict.
        engine = self._engine()
        previous = engine.claim()
        try:
            return super()._fit(*args)  # type: ignore[misc]
        finally:
            engine.release(previous)

    # Calls that read or write the whole model are refused while another thread trains it
    # (a model that never had an engine was never trained or run by one).
    def _check_thread(self: Any) -> None:
        engine = self.__dict__.get("_engine_cache")
        if engine is not None:
            engine.check()

    def evaluate(self: Any, X: Any, Y: Any) -> dict[str, float]:
        self._check_thread()
        return super().evaluate(X, Y)  # type: ignore[misc]

    def set_weights(self: Any, weights: list[Any]) -> None:
        self._check_thread()
        super().set_weights(weights)  # type: ignore[misc]

    def save(self: Any, path: Any) -> None:
        self._check_thread()
        super().save(path)  # type: ignore[misc]

    def _run_epoch(
        self: Any, X: np.ndarray, Y: np.ndarray, order: np.ndarray | None, batch_size: int, epoch: int,
        progress: Any, interrupt: Any,
    ) -> dict[str, float]:
        engine = self._engine()
        m = X.shape[0]
        n_batches = -(-m // batch_size)
        if order is not None:
            order = np.ascontiguousarray(order, dtype=np.intp)
        done = 0
        loss_sum = metric_sum = 0.0
        metric_count = 0
        while done < n_batches:
            batches, steps, batch_loss, batch_metric, count, failed = engine.run(
                X, Y, order, batch_size, done, n_batches, self._step, CHECKPOINT_SECONDS
            )
            self._step += steps
            done += batches
            if failed is not None:
                raise NonFiniteLoss(done, failed)
            loss_sum, metric_sum, metric_count = loss_sum + batch_loss, metric_sum + batch_metric, metric_count + count
            progress.batch_end(epoch, done, loss_sum / min(done * batch_size, m))
            interrupt.check()
        return {"loss": loss_sum / m, self.metric: metric_sum / metric_count}

    def train_step(self: Any, X: Any, Y: Any) -> float:
        """One optimiser step on the batch ``(X, Y)``; returns its data loss (before the step).

        Raises FloatingPointError (model unchanged) when the loss is not finite.
        """
        X, Y = self._check_XY(X, Y)
        engine = self._engine()
        _, steps, loss_sum, _, _, failed = engine.run(X, Y, None, X.shape[0], 0, 1, self._step, math.inf)
        if failed is not None:
            raise FloatingPointError(f"train_step: the loss is {failed}; the model was left unchanged")
        self._step += steps
        return loss_sum / X.shape[0]

    def predict(self: Any, X: Any) -> np.ndarray:
        """Outputs of the last layer for ``X`` ``(m, n_in)``; ``(0, k)`` for zero rows.

        Non-finite input is caught by the forward pass itself (no separate scan of ``X``).
        """
        engine = self._engine()
        out = engine.predict_small(X)  # single samples and small batches: no Python-level conversion
        if out is not NotImplemented and out is not None:
            return out
        X = self._check_X(X, allow_empty=True, finite=False)
        out = np.empty((X.shape[0], self.layers[-1].n_out), dtype=self.dtype)
        # bounded memory: chunks fit the workspace already there, or a PREDICT_WORKSPACE_BYTES one
        chunk = max(engine.capacity, min(PREDICT_CHUNK_ROWS, PREDICT_WORKSPACE_BYTES // engine.row_bytes), 1)
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, start + chunk)
            if not engine.forward(X[rows], out[rows]):
                check_finite(X, "X")  # names the bad entry when the input itself is not finite
                raise ValueError(OVERFLOW_MESSAGE)
        return out
