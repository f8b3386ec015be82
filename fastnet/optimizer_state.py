"""The optimiser state a model owns: per-parameter slots and the step count.

Optimisers (fastnet/optimizers.py) are configuration only; their state lives in the model,
is saved with it and continues across ``fit`` calls. It is read and written only through
``OptimizerStateOwner``'s methods, which ``Sequential`` inherits (io and the engine call them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fastnet._codes import OPTIMIZER_SLOTS


@dataclass
class OptimizerState:
    """An optimiser's state, owned by the model: per-parameter slots and the step count.

    ``kind`` names the optimiser class (``"SGD"``, ``"Adam"``); ``slots`` has one dict per
    parameter in ``get_weights`` order (W0, b0, W1, ...), mapping the optimiser's slot names
    (``optimizer.slots``) to arrays of the parameter's shape and dtype; ``step`` counts the
    optimiser steps taken (Adam's t).
    """

    kind: str
    slots: list[dict[str, np.ndarray]]
    step: int = 0

    def copy(self) -> OptimizerState:
        """A deep copy (the arrays too)."""
        return OptimizerState(self.kind, [{k: v.copy() for k, v in s.items()} for s in self.slots], self.step)


def check_state(state: Any, params: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """TypeError/ValueError unless ``state`` fits ``params`` (see ``set_optimizer_state``)."""
    if not isinstance(state, OptimizerState):
        raise TypeError(f"state must be an OptimizerState or None, got {type(state).__name__}")
    if state.kind not in OPTIMIZER_SLOTS:
        raise ValueError(f"optimizer state kind must be one of {list(OPTIMIZER_SLOTS)}, got {state.kind!r}")
    if isinstance(state.step, bool) or not isinstance(state.step, int) or state.step < 0:
        raise ValueError(f"optimizer state step must be an integer >= 0, got {state.step!r}")
    if len(state.slots) != len(params):
        raise ValueError(f"optimizer state has {len(state.slots)} slot sets, expected {len(params)}")
    names = set(OPTIMIZER_SLOTS[state.kind])
    for i, (slots, (param, _)) in enumerate(zip(state.slots, params)):
        if not isinstance(slots, dict) or set(slots) != names:
            raise ValueError(f"optimizer state slots[{i}] must hold exactly {sorted(names)} for {state.kind}")
        for name, array in slots.items():
            if not isinstance(array, np.ndarray) or array.shape != param.shape or array.dtype != param.dtype \
                    or not array.flags.c_contiguous or not array.flags.writeable:
                raise ValueError(
                    f"optimizer state slots[{i}][{name!r}] must be a writeable C-contiguous {param.dtype} array "
                    f"of shape {param.shape}"
                )


class OptimizerStateOwner:
    """The optimiser-state half of ``Sequential``: it needs ``optimizer`` and ``_parameters()``."""

    _optimizer_state: OptimizerState | None
    optimizer: Any

    def _parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    @property
    def optimizer_state(self) -> OptimizerState | None:
        """The optimiser state (None before the first training step); may be of an optimiser
        replaced since, in which case the next step starts a fresh one."""
        return self._optimizer_state

    @property
    def steps(self) -> int:
        """Optimiser steps taken by the current optimiser state (0 without one)."""
        return 0 if self._optimizer_state is None else self._optimizer_state.step

    def current_optimizer_state(self) -> OptimizerState | None:
        """The state if it belongs to the current optimiser's kind, else None (a replaced optimiser's
        state is neither saved nor trained on: the next step starts a fresh one)."""
        state = self._optimizer_state
        return state if state is not None and state.kind == self.optimizer.kind else None

    def prepare_optimizer_state(self) -> OptimizerState:
        """The state of the current optimiser, created (zeros, step 0) when missing or of another kind."""
        state = self.current_optimizer_state()
        if state is None:
            slots = [{slot: np.zeros_like(p) for slot in self.optimizer.slots} for p, _ in self._parameters()]
            state = self._optimizer_state = OptimizerState(self.optimizer.kind, slots)
        return state

    def set_optimizer_state(self, state: OptimizerState | None) -> None:
        """Replace the optimiser state (None forgets it); TypeError/ValueError unless it is an
        ``OptimizerState`` of a known kind with exactly that kind's slots, each a C-contiguous array
        of its parameter's shape and dtype, and a step count that is an integer >= 0."""
        if state is not None:
            check_state(state, self._parameters())
        self._optimizer_state = state

    def count_steps(self, steps: int) -> None:
        """Record ``steps`` optimiser steps taken on the current state."""
        self.prepare_optimizer_state().step += steps
