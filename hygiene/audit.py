"""Running the chat rules over history without posting anything.

Every channel streams through its own sliding window, on its own clock (the latest ts its
events reached): a message is judged once its channel has moved ``window`` past it (so its
thread replies, follow-ups and edits are in view), then kept a while longer as context and
forgotten. What one channel's messages come to never depends on another channel's, so the
findings do not depend on how the input is split into files or how channels interleave.
Memory depends on the window, not on the length of the history. At the end of the input the
messages still waiting are judged, in input order.

Order: findings come in the order messages are judged, which only the input order decides.
Each carries a :data:`Key` that sorts in that order, so workers that each judge some of the
channels can be merged back into exactly the single-process order.

Every judged message can carry labels (the rule codes a person expects to fire); the result
then scores precision and recall per rule.
"""

from __future__ import annotations

import heapq
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hygiene.business_time import BusinessCalendar
from hygiene.charters import CharterBook
from hygiene.config import PolicySection
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.models import ChatEvent, ChatMessage, Finding, Staleness, Ticket
from hygiene.policy import static_action
from hygiene.rulebase import Rule, TicketRule

EXAMPLES_PER_RULE = 3
AT_END = sys.maxsize
"""The trigger of the messages judged when the input ends."""

Key = tuple[int, ...]
"""Where a judged message (and its findings, by rule) falls in the output order.

``(trigger unit, trigger index, n)``: the n-th message judged when the event at input position
(unit, index) moved its channel's clock; ``(AT_END, unit, index)``: a message judged when the
input ended, at its own input position. A finding's key adds the rule's index.
"""
Judged = tuple[Key, Finding, str]
"""A finding, its key in the output order and the action the policy would take."""


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    keyed: list[tuple[Key, str, str]] = field(default_factory=list)
    """(key, ``false positive`` or ``missed``, text) for --mistakes, in output order."""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def mistakes(self) -> list[tuple[str, str]]:
        return [(kind, text) for _, kind, text in self.keyed]

    def merge(self, other: Score) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn
        self.keyed = sorted(self.keyed + other.keyed)


@dataclass
class AuditSummary:
    events: int = 0
    judged: int = 0
    plain: int = 0
    labeled: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    keyed_examples: dict[str, list[tuple[Key, str]]] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)

    def per_thousand(self, code: str) -> float:
        return 1000 * self.findings.get(code, 0) / self.judged if self.judged else 0.0

    @property
    def examples(self) -> dict[str, list[str]]:
        """The first findings' texts per rule, in output order."""
        return {code: [text for _, text in keyed] for code, keyed in self.keyed_examples.items()}

    def count(self, key: Key, finding: Finding) -> None:
        self.findings[finding.rule] = self.findings.get(finding.rule, 0) + 1
        examples = self.keyed_examples.setdefault(finding.rule, [])
        if len(examples) < EXAMPLES_PER_RULE:
            examples.append((key, finding.text))

    def merge(self, other: AuditSummary) -> None:
        """Add a summary of other channels (a worker's) to this one."""
        self.events += other.events
        self.judged += other.judged
        self.plain += other.plain
        self.labeled += other.labeled
        for code, count in other.findings.items():
            self.findings[code] = self.findings.get(code, 0) + count
        for code, keyed in other.keyed_examples.items():
            both = sorted(self.keyed_examples.get(code, []) + keyed)
            self.keyed_examples[code] = both[:EXAMPLES_PER_RULE]
        for code, score in other.scores.items():
            self.scores.setdefault(code, Score()).merge(score)


@dataclass
class _Pending:
    message: ChatMessage
    labels: tuple[str, ...] | None
    seq: tuple[int, int]


EPOCH = datetime.fromtimestamp(0, UTC)


