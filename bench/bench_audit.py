"""Benchmark `hygiene audit` on a long synthetic history: throughput and memory over time.

Streams N generated message lines (Portuguese and English, requests, status questions, chatter,
threads, edits and deletions over 8 channels) through the same reader and auditor the CLI uses,
and prints messages per second and the process's peak RSS at checkpoints, so that a flat memory
profile is visible.

    .venv/bin/python bench/bench_audit.py --messages 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections.abc import Iterator
from pathlib import Path

from connectors.files import read_tickets
from connectors.slack_export import MessageReader
from hygiene.audit import Auditor
from hygiene.context import TicketSnapshot
from hygiene.wiring import build_rules

CORPUS = Path(__file__).parent.parent / "tests" / "corpus"
CHANNELS = [f"C0{i}BENCH" for i in range(8)]
CHATTER = [
    "Reunião às {n}h na sala 2.",
    "Alguém viu o carregador?",
    "Thanks for the help yesterday!",
    "Vou almoçar, volto já.",
    "Deploy {n} finished.",
    "Bom dia, pessoal!",
]


def lines(count: int, seed: int) -> Iterator[str]:
    random.seed(seed)
    corpus = [json.loads(x) for x in (CORPUS / "labeled.jsonl").read_text(encoding="utf-8").splitlines()]
    ts = 1_700_000_000.0
    recent: list[tuple[str, str]] = []
    for i in range(count):
        ts += random.uniform(5, 60)
        channel = random.choice(CHANNELS)
        stamp = f"{ts:.6f}"
        roll = random.random()
        if roll < 0.02 and recent:
            old_channel, old_ts = random.choice(recent)
            yield json.dumps({"channel": old_channel, "subtype": "message_deleted", "ts": stamp, "deleted_ts": old_ts})
            continue
        if roll < 0.05 and recent:
            old_channel, old_ts = random.choice(recent)
            edit = {"type": "message", "user": "U1", "ts": old_ts, "text": random.choice(corpus)["text"]}
            yield json.dumps({"channel": old_channel, "subtype": "message_changed", "ts": stamp, "message": edit})
            continue
        text = random.choice(corpus)["text"] if roll < 0.35 else random.choice(CHATTER).format(n=i % 24)
        message = {"channel": channel, "type": "message", "user": f"U{i % 40}", "ts": stamp, "text": text}
        if roll > 0.85 and recent:
            message["channel"], message["thread_ts"] = random.choice(recent)
        recent = ([*recent, (channel, stamp)])[-50:]
        yield json.dumps(message, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    reader = MessageReader()
    auditor = Auditor(build_rules({}), TicketSnapshot(read_tickets(CORPUS / "tickets.json")))
    checkpoints = {int(args.messages * f) for f in (0.01, 0.1, 0.25, 0.5, 0.75, 1.0)}
    started = time.perf_counter()
    findings = 0

    def counted() -> Iterator[str]:
        for index, line in enumerate(lines(args.messages, args.seed), start=1):
            yield line
            if index in checkpoints:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                rate = index / (time.perf_counter() - started)
                held = auditor.held()
                print(f"{index:>9,} lines  {rate:>7,.0f} lines/s  peak RSS {rss:6.1f} MB  held {held:>5,} messages")

    for _ in auditor.run(reader.from_lines(counted(), "bench")):
        findings += 1
    elapsed = time.perf_counter() - started
    print(
        f"{args.messages:,} lines in {elapsed:.1f}s: {args.messages / elapsed:,.0f} lines/s, {findings:,} findings, "
        f"{auditor.summary.judged:,} judged, {len(reader.skipped)} skipped"
    )


if __name__ == "__main__":
    main()
