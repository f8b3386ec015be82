"""Sample and class weights: the loss Σ wᵢ·lossᵢ / Σ wᵢ in the ops (both backends, against a
by-hand reduction of per-row losses, against repeated rows and against PyTorch's
``reduction="none"``), in whole weighted training runs (compiled against reference), and the
checks ``Sequential`` applies to what users pass."""

import numpy as np
import pytest

import fastnet
import fastnet.reference
from fastnet import _train

from helpers import (
    BACKEND_IDS,
    BACKENDS,
    KERNEL_TOL,
    TRAINING_TOL,
    assert_close,
    batch_for,
    rejects,
    require,
    trained_model,
)

compiled, reference = fastnet.ops, fastnet.reference.ops
DTYPES = [np.float64, np.float32]
LOSSES = ["mse", "cross_entropy", "cross_entropy_ids", "binary_cross_entropy"]
SKLEARN_LOSSES = ["sk_squared_error", "sk_log_loss", "sk_binary_log_loss", "sk_poisson"]
LAST_ACTIVATION = {"mse": "tanh", "binary_cross_entropy": "sigmoid", "sk_squared_error": "identity",
                   "sk_binary_log_loss": "sigmoid", "sk_poisson": "exp"}  # the others: softmax


def loss_case(loss, m, k, dtype, seed=0):
    """(loss name, Z, A, Y) with A = the loss's last activation of Z."""
    rng = np.random.default_rng(seed)
    Z = (rng.standard_normal((m, k)) * 3).astype(dtype)
    A = np.empty_like(Z)
    last = LAST_ACTIVATION.get(loss, "softmax")
    reference.dense_forward(Z, np.eye(k, dtype=dtype), np.zeros(k, dtype), last, Z.copy(), A)
    if loss == "cross_entropy_ids":
        return "cross_entropy", Z, A, rng.integers(0, k, size=m).astype(np.intp)
    if loss in ("cross_entropy", "sk_log_loss"):
        return loss, Z, A, rng.dirichlet(np.ones(k), size=m).astype(dtype)
    if loss == "sk_poisson":
        return loss, Z, A, rng.poisson(2.0, size=(m, k)).astype(dtype)
    return loss, Z, A, rng.uniform(size=(m, k)).astype(dtype)


def loss_and_grad(ops, loss, Z, A, Y, weights=None):
    d_out = np.empty_like(A)
    return ops.loss_grad(loss, Z, A, Y, d_out, weights), d_out


def per_row_losses(loss, Z, A, Y):
    """Each row's unweighted loss, from the unweighted op on that row alone."""
    return np.array([loss_and_grad(reference, loss, Z[i:i + 1], A[i:i + 1], Y[i:i + 1])[0] for i in range(len(Z))])


# ---------------------------------------------------------------------------- the op
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LOSSES + SKLEARN_LOSSES)
@pytest.mark.parametrize("m, k", [(1, 2), (7, 3), (64, 10)])
def test_weighted_loss_is_the_weighted_mean_of_row_losses(case, dtype, m, k):
    loss, Z, A, Y = loss_case(case, m, k, dtype)
    w = np.random.default_rng(1).uniform(0, 3, size=m).astype(dtype)
    w[0] = 0  # a row that does not count
    if m == 1:
        w[0] = 0.5
    want = float(w.astype(np.float64) @ per_row_losses(loss, Z, A, Y) / w.astype(np.float64).sum())
    tol = KERNEL_TOL[dtype]
    for ops in (reference, compiled):
        value, grad = loss_and_grad(ops, loss, Z, A, Y, w)
        assert_close(value, want, tol, abs(want), what=f"{ops.__name__} loss")
    (c_value, c_grad), (r_value, r_grad) = (loss_and_grad(ops, loss, Z, A, Y, w) for ops in (compiled, reference))
    assert_close(c_grad, r_grad, tol, what="gradient")
    if m > 1:
        assert not c_grad[0].any() and not r_grad[0].any()  # weight 0: no gradient from that row


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LOSSES + SKLEARN_LOSSES)
def test_integer_weights_equal_repeated_rows(case, dtype):
    """Weight 3 counts a row three times: loss and summed gradients of repeated rows."""
    loss, Z, A, Y = loss_case(case, 6, 4, dtype)
    counts = np.array([1, 3, 0, 2, 1, 1])
    rows = np.repeat(np.arange(6), counts)
    tol = KERNEL_TOL[dtype]
    for ops in (reference, compiled):
        value, grad = loss_and_grad(ops, loss, Z, A, Y, counts.astype(dtype))
        want_value, want_rows = loss_and_grad(ops, loss, Z[rows], A[rows], Y[rows])
        want_grad = np.zeros_like(grad)
        np.add.at(want_grad, rows, want_rows)
        assert_close(value, want_value, tol, abs(want_value))
        assert_close(grad, want_grad, tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LOSSES + SKLEARN_LOSSES)
