"""The optimiser state the model owns: created by the first training step, its kind, slots and step,
replaced only by a state that fits the parameters, carried across fit and train_step, and started afresh
when the optimiser is replaced by another kind. Both backends."""

from __future__ import annotations

import numpy as np
import pytest

from fastnet.model import OptimizerState

from helpers import TRAINING_TOL, assert_close, mse_model, regression_data, same_weights

OPTIMIZERS = {
    "sgd": lambda fn: fn.SGD(0.05),
    "momentum": lambda fn: fn.SGD(0.05, momentum=0.9),
    "nesterov": lambda fn: fn.SGD(0.05, 0.9, True),
    "adam": lambda fn: fn.Adam(0.01),
}


def slot_bytes(state):
    return [{k: v.tobytes() for k, v in slots.items()} for slots in state.slots]


# ---------------------------------------------------------------------------- contents
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_state_is_created_by_the_first_step(fn, optimizer):
    model = mse_model(fn, OPTIMIZERS[optimizer](fn))
    assert model.optimizer_state is None and model.steps == 0
    X, Y = regression_data()
    model.train_step(X, Y)
    state = model.optimizer_state
    assert isinstance(state, OptimizerState) and state.kind == model.optimizer.kind and state.step == model.steps == 1
    params = model.get_weights()
    assert len(state.slots) == len(params) == 4
    for slots, param in zip(state.slots, params):
        assert tuple(slots) == model.optimizer.slots
        assert all(a.shape == param.shape and a.dtype == param.dtype and a.flags.c_contiguous for a in slots.values())
    if optimizer != "sgd":  # plain SGD needs no velocity
        assert any(a.any() for slots in state.slots for a in slots.values())
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    assert model.optimizer_state is state and state.step == model.steps == 1 + 2 * 4


def test_fit_creates_the_state_and_prepare_returns_it(fn):
    model = mse_model(fn, fn.Adam(0.01))
    state = model.prepare_optimizer_state()
    assert model.optimizer_state is state and state.kind == "Adam" and state.step == 0
    assert all(not a.any() for slots in state.slots for a in slots.values())
    assert model.prepare_optimizer_state() is state
    fresh = mse_model(fn, fn.Adam(0.01))
    fresh.fit(*regression_data(), epochs=1, batch_size=10, verbose=0)
    assert fresh.optimizer_state.kind == "Adam" and fresh.steps == 3


def test_count_steps(fn):
    model = mse_model(fn, fn.Adam(0.01))
    model.count_steps(3)  # creates the state if needed
    assert model.optimizer_state.step == model.steps == 3
    model.count_steps(2)
    assert model.steps == 5


def test_copy_is_deep(fn):
    model = mse_model(fn, fn.SGD(0.05, momentum=0.9))
    model.train_step(*regression_data())
    state = model.optimizer_state
    copy = state.copy()
    assert copy.kind == state.kind and copy.step == state.step and slot_bytes(copy) == slot_bytes(state)
    copy.slots[0]["velocity"][...] = 7.0
    copy.step += 1
    assert not (state.slots[0]["velocity"] == 7.0).all() and state.step == 1


# ---------------------------------------------------------------------------- replacing the state
def test_a_state_set_from_another_model_continues_its_training(fn):
    X, Y = regression_data()
    a, b = mse_model(fn, fn.Adam(0.01)), mse_model(fn, fn.Adam(0.01))
    for _ in range(3):
        a.train_step(X, Y)
    b.set_weights(a.get_weights())
    b.set_optimizer_state(a.optimizer_state.copy())
    assert b.steps == 3
    assert a.train_step(X, Y) == b.train_step(X, Y)  # Adam's step 4 in both
    assert same_weights(a.get_weights(), b.get_weights()) and b.steps == 4
    b.set_optimizer_state(None)
    assert b.optimizer_state is None and b.steps == 0


def bad_states(model):
    state = model.optimizer_state
    slot = r"must be a writeable C-contiguous float64 array of shape"
    yield "count", OptimizerState(state.kind, state.slots[:3], 2), r"has 3 slot sets, expected 4"
    shape = state.copy()
    shape.slots[0]["m"] = shape.slots[0]["m"].reshape(-1)
    yield "shape", shape, slot
    dtype = state.copy()
    dtype.slots[3]["v"] = dtype.slots[3]["v"].astype(np.float32)
    yield "dtype", dtype, r"slots\[3\]\['v'\] must be a writeable C-contiguous float64"
    fortran = state.copy()
    fortran.slots[0]["m"] = np.asfortranarray(np.zeros(fortran.slots[0]["m"].shape[::-1]).T)
    yield "Fortran order", fortran, slot
    missing = state.copy()
    del missing.slots[1]["v"]
    yield "a missing slot", missing, r"slots\[1\] must hold exactly \['m', 'v'\] for Adam"
    extra = state.copy()
    extra.slots[2]["velocity"] = extra.slots[2]["m"].copy()
    yield "an extra slot", extra, r"slots\[2\] must hold exactly"
    yield "an unknown kind", OptimizerState("RMSprop", state.copy().slots, 1), \
        r"kind must be one of \['SGD', 'Adam', 'SklearnSGD', 'SklearnAdam'\]"
    yield "a negative step", OptimizerState("Adam", state.copy().slots, -1), r"step must be an integer >= 0"


