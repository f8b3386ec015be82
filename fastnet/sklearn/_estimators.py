"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn's interface, parameters and numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from fastnet.sklearn._base import STOCHASTIC_SOLVERS, BaseMLP
from fastnet.sklearn._params import CLASSIFIER_CONSTRAINTS, REGRESSOR_CONSTRAINTS, validate_params


def _store(estimator: Any, params: dict[str, Any]) -> None:
    """Keep every constructor argument as given (scikit-learn's estimator contract)."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _first_partial_fit(estimator: Any, classes: Any) -> bool:
    """True on the first ``partial_fit`` (which must name the classes); ValueError when ``classes``
    differs from an earlier call's."""
    known = getattr(estimator, "classes_", None)
    if known is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is not None:
        if known is not None:
            if not np.array_equal(known, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to partial_fit, was: {known!r}"
                )
        else:
            estimator.classes_ = unique_labels(classes)
            return True
    return False


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's ``MLPClassifier`` (same parameters,
    defaults, attributes and results), trained by fastnet's compiled engine.

    See scikit-learn's documentation of ``sklearn.neural_network.MLPClassifier`` for each
    parameter; ``fit`` and ``partial_fit`` take ``sample_weight``. Beyond scikit-learn (opt-in):
    ``class_weight`` (a dict ``{label: weight}`` or ``"balanced"``, multiplied into the sample
    weights as ``sklearn.utils.class_weight.compute_sample_weight`` computes them), the attribute
    ``validation_loss_curve_`` with early stopping, and ``to_fastnet()``.
    """

    _parameter_constraints: dict = CLASSIFIER_CONSTRAINTS

    def __init__(
        self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *, solver: str = "adam",
        alpha: float = 0.0001, batch_size: Any = "auto", learning_rate: str = "constant",
        learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
        random_state: Any = None, tol: float = 1e-4, verbose: bool = False, warm_start: bool = False,
        momentum: float = 0.9, nesterovs_momentum: bool = True, early_stopping: bool = False,
        validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
        n_iter_no_change: Any = 10, max_fun: int = 15000, class_weight: Any = None,
    ) -> None:
        _store(self, locals())

    def _class_weights(self, y: Any, incremental: bool) -> np.ndarray | None:
        """Per-row weights of ``class_weight``: a dict maps each label (absent labels weigh 1; a key
        that is no class is an error), "balanced" is scikit-learn's rule over this call's y."""
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str):  # "balanced"
            if incremental:
                raise ValueError(
                    "class_weight='balanced' is not supported for partial_fit (one batch does not show the class "
                    "frequencies): pass a dict, e.g. from sklearn.utils.class_weight.compute_class_weight over all "
                    "of y"
                )
            return compute_sample_weight(self.class_weight, y)
        labels = np.asarray(y)
        if labels.ndim == 2:  # multilabel: scikit-learn's product over the outputs
            return compute_sample_weight(self.class_weight, labels)
        known = self.classes_ if incremental else np.unique(labels)
        unknown = [key for key in self.class_weight if key not in set(np.asarray(known).tolist())]
        if unknown:
            raise ValueError(f"class_weight has keys {unknown} that are not classes of y ({list(known)})")
        return np.array([self.class_weight.get(label, 1.0) for label in labels.tolist()], dtype=np.float64)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the previous call to "
                        f"fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(bool)

    def _output_activation(self, y: np.ndarray) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def predict(self, X: Any) -> np.ndarray:
        """The predicted classes of X (label rows for multilabel targets)."""
        y_pred = self._common_output(X)
        if y_pred is None:
            check_is_fitted(self)
            return self._predict(X)
        return self._labels(y_pred.ravel() if self.n_outputs_ == 1 else y_pred)

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._labels(y_pred)

    def _labels(self, y_pred: np.ndarray) -> np.ndarray:
        """``LabelBinarizer.inverse_transform`` of the outputs, its two common cases inline (its own
        checks cost more than the whole forward pass of one sample)."""
        binarizer = self._label_binarizer
        if binarizer.y_type_ == "multiclass":
            return binarizer.classes_.take(y_pred.argmax(axis=1), mode="clip")
        if binarizer.y_type_ == "binary" and y_pred.ndim == 1 and len(binarizer.classes_) == 2:
            return binarizer.classes_[(y_pred > 0.5).astype(int)]  # its threshold: (pos + neg) / 2
        return binarizer.inverse_transform(y_pred)

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    def _check_solver(self) -> bool:
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} is not "
                                 "stochastic.")
        return True

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> MLPClassifier:
        """One epoch over (X, y); the first call must name every class in ``classes``."""
        validate_params(self)
        if _first_partial_fit(self, classes):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if type_of_target(y).startswith("multilabel") else classes)
        return self._fit(X, y, sample_weight, True, self._class_weights(y, incremental=True))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of X, columns in the order of ``classes_`` (binary: [1 − p, p])."""
        y_pred = self._common_output(X)
        if y_pred is None:
            check_is_fitted(self)
            y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log(predict_proba(X))."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's ``MLPRegressor`` (same parameters,
    defaults, attributes and results, ``loss="squared_error"`` or ``"poisson"``), trained by
    fastnet's compiled engine.

    See scikit-learn's documentation of ``sklearn.neural_network.MLPRegressor`` for each parameter.
    Beyond scikit-learn: the attribute ``validation_loss_curve_`` with early stopping, and
    ``to_fastnet()``.
    """

    _parameter_constraints: dict = REGRESSOR_CONSTRAINTS

    def __init__(
        self, loss: str = "squared_error", hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
        solver: str = "adam", alpha: float = 0.0001, batch_size: Any = "auto", learning_rate: str = "constant",
        learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
        random_state: Any = None, tol: float = 1e-4, verbose: bool = False, warm_start: bool = False,
        momentum: float = 0.9, nesterovs_momentum: bool = True, early_stopping: bool = False,
        validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
        n_iter_no_change: Any = 10, max_fun: int = 15000,
    ) -> None:
        _store(self, locals())

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _output_activation(self, y: np.ndarray) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def predict(self, X: Any) -> np.ndarray:
        """The predicted values of X: (n_samples,) for one output, else (n_samples, n_outputs)."""
        y_pred = self._common_output(X)
        if y_pred is None:
            check_is_fitted(self)
            return self._predict(X)
        return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self._score_with_function(X, y, sample_weight, r2_score)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over (X, y) (with ``solver="lbfgs"``, a whole L-BFGS run, as scikit-learn's)."""
        validate_params(self)
        return self._fit(X, y, sample_weight, incremental=True)
