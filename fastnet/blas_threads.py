"""BLAS threads while several fits run at once in threads of one process.

Products above the micro-kernels' threshold go to BLAS (OpenBLAS in SciPy's wheels), whose
thread pool is process-wide: two fits in two threads (``GridSearchCV(n_jobs=2)`` under joblib's
threading backend, ``joblib.Parallel(prefer="threads")``) would each ask it for every core, and
its threads then contend with the fits' own. So while fits (``Sequential.fit``, the estimators'
``fit``/``partial_fit``) run in two or more threads at once, fastnet caps each BLAS pool above
``parallel_blas_threads()`` threads per call (1 by default) at that, through threadpoolctl, and
gives back the previous setting when fits of at most one thread are left. A pool the user set
lower (``threadpoolctl.threadpool_limits``) is left as it is, and so is a limit the user holds
from another thread while the fits run (threadpoolctl lets one thread at a time control
OpenBLAS); fits of one thread (a callback may fit again) run with BLAS as configured.

It also finds the C function that tells how many threads that BLAS runs now
(``thread_count_address``), which the GEMM policy (``fastnet._cpu``) reads per product.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from fastnet.checks import check_int

_lock = threading.Lock()
_fits: dict[int, int] = {}  # thread ident -> fits it is running now (a callback may fit again)
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


def _release_control() -> None:
    """Give up threadpoolctl's control of OpenBLAS's limits if this thread holds it (3.8+; older
    releases have no such rule)."""
    from threadpoolctl import OpenBLASController

    if hasattr(OpenBLASController, "clear_controlling_thread"):
        OpenBLASController.clear_controlling_thread()


def _in_own_thread(change: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run a change of BLAS limits from one thread of fastnet's, then leave OpenBLAS's limits free
    to any thread again: threadpoolctl (3.8+) lets only one live thread set OpenBLAS's shared pool
    and ignores the others, and fits run in whichever threads joblib or the user made. Returns the
    change's result and a KeyboardInterrupt that arrived while waiting for it (the caller records
    the result first, so that it can be undone, then raises it)."""
    global _changer
    if _changer is None:
        _changer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastnet-blas-limits")

    def change_and_release() -> Any:
        try:
            return change()
        finally:
            _release_control()

    future = _changer.submit(change_and_release)
    interrupt = None
    while True:
        try:
            return future.result(), interrupt
        except KeyboardInterrupt as exc:  # the change goes on in the other thread: wait for it
            interrupt = exc


def _cap(threads: int) -> tuple[Any, BaseException | None]:
    """Lower each BLAS pool above ``threads`` to it, leaving the others (a lower limit of the
    user's) as they are; the limiter that restores them (None: nothing was changed)."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # without threadpoolctl BLAS is left as it is
        return None, None
    if _controller is None:
        _controller = ThreadpoolController()
    pools = _controller.select(user_api="blas")
    above = {pool.filepath: threads for pool in pools.lib_controllers if pool.num_threads > threads}
    if not above:
        return None, None
    return _in_own_thread(lambda: pools.limit(limits=above))


def _leave(thread: int) -> BaseException | None:
    """Count one fit of ``thread`` as ended (under the lock); restore BLAS once fewer than two
    threads fit. Returns a KeyboardInterrupt that arrived meanwhile."""
    global _limiter
    depth = _fits.get(thread, 0) - 1
    if depth > 0:
        _fits[thread] = depth
    else:
        _fits.pop(thread, None)
    if len(_fits) < 2 and _limiter is not None:
        _, interrupt = _in_own_thread(_limiter.restore_original_limits)
        _limiter = None
        return interrupt
    return None


def _forget_in_child() -> None:
    """A forked child has only the thread that forked: no other fits, and no thread of fastnet's
    to change limits (an executor whose thread is gone would never run a change). A cap the
    parent had applied is given back here, in the child's one thread."""
    global _lock, _limiter, _changer
    limiter, _lock, _limiter, _changer = _limiter, threading.Lock(), None, None
    me = threading.get_ident()
    depth = _fits.get(me, 0)
    _fits.clear()
    if depth:
        _fits[me] = depth  # the forking thread's fits, still to end
    if limiter is not None:
        try:
            limiter.restore_original_limits()
        finally:
            _release_control()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


@contextmanager
def fitting() -> Iterator[None]:
    """Count one running fit of this thread for the duration of the block, capping BLAS while two
    or more threads run fits (a fit inside another fit's callback, in the same thread, is not a
    second thread's)."""
    global _limiter
    me = threading.get_ident()
    with _lock:
        _fits[me] = _fits.get(me, 0) + 1
        interrupt = None
        if len(_fits) == 2 and _threads is not None and _limiter is None:
            _limiter, interrupt = _cap(_threads)
        if interrupt is not None:
            _leave(me)
            raise interrupt
    try:
        yield
    finally:
        with _lock:
            interrupt = _leave(me)
        if interrupt is not None:
            raise interrupt


def thread_count_address() -> int:
    """The address of ``openblas_get_num_threads`` in the one LP64, pthreads OpenBLAS loaded (the
    build scipy's BLAS calls, and so fastnet's products; NumPy's own is ILP64, its symbols
    suffixed), or 0 when that is not known: another BLAS, an OpenMP build (whose count is per
    calling thread), several candidates, or no threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return 0
    try:
        libs = ThreadpoolController().select(internal_api="openblas").lib_controllers
    except Exception:  # an inspection that fails must not stop fastnet from importing
        return 0
    found = []
    for lib in libs:
        if getattr(lib, "threading_layer", None) != "pthreads":
            continue
        for prefix in ("", "scipy_"):
            function = getattr(lib.dynlib, f"{prefix}openblas_get_num_threads", None)
            if function is not None:
                found.append(ctypes.cast(function, ctypes.c_void_p).value)
                break
    return found[0] if len(found) == 1 else 0
