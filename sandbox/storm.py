"""Fault storms and kill sweeps over the real engine against the Slack and G Click sandboxes.

A scenario is the accounting workspace plus client requests arriving cycle after cycle (one for
a client the helpdesk only gains during the run), with #fiscal creating tickets itself. A storm
answers a share of every call — Slack methods, the token, task and client lists, pre-task
creation — with a fault (429 with Retry-After up to ``max_retry_after``, 500, 503, answers after
the client's timeout whose writes still happen, malformed bodies, connection resets), then runs
clean cycles; a kill sweep crashes a run at one failpoint hit and carries on. Either ends by
comparing what Slack and G Click received with a calm run of the same scenario.

Used by ``tests/test_storm.py`` (CI-sized) and ``bench/bench_storm.py``, ``bench/bench_kill.py``.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hygiene import failpoints
from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.errors import HygieneError, InjectedCrash
from hygiene.store import Store
from sandbox.gclick_api import GClickState
from sandbox.http_server import Fault
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

START = datetime(2026, 11, 18, 9, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
CYCLE_MINUTES = 5
CLIENT_TIMEOUT = 0.25
LATE = 0.4
SLACK_ROUTES = (
    "auth.test", "conversations.list", "conversations.history", "conversations.replies", "users.info",
    "chat.postMessage", "chat.getPermalink", "conversations.open",
)  # fmt: skip
GCLICK_ROUTES = ("token", "tarefas", "tarefa", "responsaveis", "atividades", "clientes", "preTarefas")
TICKET_ID = re.compile(r"\b4\.\d+\b")
"""Pre-task ids are the helpdesk's to assign: a storm may use up a few, so posts compare without them."""
KINDS = ("ratelimited", "server_error", "unavailable", "timeout", "late", "malformed", "reset", "reset_after")
REQUESTS = (
    ("fiscal", "U06ANA", "A Mercearia Dois Irmãos pediu a segunda via da guia do FGTS de outubro."),
    ("fiscal", "U02MARINA", "A Ótica Visão pediu o envio da guia do ISS de outubro até sexta."),
    ("dia-a-dia", "U03JOAO", "O cliente Brascont pediu a revisão da folha de novembro, alguém pode ver?"),
    ("fiscal", "U05PEDRO", "A Padaria Pão Quente pediu o parcelamento do ICMS de setembro."),
)


@dataclass
class Outcome:
    posts: Counter[tuple[str, str | None, str]]
    """(channel, thread root text, text) of every post, word for word (pre-task ids aside)."""
    tickets: Counter[tuple[str, str]]
    keyed: dict[str, str] = field(default_factory=dict)
    """Post key (its metadata) → its text: the same post told apart from a reworded one."""
    duplicates: int = 0
    failed: int = 0
    tracebacks: list[str] = field(default_factory=list)
    cycle_seconds: list[float] = field(default_factory=list)
    crashes: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    """Failpoint hits during the stormy (or killable) cycles: where a kill sweep may strike."""


@dataclass
class Comparison:
    duplicates: int
    missing: int
    extra: int
    reworded: int
    failed: int
    max_cycle_seconds: float
    tracebacks: int
    crashes: int = 0

    def line(self, label: str) -> str:
        return (
            f"{label}: duplicates={self.duplicates} missing={self.missing} extra={self.extra} "
            f"reworded={self.reworded} failed={self.failed} "
            f"max_cycle_s={self.max_cycle_seconds:.1f} tracebacks={self.tracebacks} crashes={self.crashes}"
        )

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.extra or self.reworded or self.failed or self.tracebacks)


def config_for(state_dir: Path, slack_url: str, gclick_url: str) -> Config:
    return parse(
        {
            "hygiene": {"state_dir": str(state_dir)},
            "slack": {
                "base_url": slack_url,
                "channels": ["dia-a-dia", "fiscal", "departamento-pessoal", "elogios", "support-team"],
                "retries": 2,
                "timeout_seconds": CLIENT_TIMEOUT,
                "max_retry_after_seconds": 10,
                "max_sleep_per_cycle_seconds": 30,
            },
            "helpdesk": {
                "kind": "gclick", "base_url": gclick_url, "create_department_id": 4, "retries": 2,
                "timeout_seconds": CLIENT_TIMEOUT, "max_retry_after_seconds": 10, "max_sleep_per_cycle_seconds": 30,
            },
            "policy": {"cooldown_minutes": 0, "daily_budget_per_person": 100, "working_hours_only": False},
            "outbox": {"backoff_seconds": 20, "backoff_max_seconds": 120, "settle_seconds": 60},
            "rules": {
                "HY101": {"channels": {"elogios": {"mode": "off"}, "fiscal": {"mode": "auto"}}},
                **{code: {"mode": "off"} for code in ("HY201", "HY202", "HY203")},
            },
        }
    )  # fmt: skip


class Storm:
    """Answer a share of calls with a random fault (the FaultBook's chaos hook)."""

    def __init__(self, rate: float, rng: random.Random, max_retry_after: int = 120) -> None:
        self.rate, self.rng, self.max_retry_after = rate, rng, max_retry_after
        self.on = False

    def __call__(self, route: str) -> Fault | None:
        if not self.on or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(KINDS)
        return Fault(route, kind, retry_after=self.rng.randint(1, self.max_retry_after), delay=LATE)


