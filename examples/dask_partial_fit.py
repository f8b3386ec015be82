"""Training on data bigger than memory: ``partial_fit`` over the blocks of a Dask array.

The data here are generated lazily by dask (a stand-in for files read block by block): a block of
rows exists only while the network trains on it, so memory holds one block, never the whole array.
Each epoch computes the blocks one at a time and gives each to ``partial_fit``, which makes one
pass over it; the result is the model that ``partial_fit`` over the same blocks in memory trains.

Run: ``pip install -e ".[examples,dask]" && python examples/dask_partial_fit.py``. Prints the
size of the data and of one block, the held-out accuracy after each epoch, and the time.
"""

from __future__ import annotations

import time
from typing import Any

import dask
import dask.array as da

from fastnet.sklearn import MLPClassifier


def lazy_data(rows: int, features: int, block_rows: int, seed: int = 0) -> tuple[da.Array, da.Array]:
    """X, standard normal ``(rows, features)`` in blocks of ``block_rows`` rows, and labels 0, 1, 2:
    which of the first three features is largest. Nothing is computed yet."""
    X = da.random.default_rng(seed).standard_normal((rows, features), chunks=(block_rows, features))
    return X, X[:, :3].argmax(axis=1)


def partial_fit_blocks(estimator: Any, X: da.Array, y: da.Array, classes: Any = None, epochs: int = 1) -> Any:
    """``epochs`` passes of ``estimator.partial_fit`` over the row blocks of X and y, in order, each
    block computed only when its turn comes (X and y together: y's graph reuses X's block). A
    classifier needs ``classes`` (every label), which the first call passes on."""
    X = X.rechunk({1: -1})  # whole rows in each block
    y = y.rechunk((X.chunks[0],))
    first = classes is not None
    for _ in range(epochs):
        for i in range(X.numblocks[0]):
            X_block, y_block = dask.compute(X.blocks[i], y.blocks[i])
            if first:
                estimator.partial_fit(X_block, y_block, classes=classes)
                first = False
            else:
                estimator.partial_fit(X_block, y_block)
    return estimator


def main(rows: int = 1_000_000, features: int = 20, block_rows: int = 50_000, epochs: int = 3,
         verbose: bool = True) -> float:
    """Train ``MLPClassifier(hidden_layer_sizes=(32,))`` on ``rows`` lazily generated rows and return
    its accuracy on 10 % more rows it never saw."""
    X, y = lazy_data(rows, features, block_rows)
    X_test, y_test = lazy_data(max(rows // 10, 1), features, block_rows, seed=1)
    if verbose:
        print(f"{rows} rows x {features} features: {X.nbytes / 1e6:.0f} MB of float64, never held at once; "
              f"blocks of {block_rows} rows, {X.blocks[0].nbytes / 1e6:.0f} MB each")
    est = MLPClassifier(hidden_layer_sizes=(32,), random_state=0)
    start = time.perf_counter()
    for epoch in range(epochs):
        partial_fit_blocks(est, X, y, classes=[0, 1, 2] if epoch == 0 else None)
        predicted = X_test.map_blocks(est.predict, drop_axis=1, dtype=y_test.dtype)  # block by block, too
        accuracy = float((predicted == y_test).mean().compute())
        if verbose:
            print(f"epoch {epoch + 1}: held-out accuracy {accuracy:.4f} ({time.perf_counter() - start:.1f} s)")
    return accuracy


if __name__ == "__main__":
    main()
