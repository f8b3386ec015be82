"""The compiled core's CPU paths: listing and switching them, and choosing one with FASTNET_CPU."""

import os
import subprocess
import sys

import pytest

import fastnet._cpu as cpu

PATHS = cpu.supported_paths()


def test_paths_api():
    assert PATHS[0] == "default" and set(PATHS) <= set(cpu.all_paths())
    assert cpu.active_path() in PATHS
    with pytest.raises(ValueError, match="unknown CPU path"):
        cpu.set_path("pentium")
    for name in set(cpu.all_paths()) - set(PATHS):
        with pytest.raises(ValueError, match="not supported"):
            cpu.set_path(name)
    before = cpu.active_path()
    with cpu.using_path("default"):
        assert cpu.active_path() == "default"
    assert cpu.active_path() == before


def path_in_subprocess(value):
    env = dict(os.environ, FASTNET_CPU=value)
    code = "import warnings; warnings.simplefilter('always'); import fastnet._cpu as c; print(c.active_path())"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return run.stdout.strip(), run.stderr


@pytest.mark.parametrize("value", ["default", "bogus", "x86-64-v4"])
def test_environment_variable(value):
    active, stderr = path_in_subprocess(value)
    if value in PATHS:
        assert active == value and "RuntimeWarning" not in stderr
    else:  # unknown: best path; unsupported: clamped below it, never SIGILL
        assert active == PATHS[-1] and "RuntimeWarning" in stderr
