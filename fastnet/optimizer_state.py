"""The optimiser state a model owns: per-parameter slots and the step count.

Optimisers (fastnet/optimizers.py) are configuration only; their state lives in the model,
is saved with it and continues across ``fit`` calls. It is read and written only through
``OptimizerStateOwner``'s methods, which ``Sequential`` inherits (io and the engine call them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


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

    def prepare_optimizer_state(self) -> OptimizerState:
        """The state of the current optimiser, created (zeros, step 0) when missing or of another kind."""
        kind = self.optimizer.kind
        state = self._optimizer_state
        if state is None or state.kind != kind:
            slots = [{slot: np.zeros_like(p) for slot in self.optimizer.slots} for p, _ in self._parameters()]
            state = self._optimizer_state = OptimizerState(kind, slots)
        return state

    def set_optimizer_state(self, state: OptimizerState | None) -> None:
        """Replace the optimiser state (None forgets it); ValueError unless it fits the parameters."""
        if state is not None:
            params = self._parameters()
            if len(state.slots) != len(params):
                raise ValueError(f"optimizer state has {len(state.slots)} slot sets, expected {len(params)}")
            for slots, (param, _) in zip(state.slots, params):
                if any(a.shape != param.shape or a.dtype != param.dtype for a in slots.values()):
                    raise ValueError("optimizer state arrays must match their parameters' shapes and dtype")
        self._optimizer_state = state

    def count_steps(self, steps: int) -> None:
        """Record ``steps`` optimiser steps taken on the current state."""
        self.prepare_optimizer_state().step += steps
