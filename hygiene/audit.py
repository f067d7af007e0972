"""Running the chat rules over history without posting anything.

Events stream through a sliding window per channel: a message is judged once the stream has
moved ``window`` past it (so its thread replies, follow-ups and edits are in view), then kept a
while longer as context and forgotten. Memory depends on the window, not on the length of the
history. Every judged message can carry labels (the rule codes a person expects to fire); the
result then scores precision and recall per rule.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hygiene.clock import from_slack_ts
from hygiene.config import PolicySection
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.models import ChatEvent, ChatMessage, Finding, Staleness, Ticket
from hygiene.policy import static_action
from hygiene.rulebase import Rule, TicketRule

EXAMPLES_PER_RULE = 3


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    mistakes: list[tuple[str, str]] = field(default_factory=list)
    """(``false positive`` or ``missed``, text) for --mistakes."""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class AuditSummary:
    events: int = 0
    judged: int = 0
    plain: int = 0
    labeled: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)

    def per_thousand(self, code: str) -> float:
        return 1000 * self.findings.get(code, 0) / self.judged if self.judged else 0.0


@dataclass
class _Pending:
    message: ChatMessage
    labels: tuple[str, ...] | None


class Auditor:
    def __init__(
        self,
        rules: Sequence[Rule | TicketRule],
        tickets: TicketSnapshot,
        policy: PolicySection | None = None,
        window: timedelta = timedelta(minutes=60),
        zone: ZoneInfo | None = None,
        url_patterns: list[re.Pattern[str]] | None = None,
        staleness: Callable[[Ticket, datetime], Staleness | None] | None = None,
    ) -> None:
        self.staleness = staleness
        self.rules = [rule for rule in rules if isinstance(rule, Rule)]  # ticket rules judge tickets, not chat
        self.tickets = tickets
        self.policy = policy or PolicySection()
        self.window = window.total_seconds()
        self.zone = zone
        self.url_patterns = url_patterns or []
        self.summary = AuditSummary(scores={rule.code: Score() for rule in self.rules})
        self._contexts: dict[str, WindowContext] = {}
        self._pending: dict[str, dict[str, _Pending]] = {}
        self._queue: list[tuple[float, str, str]] = []  # (ts, channel, ts) of pending messages
        self._clock = 0.0
        self._since_evict = 0

    def run(self, events: Iterable[ChatEvent]) -> Iterator[tuple[Finding, str]]:
        """Findings with the action the policy would take, in the order messages are judged."""
        for event in events:
            self.summary.events += 1
            self._apply(event)
            yield from self._judge_ready()
        yield from self._judge_ready(flush=True)

    def held(self) -> int:
        """Messages held in memory right now (pending and context): bounded by the window."""
        return sum(len(context) for context in self._contexts.values())

    # the stream -------------------------------------------------------------------------------
    def _context(self, channel: str) -> WindowContext:
        if channel not in self._contexts:
            self._contexts[channel] = WindowContext(
                from_slack_ts("0"), [], self.tickets, self.url_patterns, zone=self.zone, staleness=self.staleness
            )
            self._pending[channel] = {}
        return self._contexts[channel]

    def _apply(self, event: ChatEvent) -> None:
        context = self._context(event.channel)
        pending = self._pending[event.channel]
        if event.kind == "deleted":
            context.remove(event.channel, event.ts)
            pending.pop(event.ts, None)
            return
        assert event.message is not None
        message = event.message
        if event.kind == "changed":
            previous = context.get(event.channel, event.ts)
            if previous is None:
                return  # an edit of a message we never saw or already forgot
            message = _edited(previous, message)
        context.add(message)
        if message.judged and (event.kind == "message" or event.ts in pending):
            labels = event.labels if event.labels is not None else getattr(pending.get(event.ts), "labels", None)
            if event.ts not in pending:
                heapq.heappush(self._queue, (float(event.ts), event.channel, event.ts))
            pending[event.ts] = _Pending(message, labels)
        self._clock = max(self._clock, float(event.ts))

    def _judge_ready(self, flush: bool = False) -> Iterator[tuple[Finding, str]]:
        horizon = self._clock - self.window
        while self._queue and (flush or self._queue[0][0] <= horizon):
            _, channel, ts = heapq.heappop(self._queue)
            item = self._pending[channel].pop(ts, None)
            if item is not None:  # deleted while it waited
                self._since_evict += 1
                yield from self._judge(item, self._contexts[channel])
        if self._since_evict > 500 or flush:
            self._since_evict = 0
            for channel, context in self._contexts.items():
                context.evict_before(channel, f"{horizon - 2 * self.window:.6f}")

    def _judge(self, item: _Pending, context: WindowContext) -> Iterator[tuple[Finding, str]]:
        message = item.message
        self.summary.judged += 1
        self.summary.plain += message.subtype is None
        context.now = from_slack_ts(message.ts) + timedelta(seconds=self.window)
        fired: set[str] = set()
        for rule in self.rules:
            finding = rule.check(message, context)
            if finding is None:
                continue
            fired.add(rule.code)
            self._count(finding)
            yield finding, static_action(self.policy, rule.settings_for(message), message)
        if item.labels is not None:
            self._score(message, set(item.labels), fired)

    def _count(self, finding: Finding) -> None:
        self.summary.findings[finding.rule] = self.summary.findings.get(finding.rule, 0) + 1
        examples = self.summary.examples.setdefault(finding.rule, [])
        if len(examples) < EXAMPLES_PER_RULE:
            examples.append(finding.text)

    def _score(self, message: ChatMessage, expected: set[str], fired: set[str]) -> None:
        self.summary.labeled += 1
        for code, score in self.summary.scores.items():
            if code in expected and code in fired:
                score.tp += 1
            elif code in fired:
                score.fp += 1
                score.mistakes.append(("false positive", message.plain))
            elif code in expected:
                score.fn += 1
                score.mistakes.append(("missed", message.plain))


def _edited(previous: ChatMessage, edit: ChatMessage) -> ChatMessage:
    """The stored message with the edit's text (an edit event carries only part of the message)."""
    return replace(previous, text=edit.text, plain=edit.plain, edited_ts=edit.edited_ts or previous.edited_ts)
