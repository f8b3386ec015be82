"""The compiled training engine: _train.train's Stretch (batches, steps, sums, the loss that stopped it),
stretches that resume where they stopped, checkpoints during an epoch, and the Network following an
optimiser change like the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastnet
import fastnet.reference
from fastnet import _predict, _train

from helpers import TRAINING_TOL, assert_close, digits_data, digits_like, same_weights


def run(model, X, Y, first=0, last=None, batch_size=16, order=None, step=None, seconds=math.inf):
    last = -(-X.shape[0] // batch_size) if last is None else last
    step = model.steps if step is None else step
    net = model._training_engine()
    return _train.train(
        net, X, Y, order=order, batch_size=batch_size, first=first, last=last, step=step, seconds=seconds
    )


def test_a_stretch_reports_what_it_ran():
    X, Y = digits_data(40)
    model, twin = digits_like(fastnet, fastnet.SGD(0.1)), digits_like(fastnet.reference, fastnet.SGD(0.1))
    stretch = run(model, X, Y)
    assert isinstance(stretch, _train.Stretch)
    assert (stretch.batches, stretch.steps, stretch.failed_loss) == (3, 3, None)
    assert stretch.metric_count == 40 * 10  # mae counts elements
    loss_sum = metric_sum = 0.0
    for rows in (slice(0, 16), slice(16, 32), slice(32, 40)):
        metric_sum += float(np.abs(twin.predict(X[rows]) - Y[rows]).sum())  # outputs before the batch's step
        loss_sum += twin.train_step(X[rows], Y[rows]) * len(X[rows])
    assert math.isclose(stretch.loss_sum, loss_sum, rel_tol=1e-9)
    assert math.isclose(stretch.metric_sum, metric_sum, rel_tol=1e-9)
    for got, want in zip(model.get_weights(), twin.get_weights()):
        assert_close(got, want, TRAINING_TOL[np.float64])
    assert model.steps == 0  # the caller counts the steps
    with pytest.raises(AttributeError):
        stretch.batches = 0


def test_a_stretch_stops_at_a_non_finite_loss_without_its_step():
    X, Y = digits_data(40)
    X[20] = 1e308  # finite, but its pre-activations overflow and the second batch's loss is NaN
    model, twin = digits_like(fastnet, fastnet.Adam(0.01)), digits_like(fastnet, fastnet.Adam(0.01))
    stretch = run(model, X, Y)
    assert stretch.batches == 2 and stretch.steps == 1
    assert stretch.failed_loss is not None and math.isnan(stretch.failed_loss)
    first_loss = twin.train_step(X[:16], Y[:16])
    assert math.isclose(stretch.loss_sum, 16 * first_loss, rel_tol=1e-12)  # the failed batch is not summed
    assert same_weights(model.get_weights(), twin.get_weights())  # and made no update
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_stretches_resume_where_they_stopped():
    X, Y = digits_data(64)
    whole, pieces = digits_like(fastnet, fastnet.Adam(0.01)), digits_like(fastnet, fastnet.Adam(0.01))
    assert run(whole, X, Y).steps == 4
    done = 0
    while done < 4:  # seconds=0: a checkpoint after every batch; step: Adam's t continues
        stretch = run(pieces, X, Y, first=done, step=done, seconds=0.0)
        assert stretch.batches == stretch.steps == 1
        done += stretch.batches
    assert same_weights(whole.get_weights(), pieces.get_weights())


def test_a_stretch_takes_rows_in_the_given_order():
    X, Y = digits_data(40)
    order = np.random.default_rng(1).permutation(40).astype(np.intp)
    shuffled, gathered = digits_like(fastnet, fastnet.SGD(0.1)), digits_like(fastnet, fastnet.SGD(0.1))
    a = run(shuffled, X, Y, order=order)
    b = run(gathered, np.ascontiguousarray(X[order]), np.ascontiguousarray(Y[order]))
    assert (a.batches, a.steps, a.loss_sum, a.metric_sum) == (b.batches, b.steps, b.loss_sum, b.metric_sum)
    assert same_weights(shuffled.get_weights(), gathered.get_weights())


def test_fit_returns_at_checkpoints_during_a_long_epoch(monkeypatch):
    """Progress and Ctrl-C are served mid-epoch: the engine returns to Python at checkpoints."""
    import fastnet.engine

    monkeypatch.setattr(fastnet.engine, "CHECKPOINT_SECONDS", 0.0)  # return after every batch
    X, Y = digits_data(64)
    model = digits_like(fastnet, fastnet.SGD(0.1))
    seen = []
    monkeypatch.setattr(fastnet.progress.Progress, "batch_end", lambda self, epoch, done, loss: seen.append(done))
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    assert seen == [1, 2, 3, 4]


def test_engine_follows_an_optimizer_change_like_the_reference():
    X, Y = digits_data(120)
    models = [digits_like(fn, fn.SGD(0.5, momentum=0.5)) for fn in (fastnet, fastnet.reference)]
    for model in models:
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
        model.optimizer = fastnet.Adam(1e-2)  # new kind: fresh state, step count restarts
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
        model.optimizer = fastnet.Adam(5e-3)  # same kind: the state carries on
        model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    for got, want in zip(*(model.get_weights() for model in models)):
        assert_close(got, want, TRAINING_TOL[np.float64])
    assert models[0].steps == models[1].steps


def test_a_network_built_for_inference_refuses_to_train():
    X, Y = digits_data(16)
    model = digits_like(fastnet, fastnet.Adam())
    model.predict(X)  # predict builds the network without creating an optimiser state
    assert model.optimizer_state is None
    with pytest.raises(RuntimeError, match="built for inference"):
        _train.train(model._engine(), X, Y, order=None, batch_size=16, first=0, last=1, step=0, seconds=math.inf)
    model.train_step(X, Y)  # the model itself trains (and now has a state)
    assert model.optimizer_state is not None and model.steps == 1


def test_the_engine_refuses_arrays_it_would_misread():
    """A guard in C before the nogil loops: layouts and dtypes other than the network's are refused."""
    model = fastnet.Sequential([fastnet.Dense(3, 4, seed=1), fastnet.Dense(4, 2, "identity", seed=2)], seed=0)
    model.train_step(np.ones((5, 3)), np.ones((5, 2)))
    net = model._training_engine()
    before = model.get_weights()
    good = dict(X=np.ones((5, 3)), Y=np.ones((5, 2)), weights=None, order=None)
    bad = {
        "X": [np.asfortranarray(np.ones((5, 3))), np.ones((5, 3), np.float32), np.ones((5, 4)), np.ones(5),
              np.ones((5, 3), dtype=">f8")],  # the other byte order has the same type number
        "Y": [np.ones((5, 3)), np.ones((4, 2)), np.ones(5, np.int32), np.asfortranarray(np.ones((5, 2))),
              np.zeros(5, np.intp)],  # class ids are for cross_entropy only
        "weights": [np.ones(4), np.ones(5, np.float32), np.ones((5, 1))],
        "order": [np.arange(5, dtype=np.int32), np.arange(4, dtype=np.intp), np.array([0, 1, 2, 3, 5], np.intp),
                  np.array([0, 1, -1, 3, 4], np.intp)],
    }
    for name, values in bad.items():
        for value in values:
            args = {**good, name: value}
            with pytest.raises(ValueError, match=f"{name} (must be a C-contiguous|as class ids)"):
                _train.train(net, args["X"], args["Y"], weights=args["weights"], order=args["order"], batch_size=5,
                             first=0, last=1, step=0, seconds=math.inf)
    ce = fastnet.Sequential([fastnet.Dense(3, 4, seed=1), fastnet.Dense(4, 3, "softmax", seed=2)],
                            loss="cross_entropy", seed=0)
    ce.train_step(np.ones((5, 3)), np.zeros(5, dtype=int))
    for ids in (np.array([0, 1, 2, 3, 1], np.intp), np.array([0, -1, 2, 0, 1], np.intp)):
        with pytest.raises(ValueError, match=r"must be for cross_entropy and lie in \[0, 3\)"):
            _train.train(ce._training_engine(), np.ones((5, 3)), ids, order=None, batch_size=5, first=0, last=1,
                         step=0, seconds=math.inf)
    for batch_size, first, last in ((0, 0, 1), (5, 0, 2), (2, 2, 1), (5, -1, 1)):
        with pytest.raises(ValueError, match="are not batches of 5 rows"):
            _train.train(net, good["X"], good["Y"], order=None, batch_size=batch_size, first=first, last=last,
                         step=0, seconds=math.inf)
    out = np.empty((5, 2))
    for X, out_ in ((np.ones((5, 4)), out), (np.ones((5, 3)), np.empty((5, 3))), (np.ones((5, 3)), out[:, :1])):
        with pytest.raises(ValueError, match="must be a C-contiguous"):
            _predict.forward(net, X, out_)
    assert same_weights(before, model.get_weights())
