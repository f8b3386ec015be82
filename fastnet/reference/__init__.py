"""fastnet.reference: the same API as ``fastnet``, computed by plain NumPy ops.

It is the golden oracle: the compiled backend is tested against it. Nothing in
this package imports compiled code.
"""

from fastnet._backend import bind
from fastnet._public import *  # noqa: F403 (the shared names)
from fastnet._public import __all__ as _shared
from fastnet.reference import ops

_api = bind(ops, __name__)
Dense = _api.Dense
Sequential = _api.Sequential
NN = _api.NN
load = _api.load

__all__ = [*_shared, "Dense", "Sequential", "NN", "load", "ops"]


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names, not the binding helpers
