"""``hygiene serve`` as a process (SIGTERM, health file) and ``hygiene demo --realtime --json``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygiene.clock import SystemClock
from sandbox.slack_api import SlackSandbox, SlackState
from sandbox.socket_mode import SocketModeServer
from tests.conftest import SCENARIO
from tests.test_cli import TOKEN, hygiene, write_config


@pytest.fixture
def live() -> Iterator[tuple[SlackSandbox, SocketModeServer]]:
    """Slack and its Socket Mode on the real clock (the subprocess uses the real clock)."""
    state = SlackState.from_scenario(SCENARIO, SystemClock())
    with SlackSandbox(state) as server, SocketModeServer(state) as socket:
        yield server, socket


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def test_serve_nudges_from_events_and_stops_on_sigterm(
    tmp_path: Path, live: tuple[SlackSandbox, SocketModeServer]
) -> None:
    server, socket = live
    config = write_config(tmp_path, server.base_url, "[rules.HY101]\ngrace_minutes = 0\n")
    health = tmp_path / "health.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_", "SLACK_"))}
    environment |= {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": server.state.app_token}
    command = [sys.executable, "-m", "hygiene", "serve", "--config", str(config), "--health-file", str(health)]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: health.exists() and json.loads(health.read_text())["cycles"] >= 1, "the first cycle")
        wait_for(lambda: socket.log.connections >= 1, "the socket")
        ts = server.state.post_as("U02MARINA", "dia-a-dia", "O cliente Brascont pediu a segunda via do boleto")
        wait_for(lambda: any(p.get("thread_ts") == ts for p in server.state.bot_posts()), "the nudge")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "SIGTERM: finishing the current work, then stopping" in stderr
    final = json.loads(health.read_text())
    assert final["status"] == "stopped" and final["events"] >= 1 and final["nudges"] >= 1


def test_serve_without_an_app_token_names_the_variable(
    tmp_path: Path, live: tuple[SlackSandbox, SocketModeServer]
) -> None:
    server, _ = live
    result = hygiene("serve", "--config", str(write_config(tmp_path, server.base_url)))
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr


def test_realtime_demo_json() -> None:
    result = hygiene("demo", "--realtime", "--json")
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"events", "nudges", "button_tickets", "feedback", "duplicates", "median_latency_ms"} <= set(last)
    assert last["duplicates"] == 0 and last["button_tickets"] == 1 and last["feedback"] == 2
    assert last["events"] > 0 and last["nudges"] > 0 and last["reconnects"] >= 1
    assert isinstance(last["median_latency_ms"], float)
