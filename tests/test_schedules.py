"""Learning-rate schedules and the callbacks around them, alike in both backends: the rate is read
at the start of every epoch, so a schedule gives both backends the same trajectory."""

import csv

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import BACKEND_IDS, BACKENDS, TRAINING_TOL, assert_close


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4))
    return X, (X @ rng.standard_normal((4, 2)) > 0).astype(float)


def model(fn, optimizer=None):
    layers = [fn.Dense(4, 8, "tanh", seed=0), fn.Dense(8, 2, "sigmoid", seed=1)]
    return fn.Sequential(layers, loss="binary_cross_entropy", optimizer=optimizer or fn.SGD(0.5, 0.9), seed=0)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_schedule_gives_both_backends_the_same_trajectory(optimizer):
    X, Y = data()
    runs = []
    for fn in (fastnet, fastnet.reference):
        opt = fn.SGD(0.5, 0.9) if optimizer == "sgd" else fn.Adam(0.05)
        rates = []

        def schedule(epoch, lr):
            rates.append(lr)
            return lr * 0.5 if epoch % 2 else lr

        m = model(fn, opt)
        history = m.fit(X, Y, epochs=6, batch_size=8, verbose=0, callbacks=[fn.LearningRateScheduler(schedule)])
        runs.append((m.get_weights(), history.history["loss"], rates, m.optimizer.learning_rate))
    (w_c, h_c, r_c, lr_c), (w_r, h_r, r_r, lr_r) = runs
    assert r_c == r_r and lr_c == lr_r == runs[0][2][0] * 0.5**3
    for a, b in zip(w_c, w_r):
        assert_close(a, b, TRAINING_TOL[np.float64])
    assert np.allclose(h_c, h_r, rtol=1e-9)
    # the schedule changed the result: a run at the constant first rate differs
    constant = model(fastnet.reference, fastnet.reference.SGD(0.5, 0.9) if optimizer == "sgd" else None)
    if optimizer == "sgd":
        assert not np.allclose(constant.fit(X, Y, epochs=6, batch_size=8, verbose=0).history["loss"], h_r)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_rate_changed_between_fits_or_steps_is_used(fn):
    X, Y = data()
    a, b = model(fn), model(fn)
    a.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    a.optimizer.learning_rate = 1e-9
    before = a.get_weights()
    a.train_step(X[:8], Y[:8])
    assert all(np.abs(x - y).max() < 1e-6 for x, y in zip(a.get_weights(), before))
    b.train_step(X[:8], Y[:8])
    assert any(np.abs(x - y).max() > 1e-4 for x, y in zip(b.get_weights(), before))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_bad_schedule_is_named(fn):
    X, Y = data()
    with pytest.raises(TypeError, match="schedule must be a function"):
        fn.LearningRateScheduler(0.1)
    bad = fn.LearningRateScheduler(lambda epoch, lr: -lr)
    with pytest.raises(ValueError, match=r"LearningRateScheduler: schedule\(0, ...\) returned -0.5"):
        model(fn).fit(X, Y, epochs=2, verbose=0, callbacks=[bad])


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_reduce_lr_on_plateau(fn):
    X, Y = data()
    m = model(fn, fn.SGD(0.1))
    # min_delta so large that nothing counts as an improvement after the first epoch
    plateau = fn.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=1e9, cooldown=1, min_lr=0.02)
    rates = []

    class Record(fn.Callback):
        def on_epoch_begin(self, epoch):
            rates.append(m.optimizer.learning_rate)

    m.fit(X, Y, epochs=9, batch_size=8, verbose=0, callbacks=[Record(), plateau])
    # epoch 0 sets the best; 1, 2 do not improve -> halve after epoch 2; cooldown epoch 3; 4, 5 -> halve...
    assert rates == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]
    with pytest.raises(ValueError, match="factor must lie in"):
        fn.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau\(monitor='val_loss'\) watches a log"):
        model(fn).fit(X, Y, epochs=1, verbose=0, callbacks=[fn.ReduceLROnPlateau()])


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_model_checkpoint(fn, tmp_path):
    X, Y = data()
    every = fn.ModelCheckpoint(tmp_path / "m-{epoch:02d}-{loss:.3f}.npz", monitor="loss")
    best = fn.ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss", save_best_only=True)
    m = model(fn)
    history = m.fit(X, Y, epochs=4, batch_size=8, verbose=0, validation_data=data(1), callbacks=[every, best])
    assert [p.split("/")[-1][:4] for p in every.saved] == ["m-01", "m-02", "m-03", "m-04"]
    assert f"{history.history['loss'][-1]:.3f}" in every.saved[-1]
    assert all(np.array_equal(a, b) for a, b in zip(fn.load(every.saved[-1]).get_weights(), m.get_weights()))
    val = history.history["val_loss"]
    improvements = sum(v < min(val[:i], default=np.inf) for i, v in enumerate(val))
    assert len(best.saved) == improvements and best.saved[0] == str(tmp_path / "best.npz")
    with pytest.raises(ValueError, match="names a field this fit does not log"):
        model(fn).fit(X, Y, epochs=1, verbose=0, callbacks=[fn.ModelCheckpoint(tmp_path / "{nope}.npz")])


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_csv_logger_writes_every_epoch_even_when_interrupted(fn, tmp_path):
    X, Y = data()
    path = tmp_path / "log.csv"

    class Interrupt(fn.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                raise KeyboardInterrupt

    m = model(fn)
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, Y, epochs=5, verbose=0, callbacks=[fn.CSVLogger(path), Interrupt()])
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert float(rows[1]["loss"]) == pytest.approx(m.history.history["loss"][1])
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[fn.CSVLogger(path, append=True)])
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2", "0", "1"] and set(rows[0]) == {"epoch", "loss", "accuracy"}