class Quiet(FrozenClock):
    """The scenario's clock: moves only between cycles; sleeps are recorded, not spent, so that a
    storm and a calm run see the same moments (and a 120 s Retry-After costs no real time)."""

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def run_scenario(
    cycles: int,
    clean: int = 3,
    storm: Storm | None = None,
    kills: list[tuple[str, int]] | None = None,
) -> Outcome:
    """Run the scenario: ``cycles`` (stormy when ``storm``) then ``clean`` calm ones."""
    data = json.loads((SCENARIOS / "accounting.json").read_text(encoding="utf-8"))
    clock = Quiet(START)
    state = SlackState.from_scenario(SCENARIOS / "accounting.json", clock)
    gclick = GClickState.from_tickets(data["tickets"], clock)
    if storm is not None:
        state.faults.chaos = gclick.faults.chaos = storm
    outcome = Outcome(Counter(), Counter())
    failpoints.disarm_all()
    for name, hit in kills or []:
        failpoints.arm(name, hit)
    with (
        tempfile.TemporaryDirectory(prefix="hygiene-storm-") as tmp,
        SlackSandbox(state) as slack,
        gclick.server() as gclick_server,
        gclick.credentials_in_env(),
    ):
        config = config_for(Path(tmp) / "state", slack.base_url, gclick_server.base_url)
        for index in range(cycles + clean):
            if storm is not None:
                storm.on = index < cycles
            if index == cycles:
                outcome.hits = failpoints.hits()
                failpoints.disarm_all()  # kills strike in the first cycles only; the clean ones finish the work
            _script(index, state, gclick)
            _cycle(config, clock, slack.token, outcome)
            _let_late_writes_land(state, gclick)  # real seconds, as the minutes between cycles would
            clock.advance(minutes=CYCLE_MINUTES)
        failpoints.disarm_all()
        _collect(config, state, gclick, outcome)
    return outcome


def _let_late_writes_land(state: SlackState, gclick: GClickState) -> None:
    wait = max(state.faults.busy_until, gclick.faults.busy_until) - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def _script(index: int, state: SlackState, gclick: GClickState) -> None:
    """New client requests arriving during the run; a client the helpdesk gains on the way."""
    if index == 1:
        gclick.add_client(2001, "Ótica Visão Clara", apelido="Ótica Visão")
    if 0 < index <= 2 * len(REQUESTS) and index % 2 == 0:
        channel, user, text = REQUESTS[index // 2 - 1]
        state.post_as(user, channel, text)


def _cycle(config: Config, clock: Quiet, token: str, outcome: Outcome) -> None:
    started, slept = time.monotonic(), len(clock.slept)
    run_cycle_into(outcome, config, clock, token)
    outcome.cycle_seconds.append(time.monotonic() - started + sum(clock.slept[slept:]))


def run_cycle_into(outcome: Outcome, config: Config, clock: Quiet, token: str | None = None) -> None:
    """One cycle of the real engine, its ending tallied on ``outcome``: a failpoint's crash is
    counted, a HygieneError is an exit 1 with a message (the run ended as it should), anything
    else is a traceback. Shared by every storm and kill sweep (Slack, Rocket.Chat, Digisac)."""
    from hygiene.wiring import run_cycle  # the sandbox never imports connectors at import time

    try:
        run_cycle(config, clock, token)
    except InjectedCrash:
        outcome.crashes += 1
    except HygieneError:
        pass
    except Exception:
        outcome.tracebacks.append(traceback.format_exc())


def _collect(config: Config, state: SlackState, gclick: GClickState, outcome: Outcome) -> None:
    texts = {m["ts"]: m["text"] for messages in state.messages.values() for m in messages}
    keys: Counter[str] = Counter()
    for post in state.bot_posts():
        if post["kind"] in ("reaction", "ephemeral"):
            continue
        root = texts.get(post["thread_ts"]) if post.get("thread_ts") else None
        text = TICKET_ID.sub("<id>", post["text"])
        key = ((post.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        outcome.posts[(post["channel"], root, text)] += 1
        outcome.keyed[key] = text
        keys[key] += 1
    markers: Counter[str] = Counter()
    for task in gclick.tasks.values():
        if "[hy:" in task["nome"]:
            subject, marker = task["nome"].rsplit(" [hy:", 1)
            client = next((c["nome"] for c in gclick.clients if c["nome"] == task["clienteApelido"]), "")
            outcome.tickets[(subject, client)] += 1
            markers[marker] += 1
    outcome.duplicates = sum(n - 1 for n in keys.values() if n > 1) + sum(n - 1 for n in markers.values() if n > 1)
    store = Store.open(config.store_path)
    try:
        outcome.failed = sum(1 for row in store.outbox.rows() if row["status"] == "failed")
    finally:
        store.close()
    outcome.faults = dict(state.faults.injected) | {f"gclick.{k}": v for k, v in gclick.faults.injected.items()}


def compare(calm: Outcome, other: Outcome) -> Comparison:
    """Posts are matched by key: one missing or extra is a side effect lost or added; one posted
    with other words (judged later, when the helpdesk had changed) is reworded."""
    reworded = sum(1 for key, text in other.keyed.items() if key in calm.keyed and calm.keyed[key] != text)
    missing = len(calm.keyed.keys() - other.keyed.keys()) + sum((calm.tickets - other.tickets).values())
    extra = len(other.keyed.keys() - calm.keyed.keys()) + sum((other.tickets - calm.tickets).values())
    return Comparison(
        duplicates=other.duplicates,
        missing=missing,
        extra=extra,
        reworded=reworded,
        failed=other.failed,
        max_cycle_seconds=max(other.cycle_seconds, default=0.0),
        tracebacks=len(other.tracebacks),
        crashes=other.crashes,
    )


def difference(calm: Outcome, other: Outcome) -> dict[str, Any]:
    """What differs, for a failing test's message."""
    return {
        "missing_posts": list((calm.posts - other.posts).elements()),
        "extra_posts": list((other.posts - calm.posts).elements()),
        "missing_tickets": list((calm.tickets - other.tickets).elements()),
        "extra_tickets": list((other.tickets - calm.tickets).elements()),
        "tracebacks": other.tracebacks[:2],
    }
