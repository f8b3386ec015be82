"""Ctrl-C during ``fit`` takes effect between batches, never inside an update."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DeferredInterrupt:
    """Records SIGINT; ``check()`` raises KeyboardInterrupt at a safe point."""

    def __init__(self) -> None:
        self.pending = False

    def _handler(self, signum: int, frame: object) -> None:
        self.pending = True

    def check(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt("fit interrupted; the model holds the weights after the last completed batch")


@contextmanager
def deferred_interrupts() -> Iterator[DeferredInterrupt]:
    """Install the deferring SIGINT handler (main thread only; elsewhere signals never arrive)."""
    guard = DeferredInterrupt()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous = signal.signal(signal.SIGINT, guard._handler)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
        if guard.pending:  # arrived after the last check: deliver it now
            raise KeyboardInterrupt("fit interrupted")
