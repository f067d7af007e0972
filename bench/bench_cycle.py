"""Benchmark `hygiene run` cycles against the sandbox (not part of the test suite).

Builds a sandbox workspace of ``--channels`` channels × ``--per-channel`` messages (default
500 × 200 = 100,000) of the realistic mix of bench/chat_mix.py, with threads, over the last 20
hours, and a files helpdesk with the corpus's tickets. The per-method call budgets are raised so
that one cycle reads every channel. It measures the first cycle (everything new) and a second
one (nothing new, the rescan window re-read): wall time, messages judged per second, API calls
per method, the share of the cycle spent judging (the engine's per-channel judging, and within
it the rules alone), and peak RSS.

    .venv/bin/python bench/bench_cycle.py                     # 500 channels × 200 messages
    .venv/bin/python bench/bench_cycle.py --channels 50       # a quicker look
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chat_mix import CORPUS, ChatMix

from hygiene.clock import FrozenClock
from hygiene.config import parse
from hygiene.cycle.judge import Judge
from hygiene.logs import configure
from hygiene.rulebase import Rule
from hygiene.store import Store
from hygiene.wiring import build_engine
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

USERS = ["U02MARINA", "U03JOAO", "U04CARLA", "U05PEDRO", "U06ANA", "U07SARAH", "U08MIKE"]


class Timer:
    """Wall time spent inside a method, summed (bench-only instrumentation)."""

    def __init__(self, owner: type, name: str) -> None:
        self.seconds = 0.0
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(owner, name, timed)


def workspace(channels: int, per_channel: int, clock: FrozenClock, seed: int) -> tuple[SlackState, list[str]]:
    rng = random.Random(seed)
    mix = ChatMix(rng)
    state = SlackState.from_scenario(SCENARIOS / "accounting.json", clock)
    names = [f"bench-{i:03d}" for i in range(channels)]
    start = clock.now() - timedelta(hours=20)
    for index, name in enumerate(names):
        channel = f"C9{index:05d}"
        state.add_channel(channel, name)
        roots: list[str] = []
        for i in range(per_channel):
            at = start + timedelta(seconds=i * 20 * 3600 / per_channel + rng.uniform(0, 60))
            if roots and rng.random() < 0.2:
                state.post_as(rng.choice(USERS), channel, mix.reply(i), thread_ts=rng.choice(roots[-3:]), at=at)
                continue
            roots.append(state.post_as(rng.choice(USERS), channel, mix.text(i), at=at))
    return state, names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--per-channel", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure("error", json_output=False)
    clock = FrozenClock(datetime(2026, 11, 18, 18, 0, tzinfo=ZoneInfo("America/Sao_Paulo")))
    built = time.perf_counter()
    state, names = workspace(args.channels, args.per_channel, clock, args.seed)
    total = sum(len(m) for m in state.messages.values())
    print(f"workspace: {args.channels} channels, {total:,} messages (built in {time.perf_counter() - built:.1f}s)")
    judging, rules = Timer(Judge, "channel"), Timer(Rule, "check")
    budget = {"conversations.history": 10 * args.channels, "conversations.replies": 60 * args.channels}
    with tempfile.TemporaryDirectory() as tmp, SlackSandbox(state) as sandbox:
        config = parse(
            {
                "hygiene": {"state_dir": tmp, "dry_run": True},
                "slack": {"base_url": sandbox.base_url, "channels": names, "page_size": 999, "budget": budget},
                "helpdesk": {"kind": "files", "path": str(CORPUS / "tickets.json")},
            }
        )
        for label in ("first cycle (all new)", "second cycle (nothing new)"):
            judging.seconds = rules.seconds = 0.0
            store = Store.open(config.store_path)
            began = time.perf_counter()
            report = build_engine(config, store, clock, token=sandbox.token).run_cycle()
            elapsed = time.perf_counter() - began
            store.close()
            calls = ", ".join(f"{k} {v}" for k, v in sorted(report.calls.items()))
            print(f"{label}: {elapsed:.1f}s wall, {report.messages_read:,} messages read, {report.new:,} new")
            judged = report.new + report.changed
            print(
                f"  {judged:,} new or changed messages judged: {judged / elapsed:,.0f}/s of cycle, "
                f"{judged / max(judging.seconds, 1e-9):,.0f}/s of judging"
            )
            print(
                f"  judging {judging.seconds:.1f}s = {100 * judging.seconds / elapsed:.0f}% of the cycle "
                f"(rules alone {rules.seconds:.1f}s = {100 * rules.seconds / elapsed:.0f}%)"
            )
            print(f"  findings {sum(report.findings.values())}; API calls {sum(report.calls.values())}: {calls}")
            if report.incomplete_channels:
                print(f"  channels left for the next cycle: {len(report.incomplete_channels)}")
            clock.advance(minutes=2)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (sandbox included): {peak_mb:.0f} MB for {total:,} messages")


if __name__ == "__main__":
    main()
