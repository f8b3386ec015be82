"""Shared by the fastnet.sklearn tests: fitted estimators compared attribute by attribute."""

import numpy as np


def relative(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-300))


def assert_same_fit(ours, theirs, X, tol):
    """Every fitted attribute scikit-learn defines, and the predictions."""
    for name in ("n_iter_", "n_layers_", "n_outputs_", "out_activation_", "n_features_in_", "t_"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name
    for got, want in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert relative(got, want) <= tol
    assert relative(ours.loss_, theirs.loss_) <= tol
    for name in ("loss_curve_", "validation_scores_"):
        want = getattr(theirs, name, None)
        if want is None:
            assert getattr(ours, name, None) is None, name
        else:
            assert len(getattr(ours, name)) == len(want) and relative(getattr(ours, name), want) <= tol, name
    for name in ("best_loss_", "best_validation_score_"):
        want = getattr(theirs, name, None)
        assert (getattr(ours, name, None) is None) == (want is None), name
        if want is not None:
            assert relative(getattr(ours, name), want) <= tol, name
    if hasattr(theirs, "classes_"):
        assert np.array_equal(ours.classes_, theirs.classes_)
        assert np.array_equal(ours.predict(X), theirs.predict(X))
        assert relative(ours.predict_proba(X), theirs.predict_proba(X)) <= tol
    else:
        assert relative(ours.predict(X), theirs.predict(X)) <= tol
