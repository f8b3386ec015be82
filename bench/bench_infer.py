"""Inference groups ``infer-<workload>``: ``predict`` of one sample on each workload's network, warm-up excluded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from contenders import INFER
from workloads import THREADS, WORKLOADS, contender_id


@pytest.mark.parametrize("contender", list(INFER), ids=contender_id)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_infer(benchmark: Any, workload: str, contender: str) -> None:
    spec, w = INFER[contender], WORKLOADS[workload]
    for module in spec.requires:
        pytest.importorskip(module)
    predict = spec.make(w)
    benchmark.group = f"infer-{workload}"
    described = f"1-sample predict, {w.describe(training=False)}"
    benchmark.extra_info.update(contender=contender, workload=described, threads=THREADS)
    predict()  # warm-up
    out = np.asarray(benchmark(predict))
    assert out.shape == (1, w.sizes[-1]) and np.isfinite(out).all()
