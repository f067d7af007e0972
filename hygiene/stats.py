"""What people's feedback says about each rule in each channel, and the labeled messages to replay.

``hygiene stats`` counts, per rule and channel over the last days: findings, nudges posted,
confirmed (a ticket created from the nudge — button or :ticket: — or the thread linked to one),
rejected ("Not a request", 👎), missed (tickets made with the message shortcut from a message no
rule flagged) and a precision estimate, confirmed / (confirmed + rejected). A rule and channel
whose precision falls under ``[feedback] min_precision`` (with at least ``min_labels`` labels) get
a suggestion to set ``mode = "report"`` there. ``hygiene feedback export`` writes the labeled
messages in the audit's message-line format with a ``labels`` key, for ``hygiene audit --labels``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hygiene.store import Store
from hygiene.store.database import iso


@dataclass
class RuleChannelStats:
    rule: str
    channel: str
    findings: int = 0
    nudges: int = 0
    confirmed: int = 0
    rejected: int = 0
    missed: int = 0

    @property
    def labeled(self) -> int:
        return self.confirmed + self.rejected

    @property
    def precision(self) -> float | None:
        """confirmed / (confirmed + rejected), None before anyone said anything."""
        return round(self.confirmed / self.labeled, 2) if self.labeled else None

    def suggestion(self, min_precision: float, min_labels: int) -> str | None:
        """The config change to consider when people reject this rule here too often."""
        if self.precision is None or self.labeled < min_labels or self.precision >= min_precision:
            return None
        return f'[rules.{self.rule}.channels.{self.channel}] mode = "report"'

    def as_dict(self, min_precision: float, min_labels: int) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "channel": self.channel,
            "findings": self.findings,
            "nudges": self.nudges,
            "confirmed": self.confirmed,
            "rejected": self.rejected,
            "missed": self.missed,
            "precision": self.precision,
            "suggestion": self.suggestion(min_precision, min_labels),
        }


def stats(store: Store, since: datetime) -> list[RuleChannelStats]:
    """Per rule and channel, since ``since``, sorted by rule then channel."""
    table: dict[tuple[str, str], RuleChannelStats] = {}

    def row(rule: str, channel: str) -> RuleChannelStats:
        return table.setdefault((rule, channel), RuleChannelStats(rule, channel))

    findings = store.db.query(
        "select f.fingerprint, f.rule, coalesce(f.channel_name, f.channel) as channel,"
        " exists(select 1 from outbox o where o.key = f.fingerprint || ':reply' and o.status = 'done') as nudged,"
        " exists(select 1 from outbox o where o.key = f.fingerprint || ':create' and o.status = 'done') as created"
        " from findings f where f.created_at >= ? and f.message_id is not null and f.message_id != ''",
        [iso(since)],
    )
    created: set[str] = set()
    for finding in findings:
        entry = row(finding["rule"], finding["channel"])
        entry.findings += 1
        entry.nudges += int(finding["nudged"])
        if finding["created"]:
            created.add(finding["fingerprint"])
    _add_labels(store, since, created, row)
    return [table[key] for key in sorted(table)]


def _add_labels(store: Store, since: datetime, created: set[str], row: Any) -> None:
    """Count each finding once per kind of label, whoever gave it; a ticket made counts as confirmed."""
    names = _channel_names(store)
    confirmed, rejected, missed = set(created), set[str](), set[str]()
    rule_of: dict[str, tuple[str, str]] = {}
    for label in store.feedback.since(since):
        key = label["fingerprint"] or f"{label['channel']}:{label['message_id']}"
        rule_of[key] = (label["rule"] or "-", names.get(label["channel"], label["channel"]))
        {"confirmed": confirmed, "rejected": rejected, "missed": missed}[label["label"]].add(key)
    for fingerprint in created:
        finding = store.findings.get(fingerprint)
        if finding is not None:
            rule_of[fingerprint] = (finding["rule"], finding["channel_name"] or finding["channel"])
    for key in confirmed - missed:
        row(*rule_of[key]).confirmed += 1
    for key in rejected - confirmed:
        row(*rule_of[key]).rejected += 1
    for key in missed:
        row(*rule_of[key]).missed += 1


def _channel_names(store: Store) -> dict[str, str]:
    rows = store.db.query("select distinct channel, channel_name from messages where channel_name is not null")
    return {r["channel"]: r["channel_name"] for r in rows}


def labeled_messages(store: Store, since: datetime) -> Iterator[dict[str, Any]]:
    """Each labeled message still stored with its text, in the audit's message-line format: the
    rules people said should fire on it in ``labels`` (empty when they only rejected)."""
    fire: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for label in store.feedback.since(since):
        key = (label["source"], label["channel"], label["message_id"])
        fire.setdefault(key, set())
        if label["label"] in ("confirmed", "missed") and label["rule"]:
            fire[key].add(label["rule"])
    for (source, channel, message_id), rules in sorted(fire.items()):
        message = store.messages.get(source, channel, message_id)
        if message is None:
            continue
        line: dict[str, Any] = {
            "type": "message",
            "channel": message.channel_name or message.channel,
            "ts": message.id,
            "user": message.user,
            "text": message.text,
            "labels": sorted(rules),
        }
        if message.thread_id:
            line["thread_ts"] = message.thread_id
        yield line


def export_lines(store: Store, since: datetime) -> Iterator[str]:
    """:func:`labeled_messages` as JSON lines."""
    for line in labeled_messages(store, since):
        yield json.dumps(line, ensure_ascii=False)
