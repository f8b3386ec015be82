"""BLAS threads while several fits run at once in threads of one process.

Products above the micro-kernels' threshold go to BLAS (OpenBLAS in SciPy's wheels), whose
thread pool is process-wide: two fits in two threads (``GridSearchCV(n_jobs=2)`` under joblib's
threading backend, ``joblib.Parallel(prefer="threads")``) would each ask it for every core, and
its threads then contend with the fits' own. So while two or more fits (``Sequential.fit``, the
estimators' ``fit``/``partial_fit``) overlap, fastnet caps BLAS at ``parallel_blas_threads()``
threads per call (1 by default), through threadpoolctl, and gives back the previous setting
when at most one fit is left. A cap the user set lower (``threadpoolctl.threadpool_limits``) is
kept, and so is a limit the user holds from another thread while the fits run (threadpoolctl
lets one thread at a time control OpenBLAS); a single fit always runs with BLAS as configured.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from fastnet.checks import check_int

_lock = threading.Lock()
_running = 0  # fits running now in this process
_limiter: Any = None  # threadpoolctl's limiter while the cap is applied
_controller: Any = None  # threadpoolctl's view of the loaded libraries, made once
_changer: ThreadPoolExecutor | None = None  # the one thread that changes BLAS limits
_threads: int | None = 1


def set_parallel_blas_threads(threads: int | None) -> None:
    """BLAS threads per call while fits overlap (default 1); None leaves BLAS alone. Takes effect
    at the next time a second fit starts."""
    global _threads
    _threads = None if threads is None else check_int("threads", threads)


def parallel_blas_threads() -> int | None:
    """The BLAS threads per call while fits overlap (None: not capped)."""
    return _threads


def _in_own_thread(change: Callable[[], Any]) -> Any:
    """Run a change of BLAS limits from one thread of fastnet's, then leave OpenBLAS's limits free
    to any thread again: threadpoolctl (3.8+) lets only one live thread set OpenBLAS's shared pool
    and ignores the others, and fits run in whichever threads joblib or the user made."""
    global _changer
    if _changer is None:
        _changer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastnet-blas-limits")

    def change_and_release() -> Any:
        from threadpoolctl import OpenBLASController

        try:
            return change()
        finally:
            if hasattr(OpenBLASController, "clear_controlling_thread"):
                OpenBLASController.clear_controlling_thread()  # only if this thread holds it

    return _changer.submit(change_and_release).result()


def _cap(threads: int) -> Any:
    """Lower every BLAS pool above ``threads`` to it; the limiter to restore (None: nothing to do)."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # without threadpoolctl BLAS is left as it is
        return None
    if _controller is None:
        _controller = ThreadpoolController()
    pools = _controller.select(user_api="blas")
    if all(pool.num_threads <= threads for pool in pools.lib_controllers):
        return None
    return _in_own_thread(lambda: pools.limit(limits=threads))


def _forget_in_child() -> None:
    """A forked child has only the thread that forked: no fits running, no thread of fastnet's to
    change limits (an executor whose thread is gone would never run a change)."""
    global _lock, _running, _limiter, _changer
    _lock, _running, _limiter, _changer = threading.Lock(), 0, None, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


@contextmanager
def fitting() -> Iterator[None]:
    """Count one running fit for the duration of the block, capping BLAS while two or more run."""
    global _running, _limiter
    with _lock:
        _running += 1
        if _running == 2 and _threads is not None and _limiter is None:
            _limiter = _cap(_threads)
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running < 2 and _limiter is not None:
                _in_own_thread(_limiter.restore_original_limits)
                _limiter = None
