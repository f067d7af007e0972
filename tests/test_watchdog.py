"""The cycle deadline: it interrupts code stuck in C, and ends a process that swallows it."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from hygiene.watchdog import CycleTimeout, cycle_deadline


def test_the_deadline_interrupts_a_regex_stuck_in_c() -> None:
    started = time.monotonic()
    with pytest.raises(CycleTimeout), cycle_deadline(0.5):
        re.search(r"^(\w+\s?)*$", "a" * 40 + "!")  # hours on the standard re
    assert time.monotonic() - started < 5


def test_no_deadline_left_behind() -> None:
    with cycle_deadline(0.2):
        pass
    time.sleep(0.4)  # would raise CycleTimeout if the timer were still armed


def test_a_process_that_swallows_the_timeout_is_ended() -> None:
    code = (
        "import time\nfrom hygiene.watchdog import cycle_deadline\n"
        "with cycle_deadline(0.3, grace=0.5):\n"
        "    while True:\n"
        "        try:\n            time.sleep(10)\n        except BaseException:\n            pass\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "the cycle did not stop 0.5 s after its limit" in result.stderr
    assert time.monotonic() - started < 10
