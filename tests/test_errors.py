"""Every bad-input path: the right exception, a message naming the argument, the model untouched."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers import BACKEND_IDS, BACKENDS

M = 20  # rows of the standard batch


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def fn(request):
    return request.param


def make_model(fn, loss="mse", dtype="float64", optimizer=None):
    """3 -> 4 -> k with a loss-appropriate head, warmed up so optimiser state and step exist."""
    last, k = {"mse": ("identity", 2), "cross_entropy": ("softmax", 3), "binary_cross_entropy": ("sigmoid", 2)}[loss]
    model = fn.Sequential(
        [fn.Dense(3, 4, activation="tanh", dtype=dtype, seed=1), fn.Dense(4, k, activation=last, dtype=dtype, seed=2)],
        loss=loss,
        optimizer=optimizer or fn.SGD(learning_rate=0.1, momentum=0.9),
        seed=0,
    )
    X, Y = data(loss)
    model.train_step(X, Y)
    return model


def data(loss="mse", m=M):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(m, 3))
    if loss == "cross_entropy":
        Y = rng.integers(0, 3, size=m)
    elif loss == "binary_cross_entropy":
        Y = rng.uniform(size=(m, 2))
    else:
        Y = rng.normal(size=(m, 2))
    return X, Y


def state(model):
    """Everything a rejected call must leave alone."""
    opt = None if model.optimizer_state is None else model.optimizer_state.copy().slots
    return model.get_weights(), opt, model.steps, model._rng.bit_generator.state


def assert_same_state(model, before):
    weights, opt, step, rng = before
    after = model.get_weights()
    assert len(after) == len(weights)
    for a, b in zip(after, weights):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert model.steps == step
    assert model._rng.bit_generator.state == rng
    if opt is None:
        assert model.optimizer_state is None
    else:
        for s_after, s_before in zip(model.optimizer_state.slots, opt):
            assert s_after.keys() == s_before.keys()
            for key in s_after:
                assert s_after[key].tobytes() == s_before[key].tobytes()


def rejects(model, exc, match, call, *args, **kwargs):
    before = state(model)
    with pytest.raises(exc, match=match) as info:
        call(*args, **kwargs)
    assert_same_state(model, before)
    return info


def calls(model, X, Y):
    """The four entry points that take X, as (name, thunk)."""
    return {
        "fit": lambda: model.fit(X, Y, epochs=1, verbose=0),
        "evaluate": lambda: model.evaluate(X, Y),
        "train_step": lambda: model.train_step(X, Y),
        "predict": lambda: model.predict(X),
    }


ENTRY_POINTS = ["fit", "evaluate", "train_step", "predict"]


# ---------------------------------------------------------------------------- X
BAD_X = [
    ("1-D", lambda X: X[:, 0], ValueError, r"X must be 2-D .*reshape\(1, -1\)"),
    ("3-D", lambda X: X[None], ValueError, r"X must be 2-D \(n_samples, 3\), got shape \(1, 20, 3\)"),
    ("scalar", lambda X: 1.0, ValueError, r"X must be 2-D"),
    ("columns", lambda X: np.hstack([X, X[:, :1]]), ValueError, r"X must have 3 columns .*got shape \(20, 4\)"),
    ("complex", lambda X: X.astype(complex), TypeError, r"X must hold real numbers .*complex128"),
    ("object", lambda X: X.astype(object), TypeError, r"X must hold real numbers .*object"),
    ("strings", lambda X: X.astype(str), TypeError, r"X must hold real numbers"),
    ("nan", lambda X: np.where(np.arange(3) == 1, np.nan, X), ValueError,
     r"X must be finite, got nan at index \(0, 1\)"),
    ("inf", lambda X: np.where(np.arange(3) == 2, np.inf, X), ValueError, r"X must be finite, got inf"),
    ("-inf", lambda X: np.where(np.arange(3) == 0, -np.inf, X), ValueError, r"X must be finite, got -inf"),
    ("ragged", lambda X: [[1.0, 2.0, 3.0], [1.0, 2.0]], ValueError, r"X must be a rectangular array"),
    ("none", lambda X: None, TypeError, r"X must hold real numbers"),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X(fn, entry, case):
    _, make_bad, exc, match = case
    model = make_model(fn)
    X, Y = data()
    X_bad = make_bad(X)
    rejects(model, exc, match, calls(model, X_bad, Y)[entry])


@pytest.mark.parametrize("case", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X_dense_forward(fn, case):
    _, make_bad, exc, match = case
    layer = fn.Dense(3, 2, seed=0)
    W = layer.W.copy()
    with pytest.raises(exc, match=match):
        layer.forward(make_bad(data()[0]))
    assert layer.W.tobytes() == W.tobytes()


def test_nan_in_float32_model_after_cast(fn):
    # 1e39 is finite in float64 but overflows float32: the model never sees inf.
    model = make_model(fn, dtype="float32")
    X, Y = data()
    X[3, 1] = 1e39
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cast's overflow is reported, not warned about
        rejects(model, ValueError, r"X must fit in float32, got 1e\+39 at index \(3, 1\)", model.fit, X, Y, verbose=0)


@pytest.mark.parametrize("entry", ["fit", "evaluate", "train_step"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "binary_cross_entropy"])
def test_empty_data_is_rejected(fn, entry, loss):
    model = make_model(fn, loss)
    X, Y = data(loss)
    rejects(model, ValueError, r"X must have at least one row, got shape \(0, 3\)", calls(model, X[:0], Y[:0])[entry])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_rows_predict_and_forward(fn, dtype):
    model = make_model(fn, dtype=dtype)
    before = state(model)
    out = model.predict(np.empty((0, 3)))
    assert out.shape == (0, 2) and out.dtype == np.dtype(dtype)
    out = model.predict(np.empty((0, 3), dtype=np.int64))
    assert out.shape == (0, 2) and out.dtype == np.dtype(dtype)
    assert_same_state(model, before)
    A = model.layers[0].forward(np.empty((0, 3)))
    assert A.shape == (0, 4) and A.dtype == np.dtype(dtype)


def test_zero_row_input_is_still_shape_checked(fn):
    model = make_model(fn)
    rejects(model, ValueError, r"X must have 3 columns", model.predict, np.empty((0, 4)))
    rejects(model, ValueError, r"X must be 2-D", model.predict, [])


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(np.float16),
        lambda X: X.astype(np.float32),
        lambda X: np.round(X * 3).astype(np.int32),
        lambda X: np.round(X * 3).astype(np.int8),
        lambda X: (X > 0).astype(np.uint8),
        lambda X: X > 0,
        lambda X: X.tolist(),
        lambda X: np.asfortranarray(X),
        lambda X: np.repeat(X, 2, axis=0)[::2],
        lambda X: readonly(X),
        lambda X: readonly(np.asfortranarray(X.astype(np.float16))),
    ],
    ids=["float16", "float32", "int32", "int8", "uint8", "bool", "list", "fortran", "strided", "readonly", "ro-f16-F"],
)
def test_accepted_X_kinds(fn, convert):
    model = make_model(fn)
    X, Y = data()
    X_in = convert(X)
    want = model.predict(np.asarray(X_in, dtype=np.float64))
    got = model.predict(X_in)
    assert got.dtype == np.float64 and got.tobytes() == want.tobytes()
    assert model.evaluate(X_in, Y) == model.evaluate(np.asarray(X_in, dtype=np.float64), Y)
    assert model.layers[0].forward(X_in).shape == (M, 4)
    model.fit(X_in, Y, epochs=1, verbose=0)
    if isinstance(X_in, np.ndarray) and not X_in.flags.writeable:
        assert not X_in.flags.writeable


def readonly(X):
    X = X.copy()
    X.setflags(write=False)
    return X


# ---------------------------------------------------------------------------- Y
BAD_Y_MSE = [
    ("rows", lambda Y: Y[:-1], ValueError, r"Y must have 20 rows .*got shape \(19, 2\)"),
    ("scalar", lambda Y: 1.0, ValueError, r"Y must have 20 rows"),
    ("columns", lambda Y: Y[:, :1], ValueError, r"Y must have shape \(20, 2\) for loss='mse', got shape \(20, 1\)"),
    ("1-D for k=2", lambda Y: Y[:, 0], ValueError, r"Y must have shape \(20, 2\)"),
    ("3-D", lambda Y: Y[:, :, None], ValueError, r"Y must have shape \(20, 2\)"),
    ("nan", lambda Y: np.where(Y > 1, np.nan, Y), ValueError, r"Y must be finite, got nan"),
    ("inf", lambda Y: np.where(Y > 1, np.inf, Y), ValueError, r"Y must be finite, got inf"),
    ("complex", lambda Y: Y + 0j, TypeError, r"Y must hold real numbers .*complex"),
    ("object", lambda Y: Y.astype(object), TypeError, r"Y must hold real numbers .*object"),
    ("strings", lambda Y: Y.astype(str), TypeError, r"Y must hold real numbers"),
    ("ragged", lambda Y: [[1.0, 2.0]] * 19 + [[1.0]], ValueError, r"Y must be a rectangular array"),
]


@pytest.mark.parametrize("entry", ["fit", "evaluate", "train_step"])
@pytest.mark.parametrize("case", BAD_Y_MSE, ids=[c[0] for c in BAD_Y_MSE])
def test_bad_Y_mse(fn, entry, case):
    _, make_bad, exc, match = case
    model = make_model(fn)
    X, Y = data()
    rejects(model, exc, match, calls(model, X, make_bad(Y))[entry])


def test_mse_one_unit_accepts_1d_targets(fn):
    model = fn.Sequential([fn.Dense(3, 1, activation="identity", seed=0)], loss="mse")
    X, Y = data()
    assert model.evaluate(X, Y[:, 0]) == model.evaluate(X, Y[:, :1])


BAD_Y_CE = [
    ("id too big", lambda Y: np.where(np.arange(M) == 5, 3, Y), ValueError,
     r"Y class ids must lie in \[0, 3\) .*got values in \[0, 3\]"),
    ("id negative", lambda Y: np.where(np.arange(M) == 5, -1, Y), ValueError, r"Y class ids must lie in \[0, 3\)"),
    ("id 1.5", lambda Y: np.where(np.arange(M) == 5, 1.5, Y), ValueError,
     r"Y class ids must be whole numbers, got non-integer values such as 1.5"),
    ("id nan", lambda Y: np.where(np.arange(M) == 5, np.nan, Y), ValueError, r"Y must be finite"),
    ("id inf", lambda Y: np.where(np.arange(M) == 5, np.inf, Y), ValueError, r"Y must be finite"),
    ("id float too big", lambda Y: np.where(np.arange(M) == 5, 7.0, Y), ValueError,
     r"Y class ids must lie in \[0, 3\)"),
    ("bool ids", lambda Y: Y > 0, TypeError, r"Y class ids must be integers, got dtype bool"),
    ("rows", lambda Y: Y[:-2], ValueError, r"Y must have 20 rows"),
    ("prob columns", lambda Y: np.eye(3)[Y][:, :2], ValueError,
     r"Y must have shape \(20,\) class ids or \(20, 3\) for loss='cross_entropy'"),
    ("prob rows sum", lambda Y: np.eye(3)[Y] * 0.5, ValueError, r"Y rows must be probabilities summing to 1"),
    ("prob negative", lambda Y: np.eye(3)[Y] * 2 - 0.5, ValueError, r"Y must lie in \[0, 1\] for loss='cross_entropy'"),
    ("prob nan", lambda Y: np.where(np.eye(3)[Y] == 1, np.nan, 0.0), ValueError, r"Y must be finite"),
    ("complex", lambda Y: Y + 0j, TypeError, r"Y must hold real numbers"),
    ("strings", lambda Y: Y.astype(str), TypeError, r"Y must hold real numbers"),
]


@pytest.mark.parametrize("entry", ["fit", "evaluate", "train_step"])
@pytest.mark.parametrize("case", BAD_Y_CE, ids=[c[0] for c in BAD_Y_CE])
def test_bad_Y_cross_entropy(fn, entry, case):
    _, make_bad, exc, match = case
    model = make_model(fn, "cross_entropy")
    X, Y = data("cross_entropy")
    rejects(model, exc, match, calls(model, X, make_bad(Y))[entry])


@pytest.mark.parametrize(
    "convert",
    [lambda y: y.astype(np.float64), lambda y: y.astype(np.float32), lambda y: y.astype(np.int8),
     lambda y: y.astype(np.uint16), lambda y: y.tolist(), lambda y: np.eye(3)[y], lambda y: np.eye(3)[y].tolist()],
    ids=["float64", "float32", "int8", "uint16", "list", "one-hot", "one-hot-list"],
)
def test_accepted_class_ids(fn, convert):
    model = make_model(fn, "cross_entropy")
    X, y = data("cross_entropy")
    want = model.evaluate(X, y)
    got = model.evaluate(X, convert(y))
    assert got.keys() == want.keys()
    assert got["accuracy"] == want["accuracy"]
    assert abs(got["loss"] - want["loss"]) <= 1e-12 * abs(want["loss"])


BAD_Y_BCE = [
    ("above 1", lambda Y: np.where(Y > 0.9, 1.5, Y), r"Y must lie in \[0, 1\] for loss='binary_cross_entropy'"),
    ("below 0", lambda Y: np.where(Y < 0.1, -0.1, Y), r"Y must lie in \[0, 1\] for loss='binary_cross_entropy'"),
    ("nan", lambda Y: np.where(Y < 0.1, np.nan, Y), r"Y must be finite"),
    ("columns", lambda Y: Y[:, :1], r"Y must have shape \(20, 2\) for loss='binary_cross_entropy'"),
]


@pytest.mark.parametrize("entry", ["fit", "evaluate", "train_step"])
@pytest.mark.parametrize("case", BAD_Y_BCE, ids=[c[0] for c in BAD_Y_BCE])
def test_bad_Y_bce(fn, entry, case):
    _, make_bad, match = case
    model = make_model(fn, "binary_cross_entropy")
    X, Y = data("binary_cross_entropy")
    rejects(model, ValueError, match, calls(model, X, make_bad(Y))[entry])


def test_bce_accepts_bool_and_int_targets(fn):
    model = make_model(fn, "binary_cross_entropy")
    X, Y = data("binary_cross_entropy")
    hard = Y > 0.5
    assert model.evaluate(X, hard) == model.evaluate(X, hard.astype(np.int64)) == model.evaluate(X, hard * 1.0)


# ---------------------------------------------------------------------------- validation_data
BAD_VALIDATION = [
    ("nan X", lambda X, Y: (np.where(X > 1, np.nan, X), Y), ValueError, r"validation_data\[0\] must be finite"),
    ("inf Y", lambda X, Y: (X, np.where(Y > 1, np.inf, Y)), ValueError, r"validation_data\[1\] must be finite"),
    ("columns", lambda X, Y: (X[:, :2], Y), ValueError, r"validation_data\[0\] must have 3 columns"),
    ("rows", lambda X, Y: (X, Y[:5]), ValueError, r"validation_data\[1\] must have 20 rows"),
    ("empty", lambda X, Y: (X[:0], Y[:0]), ValueError, r"validation_data\[0\] must have at least one row"),
    ("complex", lambda X, Y: (X + 0j, Y), TypeError, r"validation_data\[0\] must hold real numbers"),
    ("not a pair", lambda X, Y: (X, Y, Y), TypeError, r"validation_data must be a tuple \(X_val, Y_val\)"),
    ("array", lambda X, Y: X, TypeError, r"validation_data must be a tuple"),
]


@pytest.mark.parametrize("case", BAD_VALIDATION, ids=[c[0] for c in BAD_VALIDATION])
def test_bad_validation_data(fn, case):
    _, make_bad, exc, match = case
    model = make_model(fn)
    X, Y = data()
    rejects(model, exc, match, model.fit, X, Y, verbose=0, validation_data=make_bad(X, Y))


def test_bad_validation_labels(fn):
    model = make_model(fn, "cross_entropy")
    X, y = data("cross_entropy")
    rejects(model, ValueError, r"validation_data\[1\] class ids must lie in \[0, 3\)", model.fit, X, y, verbose=0,
            validation_data=(X, y + 1))


# ---------------------------------------------------------------------------- fit arguments
BAD_FIT_ARGS = [
    ({"epochs": -1}, ValueError, r"epochs must be an integer >= 0, got -1"),
    ({"epochs": 1.5}, TypeError, r"epochs must be an integer >= 0, got float 1.5"),
    ({"epochs": "3"}, TypeError, r"epochs must be an integer"),
    ({"epochs": True}, TypeError, r"epochs must be an integer"),
    ({"batch_size": 0}, ValueError, r"batch_size must be an integer >= 1, got 0"),
    ({"batch_size": -4}, ValueError, r"batch_size must be an integer >= 1"),
    ({"batch_size": 8.0}, TypeError, r"batch_size must be an integer"),
    ({"batch_size": None}, TypeError, r"batch_size must be an integer"),
    ({"verbose": 3}, ValueError, r"verbose must be 0, 1 or 2, got 3"),
    ({"verbose": -1}, ValueError, r"verbose must be 0, 1 or 2"),
    ({"verbose": True}, ValueError, r"verbose must be 0, 1 or 2, got True"),
    ({"verbose": "loud"}, ValueError, r"verbose must be 0, 1 or 2"),
    ({"shuffle": "yes"}, TypeError, r"shuffle must be True or False, got 'yes'"),
    ({"shuffle": 1}, TypeError, r"shuffle must be True or False"),
    ({"callbacks": [object()]}, TypeError, r"callbacks\[0\] must have on_train_begin/on_epoch_end/on_train_end"),
    ({"callbacks": "EarlyStopping"}, TypeError, r"callbacks\[0\] must have"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD_FIT_ARGS, ids=[str(c[0]) for c in BAD_FIT_ARGS])
def test_bad_fit_arguments(fn, kwargs, exc, match):
    model = make_model(fn)
    X, Y = data()
    kwargs = {"verbose": 0, **kwargs}
    rejects(model, exc, match, model.fit, X, Y, **kwargs)


@pytest.mark.parametrize("monitor", ["val_loss", "val_mae", "accuracy", "lossy"])
def test_early_stopping_on_a_log_fit_will_not_produce(fn, monitor):
    # Rejected before the first epoch, so the model is not trained by the call.
    model = make_model(fn)
    X, Y = data()
    callback = fn.EarlyStopping(monitor=monitor)
    rejects(model, ValueError, rf"EarlyStopping\(monitor='{monitor}'\)", model.fit, X, Y, epochs=2, verbose=0,
            callbacks=[callback])


def test_early_stopping_on_validation_logs_is_fine_with_validation_data(fn):
    model = make_model(fn)
    X, Y = data()
    history = model.fit(X, Y, epochs=2, verbose=0, validation_data=(X, Y), callbacks=[fn.EarlyStopping("val_mae")])
    assert history.epoch == [0, 1]


# ---------------------------------------------------------------------------- hyperparameters
BAD_OPTIMIZERS = [
    ("SGD", {"learning_rate": 0}, ValueError, r"learning_rate must be finite, > 0.0; got 0.0"),
    ("SGD", {"learning_rate": -0.1}, ValueError, r"learning_rate must be finite, > 0.0; got -0.1"),
    ("SGD", {"learning_rate": float("nan")}, ValueError, r"learning_rate must be finite"),
    ("SGD", {"learning_rate": float("inf")}, ValueError, r"learning_rate must be finite"),
    ("SGD", {"learning_rate": "0.1"}, TypeError, r"learning_rate must be a real number, got str"),
    ("SGD", {"learning_rate": None}, TypeError, r"learning_rate must be a real number"),
    ("SGD", {"momentum": -0.1}, ValueError, r"momentum must be finite, >= 0.0 and < 1.0; got -0.1"),
    ("SGD", {"momentum": 1.0}, ValueError, r"momentum must be finite, >= 0.0 and < 1.0; got 1.0"),
    ("SGD", {"momentum": 1.5}, ValueError, r"momentum must be"),
    ("SGD", {"momentum": True}, TypeError, r"momentum must be a real number"),
    ("SGD", {"nesterov": True}, ValueError, r"nesterov=True needs momentum > 0"),
    ("SGD", {"nesterov": "yes", "momentum": 0.9}, TypeError, r"nesterov must be True or False"),
    ("Adam", {"learning_rate": 0.0}, ValueError, r"learning_rate must be finite, > 0.0"),
    ("Adam", {"beta1": -0.5}, ValueError, r"beta1 must be finite, >= 0.0 and < 1.0; got -0.5"),
    ("Adam", {"beta1": 1.0}, ValueError, r"beta1 must be finite, >= 0.0 and < 1.0; got 1.0"),
    ("Adam", {"beta2": 1.0}, ValueError, r"beta2 must be finite, >= 0.0 and < 1.0; got 1.0"),
    ("Adam", {"beta2": float("nan")}, ValueError, r"beta2 must be finite"),
    ("Adam", {"eps": 0.0}, ValueError, r"eps must be finite, > 0.0; got 0.0"),
    ("Adam", {"eps": -1e-8}, ValueError, r"eps must be finite, > 0.0"),
    ("Adam", {"eps": "tiny"}, TypeError, r"eps must be a real number"),
]


@pytest.mark.parametrize("name, kwargs, exc, match", BAD_OPTIMIZERS, ids=[f"{c[0]}{c[1]}" for c in BAD_OPTIMIZERS])
def test_bad_optimizer_hyperparameters(fn, name, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        getattr(fn, name)(**kwargs)


def test_edge_hyperparameters_are_accepted(fn):
    fn.SGD(learning_rate=1e-300, momentum=0.0)
    fn.SGD(momentum=0.999999, nesterov=True)
    fn.Adam(beta1=0.0, beta2=0.0, eps=1e-300)


def test_optimizers_are_frozen(fn):
    opt = fn.SGD(0.1)
    with pytest.raises(AttributeError):
        opt.learning_rate = -1.0
    assert opt.learning_rate == 0.1


BAD_DENSE = [
    ({"n_in": 0}, ValueError, r"n_in must be an integer >= 1, got 0"),
    ({"n_in": 2.5}, TypeError, r"n_in must be an integer >= 1, got float 2.5"),
    ({"n_out": -1}, ValueError, r"n_out must be an integer >= 1, got -1"),
    ({"n_out": True}, TypeError, r"n_out must be an integer"),
    ({"activation": "bogus"}, ValueError, r"activation must be one of identity, relu, .*got 'bogus'"),
    ({"activation": 3}, TypeError, r"activation must be one of"),
    ({"activation": None}, TypeError, r"activation must be one of"),
    ({"init": "bogus"}, ValueError, r"init must be one of he, xavier, glorot, lecun, got 'bogus'"),
    ({"init": None}, ValueError, r"init must be one of"),
    ({"l2": -0.1}, ValueError, r"l2 must be a finite number >= 0.0, got -0.1"),
    ({"l2": float("nan")}, ValueError, r"l2 must be a finite number"),
    ({"l2": float("inf")}, ValueError, r"l2 must be a finite number"),
    ({"l2": "0.1"}, TypeError, r"l2 must be a real number"),
    ({"dtype": "float16"}, ValueError, r"dtype must be 'float32' or 'float64', got 'float16'"),
    ({"dtype": "int32"}, ValueError, r"dtype must be 'float32' or 'float64', got 'int32'"),
    ({"dtype": np.complex128}, ValueError, r"dtype must be 'float32' or 'float64'"),
    ({"dtype": "nonsense"}, TypeError, r"dtype must be 'float32' or 'float64', got 'nonsense'"),
    ({"seed": -1}, ValueError, r"seed must be an integer >= 0, got -1"),
    ({"seed": 1.5}, TypeError, r"seed must be an integer"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD_DENSE, ids=[str(c[0]) for c in BAD_DENSE])
def test_bad_dense_arguments(fn, kwargs, exc, match):
    args = {"n_in": 3, "n_out": 2, **kwargs}
    with pytest.raises(exc, match=match):
        fn.Dense(**args)


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float64"), "f8"])
def test_dense_dtype_spellings(fn, dtype):
    assert fn.Dense(3, 2, dtype=dtype).W.dtype == np.dtype(dtype)


def test_bad_sequential_arguments(fn):
    D = fn.Dense
    with pytest.raises(ValueError, match=r"loss must be one of mse, cross_entropy, binary_cross_entropy, got 'bogus'"):
        fn.Sequential([D(3, 2)], loss="bogus")
    with pytest.raises(TypeError, match=r"loss must be one of"):
        fn.Sequential([D(3, 2)], loss=None)
    with pytest.raises(TypeError, match=r"optimizer must be fastnet.SGD\(...\) or fastnet.Adam\(...\), got 'sgd'"):
        fn.Sequential([D(3, 2)], optimizer="sgd")
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0, got -3"):
        fn.Sequential([D(3, 2)], seed=-3)
    with pytest.raises(ValueError, match=r"layers must hold at least one Dense layer"):
        fn.Sequential([])
    with pytest.raises(TypeError, match=r"layers must be a list of Dense layers, got int"):
        fn.Sequential(3)
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Dense layer, got str"):
        fn.Sequential([D(3, 2), "relu"])
    with pytest.raises(ValueError, match=r"layers\[0\] has n_out=4 but layers\[1\] has n_in=5"):
        fn.Sequential([D(3, 4), D(5, 2)])
    with pytest.raises(ValueError, match=r"layers\[1\] has n_out=2 but layers\[2\] has n_in=3"):
        fn.Sequential([D(3, 4), D(4, 2), D(3, 2)])
    with pytest.raises(ValueError, match=r"one dtype: layers\[0\] is float64, layers\[1\] is float32"):
        fn.Sequential([D(3, 4), D(4, 2, dtype="float32")])
    with pytest.raises(ValueError, match=r"softmax is allowed only in the last layer, found in layers\[0\]"):
        fn.Sequential([D(3, 4, activation="softmax"), D(4, 2)])
    layer = D(3, 3)
    with pytest.raises(ValueError, match=r"layers must be distinct"):
        fn.Sequential([layer, layer])


PAIRINGS = [
    ("cross_entropy", "sigmoid", 3, r"loss='cross_entropy' needs a softmax last layer, got activation='sigmoid'"),
    ("cross_entropy", "identity", 3, r"loss='cross_entropy' needs a softmax last layer"),
    ("cross_entropy", "softmax", 1, r"loss='cross_entropy' needs at least 2 output units, got 1"),
    ("binary_cross_entropy", "softmax", 2, r"loss='binary_cross_entropy' needs a sigmoid last layer, got .*'softmax'"),
    ("binary_cross_entropy", "relu", 1, r"loss='binary_cross_entropy' needs a sigmoid last layer"),
]


@pytest.mark.parametrize("loss, last, units, match", PAIRINGS)
def test_loss_paired_with_wrong_last_layer(fn, loss, last, units, match):
    with pytest.raises(ValueError, match=match):
        fn.Sequential([fn.Dense(3, 4), fn.Dense(4, units, activation=last)], loss=loss)


@pytest.mark.parametrize("last", ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softmax"])
def test_mse_takes_any_last_activation(fn, last):
    fn.Sequential([fn.Dense(3, 2, activation=last)], loss="mse")


def test_bad_early_stopping_arguments(fn):
    with pytest.raises(ValueError, match=r"patience must be an integer >= 0, got -1"):
        fn.EarlyStopping(patience=-1)
    with pytest.raises(TypeError, match=r"patience must be an integer"):
        fn.EarlyStopping(patience=2.5)
    with pytest.raises(ValueError, match=r"min_delta must be a finite number >= 0.0, got -0.5"):
        fn.EarlyStopping(min_delta=-0.5)
    with pytest.raises(TypeError, match=r"monitor must be a log key"):
        fn.EarlyStopping(monitor=3)


def test_bad_gradcheck_eps(fn):
    model = make_model(fn)
    X, Y = data()
    for eps in (0.0, -1e-6, float("nan")):
        rejects(model, ValueError, r"eps must be", fn.gradcheck, model, X, Y, eps=eps)
    rejects(model, ValueError, r"X must be finite", fn.gradcheck, model, np.full((2, 3), np.nan), Y[:2])


# ---------------------------------------------------------------------------- parameters, backward
@pytest.mark.parametrize(
    "name, value, exc, match",
    [
        ("W", np.zeros((4, 3)), ValueError, r"W must have shape \(3, 4\), got \(4, 3\)"),
        ("W", np.zeros(12), ValueError, r"W must have shape \(3, 4\), got \(12,\)"),
        ("W", np.full((3, 4), np.nan), ValueError, r"W must be finite"),
        ("W", np.zeros((3, 4), complex), TypeError, r"W must hold real numbers"),
        ("W", [[1, 2, 3, 4]] * 2 + [[1]], ValueError, r"W must be a rectangular array"),
        ("b", np.zeros(3), ValueError, r"b must have shape \(4,\), got \(3,\)"),
        ("b", np.array([1.0, np.inf, 0, 0]), ValueError, r"b must be finite"),
        ("b", np.array(["a"] * 4), TypeError, r"b must hold real numbers"),
    ],
)
def test_bad_parameter_assignment(fn, name, value, exc, match):
    model = make_model(fn)
    layer = model.layers[0]
    param = getattr(layer, name)
    rejects(model, exc, match, setattr, layer, name, value)
    assert getattr(layer, name) is param  # still the same array, not replaced


def test_parameter_assignment_copies_and_casts(fn):
    layer = fn.Dense(3, 4, dtype="float32", seed=0)
    W = layer.W
    source = np.arange(12, dtype=np.int64).reshape(3, 4)
    layer.W = source
    assert layer.W is W and layer.W.dtype == np.float32 and layer.W.flags.c_contiguous
    source[0, 0] = 99
    assert layer.W[0, 0] == 0
    layer.W[...] = 5  # in-place writes go straight through
    assert (layer.W == 5).all()


def test_bad_set_weights(fn):
    model = make_model(fn)
    weights = model.get_weights()
    rejects(model, ValueError, r"weights must hold 4 arrays \(W and b per layer\), got 3", model.set_weights,
            weights[:3])
    bad = [w.copy() for w in weights]
    bad[2] = bad[2].T
    rejects(model, ValueError, r"weights\[2\] \(W\) must have shape \(4, 2\)", model.set_weights, bad)
    bad = [w.copy() for w in weights]
    bad[3][0] = np.nan
    # the first three arrays are valid: nothing may be assigned before the fourth is checked
    bad[0] = bad[0] + 1
    rejects(model, ValueError, r"weights\[3\] \(b\) must be finite", model.set_weights, bad)


def test_bad_backward(fn):
    layer = fn.Dense(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"backward needs a forward call first"):
        layer.backward(np.ones((4, 2)))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dA must have the shape of the last forward output \(4, 2\), got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dA must be finite"):
        layer.backward(np.full((4, 2), np.nan))
    with pytest.raises(TypeError, match=r"dA must hold real numbers"):
        layer.backward(np.ones((4, 2), complex))


# ---------------------------------------------------------------------------- NN (seed 002)
def test_bad_nn_arguments(fn):
    with pytest.raises(ValueError, match=r"dimensions must list at least 2 widths"):
        fn.NN([64], [], "mse", fn.SGD())
    with pytest.raises(ValueError, match=r"dimensions\[1\] must be an integer >= 1, got 0"):
        fn.NN([64, 0, 10], [fn.ReLU, fn.Sigmoid], fn.MSE, fn.SGD())
    with pytest.raises(ValueError, match=r"activations must have one entry per layer, len\(dimensions\) - 1 = 2, got"):
        fn.NN([4, 5, 2], [fn.ReLU], fn.MSE, fn.SGD())
    with pytest.raises(ValueError, match=r"activation must be one of"):
        fn.NN([4, 5, 2], [fn.ReLU, "swish"], fn.MSE, fn.SGD())
    with pytest.raises(ValueError, match=r"loss must be one of"):
        fn.NN([4, 2], [fn.Sigmoid], "hinge", fn.SGD())
    net = fn.NN([3, 4, 2], [fn.ReLU, fn.Identity], fn.MSE, fn.SGD())
    X, Y = data()
    weights = net.model.get_weights()
    for kwargs, exc, match in [
        ({"epochs": -1}, ValueError, r"epochs must be an integer >= 0"),
        ({"batch_size": 0}, ValueError, r"batch_size must be an integer >= 1"),
        ({"print_every": 0}, ValueError, r"print_every must be an integer >= 1"),
        ({"print_every": 2.5}, TypeError, r"print_every must be an integer"),
    ]:
        with pytest.raises(exc, match=match):
            net.fit(X, Y, **{"epochs": 1, "batch_size": 4, **kwargs})
    with pytest.raises(ValueError, match=r"y must be finite"):
        net.fit(X, np.full_like(Y, np.nan), epochs=1, batch_size=4)
    with pytest.raises(ValueError, match=r"X must have 3 columns"):
        net.predict(np.ones((2, 5)))
    for a, b in zip(weights, net.model.get_weights()):
        assert a.tobytes() == b.tobytes()