class _Channel:
    """One channel's window: its messages in view, those waiting to be judged, and its clock."""

    __slots__ = ("clock", "context", "evicted", "pending", "queue")

    def __init__(self, context: WindowContext) -> None:
        self.context = context
        self.pending: dict[str, _Pending] = {}
        self.queue: list[tuple[float, str]] = []  # (ts, ts) of pending messages
        self.clock = 0.0
        self.evicted = 0.0  # the clock when it last forgot old threads


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
        charters: CharterBook | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.staleness = staleness
        self.charters, self.calendar = charters, calendar
        self.rules = [rule for rule in rules if isinstance(rule, Rule)]  # ticket rules judge tickets, not chat
        self._automated = any(rule.judges_automated for rule in self.rules)
        self.tickets = tickets
        self.policy = policy or PolicySection()
        self.window = window.total_seconds()
        self._delta = timedelta(seconds=self.window)
        self.zone = zone
        self.url_patterns = url_patterns or []
        self.summary = AuditSummary(scores={rule.code: Score() for rule in self.rules})
        self._channels: dict[str, _Channel] = {}
        self._count = 0  # messages judged so far on the current event
        # Rule.judges reads three properties of a message, so the rules that judge one are those of its kind
        # (unless a rule asks something else of a message: then every message is asked)
        self._by_kind: dict[tuple[bool, bool, bool], list[tuple[int, Rule]]] = {}
        self._kinds_decide = all(type(rule).judges is Rule.judges for rule in self.rules)

    def run(self, events: Iterable[ChatEvent]) -> Iterator[tuple[Finding, str]]:
        """Findings with the action the policy would take, in the order messages are judged."""
        for _, finding, action in self.stream(events):
            yield finding, action

    def stream(self, events: Iterable[ChatEvent]) -> Iterator[Judged]:
        """:meth:`run` with each finding's key in the output order."""
        for event in events:
            yield from self.feed(event)
        yield from self.finish()

    def feed(self, event: ChatEvent) -> list[Judged]:
        """Take one event; the findings of the messages its channel's clock now passed.

        The event's moment (a message's ts; when an edit or deletion happened, if the input
        says) first judges what is more than a window older than it, without it in view; then
        it applies and what is exactly a window older is judged with it. So a message is judged
        on its channel's events up to a window after it, and on nothing later.
        """
        self.summary.events += 1
        channel = self._channel(event.channel)
        found: list[Judged] = []
        self._count = 0
        moment = event.message.at.timestamp() if event.kind == "message" and event.message else event.at
        if moment is not None and moment > channel.clock:
            self._judge_ready(channel, event, found, moment - self.window, before=True)
            channel.clock = moment
        if self._apply(event, channel):
            self._judge_ready(channel, event, found, channel.clock - self.window)
        return found

    def _judge_ready(
        self, channel: _Channel, event: ChatEvent, found: list[Judged], horizon: float, before: bool = False
    ) -> None:
        """Judge the channel's messages up to ``horizon`` (or just before it)."""
        queue = channel.queue
        while queue and (queue[0][0] < horizon or (not before and queue[0][0] == horizon)):
            _, ts = heapq.heappop(queue)
            item = channel.pending.pop(ts, None)
            if item is not None:  # else deleted while it waited
                self._judge(item, channel, (*event.seq, self._count), found)
                self._count += 1
        if channel.clock - channel.evicted > self.window:  # forget threads three windows old, once a window
            channel.evicted = channel.clock
            channel.context.evict_before(event.channel, datetime.fromtimestamp(channel.clock - 3 * self.window, UTC))

    def finish(self) -> list[Judged]:
        """The input ended: judge every message still waiting, in input order."""
        waiting = [
            (item.seq, item, channel) for channel in self._channels.values() for item in channel.pending.values()
        ]
        found: list[Judged] = []
        for seq, item, channel in sorted(waiting, key=lambda entry: entry[0]):
            self._judge(item, channel, (AT_END, *seq), found)
        for channel in self._channels.values():
            channel.pending.clear()
            channel.queue.clear()
        return found

    def held(self) -> int:
        """Messages held in memory right now (pending and context): bounded by the window."""
        return sum(len(channel.context) for channel in self._channels.values())

    # the stream -------------------------------------------------------------------------------
    def _channel(self, name: str) -> _Channel:
        channel = self._channels.get(name)
        if channel is None:
            context = WindowContext(
                EPOCH,
                [],
                self.tickets,
                self.url_patterns,
                zone=self.zone,
                staleness=self.staleness,
                charters=self.charters,
                calendar=self.calendar,
            )
            channel = self._channels[name] = _Channel(context)
        return channel

    def _apply(self, event: ChatEvent, channel: _Channel) -> bool:
        """Apply an event to its channel's window; False when its clock stays (nothing new to judge)."""
        context, pending = channel.context, channel.pending
        if event.kind == "deleted":
            context.remove(event.channel, event.message_id)
            pending.pop(event.message_id, None)
            return False
        assert event.message is not None
        message = event.message
        if event.kind == "changed":
            previous = context.get(event.channel, event.message_id)
            if previous is None:
                return False  # an edit of a message we never saw or already forgot
            message = _edited(previous, message)
        context.add(message)
        moment = message.at.timestamp()
        judged = message.judged or (self._automated and message.automated)
        if judged and (event.kind == "message" or message.id in pending):
            waiting = pending.get(message.id)
            labels = event.labels if event.labels is not None or waiting is None else waiting.labels
            if waiting is None:
                heapq.heappush(channel.queue, (moment, message.id))
            pending[message.id] = _Pending(message, labels, waiting.seq if waiting else event.seq)
        channel.clock = max(channel.clock, moment)
        return True

    def _judge(self, item: _Pending, channel: _Channel, key: Key, found: list[Judged]) -> None:
        message = item.message
        if message.judged:  # alerts are judged too, by the rules that judge them, but not counted as messages
            self.summary.judged += 1
            self.summary.plain += bool(message.plain.strip())
        context = channel.context
        context.now = message.at + self._delta
        fired: set[str] = set()
        for index, rule in self._judging(message):
            finding = rule.check(message, context)
            if finding is None:
                continue
            fired.add(rule.code)
            finding_key = (*key, index)
            self.summary.count(finding_key, finding)
            found.append((finding_key, finding, static_action(self.policy, rule.settings_for(message), message)))
        if item.labels is not None:
            self._score(message, key, set(item.labels), fired)

    def _judging(self, message: ChatMessage) -> list[tuple[int, Rule]]:
        """The rules (with their index) that judge the message: the same for every message of a kind."""
        if not self._kinds_decide:
            return [(index, rule) for index, rule in enumerate(self.rules) if rule.judges(message)]
        kind = (message.in_client_channel, message.judged, message.automated)
        rules = self._by_kind.get(kind)
        if rules is None:
            rules = self._by_kind[kind] = [
                (index, rule) for index, rule in enumerate(self.rules) if rule.judges(message)
            ]
        return rules

    def _score(self, message: ChatMessage, key: Key, expected: set[str], fired: set[str]) -> None:
        self.summary.labeled += 1
        for index, (code, score) in enumerate(self.summary.scores.items()):
            if code in expected and code in fired:
                score.tp += 1
            elif code in fired:
                score.fp += 1
                score.keyed.append(((*key, index), "false positive", message.plain))
            elif code in expected:
                score.fn += 1
                score.keyed.append(((*key, index), "missed", message.plain))


def _edited(previous: ChatMessage, edit: ChatMessage) -> ChatMessage:
    """The stored message with the edit's text (an edit event carries only part of the message)."""
    return replace(previous, text=edit.text, plain=edit.plain, edited_at=edit.edited_at or previous.edited_at)
