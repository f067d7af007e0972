"""The outbox under failures: one attempt counts once, transient waits with backoff, permanent
fails loudly, nothing old is dropped silently, and people can see and re-queue what failed."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.http import HttpClient
from hygiene.clock import FrozenClock
from hygiene.errors import ExternalError, PermanentError, RateLimited, TransientError
from hygiene.models import Action, ActionKind
from hygiene.outbox import RetryRules, deliver, tell_leads
from hygiene.report import DailyReport, day_figures, render_csv, render_markdown
from hygiene.store import Store
from sandbox.gclick_api import GClickState
from tests.conftest import START

RULES = RetryRules(backoff=timedelta(seconds=60), settle=timedelta(seconds=120), max_age=timedelta(hours=2))


class FakeChat:
    """A chat sink that fails as told, then posts."""

    bot_user_id = "UBOT"
    source = "slack"
    display_name = "Fake"

    def __init__(self, *failures: ExternalError) -> None:
        self.failures = list(failures)
        self.sent: list[str] = []

    def send(self, action: Action) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(action.key)
        return f"{len(self.sent)}.0"

    def find_posted(self, action: Action, since: datetime) -> str | None:
        return None

    def permalink(self, channel: str, message_id: str) -> str | None:
        return None


def nudge(key: str = "k1") -> Action:
    return Action(ActionKind.THREAD_REPLY, key, "C1", "nudge", thread_id="1.0", user="U1", rule="HY101")


def row(store: Store, key: str = "k1") -> dict[str, Any]:
    return next(r for r in store.outbox.rows() if r["key"] == key)


def run(store: Store, chat: FakeChat, clock: FrozenClock) -> Any:
    return deliver(store, chat, clock, None, RULES, None, random.Random(1))  # type: ignore[arg-type]


def test_a_transient_failure_counts_one_attempt_and_waits_its_backoff(store: Store, clock: FrozenClock) -> None:
    store.outbox.enqueue(nudge(), clock.now())
    chat = FakeChat(TransientError("slack", "rate limited"))
    first = run(store, chat, clock)
    assert (first.retrying, first.failed, first.errors) == (1, 0, [])
    assert row(store)["status"] == "pending" and row(store)["attempts"] == 1
    assert run(store, chat, clock).sent == 0, "not before its next attempt"
    clock.advance(minutes=2)
    assert run(store, chat, clock).sent == 1
    assert row(store)["attempts"] == 2 and chat.sent == ["k1"]


def test_backoff_grows_with_jitter_and_a_long_retry_after_is_respected() -> None:
    rng = random.Random(3)
    waits = [RULES.wait(n, rng).total_seconds() for n in (1, 2, 3, 4)]
    assert 30 <= waits[0] <= 60 and 60 <= waits[1] <= 120 and 120 <= waits[2] <= 240 and waits[3] <= 480


def test_a_long_retry_after_sets_the_next_attempt(store: Store, clock: FrozenClock) -> None:
    store.outbox.enqueue(nudge(), clock.now())
    run(store, FakeChat(RateLimited("zendesk", "rate limited for 120s", 120)), clock)
    clock.advance(seconds=100)
    assert run(store, FakeChat(), clock).sent == 0
    clock.advance(seconds=30)
    assert run(store, FakeChat(), clock).sent == 1


def test_a_permanent_failure_fails_and_is_surfaced(store: Store, clock: FrozenClock) -> None:
    store.outbox.enqueue(nudge(), clock.now())
    result = run(store, FakeChat(PermanentError("slack", "chat.postMessage: msg_too_long")), clock)
    assert result.failed == 1 and result.errors == ["slack: chat.postMessage: msg_too_long"]
    assert row(store)["status"] == "failed"


def test_an_entry_failing_past_its_max_age_is_escalated_not_dropped(store: Store, clock: FrozenClock) -> None:
    store.outbox.enqueue(nudge(), clock.now())
    failures = [TransientError("slack", "HTTP 503") for _ in range(50)]
    chat = FakeChat(*failures)
    escalated = 0
    for _ in range(20):
        clock.advance(minutes=20)
        escalated += run(store, chat, clock).escalated
    assert escalated == 1
    assert row(store)["status"] == "failed" and row(store)["error"].startswith("escalated")


def test_failed_and_long_pending_entries_reach_the_report_and_the_leads_once(store: Store, clock: FrozenClock) -> None:
    store.outbox.enqueue(nudge("bad"), clock.now())
    store.outbox.enqueue(nudge("slow"), clock.now())
    run(store, FakeChat(PermanentError("slack", "no_text"), TransientError("slack", "HTTP 500")), clock)
    clock.advance(hours=5)
    figures = day_figures(store, clock.now(), START.tzinfo, long_pending_hours=4)
    daily = DailyReport(clock.now(), [], figures=figures)
    markdown = render_markdown(daily, START.tzinfo)
    assert "failed: thread_reply bad" in markdown and "pending: thread_reply slow" in markdown
    assert "bad,,slack: no_text" in render_csv(daily)
    assert tell_leads(store, clock.now(), ("ULEAD",), timedelta(hours=4)) == 2
    assert tell_leads(store, clock.now(), ("ULEAD",), timedelta(hours=4)) == 0, "once"


def test_outbox_command_lists_and_retry_requeues(tmp_path: Path, clock: FrozenClock) -> None:
    config = tmp_path / "hygiene.toml"
    config.write_text('[hygiene]\nstate_dir = "state"\n[slack]\nchannels = ["a"]\n', encoding="utf-8")
    store = Store.open(tmp_path / "state" / "hygiene.db")
    store.outbox.enqueue(nudge(), clock.now())
    run(store, FakeChat(PermanentError("slack", "no_text")), clock)
    store.close()

    def hygiene(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hygiene", *args, "--config", str(config)], capture_output=True, text=True
        )

    listed = hygiene("outbox", "--status", "failed", "--format", "jsonl")
    (record,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (record["key"], record["status"], record["attempts"], record["error"]) == (
        "k1",
        "failed",
        1,
        "slack: no_text",
    )
    assert "failed" in hygiene("outbox").stdout
    requeued = subprocess.run(
        [sys.executable, "-m", "hygiene", "outbox", "--config", str(config), "retry", "k1"],
        capture_output=True,
        text=True,
    )
    assert requeued.returncode == 0, requeued.stderr
    assert Store.open(tmp_path / "state" / "hygiene.db").outbox.rows()[0]["status"] == "pending"


def test_a_post_is_never_resent_inside_the_call(clock: FrozenClock) -> None:
    state = GClickState(clock=clock)
    with state.server() as server:
        state.faults.inject("preTarefas", "late", delay=0.6)
        http_post = HttpClient("gclick", server.base_url, sleep=clock.sleep, retries=2, timeout=0.3)
        with pytest.raises(TransientError, match="may have been carried out"):
            http_post.request("POST", "/v2/tarefas/preTarefas", json={})
        assert state.faults.calls["preTarefas"] == 1, "sent once"


def test_a_long_retry_after_defers_without_sleeping(clock: FrozenClock) -> None:
    state = GClickState(clock=clock)
    with state.server() as server:
        state.faults.inject("tarefas", "ratelimited", retry_after=120)
        http = HttpClient("gclick", server.base_url, sleep=clock.sleep, max_retry_after=30)
        with pytest.raises(RateLimited) as caught:
            http.request("GET", "/tarefas")
        assert caught.value.retry_after == 120 and clock.slept == []


def test_short_retry_afters_stop_at_the_cycles_sleep_cap(clock: FrozenClock) -> None:
    state = GClickState(clock=clock)
    with state.server() as server:
        state.faults.inject("tarefas", "ratelimited", times=10, retry_after=20)
        http = HttpClient("gclick", server.base_url, sleep=clock.sleep, retries=5, max_retry_after=30, sleep_cap=45)
        with pytest.raises(RateLimited):
            http.request("GET", "/tarefas")
        assert sum(clock.slept) <= 45


def test_an_unresolvable_host_is_named_as_a_dns_failure(clock: FrozenClock) -> None:
    http = HttpClient("zendesk", "http://no-such-host.invalid", sleep=clock.sleep, retries=0)
    with pytest.raises(TransientError, match="DNS lookup failed"):
        http.request("GET", "/api/v2/tickets.json")
    with pytest.raises(TransientError, match="connection refused"):
        HttpClient("zendesk", "http://127.0.0.1:9", sleep=clock.sleep, retries=0).request("GET", "/x")
    assert isinstance(requests.Session(), requests.Session)