def test_unit_weights_equal_no_weights(case, dtype):
    loss, Z, A, Y = loss_case(case, 9, 3, dtype)
    for ops in (reference, compiled):
        value, grad = loss_and_grad(ops, loss, Z, A, Y, np.ones(9, dtype))
        want_value, want_grad = loss_and_grad(ops, loss, Z, A, Y)
        assert_close(value, want_value, KERNEL_TOL[dtype], abs(want_value))
        assert_close(grad, want_grad, KERNEL_TOL[dtype])


@pytest.mark.parametrize("case", LOSSES + SKLEARN_LOSSES)
def test_weights_summing_to_zero_give_no_loss_and_no_gradient(case):
    loss, Z, A, Y = loss_case(case, 5, 3, np.float64)
    for w in (np.zeros(5), np.array([1.0, -1.0, 0.0, 2.0, -2.0])):
        for ops in (reference, compiled):
            value, grad = loss_and_grad(ops, loss, Z, A, Y, w)
            assert value == 0.0 and not grad.any()


def test_compiled_op_refuses_weights_of_the_wrong_shape():
    loss, Z, A, Y = loss_case("mse", 5, 3, np.float64)
    with pytest.raises(ValueError, match=r"weights must have shape \(5,\)"):
        compiled.loss_grad(loss, Z, A, Y, np.empty_like(A), np.ones(4))


@pytest.mark.parametrize("case", LOSSES)
def test_weighted_losses_match_pytorch(case):
    """PyTorch's per-sample losses (reduction="none"), weighted and averaged by hand, and their
    gradients through autograd."""
    torch = require("torch")
    F = torch.nn.functional
    loss, Z, A, Y = loss_case(case, 11, 4, np.float64)
    w = np.random.default_rng(2).uniform(0, 2, size=11)
    z = torch.tensor(Z, requires_grad=True)
    if loss == "mse":
        a = torch.tanh(z)
        per_row = F.mse_loss(a, torch.tensor(Y), reduction="none").mean(dim=1)
    elif loss == "cross_entropy":
        per_row = F.cross_entropy(z, torch.tensor(Y), reduction="none")
    else:
        per_row = F.binary_cross_entropy_with_logits(z, torch.tensor(Y), reduction="none").mean(dim=1)
    tw = torch.tensor(w)
    value = (tw * per_row).sum() / tw.sum()
    value.backward()
    got_value, d_out = loss_and_grad(compiled, loss, Z, A, Y, w)
    if loss == "mse":  # the op gives dA; PyTorch's gradient is w.r.t. Z through tanh
        d_out = d_out * (1 - A * A)
    assert_close(got_value, value.item(), 1e-12, abs(value.item()))
    assert_close(d_out, z.grad.numpy(), 1e-12)


# ---------------------------------------------------------------------------- whole runs
HEADS = {
    "mse": ("tanh", 3, lambda rng, m: rng.normal(size=(m, 3))),
    "cross_entropy": ("softmax", 3, lambda rng, m: rng.integers(0, 3, size=m)),
    "binary_cross_entropy": ("sigmoid", 1, lambda rng, m: (rng.uniform(size=(m, 1)) > 0.5).astype(float)),
}
OPTIMIZERS = {"sgd": lambda fn: fn.SGD(0.1), "momentum": lambda fn: fn.SGD(0.05, momentum=0.9),
              "adam": lambda fn: fn.Adam(0.01)}


def weighted_model(fn, head, optimizer, dtype, l2=0.01):
    last, k, _ = HEADS[head]
    layers = [fn.Dense(6, 9, "relu", l2=l2, dtype=dtype, seed=1), fn.Dense(9, k, last, l2=l2, dtype=dtype, seed=2)]
    return fn.Sequential(layers, loss=head, optimizer=OPTIMIZERS[optimizer](fn), seed=11)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("head", list(HEADS))
