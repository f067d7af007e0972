"""Benchmark `hygiene serve`: event received → nudge posted, over Socket Mode on loopback.

Starts the Slack sandbox (Web API and Socket Mode) and a G Click sandbox, runs `hygiene serve`
in a thread on the system clock (requests nudged at once: no grace), then posts ``--messages``
requests one after another, each waiting for its nudge, and prints the latencies serve measured
(median, p95, max) and the wall time. Not part of the test suite: tests assert no timings.

    .venv/bin/python bench/bench_serve.py --messages 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from hygiene.clock import SystemClock
from hygiene.serve import Server
from hygiene.serve_cli import serve_until_stopped
from sandbox.demo_realtime import realtime_config, wait_for
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState
from sandbox.socket_mode import SocketModeServer

PEOPLE = ["U02MARINA", "U03JOAO", "U04CARLA", "U05PEDRO", "U06ANA"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    path = SCENARIOS / "accounting.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    clock = SystemClock()
    state = SlackState.from_scenario(path, clock)
    gclick = GClickState.from_tickets(data.get("tickets", []), clock)
    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackSandbox(state) as sandbox,
        SocketModeServer(state),
        gclick.server() as gclick_server,
        gclick.credentials_in_env(),
    ):
        config = realtime_config(Path(tmp) / "state", sandbox.base_url, gclick_server.base_url)
        config.policy.daily_budget_per_person = 10_000
        config.chats[0].budget = {"chat.postMessage": 10_000, "users.info": 1_000}  # type: ignore[attr-defined]
        started: list[Server] = []
        stop = threading.Event()
        kwargs = {"token": sandbox.token, "app_token": state.app_token, "on_start": started.append}
        runner = threading.Thread(target=serve_until_stopped, args=(config, clock, stop), kwargs=kwargs, daemon=True)
        runner.start()
        server = wait_for(lambda: started and started[0].counts.cycles >= 1 and started[0], "the first cycle")
        begin = time.monotonic()
        for n in range(args.messages):
            text = f"Preciso que vocês emitam a guia do DAS da Padaria Pão Quente, lote {n}"
            ts = state.post_as(PEOPLE[n % len(PEOPLE)], "dia-a-dia", text)
            wait_for(lambda ts=ts: any(p.get("thread_ts") == ts for p in state.bot_posts()), f"nudge {n}")
        wall = time.monotonic() - begin
        stop.set()
        runner.join(timeout=30)
        latencies = sorted(server.counts.latencies_ms)
        p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else None
        print(
            json.dumps(
                {
                    "messages": args.messages,
                    "nudged": len(latencies),
                    "median_ms": round(statistics.median(latencies), 1) if latencies else None,
                    "p95_ms": round(p95, 1) if p95 is not None else None,
                    "max_ms": round(latencies[-1], 1) if latencies else None,
                    "wall_seconds": round(wall, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
