"""JAX on the CPU: a jitted step called per batch, and ``jax.lax.scan`` over a whole epoch (float64 enabled)."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import numpy as np
from workloads import THREADS, Trainer, Workload, data, initial_params, one_sample

if THREADS == 1:  # XLA's CPU client uses every core unless told otherwise (read at first use)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)  # the digits workload is float64
ACTIVATIONS = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "identity": lambda z: z}


def _forward(acts: tuple[str, ...], params: Any, x: Any) -> Any:
    for (W, b), act in zip(params, acts):
        x = ACTIVATIONS[act](x @ W + b)
    return x


def _params(w: Workload) -> list[tuple[Any, Any]]:
    return [(jnp.asarray(W), jnp.asarray(b)) for W, b in initial_params(w.name)]


def _step_fn(w: Workload) -> Any:
    def loss(params: Any, x: Any, y: Any) -> Any:
        return jnp.mean((_forward(w.activations, params, x) - y) ** 2)

    def step(params: Any, x: Any, y: Any) -> Any:
        grads = jax.grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - w.lr * g, params, grads)

    return step


def train_jit(w: Workload) -> Trainer:
    """A jitted step (gather inside) called from a Python loop over the shuffled batches."""
    step = _step_fn(w)
    jstep = jax.jit(lambda p, X, Y, rows: step(p, X[rows], Y[rows]), donate_argnums=0)
    X, Y = (jnp.asarray(a) for a in data(w.name))
    state = {"params": _params(w)}
    rng = np.random.default_rng(0)

    def epoch() -> None:
        order = rng.permutation(w.n_samples)
        params = state["params"]
        for start in range(0, w.n_samples, w.batch):
            params = jstep(params, X, Y, order[start : start + w.batch])
        state["params"] = jax.block_until_ready(params)

    return Trainer(epoch, w.n_steps, lambda: _finite(state["params"]))


def train_scan(w: Workload) -> Trainer:
    """One jitted call per epoch: ``lax.scan`` over the full batches, then the last partial batch if any."""
    step = _step_fn(w)

    @partial(jax.jit, donate_argnums=0)
    def epoch_fn(params: Any, X: Any, Y: Any, batches: Any, rest: Any) -> Any:
        params, _ = jax.lax.scan(lambda p, rows: (step(p, X[rows], Y[rows]), None), params, batches)
        return step(params, X[rest], Y[rest]) if rest.shape[0] else params

    X, Y = (jnp.asarray(a) for a in data(w.name))
    state = {"params": _params(w)}
    rng = np.random.default_rng(0)
    n_full = w.n_samples // w.batch * w.batch

    def epoch() -> None:
        order = rng.permutation(w.n_samples)
        batches = order[:n_full].reshape(-1, w.batch)
        state["params"] = jax.block_until_ready(epoch_fn(state["params"], X, Y, batches, order[n_full:]))

    return Trainer(epoch, w.n_steps, lambda: _finite(state["params"]))


def _finite(params: Any) -> bool:
    return all(bool(jnp.isfinite(W).all()) for W, _ in params)


def predictor(w: Workload) -> Any:
    """A jitted forward; NumPy in, NumPy out."""
    forward = jax.jit(partial(_forward, w.activations))
    params, x = _params(w), one_sample(w.name)
    return lambda: np.asarray(forward(params, x))
