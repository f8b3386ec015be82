"""The estimators' constructor parameters: scikit-learn's names, defaults and constraints.

Validation goes through scikit-learn's own constraint machinery so that errors are its
``InvalidParameterError`` with its messages, which ``check_estimator`` requires. That module
(``sklearn.utils._param_validation``) is the one non-public part of scikit-learn this
package uses; every other import is public API.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_parameter_constraints

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")

PARAMETER_CONSTRAINTS: dict[str, list[Any]] = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
}
REGRESSOR_CONSTRAINTS = {**PARAMETER_CONSTRAINTS, "loss": [StrOptions({"squared_error", "poisson"})]}
# beyond scikit-learn's MLP, opt-in (None keeps its numbers)
CLASSIFIER_CONSTRAINTS = {**PARAMETER_CONSTRAINTS, "class_weight": [dict, StrOptions({"balanced"}), None]}


def validate_params(estimator: Any) -> None:
    """Raise scikit-learn's InvalidParameterError naming the first parameter that breaks its
    constraint (as scikit-learn's estimators do at the start of fit and partial_fit)."""
    validate_parameter_constraints(
        estimator._parameter_constraints, estimator.get_params(deep=False), caller_name=type(estimator).__name__
    )


def hidden_sizes(value: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list; ValueError for sizes <= 0 (scikit-learn's message)."""
    sizes = list(value) if hasattr(value, "__iter__") else [value]
    if np.any(np.array(sizes) <= 0):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return [int(size) for size in sizes]
