"""The public API bound to the compiled ops (``fastnet._ops``)."""

from fastnet._backend import bind

try:
    from fastnet import _ops as ops
except ImportError as exc:  # the bare source tree without a build
    raise ImportError(
        "fastnet's compiled core is not built. Install with `pip install .` (or `pip install -e .` "
        "for development); fastnet.reference works without it."
    ) from exc

from fastnet._layer_fast import FastDense  # noqa: E402 (after the build check)
from fastnet.engine import EngineMixin  # noqa: E402

_api = bind(ops, "fastnet", engine=EngineMixin, fast_layer=FastDense)
Dense = _api.Dense
Sequential = _api.Sequential
NN = _api.NN
load = _api.load