def test_weighted_fit_matches_reference(head, optimizer, dtype):
    """Weighted fits over several epochs, shuffled, with a validation set weighted too: the same
    weights, histories and step counts in both backends. Some batches weigh nothing (no step)."""
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(50, 6)), HEADS[head][2](rng, 50)
    w = rng.uniform(0, 2, size=50)
    w[rng.permutation(50)[:15]] = 0  # a third of the rows do not count
    X_val, Y_val, w_val = rng.normal(size=(9, 6)), HEADS[head][2](rng, 9), rng.uniform(0, 1, size=9)
    tol = TRAINING_TOL[np.dtype(dtype).type]
    models, histories = [], []
    for fn in (fastnet, fastnet.reference):
        model = weighted_model(fn, head, optimizer, dtype)
        histories.append(model.fit(X, Y, epochs=4, batch_size=4, verbose=0, sample_weight=w,
                                   validation_data=(X_val, Y_val, w_val)).history)
        models.append(model)
    assert models[0].steps == models[1].steps
    for got, want in zip(models[0].get_weights(), models[1].get_weights()):
        assert_close(got, want, tol)
    for key in histories[1]:
        assert_close(np.array(histories[0][key]), np.array(histories[1][key]), tol, what=key)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_batches_of_no_weight_take_no_step(fn):
    X, Y = batch_for("mse", m=8)
    model = weighted_model(fn, "mse", "adam", "float64")
    X = np.hstack([X, X])  # the model takes 6 inputs
    w = np.array([0, 0, 0, 0, 1, 1, 1, 1.0])
    Y3 = np.hstack([Y, Y[:, :1]])
    model.fit(X, Y3, epochs=1, batch_size=4, shuffle=False, verbose=0, sample_weight=w)
    assert model.steps == 1  # the first batch weighs nothing
    twin = weighted_model(fn, "mse", "adam", "float64")
    second_batch_loss = twin.train_step(X[4:], Y3[4:])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    # the epoch's loss is the second batch's: the first adds nothing
    assert model.history.history["loss"][0] == pytest.approx(second_batch_loss, rel=1e-14)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_weighted_step_equals_a_step_on_repeated_rows(fn):
    X, Y = batch_for("cross_entropy", m=6)
    counts = np.array([2, 1, 0, 3, 1, 1])
    weighted, repeated = trained_model(fn, "cross_entropy"), trained_model(fn, "cross_entropy")
    loss = weighted.train_step(X, Y, sample_weight=counts)
    rows = np.repeat(np.arange(6), counts)
    assert loss == pytest.approx(repeated.train_step(X[rows], Y[rows]), rel=1e-12)
    for a, b in zip(weighted.get_weights(), repeated.get_weights()):
        assert_close(a, b, 1e-12)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_evaluate_weighs_rows_and_chunks_alike(fn):
    """Over several of evaluate's chunks (8192 rows each) the weighted loss and metric are the
    weighted means of the per-row values."""
    model = trained_model(fn, "cross_entropy")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20000, 3)), rng.integers(0, 3, size=20000)
    w = rng.uniform(0, 2, size=20000)
    got = model.evaluate(X, Y, sample_weight=w)
    P = model.predict(X)
    per_row = -np.log(P[np.arange(len(Y)), Y])
    assert got["loss"] == pytest.approx(w @ per_row / w.sum(), rel=1e-10)
    assert got["accuracy"] == pytest.approx(w @ (P.argmax(axis=1) == Y) / w.sum(), rel=1e-12)


def test_engine_takes_any_finite_weights():
    """The engine (what the scikit-learn estimators build on) takes zero and negative weights;
    its step equals the reference's op-by-op step on the same weights."""
    X, Y = batch_for("mse", m=10)
    w = np.linspace(-1, 2, 10)
    models = [trained_model(fn, "mse") for fn in BACKENDS]
    stretch = _train.train(models[0]._training_engine(), X, Y, weights=w, order=None, batch_size=10, first=0,
                           last=1, step=models[0].steps, seconds=np.inf)
    models[0].count_steps(stretch.steps)
    models[1]._train_step(X, Y, w)  # past Sequential's checks, as the engine is
    for a, b in zip(*(m.get_weights() for m in models)):
        assert_close(a, b, 1e-12)


