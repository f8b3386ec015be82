"""What both estimators share: scikit-learn's MLP fitting procedure, step for step, with the
per-batch work in fastnet's compiled engine.

Every convention that decides scikit-learn's numbers is kept (the order of random draws, the
initial weights, the early-stopping split, the composed per-epoch shuffle, the batches, the
losses, L2, optimisers and schedules, the stopping rule and what each attribute holds); the
docstrings say where each lives in scikit-learn's behaviour. Only public scikit-learn API is
used, apart from parameter validation (fastnet/sklearn/_params.py).
"""

from __future__ import annotations

import numbers
import warnings
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import scipy
import scipy.optimize
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

from fastnet import blas_threads
from fastnet.checks import c_array
from fastnet.optimizers import SklearnAdam, SklearnSGD
from fastnet.reference.sklearn_ops import row_losses
from fastnet.sklearn._engine import ACTIVATIONS, EngineNet, engine_input
from fastnet.sklearn._params import PARAMETER_CONSTRAINTS, hidden_sizes, validate_params

STOCHASTIC_SOLVERS = ("sgd", "adam")
NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain large values and need to be "
    "preprocessed."
)


def check_sample_weight(sample_weight: Any, X: np.ndarray) -> np.ndarray:
    """``sample_weight`` as a C-contiguous array of X's dtype, one per row (a number: the same
    for every row); any finite values, as scikit-learn's MLP takes them."""
    n = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        weights = np.full(n, sample_weight, dtype=X.dtype)
    else:
        weights = check_array(sample_weight, ensure_2d=False, dtype=X.dtype, order="C", input_name="sample_weight")
    if weights.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if weights.shape != (n,):
        raise ValueError(f"sample_weight.shape == {weights.shape}, expected {(n,)}!")
    if n and not weights.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weights


def lbfgs_iterations(result: Any, max_iter: int) -> int:
    """The iterations L-BFGS ran; a ConvergenceWarning, worded as scikit-learn's, when it did not converge."""
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        message = f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}):\n{result.message}\n"
        if n_iter == max_iter:
            message += f"\nIncrease the number of iterations to improve the convergence (max_iter={max_iter})."
        message += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return n_iter


