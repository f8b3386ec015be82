"""BLAS threads while fits overlap in threads of one process (fastnet/blas_threads.py)."""

import threading
from contextlib import contextmanager

import numpy as np
import pytest

import fastnet
from fastnet import blas_threads

from helpers import BACKEND_IDS, BACKENDS, require

threadpoolctl = require("threadpoolctl")


def blas_pools():
    """The thread count of every BLAS library loaded (numpy's and scipy's OpenBLAS)."""
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads():
    """BLAS at 2 threads (as on any multi-core machine) for the test, whatever the host has."""
    fastnet.Sequential([fastnet.Dense(2, 1)]).predict(np.ones((1, 2)))  # loads the BLAS the engine calls
    assert blas_pools(), "no BLAS library found"
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        # set, not held: a limit held by a live thread is one fastnet keeps (threadpoolctl lets one
        # thread at a time control OpenBLAS)
        release_control()
        yield


def release_control():
    getattr(threadpoolctl.OpenBLASController, "clear_controlling_thread", lambda: None)()


@contextmanager
def fit_in_another_thread():
    """A fit running in another thread for the duration of the block."""
    started, done = threading.Event(), threading.Event()

    def run():
        with blas_threads.fitting():
            started.set()
            done.wait(60)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(60)
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_fits_of_two_threads_cap_blas_and_give_it_back(two_blas_threads):
    with blas_threads.fitting():
        assert set(blas_pools()) == {2}  # one fit: BLAS as configured
        with fit_in_another_thread():
            assert set(blas_pools()) == {1}
            with fit_in_another_thread():
                assert set(blas_pools()) == {1}
            assert set(blas_pools()) == {1}
        assert set(blas_pools()) == {2}  # one thread left: restored
    assert set(blas_pools()) == {2}
    assert not blas_threads._fits


def test_fits_within_one_thread_do_not_cap(two_blas_threads):
    """A fit started by another fit's callback, in the same thread: one thread computes."""
    with blas_threads.fitting(), blas_threads.fitting():
        assert set(blas_pools()) == {2}


def test_the_cap_is_configurable_and_can_be_turned_off(two_blas_threads):
    try:
        blas_threads.set_parallel_blas_threads(None)
        with blas_threads.fitting(), fit_in_another_thread():
            assert set(blas_pools()) == {2}
        blas_threads.set_parallel_blas_threads(2)
        with blas_threads.fitting(), fit_in_another_thread():
            assert set(blas_pools()) == {2}
        with pytest.raises(ValueError, match="threads"):
            blas_threads.set_parallel_blas_threads(0)
        with pytest.raises(TypeError, match="threads"):
            blas_threads.set_parallel_blas_threads(1.5)
    finally:
        blas_threads.set_parallel_blas_threads(1)
    assert blas_threads.parallel_blas_threads() == 1


def test_a_pool_the_user_set_lower_is_left_alone(two_blas_threads):
    pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    if len(pools) < 2:
        pytest.fail("this test needs two BLAS libraries (NumPy's and SciPy's); found one")
    low, high = pools[0]["filepath"], pools[1]["filepath"]
    with threadpoolctl.threadpool_limits(limits={low: 1, high: 4}):
        release_control()
        try:
            blas_threads.set_parallel_blas_threads(2)
            with blas_threads.fitting(), fit_in_another_thread():
                assert blas_pools() == [1, 2]  # the high pool capped, the user's low one kept
            assert blas_pools() == [1, 4]
        finally:
            blas_threads.set_parallel_blas_threads(1)


def test_a_lower_user_limit_is_kept(two_blas_threads):
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        with blas_threads.fitting(), fit_in_another_thread():
            assert set(blas_pools()) == {1}
        assert set(blas_pools()) == {1}
    assert set(blas_pools()) == {2}


def test_an_exception_in_a_fit_releases_the_cap(two_blas_threads):
    with fit_in_another_thread():
        with pytest.raises(RuntimeError), blas_threads.fitting():
            assert set(blas_pools()) == {1}
            raise RuntimeError
        assert set(blas_pools()) == {2}
    assert not blas_threads._fits


def test_an_interrupt_while_capping_leaves_nothing_counted(two_blas_threads, monkeypatch):
    """Ctrl-C that arrives while the cap is being set: the fit is not counted, and the cap (set
    meanwhile) is given back."""
    real_cap = blas_threads._cap
    monkeypatch.setattr(blas_threads, "_cap", lambda threads: (real_cap(threads)[0], KeyboardInterrupt()))
    with fit_in_another_thread():
        with pytest.raises(KeyboardInterrupt):
            with blas_threads.fitting():
                pytest.fail("the fit ran after an interrupt")
        assert set(blas_pools()) == {2}
        assert len(blas_threads._fits) == 1  # the other thread's
    assert not blas_threads._fits


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_two_sequential_fits_in_threads_run_with_one_blas_thread_each(backend, two_blas_threads):
    """Each fit's first epoch ends while the other is running; each sees BLAS capped then."""
    barrier, seen = threading.Barrier(2, timeout=60), []

    class Meet(fastnet.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                barrier.wait()
                seen.append(blas_pools())
                barrier.wait()

    def fit(seed):
        rng = np.random.default_rng(seed)
        model = backend.Sequential([backend.Dense(8, 4, "tanh", seed=seed), backend.Dense(4, 1, "identity", seed=seed)])
        model.fit(rng.normal(size=(64, 8)), rng.normal(size=(64, 1)), epochs=2, verbose=0, callbacks=[Meet()])

    threads = [threading.Thread(target=fit, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 2 and all(set(pools) == {1} for pools in seen)
    assert set(blas_pools()) == {2}


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_a_forked_child_starts_afresh(two_blas_threads):
    """The thread that changes limits does not survive fork: the child neither waits on it
    forever nor keeps the parent's cap."""
    import multiprocessing

    with blas_threads.fitting(), fit_in_another_thread():  # the parent's limit-changing thread exists
        assert set(blas_pools()) == {1}
        child = multiprocessing.get_context("fork").Process(target=_child)
        child.start()
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
            pytest.fail("the forked child hung in blas_threads.fitting")
    assert child.exitcode == 0


def _child():
    assert set(blas_pools()) == {2}, blas_pools()  # the parent's cap, given back in the child
    with blas_threads.fitting():
        with fit_in_another_thread():
            assert set(blas_pools()) == {1}
        assert set(blas_pools()) == {2}
