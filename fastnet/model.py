"""``Sequential``: a stack of Dense layers with a loss and an optimiser, written once over a backend's ops."""

from __future__ import annotations

import copy
import math
import os
import sys
from typing import Any, ClassVar, TextIO

import numpy as np

from fastnet import blas_threads
from fastnet.checks import OVERFLOW_MESSAGE, as_matrix, as_targets, check_int, check_pair
from fastnet.interrupts import deferred_interrupts
from fastnet.layers import (
    READ_ONLY,
    Dense,
    Forward,
    check_layer_stack,
    check_seed,
    claim_layers,
    draw_dropout_key,
    release_layers,
)
from fastnet.losses import FUSED, check_pairing, loss_name, metric_name, metric_sums
from fastnet.optimizer_state import OptimizerState, OptimizerStateOwner
from fastnet.optimizers import Optimizer, check_optimizer
from fastnet.progress import Progress, summary_text
from fastnet.training import History, NonFiniteLoss, call_hook, check_callbacks, check_monitors, rejected_step
from fastnet.weighting import row_weights, weight_sum

PREDICT_CHUNK_ROWS = 8192  # predict/evaluate work on bounded slices of huge inputs


class Sequential(OptimizerStateOwner):
    """Dense layers applied in order, trained on ``loss`` with ``optimizer``.

    Parameters
    ----------
    layers:
        The ``Dense`` layers of this backend, in order; sizes must chain and dtypes agree.
    loss:
        ``"mse"`` (any last activation), ``"cross_entropy"`` (softmax last layer, ≥ 2 units;
        targets are class ids or probability rows) or ``"binary_cross_entropy"`` (sigmoid
        last layer; targets in [0, 1]).
    optimizer:
        ``fastnet.SGD(...)`` or ``fastnet.Adam(...)``; None means ``SGD()``. Its state lives
        in the model and continues across ``fit`` calls.
    seed:
        Seeds the generator used for shuffling (successive ``fit`` calls continue its stream) and
        the key of the layers' dropout masks (drawn per training batch from the key, the model's
        count of training batches and the layer's index; saved and pickled with the model).
    """

    _layer_type: ClassVar[type[Dense]] = Dense  # the backend's Dense, set by fastnet._backend.bind

    def __init__(self, layers: Any, loss: Any = "mse", optimizer: Any = None, seed: int | None = None) -> None:
        self._layers = tuple(check_layer_stack(layers, self._layer_type, type(self).__module__))
        self.loss = loss
        self.optimizer = optimizer
        self.seed = check_seed(seed)
        self._rng = np.random.default_rng(self.seed)
        self._dropout_key = draw_dropout_key(self.seed)
        self._dropout_count = 0  # training batches run: the counter of their dropout masks
        self._optimizer_state = None  # created by the first training step
        self.history: History | None = None  # the current or last fit's History, updated each epoch

    @property
    def layers(self) -> tuple[Dense, ...]:
        """The Dense layers, in order (fixed at construction: compiled engines rely on it)."""
        return self._layers

    @property
    def _ops(self) -> Any:
        """The backend's ops (a module: never part of the model's pickled state)."""
        return self._layer_type._ops

    @property
    def loss(self) -> str:
        """The loss's canonical name; assigning validates it against the last layer, as the
        constructor does, and the next training or evaluation uses it in both backends."""
        return self._loss

    @loss.setter
    def loss(self, value: Any) -> None:
        name = loss_name(value)
        last = self.layers[-1]
        check_pairing(name, last.activation, last.n_out)
        if self.__dict__.get("_fitting", 0):
            raise RuntimeError("loss cannot change during fit (a callback assigned it); assign it between fit calls")
        self._before_reconfiguration()
        self._loss = name

    def _before_reconfiguration(self) -> None:
        """Hook run before the loss changes (the compiled backend drops its cached engine)."""

    # Copies and pickles: every array is copied, the compiled engine's cache is rebuilt on use.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_engine_cache", None)
        state.pop("_fitting", None)  # a copy is not being fit
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # pickles from before dropout existed: the key its seed gives, no batches counted
        state.setdefault("_dropout_key", draw_dropout_key(state.get("seed")))
        state.setdefault("_dropout_count", 0)
        self.__dict__.update(state)

    def __copy__(self) -> Sequential:
        """A deep copy: a copy of a model never shares its layers, parameters or optimiser state."""
        return copy.deepcopy(self)

    @property
    def optimizer(self) -> Optimizer:
        """The model's own optimiser configuration: assigning stores a copy (one optimiser object given
        to two models never couples them); its settings may change between epochs
        (``model.optimizer.learning_rate = 0.01``); another kind starts a fresh optimiser state."""
        return self._optimizer

    @optimizer.setter
    def optimizer(self, value: Any) -> None:
        self._optimizer = copy.copy(check_optimizer(value))

    @property
    def dtype(self) -> np.dtype:
        """The model's dtype: its layers' dtype."""
        return self.layers[0].dtype

    @property
    def metric(self) -> str:
        """The metric reported beside the loss: ``"accuracy"`` or ``"mae"``."""
        return metric_name(self.loss)

    def __repr__(self) -> str:
        sizes = "-".join(str(n) for n in [self.layers[0].n_in] + [layer.n_out for layer in self.layers])
        return f"{type(self).__module__}.Sequential({sizes}, loss={self.loss!r}, optimizer={self.optimizer!r})"

    def summary(self, file: TextIO | None = None) -> None:
        """Print the layers (sizes, activation, L2, parameter count), dtype, loss and optimiser."""
        print(summary_text(self), file=file if file is not None else sys.stdout)

    # ------------------------------------------------------------------ input checks
    def _check_X(self, X: Any, name: str = "X", allow_empty: bool = False, finite: bool = True) -> np.ndarray:
        return as_matrix(X, name, self.dtype, self.layers[0].n_in, allow_empty=allow_empty, finite=finite)

    def _check_XY(self, X: Any, Y: Any, names: tuple[str, str] = ("X", "Y")) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_X(X, names[0])
        return X, as_targets(Y, names[1], self.loss, X.shape[0], self.layers[-1].n_out, self.dtype)

    def _check_weights(
        self, Y: np.ndarray, sample_weight: Any, class_weight: Any, names: tuple[str, str] = ("sample_weight",
                                                                                            "class_weight")
    ) -> np.ndarray | None:
        """The rows' weights (None: every row weighs 1) for validated targets Y."""
        return row_weights(sample_weight, class_weight, Y, self.loss, self.layers[-1].n_out, self.dtype, names)

    # ------------------------------------------------------------------ parameters and state
    def _parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(parameter, gradient) pairs in a fixed order: W0, b0, W1, b1, ..."""
        pairs = []
        for layer in self.layers:
            pairs += [(layer.W, layer.dW), (layer.b, layer.db)]
        return pairs

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all parameters in the order W0, b0, W1, b1, ..."""
        return [p.copy() for p, _ in self._parameters()]

    def set_weights(self, weights: list[Any]) -> None:
        """Assign parameters from ``get_weights``-ordered arrays (validated, copied)."""
        layers_and_names = [(layer, name) for layer in self.layers for name in ("W", "b")]
        if len(weights) != len(layers_and_names):
            raise ValueError(
                f"weights must hold {len(layers_and_names)} arrays (W and b per layer), got {len(weights)}"
            )
        from fastnet.checks import as_parameter

        checked = [
            as_parameter(w, f"weights[{i}] ({name})", getattr(layer, name).shape, self.dtype)
            for i, (w, (layer, name)) in enumerate(zip(weights, layers_and_names))
        ]
        for (param, _), value in zip(self._parameters(), checked):
            param[...] = value

    def _snapshot(self) -> tuple[list[np.ndarray], OptimizerState | None]:
        state = self._optimizer_state
        return self.get_weights(), None if state is None else state.copy()

    def _restore(self, snapshot: tuple[list[np.ndarray], OptimizerState | None]) -> None:
        weights, state = snapshot
        for (param, _), value in zip(self._parameters(), weights):
            param[...] = value
        self._optimizer_state = state

    # ------------------------------------------------------------------ one batch
    def _forward(self, X: np.ndarray, keep: bool = True, dropout_count: int | None = None) -> Forward:
        """The last layer's Z and A for the validated batch X; finite when every layer's were.
        With ``dropout_count`` the layers drop outputs with the masks of that count (training)."""
        all_finite = True
        for i, layer in enumerate(self.layers):
            masks = None if dropout_count is None else (self._dropout_key, dropout_count, i)
            Z, X, finite = layer._forward(X, keep=keep, masks=masks)
            all_finite = all_finite and finite
        return Z, X, all_finite

    def _data_loss(
        self, out: Forward, Y: np.ndarray, d_out: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> float:
        """The (weighted) data loss of a forward's output against Y; its gradient goes to ``d_out`` if given."""
        Z, A, _ = out
        return self._ops.loss_grad(self.loss, Z, A, Y, np.empty_like(A) if d_out is None else d_out, weights)

    def _loss_and_gradients(
        self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None, dropout_count: int | None = None
    ) -> tuple[float, np.ndarray]:
        """Forward (with the dropout masks of ``dropout_count``), loss and backward for one batch:
        fills every dW/db; returns (data loss, A)."""
        out = self._forward(X, dropout_count=dropout_count)
        A, last = out[1], self.layers[-1]
        d_out = np.empty_like(A)
        loss = self._data_loss(out, Y, d_out, weights)
        dZ = d_out if self.loss in FUSED else last._activation_backward(d_out)
        for i in range(len(self.layers) - 1, -1, -1):
            dX = self.layers[i]._backward(dZ, need_dX=i > 0)
            if i > 0:
                dZ = self.layers[i - 1]._activation_backward(dX)
        return loss, A

    def _apply_update(self, optimizer: Optimizer) -> None:
        self.count_steps(1)
        state = self.prepare_optimizer_state()
        for (param, grad), slots in zip(self._parameters(), state.slots):
            optimizer.update(self._ops, param, grad, slots, state.step)

    def _train_batch(
        self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None, optimizer: Optimizer
    ) -> tuple[float, np.ndarray]:
        """One step of ``optimizer`` (the settings of this epoch); skipped when the loss is not finite
        or the batch's weights sum to 0. Every batch run advances the dropout counter."""
        count, self._dropout_count = self._dropout_count, self._dropout_count + 1
        loss, A = self._loss_and_gradients(X, Y, weights, count)
        if math.isfinite(loss) and weight_sum(weights, X.shape[0]) != 0:
            self._apply_update(optimizer)
        return loss, A

    def train_step(self, X: Any, Y: Any, sample_weight: Any = None, class_weight: Any = None) -> float:
        """One optimiser step on the batch ``(X, Y)``; returns its data loss (before the step).

        ``sample_weight`` and ``class_weight`` weigh the rows as in ``fit`` (class weights
        ``"balanced"`` over this batch). Raises FloatingPointError (model unchanged) when the loss
        is not finite.
        """
        X, Y = self._check_XY(X, Y)
        self._check_writeable()
        if sample_weight is None and class_weight is None:  # the common call: no weighing to do
            return self._train_step(X, Y)
        return self._train_step(X, Y, self._check_weights(Y, sample_weight, class_weight))

    def _train_step(self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None) -> float:
        self._claim_layers()
        try:
            loss, _ = self._train_batch(X, Y, weights, self.optimizer)
        finally:
            self._release_layers()
        if not math.isfinite(loss):
            self._dropout_count -= 1  # a rejected step leaves the model as it was
            raise rejected_step(loss)
        return loss

    # A layer shared by two models is trained by one thread at a time (the compiled backend
    # overrides these two with the same rule in C).
    def _claim_layers(self) -> None:
        claim_layers(self.layers)

    def _release_layers(self) -> None:
        release_layers(self.layers)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: Any,
        Y: Any,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        validation_data: tuple[Any, Any] | None = None,
        verbose: int = 1,
        callbacks: list[Any] | None = None,
        sample_weight: Any = None,
        class_weight: Any = None,
    ) -> History:
        """Train for ``epochs`` passes over ``(X, Y)`` in minibatches; returns the History.

        Every sample is used each epoch (the last batch may be smaller). ``verbose``: 0 silent,
        1 progress bar on stderr, 2 one line per epoch. Logs hold ``loss``, the metric
        (``accuracy`` or ``mae``) and, with ``validation_data=(X_val, Y_val)`` or
        ``(X_val, Y_val, sample_weight_val)``, their ``val_`` versions. A loss that turns NaN/inf
        raises FloatingPointError and leaves the weights of the end of the last finite epoch;
        Ctrl-C stops after the current batch.

        ``sample_weight`` (one finite weight >= 0 per row, not all zero) makes each batch's loss
        Σ wᵢ·lossᵢ / Σ wᵢ; a batch whose weights sum to 0 makes no step. ``class_weight``
        (``{class id: weight}``, absent classes weighing 1, or ``"balanced"``: n_samples /
        (n_classes · count of the class) over ``Y``) multiplies into it; classes are the class
        ids of cross-entropy, or 0 and 1 of a one-output binary cross-entropy. The logged loss and
        metric are weighted the same way.
        """
        X, Y = self._check_XY(X, Y)
        weights = self._check_weights(Y, sample_weight, class_weight)
        epochs = check_int("epochs", epochs, minimum=0)
        batch_size = check_int("batch_size", batch_size)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        validation = self._check_validation(validation_data)
        callbacks = check_callbacks(callbacks)
        keys = {"loss", self.metric}
        check_monitors(callbacks, keys | {f"val_{key}" for key in keys} if validation is not None else keys)
        batch_size = min(batch_size, X.shape[0])  # a batch never exceeds the data
        self._check_writeable()
        with blas_threads.fitting():
            return self._fit(X, Y, weights, epochs, batch_size, bool(shuffle), validation, verbose, callbacks,
                             self._rng)

    def _check_writeable(self) -> None:
        """ValueError, before anything changes, when training could not write its arrays."""
        state = self.current_optimizer_state()
        slots = [] if state is None else [a for slot in state.slots for a in slot.values()]
        arrays = [a for layer in self.layers for a in (layer.W, layer.b, layer.dW, layer.db)] + slots
        if not all(a.flags.writeable for a in arrays):
            raise ValueError(READ_ONLY)

    def _check_validation(self, validation_data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        if validation_data is None:
            return None
        weights = None
        if isinstance(validation_data, (tuple, list)) and len(validation_data) == 3:
            validation_data, weights = validation_data[:2], validation_data[2]
        X_val, Y_val = check_pair(validation_data, "validation_data", "(X_val, Y_val) or (X_val, Y_val, sample_weight)")
        X_val, Y_val = self._check_XY(X_val, Y_val, names=("validation_data[0]", "validation_data[1]"))
        return X_val, Y_val, self._check_weights(Y_val, weights, None, names=("validation_data[2]", ""))

    def _fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        weights: np.ndarray | None,
        epochs: int,
        batch_size: int,
        shuffle: bool,
        validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
        verbose: int,
        callbacks: list[Any],
        rng: Any,
    ) -> History:
        """The training loop on validated data; ``rng`` has ``permutation(n)`` (a Generator or ``np.random``)."""
        history = self.history = History()
        m = X.shape[0]
        n_batches = -(-m // batch_size)
        progress = Progress(verbose, epochs, n_batches)
        self.prepare_optimizer_state()
        self._claim_layers()
        self._fitting = self.__dict__.get("_fitting", 0) + 1  # fits running (a callback may fit again)
        try:
            call_hook(callbacks, "on_train_begin", self)
            with deferred_interrupts() as interrupt:
                for epoch in range(epochs):
                    call_hook(callbacks, "on_epoch_begin", epoch)  # e.g. a learning-rate schedule
                    progress.epoch_begin(epoch)
                    order = rng.permutation(m) if shuffle else None
                    snapshot = self._snapshot()
                    try:
                        logs = self._run_epoch(X, Y, weights, order, batch_size, epoch, progress, interrupt)
                        if not all(np.isfinite(p).all() for p, _ in self._parameters()):
                            raise NonFiniteLoss(n_batches, math.nan, "the weights")
                    except NonFiniteLoss as exc:
                        self._restore(snapshot)
                        raise FloatingPointError(
                            f"{exc.what} became {exc.value} at epoch {epoch + 1}, batch {exc.batch} (epoch index "
                            f"{epoch} in History and callbacks); the model keeps the weights it had before that "
                            "epoch (try a smaller learning_rate)"
                        ) from None
                    if validation is not None:
                        val = self._evaluate(*validation)
                        logs.update({f"val_{key}": value for key, value in val.items()})
                    history.append(epoch, logs)
                    progress.epoch_end(epoch, logs)
                    if call_hook(callbacks, "on_epoch_end", epoch, logs):
                        break
        finally:
            self._fitting -= 1
            self._release_layers()
            progress.close()
        call_hook(callbacks, "on_train_end", self)
        return history

    def _run_epoch(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        weights: np.ndarray | None,
        order: np.ndarray | None,
        batch_size: int,
        epoch: int,
        progress: Progress,
        interrupt: Any,
    ) -> dict[str, float]:
        """One pass over the data in ``order``; returns the epoch's logs (loss and metric).

        Raises NonFiniteLoss at the first batch whose loss is not finite (its update is skipped).
        """
        m = X.shape[0]
        loss_sum = weight_total = metric_sum = metric_count = 0.0
        optimizer = copy.copy(self.optimizer)  # settings are read once per epoch, as the engine does
        for batch, start in enumerate(range(0, m, batch_size)):
            rows = slice(start, start + batch_size) if order is None else order[start : start + batch_size]
            Xb, Yb, wb = X[rows], Y[rows], None if weights is None else weights[rows]
            loss, A = self._train_batch(Xb, Yb, wb, optimizer)
            if not math.isfinite(loss):
                raise NonFiniteLoss(batch + 1, loss)
            weight = weight_sum(wb, Xb.shape[0])
            loss_sum, weight_total = loss_sum + loss * weight, weight_total + weight
            s, n = metric_sums(self.loss, A, Yb, wb)
            metric_sum, metric_count = metric_sum + s, metric_count + n
            progress.batch_end(epoch, batch + 1, loss)
            interrupt.check()
        return {"loss": loss_sum / weight_total, self.metric: metric_sum / metric_count}

    # ------------------------------------------------------------------ inference
    def predict(self, X: Any) -> np.ndarray:
        """Outputs of the last layer for ``X`` ``(m, n_in)``; ``(0, k)`` for zero rows."""
        X = self._check_X(X, allow_empty=True)
        k = self.layers[-1].n_out
        out = np.empty((X.shape[0], k), dtype=self.dtype)
        for start in range(0, X.shape[0], PREDICT_CHUNK_ROWS):
            chunk = slice(start, start + PREDICT_CHUNK_ROWS)
            _, A, finite = self._forward(X[chunk], keep=False)
            if not finite:
                raise ValueError(OVERFLOW_MESSAGE)
            out[chunk] = A
        return out

    def evaluate(self, X: Any, Y: Any, sample_weight: Any = None, class_weight: Any = None) -> dict[str, float]:
        """Data loss and metric on ``(X, Y)``: ``{"loss": ..., "accuracy" or "mae": ...}``, weighted
        by ``sample_weight`` and ``class_weight`` as in ``fit``."""
        X, Y = self._check_XY(X, Y)
        return self._evaluate(X, Y, self._check_weights(Y, sample_weight, class_weight))

    def _evaluate(self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
        loss_sum = weight_total = metric_sum = metric_count = 0.0
        for start in range(0, X.shape[0], PREDICT_CHUNK_ROWS):
            rows = slice(start, start + PREDICT_CHUNK_ROWS)
            wb = None if weights is None else weights[rows]
            out = self._forward(X[rows], keep=False)
            A = out[1]
            weight = weight_sum(wb, A.shape[0])
            loss_sum, weight_total = loss_sum + self._data_loss(out, Y[rows], None, wb) * weight, weight_total + weight
            s, n = metric_sums(self.loss, A, Y[rows], wb)
            metric_sum, metric_count = metric_sum + s, metric_count + n
        return {"loss": loss_sum / weight_total, self.metric: metric_sum / metric_count}

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model (config, parameters, optimiser state) atomically to ``path`` (.npz)."""
        from fastnet.io import save

        save(self, path)
