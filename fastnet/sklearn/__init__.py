"""scikit-learn drop-in: ``from fastnet.sklearn import MLPClassifier, MLPRegressor``.

The same parameters, attributes and numbers as scikit-learn's ``sklearn.neural_network``
estimators, with the training in fastnet's compiled engine. Needs scikit-learn
(``pip install "fastnet[sklearn]"``); importing ``fastnet`` alone never imports it.
"""

from __future__ import annotations

try:
    import sklearn
except ImportError as exc:  # an optional dependency
    raise ImportError('fastnet.sklearn needs scikit-learn: pip install "fastnet[sklearn]"') from exc

OLDEST_SKLEARN = (1, 7)  # the first with MLP sample weights and the Poisson loss
if tuple(int(part) for part in sklearn.__version__.split(".")[:2]) < OLDEST_SKLEARN:
    raise ImportError(f"fastnet.sklearn needs scikit-learn >= 1.7, found {sklearn.__version__}")

from fastnet.sklearn._estimators import MLPClassifier, MLPRegressor  # noqa: E402 (after the version check)

__all__ = ["MLPClassifier", "MLPRegressor"]
