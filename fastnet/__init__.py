"""fastnet: dense neural networks on the CPU, fast, with a NumPy-simple API.

``import fastnet as fn`` gives the compiled backend; ``import fastnet.reference
as fn`` gives the same classes computed by plain NumPy (the oracle). Swapping
one for the other changes nothing but speed.
"""

from typing import Any

from fastnet._public import *  # noqa: F403 (the shared names)
from fastnet._public import __all__ as _shared
from fastnet._version import __version__

_COMPILED_NAMES = ("Dense", "Sequential", "NN", "load", "ops")
__all__ = [*_shared, *_COMPILED_NAMES, "__version__"]


def __getattr__(name: str) -> Any:
    # The compiled backend loads on first use, so ``fastnet.reference`` never needs it.
    if name in _COMPILED_NAMES:
        from fastnet import _compiled

        return getattr(_compiled, name)
    raise AttributeError(f"module 'fastnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the public names (what ``from fastnet import *`` gives), not the submodules and helpers
    return sorted(__all__)
