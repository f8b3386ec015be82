"""Export fastnet networks to ONNX, to run where Python does not (ONNX Runtime in C#, Java,
JavaScript, mobile, other servers).

- ``to_onnx(model)`` exports a ``fastnet.Sequential`` (or ``fastnet.reference.Sequential``).
- Importing this module registers converters for ``fastnet.sklearn.MLPClassifier`` and
  ``MLPRegressor`` with skl2onnx when skl2onnx is installed, so ``skl2onnx.to_onnx(estimator,
  X[:1])`` works as it does for scikit-learn's MLP (and also for the Poisson regressor's ``exp``
  output and multi-output regression).

Needs the ``onnx`` package: ``pip install "fastnet[onnx]"``. ``import fastnet`` alone imports
neither onnx nor scikit-learn.
"""

from fastnet.onnx._export import to_onnx
from fastnet.onnx._graph import OPSET

__all__ = ["OPSET", "to_onnx"]

try:
    import skl2onnx  # noqa: F401 (only to learn whether it is installed)
except ImportError:  # no skl2onnx: the Sequential exporter alone
    pass
else:
    from fastnet.onnx._skl2onnx import register

    register()
