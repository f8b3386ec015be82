"""Training groups ``digits``, ``mlp784``, ``wide``: time per step, measured over whole epochs, warm-up excluded."""

from __future__ import annotations

from typing import Any

import pytest
from contenders import TRAIN
from timing import per_step
from workloads import THREADS, WORKLOADS, contender_id


@pytest.mark.parametrize("contender", list(TRAIN), ids=contender_id)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_train(benchmark: Any, workload: str, contender: str) -> None:
    spec, w = TRAIN[contender], WORKLOADS[workload]
    for module in spec.requires:
        pytest.importorskip(module)
    trainer = spec.make(w)
    benchmark.group = workload
    benchmark.extra_info.update(contender=contender, workload=w.describe(), threads=THREADS)
    trainer.epoch()  # warm-up: compilation, workspaces, caches
    benchmark(trainer.epoch)
    per_step(benchmark, trainer.steps)
    assert trainer.finite(), f"{contender} diverged on {workload}: its times would be of NaN arithmetic"
