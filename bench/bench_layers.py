"""Hand-written training loops and the layer calls they make, on the digits network: group ``hand-loop``
(time per step, measured over whole epochs) and groups ``dense-forward`` and ``dense-backward`` (one call
on the first layer, a 16-row batch), each against the same math in plain NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from contenders import HAND_LOOP, LAYER_CALLS
from timing import per_step
from workloads import THREADS, WORKLOADS, contender_id

WORKLOAD = "digits"


@pytest.mark.parametrize("contender", list(HAND_LOOP), ids=contender_id)
def test_hand_loop(benchmark: Any, contender: str) -> None:
    spec, w = HAND_LOOP[contender], WORKLOADS[WORKLOAD]
    trainer = spec.make(w)
    benchmark.group = "hand-loop"
    described = f"hand-written loop: forward, MSE gradient, backward, 4 updates; {w.describe()}"
    benchmark.extra_info.update(contender=contender, workload=described, threads=THREADS)
    trainer.epoch()  # warm-up
    benchmark(trainer.epoch)
    per_step(benchmark, trainer.steps)
    assert trainer.finite(), f"{contender} diverged: its times would be of NaN arithmetic"


@pytest.mark.parametrize("contender", list(LAYER_CALLS), ids=contender_id)
@pytest.mark.parametrize("call", ["forward", "backward"])
def test_layer_call(benchmark: Any, call: str, contender: str) -> None:
    spec, w = LAYER_CALLS[contender], WORKLOADS[WORKLOAD]
    run = spec.make(w)[call]
    benchmark.group = f"dense-{call}"
    n_in, n_out = w.sizes[:2]
    described = f"Dense({n_in}, {n_out}, {w.activations[0]}).{call} of a {w.batch}-row batch, {w.dtype}"
    benchmark.extra_info.update(contender=contender, workload=described, threads=THREADS)
    run()  # warm-up
    out = benchmark(run)
    assert all(np.isfinite(a).all() for a in (out if isinstance(out, tuple) else (out,)))
