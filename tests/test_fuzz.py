"""Fuzzing the public API: any input either raises a clear ValueError/TypeError naming the
argument (the model unchanged), or gives the reference's result. Never a crash."""

import warnings

import numpy as np
from hypothesis import event, given
from hypothesis import strategies as st

import fastnet
import fastnet.reference

from helpers import KERNEL_TOL, TRAINING_TOL, normwise_error

SPECIALS = [0.0, -0.0, 1.0, -2.5, 5e-324, 1e-310, 1e300, -1e300, np.nan, np.inf, -np.inf]
KINDS = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex128", "object", "str"]
LAYOUTS = ["C", "F", "reversed", "strided", "read-only", "list"]
N_IN, N_OUT = 3, 2


@st.composite
def arrays(draw, width):
    """An array-like of a random kind, shape (often the right width), layout and values."""
    ndim = draw(st.sampled_from([2] * 6 + [1, 0, 3]))
    rows = draw(st.integers(0, 5))
    cols = draw(st.sampled_from([width, width, width, width + 1, 1]))
    shape = {0: (), 1: (rows,), 2: (rows, cols), 3: (rows, cols, 2)}[ndim]
    size = int(np.prod(shape))
    normal = st.floats(-4, 4, allow_nan=False)
    special = st.sampled_from(SPECIALS) if draw(st.booleans()) else normal  # half the arrays are all normal
    values = draw(st.lists(st.one_of(normal, special), min_size=size, max_size=size))
    kind = draw(st.sampled_from(KINDS[:2] * 4 + KINDS))  # mostly floats, every kind sometimes
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        base = np.array(values, dtype=np.float64).reshape(shape)
        if kind == "str":
            array = base.astype(str)
        elif kind == "object":
            array = base.astype(object)
        elif kind in ("int64", "int8", "uint8"):
            array = np.nan_to_num(base, posinf=9, neginf=-9).clip(-100, 100).astype(kind)
        else:
            array = base.astype(kind)
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "list" or array.ndim < 2:
        return array.tolist() if layout == "list" else array
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "reversed":
        return np.ascontiguousarray(array[::-1])[::-1]
    if layout == "strided":
        wide = np.zeros((array.shape[0], array.shape[1] * 2) + array.shape[2:], array.dtype)
        wide[:, ::2] = array
        return wide[:, ::2]
    array.flags.writeable = False
    return array


def build(fn, loss, dtype):
    last = {"mse": "tanh", "cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}[loss]
    layers = [fn.Dense(N_IN, 4, "relu", dtype=dtype, seed=1), fn.Dense(4, N_OUT, last, dtype=dtype, seed=2)]
    return fn.Sequential(layers, loss=loss, optimizer=fn.SGD(0.1, momentum=0.5), seed=3)


def outcome(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a numpy warning is not a clear answer
            return "ok", call()
    except (ValueError, TypeError) as exc:
        return type(exc), str(exc)
    except FloatingPointError as exc:  # a loss or weights that overflowed: documented, model restored
        return FloatingPointError, str(exc)


def check_same_answer(results, models, dtype, argument_names):
    (kind_c, value_c), (kind_r, value_r) = results
    assert kind_c == kind_r, (results,)
    if kind_c == "ok":
        tol = TRAINING_TOL[np.dtype(dtype).type]
        got, want = np.asarray(value_c, float), np.asarray(value_r, float)
        finite = np.isfinite(want)
        assert np.array_equal(got[~finite], want[~finite], equal_nan=True)  # e.g. evaluate's loss of inf
        assert normwise_error(got[finite], want[finite]) <= tol
        return
    if kind_c is not FloatingPointError:
        assert any(name in value_c for name in argument_names), value_c


ACTIONS = ["predict", "evaluate", "train_step", "fit", "forward"]


def valid_targets(rows, loss, seed):
    rng = np.random.default_rng(seed)
    if loss == "cross_entropy":
        return rng.integers(0, N_OUT, size=rows)
    if loss == "binary_cross_entropy":
        return rng.uniform(size=(rows, N_OUT))
    return rng.normal(size=(rows, N_OUT))


@given(
    X=arrays(N_IN),
    Y=st.one_of(arrays(N_OUT), arrays(1), st.none(), st.none()),  # None: valid targets for X's rows
    action=st.sampled_from(ACTIONS),
    loss=st.sampled_from(["mse", "cross_entropy", "binary_cross_entropy"]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 1000),
)
def test_public_api_answers_clearly_or_like_the_reference(X, Y, action, loss, dtype, seed):
    if Y is None:
        Y = valid_targets(np.shape(X)[0] if np.ndim(X) else 1, loss, seed)
    models = [build(fn, loss, dtype) for fn in (fastnet, fastnet.reference)]
    before = [model.get_weights() for model in models]

    def run(model):
        if action == "predict":
            return model.predict(X)
        if action == "evaluate":
            return np.array(list(model.evaluate(X, Y).values()))
        if action == "train_step":
            model.train_step(X, Y)
        elif action == "fit":
            model.fit(X, Y, epochs=2, batch_size=2, verbose=0)
        else:
            return model.layers[0].forward(X)
        return np.concatenate([w.ravel() for w in model.get_weights()])

    results = [outcome(lambda model=model: run(model)) for model in models]
    event(f"{action}: {getattr(results[0][0], '__name__', results[0][0])}")
    check_same_answer(results, models, dtype, ("X", "Y"))
    if results[0][0] in (ValueError, TypeError):  # rejected: the model is untouched
        for model, weights in zip(models, before):
            assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    elif results[0][0] is FloatingPointError:  # diverged: both keep their last finite epoch
        for got, want in zip(*(model.get_weights() for model in models)):
            assert np.isfinite(got).all() and np.isfinite(want).all()
            assert normwise_error(got, want) <= TRAINING_TOL[np.dtype(dtype).type]


@given(dA=arrays(N_OUT), dtype=st.sampled_from(["float32", "float64"]))
def test_layer_backward_answers_clearly_or_like_the_reference(dA, dtype):
    X = np.linspace(-1, 1, 4 * N_IN).reshape(4, N_IN)
    layers = [fn.Dense(N_IN, N_OUT, "tanh", dtype=dtype, seed=0) for fn in (fastnet, fastnet.reference)]
    for layer in layers:
        layer.forward(X)
    results = [outcome(lambda layer=layer: layer.backward(dA)) for layer in layers]
    check_same_answer(results, layers, dtype, ("dA",))
    if results[0][0] == "ok":
        tol = KERNEL_TOL[np.dtype(dtype).type]
        assert normwise_error(layers[0].dW, layers[1].dW) <= tol
