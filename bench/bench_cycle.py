"""Benchmark one `hygiene run` cycle against the sandbox (not part of the test suite).

Generates a workspace with N messages spread over five channels, then measures the first cycle
(everything new) and a second one (nothing new, the rescan window re-read): messages judged per
second, API calls per cycle by method, and peak memory.

    .venv/bin/python bench/bench_cycle.py --messages 5000
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hygiene.clock import FrozenClock
from hygiene.config import parse
from hygiene.logs import configure
from hygiene.sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState
from hygiene.store import Store
from hygiene.wiring import build_engine

CHANNELS = ["dia-a-dia", "fiscal", "departamento-pessoal", "elogios", "support-team"]
USERS = ["U02MARINA", "U03JOAO", "U04CARLA", "U05PEDRO", "U06ANA", "U07SARAH", "U08MIKE"]
TEXTS = [
    "O cliente Brascont pediu a segunda via do boleto de {n}.",
    "Atualizei o atendimento {n} com o retorno da Receita.",
    "Alguém sabe como gerar a guia do DAS pelo portal?",
    "Customer Acme wants {n} more seats on their plan.",
    "Reunião às 16h na sala 2, pauta no drive.",
    "Oi, tem um minuto?",
    "Thanks for covering the queue yesterday!",
    "Pode verificar se a nota {n} da Padaria Pão Quente foi emitida?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure("warning", json_output=False)
    random.seed(args.seed)
    clock = FrozenClock(datetime(2026, 11, 18, 18, 0, tzinfo=ZoneInfo("America/Sao_Paulo")))
    state = SlackState.from_scenario(SCENARIOS / "accounting.json", clock)
    start = clock.now() - timedelta(hours=20)
    for i in range(args.messages):
        at = start + timedelta(seconds=i * 20 * 3600 / args.messages)
        text = random.choice(TEXTS).format(n=1000 + i)
        state.post_as(random.choice(USERS), random.choice(CHANNELS), text, at=at)
    total = sum(len(m) for m in state.messages.values())

    with tempfile.TemporaryDirectory() as tmp, SlackSandbox(state) as sandbox:
        config = parse(
            {
                "hygiene": {"state_dir": tmp, "dry_run": True},
                "slack": {
                    "base_url": sandbox.base_url,
                    "channels": CHANNELS,
                    "page_size": 999,
                    "budget": {"conversations.replies": 40},
                },
            }
        )
        for label in ("first cycle (all new)", "second cycle (nothing new)"):
            store = Store.open(config.store_path)
            began = time.perf_counter()
            report = build_engine(config, store, clock, token=sandbox.token).run_cycle()
            elapsed = time.perf_counter() - began
            store.close()
            calls = ", ".join(f"{k} {v}" for k, v in sorted(report.calls.items()))
            print(f"{label}: {report.messages_read} messages read, {total / elapsed:,.0f} messages/s")
            print(f"  findings {sum(report.findings.values())}; API calls {sum(report.calls.values())}: {calls}")
            clock.advance(minutes=2)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS, sandbox included): {peak_mb:.0f} MB for {total} messages")


if __name__ == "__main__":
    main()
