"""Hypothesis profiles: "ci" (bounded, the default) and "long" (by hand: FASTNET_FUZZ_PROFILE=long);
the fixtures ``fn`` (each backend) and ``cpu_path`` (each CPU path of the compiled core)."""

import os

import pytest
from hypothesis import HealthCheck, settings

import fastnet._cpu as cpu

from helpers import BACKEND_IDS, BACKENDS

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("FASTNET_FUZZ_PROFILE", "ci"))


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def fn(request):
    """The backend under test: ``fastnet`` (compiled) or ``fastnet.reference`` (NumPy)."""
    return request.param


@pytest.fixture(params=cpu.supported_paths())
def cpu_path(request):
    """Each CPU path of the compiled core this machine runs (portable default first), active for the test."""
    with cpu.using_path(request.param):
        yield request.param
