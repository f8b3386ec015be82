"""Who runs each benchmark: contender name -> (modules it needs, factory "module:function", keyword arguments).

Factories take a ``Workload``; training and hand-loop ones return a ``Trainer``, inference ones a no-argument
callable, layer-call ones ``{"forward": callable, "backward": callable}``.
Peer modules are imported only when their benchmark runs, so a missing peer skips cleanly.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from workloads import Workload


@dataclass(frozen=True)
class Contender:
    requires: tuple[str, ...]  # importable modules (pytest.importorskip)
    factory: str  # "peer_module:function"
    kwargs: dict[str, Any] = field(default_factory=dict)

    def make(self, w: Workload) -> Any:
        module, name = self.factory.split(":")
        return getattr(importlib.import_module(module), name)(w, **self.kwargs)


GEMM = "GEMMs alone"  # the limit, not a peer
FASTNET = "fastnet"

TRAIN: dict[str, Contender] = {
    FASTNET: Contender((), "peer_fastnet:train_fit"),
    "fastnet train_step loop": Contender((), "peer_fastnet:train_steps"),
    "fastnet.reference": Contender((), "peer_fastnet:train_fit", {"module": "fastnet.reference"}),
    "seed-002 NumPy NN": Contender((), "peer_seed002:train"),
    "PyTorch": Contender(("torch",), "peer_torch:train"),
    "JAX jit step": Contender(("jax",), "peer_jax:train_jit"),
    "JAX lax.scan epoch": Contender(("jax",), "peer_jax:train_scan"),
    "scikit-learn MLP": Contender(("sklearn",), "peer_sklearn:train"),
    GEMM: Contender((), "peer_gemm:train"),
}

INFER: dict[str, Contender] = {
    FASTNET: Contender((), "peer_fastnet:predictor"),
    "fastnet.reference": Contender((), "peer_fastnet:predictor", {"module": "fastnet.reference"}),
    "seed-002 NumPy NN": Contender((), "peer_seed002:predictor"),
    "PyTorch": Contender(("torch",), "peer_torch:predictor"),
    "JAX jit": Contender(("jax",), "peer_jax:predictor"),
    "scikit-learn MLP": Contender(("sklearn",), "peer_sklearn:predictor"),
    "ONNX Runtime": Contender(("onnxruntime", "onnx"), "peer_onnx:predictor"),
    GEMM: Contender((), "peer_gemm:predictor"),
}

# Hand-written loops over the layers (bench/bench_layers.py): the digits network only
HAND_LOOP: dict[str, Contender] = {
    FASTNET: Contender((), "peer_handloop:fastnet_loop"),
    "fastnet.reference": Contender((), "peer_handloop:fastnet_loop", {"module": "fastnet.reference"}),
    "lean NumPy loop": Contender((), "peer_handloop:numpy_loop"),
}

# Dense.forward and Dense.backward of the first layer: factories return {"forward": call, "backward": call}
LAYER_CALLS: dict[str, Contender] = {
    FASTNET: Contender((), "peer_handloop:layer_calls"),
    "fastnet.reference": Contender((), "peer_handloop:layer_calls", {"module": "fastnet.reference"}),
    "NumPy expression": Contender((), "peer_handloop:numpy_calls"),
}
