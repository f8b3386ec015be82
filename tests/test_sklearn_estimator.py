"""fastnet.sklearn as an estimator: scikit-learn's common checks, copies and pickles, model
selection tools, and the behaviours a drop-in must keep (labels, feature names, partial_fit
availability, optional dependency)."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

from helpers import require

sklearn = require("sklearn")
import joblib  # noqa: E402  (scikit-learn's dependency)
from sklearn import neural_network as reference  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from fastnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
def test_scikit_learn_common_checks(estimator, check):
    """Every check of check_estimator, configured as scikit-learn configures its own MLP."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


@pytest.mark.parametrize("estimator", [MLPClassifier(max_iter=100, solver="lbfgs"),
                                       MLPRegressor(max_iter=100, solver="sgd", tol=1e-2, random_state=42)],
                         ids=["classifier lbfgs", "regressor sgd"])
def test_sample_weight_equivalence_as_scikit_learn_checks_it(estimator):
    """The per-estimator parameters scikit-learn's own common tests give this check."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)


def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=4, return_X_y=True)
    return X[:300] / 16.0, y[:300]


def test_pickles_and_memory_maps_continue_training_identically(tmp_path):
    X, y = digits()
    est = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.partial_fit(X, y, classes=np.unique(y))
    copies = [pickle.loads(pickle.dumps(est))]
    joblib.dump(est, tmp_path / "est.joblib")
    copies.append(joblib.load(tmp_path / "est.joblib", mmap_mode="r"))  # arrays read-only
    for other in copies:
        assert np.array_equal(other.predict_proba(X), est.predict_proba(X))
    est.partial_fit(X, y)
    for other in copies:
        other.partial_fit(X, y)
        for a, b in zip(other.coefs_ + other.intercepts_, est.coefs_ + est.intercepts_):
            assert np.array_equal(a, b)


def test_clone_pipeline_search_and_cross_validation_agree_with_scikit_learn():
    X, y = digits()
    params = dict(hidden_layer_sizes=(16,), random_state=0, max_iter=20)
    results = []
    for module in (reference, sys.modules["fastnet.sklearn"]):
        pipe = make_pipeline(StandardScaler(), module.MLPClassifier(**params))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = cross_validate(pipe, X, y, cv=3)["test_score"]
            search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3).fit(X, y)
        results.append((scores, search.cv_results_["mean_test_score"], search.best_params_))
    (theirs_cv, theirs_grid, theirs_best), (ours_cv, ours_grid, ours_best) = results
    assert np.array_equal(ours_cv, theirs_cv) and np.array_equal(ours_grid, theirs_grid)
    assert ours_best == theirs_best
    est = MLPClassifier(**params)
    assert clone(est).get_params() == est.get_params()


def test_labels_and_feature_names_as_scikit_learn_keeps_them():
    pd = require("pandas")
    X, y = digits()
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    labels = pd.Series(pd.Categorical(np.array(["zero", "one", "two", "three"])[y]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(frame, labels)
        theirs = reference.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(frame, labels)
    assert list(est.feature_names_in_) == list(frame.columns)
    assert np.array_equal(est.classes_, theirs.classes_)
    assert np.array_equal(est.predict(frame), theirs.predict(frame))
    assert est.score(frame, labels) == theirs.score(frame, labels)


def test_partial_fit_is_where_scikit_learn_has_it():
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        MLPClassifier(solver="lbfgs").partial_fit  # noqa: B018
    assert "partial_fit is only available for stochastic optimizers" in str(info.value.__cause__)
    assert hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")  # a whole L-BFGS run, as scikit-learn's


def test_importing_fastnet_never_imports_scikit_learn():
    code = "import sys, fastnet, fastnet.reference; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_common_predict_call_gives_what_the_validated_path_gives():
    """The C-checked path of plain arrays against the full path (lists go through scikit-learn's
    validation): the same outputs, scikit-learn's error for NaN, assigned coefficients honoured."""
    X, y = digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=5).fit(X, y)
        reg = MLPRegressor(hidden_layer_sizes=(16,), random_state=0, max_iter=5).fit(X, y.astype(float))
    for rows in (X[:1], X[:7], np.vstack([X] * 4)):
        assert np.array_equal(est.predict(rows), est.predict(rows.tolist()))
        assert np.array_equal(est.predict_proba(rows), est.predict_proba(rows.tolist()))
        assert np.array_equal(reg.predict(rows), reg.predict(rows.tolist()))
    bad = X[:2].copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(bad)
    before = est.predict_proba(X[:3])
    est.coefs_ = [2 * c for c in est.coefs_]
    assert not np.array_equal(est.predict_proba(X[:3]), before)
    hidden = np.maximum(X[:3] @ est.coefs_[0] + est.intercepts_[0], 0)
    logits = hidden @ est.coefs_[1] + est.intercepts_[1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert np.allclose(est.predict_proba(X[:3]), expected / expected.sum(axis=1, keepdims=True), rtol=1e-12)
