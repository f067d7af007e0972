"""The worker pool of `hygiene audit --jobs N`: bounded read-ahead, merged order, failures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from hygiene.audit import Auditor
from hygiene.audit_jobs import QUEUED_BLOCKS, AuditFailed, run_in_workers
from hygiene.context import TicketSnapshot
from hygiene.models import ChatEvent, ChatMessage, Finding
from hygiene.wiring import build_rules
from tests.conftest import at_of

REQUEST = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"


def event(channel: str, number: int) -> ChatEvent:
    ts = f"{1_700_000_000 + number * 7200}.000100"  # two hours apart: each judges the one before
    message = ChatMessage(channel=channel, id=ts, at=at_of(ts), text=REQUEST, plain=REQUEST, user="U1")
    return ChatEvent("message", channel, ts, message, seq=(number, int(channel[1:])))


@dataclass
class Events:
    """A worker input whose work is the events themselves."""

    skips: list[tuple[tuple[int, int], str]] = field(default_factory=list)

    def __call__(self, work: list[ChatEvent]) -> list[ChatEvent]:
        if any(e.message_id.startswith("boom") for e in work):
            raise RuntimeError("the input broke")
        return work


def render(finding: Finding, action: str) -> str:
    return f"{finding.channel} {finding.message_id}\n"


def auditor() -> Auditor:
    return Auditor([r for r in build_rules({}) if r.code == "HY101"], TicketSnapshot())


def test_workers_read_a_bounded_way_ahead_and_merge_in_order() -> None:
    pulled = 0

    def blocks() -> Iterator[list[list[ChatEvent]]]:
        nonlocal pulled
        for number in range(200):
            pulled += 1
            yield [[event("c0", number)], [event("c1", number)]]

    written: list[str] = []
    ahead: list[int] = []

    def write(line: str) -> None:
        written.append(line)
        ahead.append(pulled - len(written) // 2)

    merged = run_in_workers(blocks(), Events, auditor(), render, 2, write)
    assert len(written) == 400 and merged.summary.judged == 400
    assert max(ahead) <= 3 * QUEUED_BLOCKS + 4, "the feeder waits for the workers: memory stays flat"
    one = auditor()
    expected = [
        render(f, a)
        for number in range(200)
        for e in (event("c0", number), event("c1", number))
        for _, f, a in one.feed(e)
    ] + [render(f, a) for _, f, a in one.finish()]
    assert written == expected, "the order one process judges them in"


def test_a_failing_worker_fails_the_audit() -> None:
    broken = ChatEvent("deleted", "c1", "boom")
    with pytest.raises(AuditFailed, match="the input broke"):
        run_in_workers(iter([[[event("c0", 0)], [broken]]]), Events, auditor(), render, 2, lambda line: None)


def test_busy_channels_spread_across_workers() -> None:
    """Round robin by first appearance would put both busy channels on worker 0."""
    from connectors.audit_input import Splitter
    from connectors.chat.slack.export import MessageReader

    counts = {"busy1": 40, "quiet1": 1, "busy2": 40, "quiet2": 1}
    lines = [
        f'{{"channel": "{c}", "ts": "{i}.0", "text": "x"}}\n'.encode() for c, n in counts.items() for i in range(n)
    ]
    splitter = Splitter(2, MessageReader())
    blocks = list(splitter.lines(iter(lines), "mem"))  # type: ignore[arg-type]
    assert sorted(splitter.shares()) == [0.5, 0.5]
    assert sum(len(part[0].numbers) for block in blocks for part in block) == 82  # type: ignore[union-attr]


def test_a_worker_that_dies_fails_the_audit() -> None:
    """Killed without a word (as by the OOM killer): the audit says so instead of waiting forever."""
    import os

    @dataclass
    class Dies(Events):
        def __call__(self, work: list[ChatEvent]) -> list[ChatEvent]:
            if any(e.channel == "c1" for e in work):
                os._exit(9)
            return work

    with pytest.raises(AuditFailed, match="died"):
        run_in_workers(iter([[[event("c0", 0)], [event("c1", 0)]]]), Dies, auditor(), render, 2, lambda line: None)
