"""The systemd units and the crontab run real hygiene commands on the schedules the README gives."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from hygiene.cli import cli

CONTRIB = Path(__file__).parent.parent / "contrib"


def commands() -> list[str]:
    found = []
    for unit in (CONTRIB / "systemd").glob("*.service"):
        found += re.findall(r"^ExecStart(?:Post)?=(\S+hygiene .+)$", unit.read_text(), re.MULTILINE)
    found += re.findall(r"(/opt/hygiene/bin/hygiene [^>]+?)\s*>>", (CONTRIB / "crontab.example").read_text())
    return found


@pytest.mark.parametrize("command", commands())
def test_units_run_real_commands(command: str) -> None:
    name, *args = shlex.split(command)[1:]
    sub = cli.commands[name]
    sub.make_context(name, args)  # raises on an unknown option or a bad value


def test_schedules() -> None:
    timer = (CONTRIB / "systemd" / "hygiene.timer").read_text()
    assert "OnUnitActiveSec=2min" in timer
    report = (CONTRIB / "systemd" / "hygiene-report.timer").read_text()
    assert "OnCalendar=Mon..Fri 08:30" in report
    cron = (CONTRIB / "crontab.example").read_text()
    assert "*/2   *  *   *   *" in cron and "30    8  *   *   1-5" in cron
    assert len(commands()) == 6
    serve = (CONTRIB / "systemd" / "hygiene-serve.service").read_text()
    assert "KillSignal=SIGTERM" in serve and "--health-file" in serve
