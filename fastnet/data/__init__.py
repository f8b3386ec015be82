"""Small data sets shipped with fastnet (no download at run time).

``digits.csv.gz``: the UCI ML hand-written digits data set (E. Alpaydin and
C. Kaynak, 1998; 1797 8×8 images, pixels 0..16, last column the label), as
redistributed with scikit-learn (BSD-3-Clause). UCI licence: CC BY 4.0.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: X is ``(1797, 64)`` float64 pixels in 0..16, y the digit labels ``(1797,)`` int64."""
    with resources.files(__name__).joinpath("digits.csv.gz").open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",")
    return table[:, :-1], table[:, -1].astype(np.int64)


def train_test_split(*arrays: np.ndarray, test_size: float = 0.3, random_state: int = 42) -> list[np.ndarray]:
    """The same split as scikit-learn's ``train_test_split(..., test_size, random_state)``.

    Returns ``[a_train, a_test, b_train, b_test, ...]``; it draws
    ``RandomState(random_state).permutation(n)`` and takes the first
    ``ceil(test_size·n)`` rows as the test set, exactly as ShuffleSplit does.
    """
    n = arrays[0].shape[0]
    n_test = int(np.ceil(test_size * n))
    order = np.random.RandomState(random_state).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return [part for a in arrays for part in (a[train], a[test])]
