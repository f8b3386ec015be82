"""Optimiser configurations: values shared by both backends, frozen, and every bad hyperparameter."""

from __future__ import annotations

import pytest

import fastnet
import fastnet.reference

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


def test_optimizer_settings_are_validated_on_assignment(fn):
    opt = fn.SGD(0.1)
    with pytest.raises(ValueError, match="learning_rate must be finite, > 0.0"):
        opt.learning_rate = -1.0
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        opt.nesterov = True
    with pytest.raises(AttributeError, match="SGD has no setting 'lr'"):
        opt.lr = 0.1
    assert opt == fn.SGD(0.1)  # every refused assignment left it unchanged
    opt.momentum, opt.nesterov = 0.9, True
    opt.learning_rate = 3  # an int is a rate too
    assert opt == fn.SGD(3.0, 0.9, True)
    adam = fn.Adam()
    with pytest.raises(ValueError, match=r"beta1 must be finite, >= 0.0 and < 1.0"):
        adam.beta1 = 1.0


def test_a_model_owns_its_optimizer_settings(fn):
    shared = fn.SGD(0.1)
    a = fn.Sequential([fn.Dense(2, 1, seed=0)], optimizer=shared)
    b = fn.Sequential([fn.Dense(2, 1, seed=0)], optimizer=shared)
    a.optimizer.learning_rate = 0.5
    assert b.optimizer.learning_rate == 0.1 and shared.learning_rate == 0.1
    shared.learning_rate = 0.2
    assert a.optimizer.learning_rate == 0.5 and b.optimizer.learning_rate == 0.1


def test_optimizers_compare_by_value():
    assert fastnet.SGD(0.1, 0.9) == fastnet.reference.SGD(learning_rate=0.1, momentum=0.9)
    assert fastnet.Adam() == fastnet.reference.Adam(1e-3) != fastnet.Adam(1e-2)
    assert fastnet.SGD(0.1) != fastnet.SGD(0.1, 0.5)