# ---------------------------------------------------------------------------- class weights
@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_class_weight_multiplies_into_sample_weight(fn):
    X, Y = batch_for("cross_entropy", m=20)
    w = np.random.default_rng(1).uniform(0.5, 1.5, size=20)
    class_weight = {0: 2.0, 2: 0.5}
    a, b = trained_model(fn, "cross_entropy"), trained_model(fn, "cross_entropy")
    by_class = a.train_step(X, Y, sample_weight=w, class_weight=class_weight)
    by_hand = b.train_step(X, Y, sample_weight=w * np.array([2.0, 1.0, 0.5])[Y])
    assert by_class == by_hand
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))
    # one-hot rows name the same classes as ids
    assert a.evaluate(X, np.eye(3)[Y], class_weight=class_weight) == a.evaluate(X, Y, class_weight=class_weight)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_balanced_class_weight_is_scikit_learns_rule(fn):
    """n_samples / (n_classes · count of each class), classes as present in the targets."""
    X, _ = batch_for("cross_entropy", m=12)
    Y = np.array([0] * 6 + [1] * 4 + [2] * 2)
    balanced = 12 / (3 * np.array([6, 4, 2]))
    a, b = trained_model(fn, "cross_entropy"), trained_model(fn, "cross_entropy")
    a.fit(X, Y, epochs=2, batch_size=5, verbose=0, class_weight="balanced")
    b.fit(X, Y, epochs=2, batch_size=5, verbose=0, sample_weight=balanced[Y])
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_class_weight_for_one_binary_output(fn):
    layers = [fn.Dense(3, 4, "tanh", seed=1), fn.Dense(4, 1, "sigmoid", seed=2)]
    X, _ = batch_for("mse", m=10)
    Y = (X[:, 0] > 0).astype(float)
    a = fn.Sequential(layers, loss="binary_cross_entropy", seed=0)
    got = a.evaluate(X, Y, class_weight={1: 3.0})
    want = a.evaluate(X, Y, sample_weight=np.where(Y == 1, 3.0, 1.0))
    assert got == want


# ---------------------------------------------------------------------------- what users pass
BAD_WEIGHTS = [
    ("negative", lambda m: -np.ones(m), {}, ValueError, r"sample_weight must be non-negative, got -1.0 at index 0"),
    ("nan", lambda m: np.r_[np.ones(m - 1), np.nan], {}, ValueError, r"sample_weight must be finite, got nan"),
    ("all zero", lambda m: np.zeros(m), {}, ValueError, r"sample_weight must not be all zero"),
    ("length", lambda m: np.ones(m + 1), {}, ValueError, r"sample_weight must have shape \(20,\)"),
    ("2-D", lambda m: np.ones((m, 1)), {}, ValueError, r"sample_weight must have shape \(20,\)"),
    ("strings", lambda m: ["a"] * m, {}, TypeError, r"sample_weight must hold real numbers"),
    ("class key", lambda m: None, {"class_weight": {3: 1.0}}, ValueError, r"class_weight has class 3, outside"),
    ("class key type", lambda m: None, {"class_weight": {"a": 1.0}}, TypeError, r"class_weight keys must be class ids"),
    ("class value", lambda m: None, {"class_weight": {0: -1.0}}, ValueError, r"class_weight\[0\] must be finite"),
    ("class kind", lambda m: None, {"class_weight": "even"}, TypeError, r"class_weight must be None, a dict"),
    ("all zero after classes", lambda m: None, {"class_weight": {0: 0, 1: 0, 2: 0}}, ValueError,
     r"the weights of class_weight must not be all zero"),
    ("all zero with weights", lambda m: np.ones(m), {"class_weight": {0: 0, 1: 0, 2: 0}}, ValueError,
     r"sample_weight × class_weight must not be all zero"),
]


@pytest.mark.parametrize("call", ["fit", "train_step", "evaluate"])
@pytest.mark.parametrize("case", BAD_WEIGHTS, ids=[c[0] for c in BAD_WEIGHTS])
@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_bad_weights_are_named_and_change_nothing(fn, case, call):
    _, make, extra, exc, match = case
    model = trained_model(fn, "cross_entropy")
    X, Y = batch_for("cross_entropy")
    kwargs = dict(extra, sample_weight=make(len(X)))
    if call == "fit":
        kwargs["verbose"] = 0
    rejects(model, exc, match, getattr(model, call), X, Y, **kwargs)


@pytest.mark.parametrize("loss", ["mse", "binary_cross_entropy"])
@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_class_weight_needs_one_class_per_row(fn, loss):
    model = trained_model(fn, loss)
    X, Y = batch_for(loss)
    rejects(model, ValueError, r"class_weight needs one class per row", model.train_step, X, Y,
            class_weight="balanced")


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_weights_from_lists_ints_and_pandas(fn):
    pd = require("pandas")
    X, Y = batch_for("mse")
    model = trained_model(fn, "mse", dtype="float32")
    want = model.evaluate(X, Y, sample_weight=np.arange(1.0, 21.0))
    for given in (list(range(1, 21)), np.arange(1, 21), pd.Series(np.arange(1, 21), dtype="Int64")):
        assert model.evaluate(X, Y, sample_weight=given) == want
