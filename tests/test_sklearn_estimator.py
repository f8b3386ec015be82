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


# ---------------------------------------------------------------------------- beyond scikit-learn, opt-in
def test_class_weight_multiplies_into_the_sample_weights():
    from sklearn.utils.class_weight import compute_sample_weight

    X, y = digits()
    w = np.random.default_rng(0).uniform(0.5, 1.5, len(y))
    params = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for class_weight in ({0: 3.0, 2: 0.5}, "balanced"):
            ours = MLPClassifier(class_weight=class_weight, **params).fit(X, y, sample_weight=w)
            by_hand = MLPClassifier(**params).fit(X, y, sample_weight=w * compute_sample_weight(class_weight, y))
            for a, b in zip(ours.coefs_, by_hand.coefs_):
                assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=np.unique(y))


def test_validation_loss_curve_is_the_training_loss_on_the_held_out_rows():
    """Rebuilt by hand: the same draws as the estimator (initial weights, then the split), and
    the loss with its L2 term on the held-out rows after the one epoch."""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    X, y = digits()
    est = MLPClassifier(hidden_layer_sizes=(8,), random_state=0, max_iter=1, early_stopping=True, alpha=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    rs = np.random.RandomState(0)
    for fan_in, fan_out in ((64, 8), (8, 4)):
        rs.uniform(size=(fan_in, fan_out))
        rs.uniform(size=fan_out)
    onehot = np.eye(4, dtype=bool)[y]
    # not stratified: scikit-learn stratifies only one-output targets, and these are binarized to 4
    _, X_val, _, y_val = train_test_split(X, onehot, random_state=rs, test_size=0.1)
    assert est.validation_scores_[0] == np.mean(est.predict(X_val) == y_val.argmax(axis=1))  # the same rows
    norms = sum(float(np.sum(c * c)) for c in est.coefs_)
    want = log_loss(y_val, est.predict_proba(X_val)) + 0.5 * 0.01 * norms / len(X_val)
    assert len(est.validation_loss_curve_) == len(est.validation_scores_) == 1
    assert est.validation_loss_curve_[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("kind", ["multiclass", "binary", "regression", "poisson"])
def test_to_fastnet_gives_the_same_network(kind, tmp_path):
    import fastnet

    X, y = digits()
    y = {"multiclass": y, "binary": y % 2, "regression": y / 3.0, "poisson": y}[kind]
    cls = MLPClassifier if kind in ("multiclass", "binary") else MLPRegressor
    params = {"loss": "poisson"} if kind == "poisson" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls(hidden_layer_sizes=(8, 5), activation="tanh", random_state=0, max_iter=3, **params).fit(X, y)
    model = est.to_fastnet()
    assert isinstance(model, fastnet.Sequential)
    want = est.predict_proba(X)[:, 1:] if kind == "binary" else (
        est.predict_proba(X) if kind == "multiclass" else est.predict(X)[:, None])
    assert np.allclose(model.predict(X), want, rtol=1e-12, atol=1e-15)
    model.save(tmp_path / "from_sklearn.npz")
    assert np.array_equal(fastnet.load(tmp_path / "from_sklearn.npz").predict(X), model.predict(X))
    assert model.loss == {"multiclass": "cross_entropy", "binary": "binary_cross_entropy"}.get(kind, "mse")


# ---------------------------------------------------------------------------- regressions found in review
def test_parameters_are_scikit_learns_plus_the_classifiers_class_weight():
    for ours, theirs, extra in ((MLPClassifier(), reference.MLPClassifier(), {"class_weight"}),
                                (MLPRegressor(), reference.MLPRegressor(), set())):
        assert set(ours.get_params()) == set(theirs.get_params()) | extra
        assert set(ours._parameter_constraints) == set(ours.get_params())


def test_predict_after_assigning_another_width_raises_instead_of_reading_past_x():
    X, y = digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y.astype(float))
    est.coefs_[0] = np.ones((100_000, 4))
    for given in (X, X.tolist()):
        with pytest.raises(ValueError):
            est.predict(given)


def test_predict_reads_the_activation_of_now_as_scikit_learn_does():
    X, y = digits()
    pair = []
    for module in (reference, sys.modules["fastnet.sklearn"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = module.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y.astype(float))
        est.set_params(activation="tanh")
        pair.append(est)
    theirs, ours = pair
    assert np.allclose(ours.predict(X[:3]), theirs.predict(X[:3]), rtol=1e-12)
    assert np.array_equal(ours.predict(X[:3]), ours.predict(X[:3].tolist()))


@pytest.mark.parametrize("first, then", [(np.float64, np.float32), (np.float32, np.float64)])
def test_partial_fit_with_the_other_float_dtype_keeps_the_coefficients_dtype(first, then):
    X, y = digits()
    y = y.astype(float)
    pair = []
    for module in (reference, sys.modules["fastnet.sklearn"]):
        est = module.MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
        est.partial_fit(X.astype(first), y)
        est.partial_fit(X.astype(then), y)
        pair.append(est)
    theirs, ours = pair
    assert [c.dtype for c in ours.coefs_] == [c.dtype for c in theirs.coefs_] == [np.dtype(first)] * 2
    tol = 1e-9 if first == np.float64 else 1e-4
    for a, b in zip(ours.coefs_, theirs.coefs_):
        assert np.abs(a - b).max() <= tol * np.abs(b).max()


def test_partial_fit_with_a_class_weight_dict_takes_batches_of_some_classes():
    X, y = digits()
    est = MLPClassifier(hidden_layer_sizes=(4,), random_state=0, class_weight={0: 3.0})
    est.partial_fit(X[:20], np.r_[[0] * 10, [1] * 10], classes=[0, 1, 2, 3])
    est.partial_fit(X[20:40], np.ones(20, dtype=int))
    with pytest.raises(ValueError, match=r"class_weight has keys \[7\] that are not classes of y"):
        MLPClassifier(class_weight={7: 2.0}).fit(X, y)


def test_sample_weights_of_zero_are_refused_as_scikit_learn_refuses_them():
    X, y = digits()
    for weights in (0.0, np.zeros(len(y))):
        with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
            MLPClassifier(max_iter=1).fit(X, y, sample_weight=weights)