def test_a_state_that_does_not_fit_is_refused(fn):
    model = mse_model(fn, fn.Adam(0.01))
    X, Y = regression_data()
    model.train_step(X, Y)
    state, before, weights = model.optimizer_state, slot_bytes(model.optimizer_state), model.get_weights()
    with pytest.raises(TypeError, match="state must be an OptimizerState or None"):
        model.set_optimizer_state(state.slots)
    for what, bad, match in bad_states(model):
        with pytest.raises(ValueError, match=match):
            model.set_optimizer_state(bad)
        assert model.optimizer_state is state and slot_bytes(state) == before and model.steps == 1, what
        assert same_weights(weights, model.get_weights())
    twin = mse_model(fn, fn.Adam(0.01))
    twin.train_step(X, Y)
    assert model.train_step(X, Y) == twin.train_step(X, Y)  # and it trains on as if nothing happened


# ---------------------------------------------------------------------------- across calls
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_optimizer_state_continues_across_fit_calls(fn, tmp_path, optimizer):
    X, Y = regression_data()
    straight, split, saved = (mse_model(fn, OPTIMIZERS[optimizer](fn)) for _ in range(3))
    straight.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    for _ in range(3):
        split.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    saved.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    saved.save(tmp_path / "m.npz")
    saved = fn.load(tmp_path / "m.npz")
    saved.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    for model in (split, saved):
        assert model.steps == straight.steps == 12
        assert same_weights(straight.get_weights(), model.get_weights())
        for a, b in zip(straight.optimizer_state.slots, model.optimizer_state.slots):
            assert all(a[k].tobytes() == b[k].tobytes() for k in a)
    # and the state matters: a model whose state is reset each time ends elsewhere
    reset = mse_model(fn, OPTIMIZERS[optimizer](fn))
    for _ in range(3):
        reset.set_optimizer_state(None)
        reset.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert not same_weights(straight.get_weights(), reset.get_weights())


def test_train_step_and_fit_share_the_optimizer_state(fn):
    X, Y = regression_data(8)
    a, b = mse_model(fn, fn.Adam(0.01)), mse_model(fn, fn.Adam(0.01))
    a.train_step(X, Y)
    a.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert a.steps == b.steps == 2
    for x, y in zip(a.get_weights(), b.get_weights()):
        assert_close(x, y, TRAINING_TOL[np.float64])


# ---------------------------------------------------------------------------- replacing the optimiser
def test_another_kind_of_optimizer_starts_a_fresh_state(fn):
    X, Y = regression_data()
    model = mse_model(fn, fn.SGD(0.05, momentum=0.9))
    model.fit(X, Y, epochs=1, batch_size=10, verbose=0)
    old = model.optimizer_state
    model.optimizer = fn.Adam(0.01)
    assert model.optimizer_state is old and model.steps == 3  # until the next step
    twin = mse_model(fn, fn.Adam(0.01))
    twin.set_weights(model.get_weights())
    assert model.train_step(X, Y) == twin.train_step(X, Y)  # Adam from step 1, zero moments
    assert model.optimizer_state is not old and model.optimizer_state.kind == "Adam" and model.steps == 1
    assert same_weights(model.get_weights(), twin.get_weights())
    model.optimizer = fn.Adam(0.005)  # the same kind: the state carries on
    model.train_step(X, Y)
    assert model.steps == 2 and model.optimizer_state.kind == "Adam"
    with pytest.raises(TypeError, match="optimizer must be"):
        model.optimizer = "adam"
    assert model.optimizer == fn.Adam(0.005)


def test_predict_and_evaluate_leave_the_optimizer_state_alone(fn):
    X, Y = regression_data()
    model = mse_model(fn, fn.Adam(0.01))
    model.predict(X)
    model.evaluate(X, Y)
    assert model.optimizer_state is None  # inference creates no state
    model.train_step(X, Y)
    adam = model.optimizer_state
    model.optimizer = fn.SGD(0.1)  # another kind: its state starts at the next training step
    model.predict(X)
    assert model.optimizer_state is adam and model.steps == 1  # still Adam's, untouched by predict
    model.train_step(X, Y)
    assert model.optimizer_state.kind == "SGD" and model.steps == 1


def test_a_rejected_train_step_creates_no_state(fn):
    X, Y = regression_data()
    model = mse_model(fn, fn.SGD(0.1))
    model.layers[1].b[...] = 1e300  # the squared error overflows
    with pytest.raises(FloatingPointError, match="the model was left unchanged"):
        model.train_step(X, Y)
    assert model.optimizer_state is None and model.steps == 0
