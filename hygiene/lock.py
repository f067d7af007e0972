"""An OS file lock so that two runs (cron overlapping a slow cycle) never work at once.

The lock file records who holds it (pid, host, start time). A run that finds the lock held past
the cycle limit (``[hygiene] cycle_timeout_seconds`` plus :data:`STALE_MARGIN_SECONDS`) does not
quietly leave the cycle to it: when the kernel shows that the holder is a process of ours on this
host, it ends that process and goes on (saying so); otherwise it stops with an error (exit 1).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hygiene.errors import HygieneError, LockHeld

STALE_MARGIN_SECONDS = 60.0
STOP_WAIT_SECONDS = 5.0


class StaleLock(HygieneError):
    """The lock is held past the cycle limit by a process this run may not end (exit 1)."""


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as its file says."""

    pid: int | None
    host: str = ""
    started_at: float | None = None

    @classmethod
    def parse(cls, text: str, modified: float) -> Holder:
        """The file's record; an older plain pid is dated by the file's modification time."""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            pid, started = data.get("pid"), data.get("started_at")
            return cls(
                pid if isinstance(pid, int) else None,
                str(data.get("host", "")),
                float(started) if isinstance(started, int | float) else modified,
            )
        return cls(int(text) if text.strip().isdigit() else None, "", modified)

    def age(self) -> float:
        return time.time() - self.started_at if self.started_at is not None else 0.0

    def describe(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"pid {self.pid or '?'}{where}, started {self.age():.0f} s ago"


@contextmanager
def run_lock(path: Path, stale_after: float | None = None) -> Iterator[str | None]:
    """Hold an exclusive, non-blocking lock on ``path``; yield None, or what was done to a stale one.

    A holder younger than ``stale_after`` seconds (or any holder, without it) raises
    :class:`LockHeld`. The kernel drops the lock when the process dies, so a crashed run never
    leaves it stuck; a hung one is what ``stale_after`` is for.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        broken = None
        if not _try_lock(handle):
            handle.seek(0)
            holder = Holder.parse(handle.read().strip(), os.fstat(handle.fileno()).st_mtime)
            if stale_after is None or holder.age() <= stale_after:
                raise LockHeld(f"another hygiene run holds {path} ({holder.describe()}); leaving this cycle to it")
            broken = _break(path, handle, holder, stale_after)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_at": time.time()}))
        handle.flush()
        yield broken
    finally:
        handle.close()


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _break(path: Path, handle: IO[str], holder: Holder, limit: float) -> str:
    """End a stale holder that is surely ours and take the lock, or raise :class:`StaleLock`."""
    stale = f"{path} is held by a stuck run ({holder.describe()}), past the {limit:g} s limit"
    reason = _why_not_ours(path, holder)
    if reason or holder.pid is None:
        raise StaleLock(f"hygiene.cycle_timeout_seconds: {stale}; {reason}: stop it by hand")
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.kill(holder.pid, signum)
        if _wait_for_lock(handle, STOP_WAIT_SECONDS):
            return f"hygiene.cycle_timeout_seconds: {stale}; ended it ({signum.name}) and took the lock"
    raise StaleLock(f"hygiene.cycle_timeout_seconds: {stale}; it did not let go after SIGKILL")


def _why_not_ours(path: Path, holder: Holder) -> str | None:
    """None when the holder is a process of this user on this host that the kernel shows holding ``path``."""
    if holder.pid is None:
        return "the lock file does not say which process holds it"
    if holder.host and holder.host != socket.gethostname():
        return f"it runs on {holder.host}, not here"
    if holder.pid not in _kernel_holders(path):
        return f"the kernel does not show pid {holder.pid} holding it"
    try:
        if os.stat(f"/proc/{holder.pid}").st_uid != os.getuid():
            return f"pid {holder.pid} belongs to another user"
    except FileNotFoundError:
        return f"pid {holder.pid} is gone"
    return None


def _kernel_holders(path: Path) -> set[int]:
    """Pids holding a lock on ``path``, from ``/proc/locks`` (empty where there is none)."""
    info = os.stat(path)
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return set()
    fields = [line.split() for line in lines if "->" not in line]
    return {int(f[4]) for f in fields if len(f) > 5 and f[5] == device and f[4].isdigit()}


def _wait_for_lock(handle: IO[str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _try_lock(handle):
            return True
        time.sleep(0.05)
    return False
