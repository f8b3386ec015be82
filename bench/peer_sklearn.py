"""scikit-learn's MLP with ``solver="sgd"``, timed per step from ``partial_fit`` epochs.

Sigmoid-output workloads (one-hot targets) use ``MLPClassifier``: multilabel, logistic outputs, log-loss.
The identity-output workload uses ``MLPRegressor``: identity outputs, squared error. Hidden layers are
relu as in the workloads; momentum and L2 (``alpha``) off; the shared initial weights are copied in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor
from workloads import Trainer, Workload, data, initial_params, one_sample


def estimator(w: Workload) -> Any:
    """An initialised estimator (one ``partial_fit`` epoch creates its arrays; the shared weights then replace them)."""
    classifier = w.activations[-1] == "sigmoid"
    # sklearn's gradient is (A - Y)/m, fastnet's MSE gradient 2(A - Y)/(m·k): scale lr to take the same steps.
    lr = w.lr * 2 / w.sizes[-1]
    cls = MLPClassifier if classifier else MLPRegressor
    est = cls(hidden_layer_sizes=w.sizes[1:-1], activation="relu", solver="sgd", learning_rate_init=lr,
              batch_size=w.batch, momentum=0.0, nesterovs_momentum=False, alpha=0.0, shuffle=True, random_state=0)
    X, Y = data(w.name)
    est.partial_fit(X, Y, **({"classes": np.arange(w.sizes[-1])} if classifier else {}))
    for (W, b), coef, intercept in zip(initial_params(w.name), est.coefs_, est.intercepts_):
        coef[...], intercept[...] = W, b  # in place: the optimiser holds these arrays
    return est


def train(w: Workload) -> Trainer:
    est = estimator(w)
    X, Y = data(w.name)
    return Trainer(lambda: est.partial_fit(X, Y), w.n_steps, lambda: all(np.isfinite(c).all() for c in est.coefs_))


def predictor(w: Workload) -> Any:
    """``predict_proba`` (the sigmoid outputs) for the classifier, ``predict`` for the regressor."""
    est, x = estimator(w), one_sample(w.name)
    if isinstance(est, MLPClassifier):
        return lambda: est.predict_proba(x)
    return lambda: est.predict(x)
