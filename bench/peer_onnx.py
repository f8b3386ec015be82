"""ONNX Runtime (inference only): the network exported by fastnet.onnx, CPU provider, THREADS intra-op threads."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
import peer_fastnet
from workloads import THREADS, Workload, one_sample

from fastnet.onnx import to_onnx


def model_bytes(w: Workload) -> bytes:
    """The workload's network (shared initial weights) as fastnet exports it, batch dimension free."""
    return to_onnx(peer_fastnet.model(w, "fastnet")).SerializeToString()


def predictor(w: Workload) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
    session = ort.InferenceSession(model_bytes(w), options, providers=["CPUExecutionProvider"])
    output, x = session.get_outputs()[0].name, one_sample(w.name)

    def predict() -> np.ndarray:
        return session.run([output], {"X": x})[0]

    return predict
