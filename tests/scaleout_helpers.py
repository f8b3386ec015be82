"""Run inside joblib's workers (loky, Dask and Ray processes import this module by name): a fit that
also reports how its input arrived there."""

from __future__ import annotations

import warnings
from typing import Any


def fit_reporting_input(estimator: Any, X: Any, y: Any) -> tuple[Any, str, bool]:
    """Fit ``estimator`` on (X, y) with ConvergenceWarnings silenced (the tests stop early on purpose);
    return it with X's type name and whether X was writeable where the fit ran."""
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    return estimator.fit(X, y), type(X).__name__, bool(X.flags.writeable)