class BaseMLP(BaseEstimator, ABC):
    """scikit-learn's ``BaseMultilayerPerceptron``, trained by fastnet's engine."""

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    @abstractmethod
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """X and the targets as the network trains on them (labels binarized for a classifier)."""

    @abstractmethod
    def _score(self, X: np.ndarray, y: Any, sample_weight: Any = None) -> float:
        """The validation score of early stopping (accuracy, or R²)."""

    def _output_activation(self, y: np.ndarray) -> str:
        """softmax, logistic, identity or exp: the output layer and so the loss."""
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Fit the model to data matrix X and target(s) y, with optional per-sample weights."""
        validate_params(self)
        return self._fit(X, y, sample_weight, False, self._class_weights(y, incremental=False))

    def _class_weights(self, y: Any, incremental: bool) -> np.ndarray | None:
        """Per-row weights from the classifier's ``class_weight`` (None: none asked for)."""
        return None

    def to_fastnet(self) -> Any:
        """The fitted network as a ``fastnet.Sequential`` (for fastnet's model files, layer API and
        training loop): the same weights, activations and outputs (its ``predict`` equals this
        estimator's ``predict_proba`` or ``predict``). The loss is fastnet's closest:
        ``cross_entropy`` for softmax outputs, ``binary_cross_entropy`` for logistic ones, ``mse``
        for regression (fastnet has no Poisson loss: an ``exp`` output keeps its activation and
        trains on ``mse``). The optimiser is fastnet's ``Adam`` or ``SGD`` with the same settings,
        in fastnet's conventions (PyTorch's, docs/design.md), and ``l2`` is ``alpha``: fastnet adds
        ``l2·W`` to the batch-mean gradient where scikit-learn adds ``alpha·W / batch size``."""
        import fastnet

        check_is_fitted(self)
        activations = [ACTIVATIONS[self.activation]] * (len(self.coefs_) - 1) + [ACTIVATIONS[self.out_activation_]]
        layers = []
        for coef, intercept, activation in zip(self.coefs_, self.intercepts_, activations):
            layer = fastnet.Dense(*coef.shape, activation, l2=self.alpha, dtype=coef.dtype, seed=0)
            layer.W, layer.b = coef, intercept
            layers.append(layer)
        loss = {"softmax": "cross_entropy", "logistic": "binary_cross_entropy"}.get(self.out_activation_, "mse")
        if self.solver == "sgd":
            optimizer = fastnet.SGD(self.learning_rate_init, momentum=self.momentum,
                                    nesterov=self.nesterovs_momentum and self.momentum > 0)
        else:
            optimizer = fastnet.Adam(self.learning_rate_init, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else None
        return fastnet.Sequential(layers, loss=loss, optimizer=optimizer, seed=seed)

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool,
             class_weights: np.ndarray | None = None) -> BaseMLP:
        sizes = hidden_sizes(self.hidden_layer_sizes)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        if class_weights is not None:  # the classifier's opt-in class_weight, multiplied in
            class_weights = class_weights.astype(X.dtype)
            sample_weight = class_weights if sample_weight is None else sample_weight * class_weights
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [X.shape[1], *sizes, self.n_outputs_]
        self._random_state = check_random_state(self.random_state)  # an int seed restarts each fit
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        with blas_threads.fitting():
            if self.solver in STOCHASTIC_SOLVERS:
                self._fit_stochastic(X, y, sample_weight, incremental)
            else:
                self._fit_lbfgs(X, y, sample_weight)
        if not all(np.isfinite(w).all() for w in (*self.coefs_, *self.intercepts_)):
            raise ValueError(NON_FINITE_WEIGHTS)
        return self

    def _initialize(self, y: np.ndarray, layer_units: list[int], dtype: np.dtype) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation(y)
        # Glorot's uniform bound; the weights, then the biases, of each layer in turn
        factor = 2.0 if self.activation == "logistic" else 6.0
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = self._random_state.uniform(-bound, bound, fan_out)
            self.coefs_.append(coef.astype(dtype, copy=False))
            self.intercepts_.append(intercept.astype(dtype, copy=False))
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        for name in ("_optimizer", "_optimizer_state", "_engine"):
            self.__dict__.pop(name, None)
        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []  # beyond scikit-learn: the loss on the held-out rows
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _engine_for(self, dtype: np.dtype) -> EngineNet:
        """The engine holding ``coefs_``/``intercepts_`` in ``dtype``, built anew when the public lists
        no longer fit it (another architecture or configuration was assigned)."""
        engine = self.__dict__.get("_engine")
        config = (self.coefs_, self.intercepts_, self.activation, self.out_activation_, self.alpha, dtype)
        if engine is None or not engine.fits(*config):
            engine = self._engine = EngineNet(*config)
        else:
            engine.load(self.coefs_, self.intercepts_)
        engine.publish(self.coefs_, self.intercepts_)
        return engine

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_engine", None)  # rebuilt from coefs_ and intercepts_ on use
        return state

    # ------------------------------------------------------------------ sgd and adam
    def _new_optimizer(self) -> SklearnSGD | SklearnAdam:
        if self.solver == "sgd":
            return SklearnSGD(self.learning_rate_init, momentum=self.momentum, nesterov=self.nesterovs_momentum)
        return SklearnAdam(self.learning_rate_init, beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)

    def _fit_stochastic(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
                        incremental: bool) -> None:
        # in the coefficients' dtype: data of the other float dtype in a later partial_fit or warm
        # start is converted to it (scikit-learn's in-place updates keep the coefficients' dtype)
        dtype = self.coefs_[0].dtype
        engine = self._engine_for(dtype)
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._new_optimizer()
            # the schedule as the optimiser was created with (later parameter changes do not reach it)
            self._schedule = (self.learning_rate, self.learning_rate_init, self.power_t)
            self._optimizer_state = engine.new_state(self._optimizer)
        elif not all(a.flags.writeable for slots in self._optimizer_state.slots for a in slots.values()):
            self._optimizer_state = self._optimizer_state.copy()  # unpickled from a read-only memory map
        engine.attach(self._optimizer, self._optimizer_state)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        X_train, y_train, w_train, X_val, y_val, w_val, Y_val = self._split(X, y, sample_weight)
        n_samples = X_train.shape[0]
        X_train = engine_input(X_train, dtype)  # C-contiguous rows (pandas frames arrive column-major), or CSR
        Y_train = c_array(y_train, dtype)
        if w_train is not None:
            w_train = c_array(w_train, dtype)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped", stacklevel=3
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        sample_idx = np.arange(n_samples, dtype=np.intp)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:  # the permutation composes with the previous epoch's
                    sample_idx = sample_idx[self._permutation(n_samples)]
                self.loss_ = engine.epoch(X_train, Y_train, w_train, sample_idx if self.shuffle else None, batch_size)
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(X_val, y_val, w_val, Y_val)
                self._iteration_ends()
                if self._no_improvement_count > self.n_iter_no_change:
                    if self._trigger_stopping():
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization "
                        "hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=3,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if self.early_stopping:  # the best weights, as copies (the engine's arrays are left behind)
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _permutation(self, n: int) -> np.ndarray:
        """The permutation ``sklearn.utils.shuffle`` draws for n rows (``RandomState.shuffle`` of
        ``arange(n)``), without its input checks, which cost more than an epoch of small data."""
        order = np.arange(n, dtype=np.intp)
        self._random_state.shuffle(order)
        return order

    def _split(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> tuple:
        """(X, y, weights) to train on and to validate on (None without early stopping), and the
        held-out targets as the network sees them: scikit-learn's stratified split, drawn from
        the estimator's random state."""
        if not self.early_stopping:
            return X, y, sample_weight, None, None, None, None
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        parts = train_test_split(*arrays, random_state=self._random_state, test_size=self.validation_fraction,
                                 stratify=stratify)
        X_train, X_val, y_train, y_val = parts[:4]
        w_train, w_val = (None, None) if sample_weight is None else parts[4:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        Y_val = y_val
        if is_classifier(self):
            y_val = self._label_binarizer.inverse_transform(y_val)
        return X_train, y_train, w_train, X_val, y_val, w_val, Y_val

    def _update_no_improvement_count(self, X_val: Any, y_val: Any, w_val: Any, Y_val: Any) -> None:
        if self.early_stopping:
            score = self._score(X_val, y_val, sample_weight=w_val)  # can be NaN
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(self._validation_loss(X_val, Y_val, w_val))
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _validation_loss(self, X_val: Any, Y_val: np.ndarray, w_val: np.ndarray | None) -> float:
        """The training loss's definition (scikit-learn's loss with its L2 term) on the held-out rows."""
        engine = self._engine
        A = engine.predict(engine_input(X_val, engine.config[3]))
        with np.errstate(all="ignore"):  # a diverged network's loss is NaN or inf, as its score is
            data = float(np.average(row_losses(engine.loss, A, np.asarray(Y_val, dtype=A.dtype)), weights=w_val))
            norms = sum(float(np.dot(c.ravel(), c.ravel())) for c in self.coefs_)
        return data + 0.5 * self.alpha * norms / (A.shape[0] if w_val is None else float(np.sum(w_val)))

    def _iteration_ends(self) -> None:
        schedule, rate, power_t = self._schedule
        if self.solver == "sgd" and schedule == "invscaling":
            self._optimizer.learning_rate = float(rate) / (self.t_ + 1) ** power_t

    def _trigger_stopping(self) -> bool:
        """True to stop; the adaptive schedule divides the rate by 5 instead while it is above 1e-6."""
        if self.early_stopping:
            message = (f"Validation score did not improve more than tol={self.tol:f} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
        else:
            message = (f"Training loss did not improve more than tol={self.tol:f} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
        if self.solver != "sgd" or self._schedule[0] != "adaptive":
            if self.verbose:
                print(message + " Stopping.")
            return True
        if self._optimizer.learning_rate <= 1e-6:
            if self.verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self._optimizer.learning_rate /= 5.0
        if self.verbose:
            print(message + f" Setting learning rate to {self._optimizer.learning_rate:f}")
        return False

    # ------------------------------------------------------------------ lbfgs
    def _fit_lbfgs(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> None:
        """scipy's L-BFGS-B over all coefficients then all intercepts, packed; the loss and gradient of
        the full batch come from the engine. As in scikit-learn the parameters are float64 (so is the
        arithmetic, even for float32 input)."""
        engine = self._engine_for(np.float64)
        if engine.optimizer is None:  # the engine trains with some optimiser; L-BFGS takes no step
            engine.attach(SklearnSGD(), engine.new_state(SklearnSGD()))
        X64 = engine_input(X, np.float64)
        Y64 = c_array(y, np.float64)
        w64 = None if sample_weight is None else c_array(sample_weight, np.float64)
        layers = engine.layers

        def loss_and_gradient(packed: np.ndarray) -> tuple[float, np.ndarray]:
            engine.unpack(packed)
            loss = engine.loss_and_gradient(X64, Y64, w64)
            return loss, np.concatenate([layer.dW.ravel() for layer in layers] + [layer.db for layer in layers])

        iprint = 1 if self.verbose is True or self.verbose >= 1 else -1
        verbosity = {} if _scipy_at_least(1, 15) else {"iprint": iprint}
        result = scipy.optimize.minimize(
            loss_and_gradient, engine.pack(), method="L-BFGS-B", jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol, **verbosity},
        )
        self.n_iter_ = lbfgs_iterations(result, self.max_iter)
        self.loss_ = result.fun
        engine.unpack(result.x)
        engine.publish(self.coefs_, self.intercepts_)

    # ------------------------------------------------------------------ inference
    def _common_output(self, X: Any) -> np.ndarray | None:
        """The output activations of the common call without scikit-learn's input validation (a
        plain array as the estimator was fitted on, its lists untouched since): None otherwise,
        and the full path validates, converts and raises scikit-learn's errors."""
        engine = self.__dict__.get("_engine")
        if engine is None or type(X) is not np.ndarray or "feature_names_in_" in self.__dict__ \
                or engine.config[:2] != (self.activation, self.out_activation_) \
                or not engine.holds(self.coefs_, self.intercepts_):
            return None
        return engine.predict_common(X)

    def _forward_pass_fast(self, X: Any, check_input: bool = True) -> np.ndarray:
        """The output layer's activations for X, in the dtype scikit-learn's arithmetic would give."""
        if check_input:
            X = self._validate_X(X)
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype)
        engine = self._engine_for(dtype) if dtype == self.coefs_[0].dtype else self._inference_engine(dtype)
        return engine.predict(engine_input(X, dtype))

    def _inference_engine(self, dtype: np.dtype) -> EngineNet:
        """A network in another dtype than the coefficients' (float64 input to a float32 model
        computes in float64, as NumPy's products would), copied in each call."""
        return EngineNet(self.coefs_, self.intercepts_, self.activation, self.out_activation_, self.alpha, dtype)

    def _validate_X(self, X: Any) -> np.ndarray:
        from sklearn.utils.validation import validate_data

        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR and CSC, read by the engine's sparse first layer
        return tags

    def _score_with_function(self, X: Any, y: Any, sample_weight: Any, score_function: Any) -> float:
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)


def _scipy_at_least(major: int, minor: int) -> bool:
    parts = scipy.__version__.split(".")
    return (int(parts[0]), int(parts[1])) >= (major, minor)
