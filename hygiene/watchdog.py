"""A deadline for one cycle, so that a hung cycle is ended and reported instead of holding the lock.

SIGALRM runs its handler in the main thread even while a regular expression is stuck in C (the
``re`` engine checks for signals; a watchdog thread would wait for the GIL for ever). The handler
raises :class:`CycleTimeout`, a BaseException so that no ``except Exception`` swallows it; the
engine then records the run as failed on its way out. If the process still has not stopped
:data:`GRACE_SECONDS` later, it is ended outright with exit 1.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

GRACE_SECONDS = 30.0


class CycleTimeout(BaseException):
    """The cycle ran past ``[hygiene] cycle_timeout_seconds``."""


@contextmanager
def cycle_deadline(seconds: float, grace: float = GRACE_SECONDS) -> Iterator[None]:
    """Raise :class:`CycleTimeout` in the block when it runs longer than ``seconds``.

    Outside the main thread (where signals cannot be used) the block runs without a deadline.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def hard_stop(signum: int, frame: FrameType | None) -> None:
        message = (
            f"error: hygiene.cycle_timeout_seconds: the cycle did not stop {grace:g} s after its limit; ending it\n"
        )
        os.write(2, message.encode())
        os._exit(1)

    def expire(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGALRM, hard_stop)
        signal.setitimer(signal.ITIMER_REAL, grace)
        raise CycleTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
