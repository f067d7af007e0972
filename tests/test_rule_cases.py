"""Every rule's fixture file (tests/rule_cases/<CODE>.toml), run by one parametrized test.

A case: ``text`` (Slack markup), ``fires``, and optionally ``channel``, ``reply`` (judge it as a
thread reply under ``root``, the thread's first message), ``thread`` (replies by someone else,
``thread_after_minutes`` apart from the message), ``followups`` (later top-level messages:
``after_minutes``, ``text``, ``other_user``),
``reactions`` (emoji → users), ``settings`` (the rule's settings), ``no_tickets`` (no helpdesk),
``evidence`` (keys that must match) and ``says`` (a piece of what the bot would say). Charter
rules' cases add ``charter`` (the ``[charters.<channel>]`` table of the case's channel),
``groups`` (``[people.groups]``), ``bot`` (the message is an integration's alert), ``mentions``
(user ids it mentions), ``reply_to_alert`` (with ``reply``: the thread's root is an alert) and
``thread_user`` (who writes the ``thread`` replies, default U05PEDRO). Client-side cases (HY3xx)
add ``side`` (``client`` or ``agent``: the message is in a conversation with a client, as
Digisac gives it), ``contact`` (the contact's name), ``sent_days_ago`` (history synced late) and
``conversation`` (later messages in it: ``after_minutes``, ``side``, ``text``; an agent's are
by the judged agent). Ticket
rules' cases have ``ticket`` (the normalized model of CONTRACTS.md) and ``now`` instead of
``text``; their calendar is 08:00–18:00, Monday to Friday, with São Paulo's holidays.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.chat.slack.markup import render
from connectors.chat.slack.messages import to_slack_ts
from hygiene.business_time import BusinessCalendar
from hygiene.charters import Charter, CharterBook
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.models import ChatMessage, Ticket
from hygiene.refs import url_pattern
from hygiene.rulebase import TicketRule
from hygiene.sla import SlaBook, TicketClock
from hygiene.wiring import build_rules
from rules import REGISTRY
from tests.conftest import SCENARIO, START

CASES_DIR = Path(__file__).parent / "rule_cases"
NAMES = {"U02MARINA": "marina", "U07SARAH": "sarah"}
TICKETS = [Ticket.model_validate(t) for t in json.loads(SCENARIO.read_text(encoding="utf-8"))["tickets"]]
AUTHOR, OTHER, ALERTS, AGENT = "U03JOAO", "U05PEDRO", "B01ALERTS", "agent-ana"
ZONE = ZoneInfo("America/Sao_Paulo")


def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            params.append(pytest.param(path.stem, case, id=f"{path.stem}-{case['name']}"))
    return params


def message(text: str, minutes_ago: float, *, user: str = AUTHOR, channel: str = "dia-a-dia", **extra: Any):
    ts = to_slack_ts(START - timedelta(minutes=minutes_ago))
    return ChatMessage(
        channel="C" + channel.upper()[:8],
        channel_name=channel,
        id=ts,
        at=START - timedelta(minutes=minutes_ago),
        text=text,
        plain=render(text, NAMES),
        user=user,
        **extra,
    )


def in_conversation(
    text: str, minutes_ago: float, side: str, contact: str, n: int, hint: str | None = None
) -> ChatMessage:
    """A message of a WhatsApp conversation (Digisac's shape: the contact's id is the thread), with
    the client hint a connector's contact mapping gives (a case's ``client_hint``)."""
    user = "contact-1" if side == "client" else AGENT
    return ChatMessage(
        channel="SWHATSAPP",
        channel_name="WhatsApp",
        id=f"dm-{n}",
        at=START - timedelta(minutes=minutes_ago),
        text=text,
        plain=text,
        source="digisac",
        user=user,
        user_name=contact if side == "client" else "Ana Ribeiro",
        thread_id="contact-1",
        author_side=side,  # type: ignore[arg-type]
        department="Fiscal",
        client_hint=hint,
    )


def build_client_context(case: dict[str, Any]) -> tuple[ChatMessage, WindowContext]:
    contact = case.get("contact", "Fernanda (Brascont)")
    hint = case.get("client_hint")
    judged = in_conversation(case["text"], 30, case["side"], contact, 0, hint)
    if "sent_days_ago" in case:
        judged = replace(judged, sent_at=judged.at - timedelta(days=case["sent_days_ago"]))
    later = [
        in_conversation(item["text"], 30 - item["after_minutes"], item["side"], contact, n, hint)
        for n, item in enumerate(case.get("conversation", []), start=1)
    ]
    tickets = TicketSnapshot([] if case.get("no_tickets") else TICKETS)
    return judged, WindowContext(START, [judged, *later], tickets, [url_pattern("https://helpdesk.example/t/{id}")])


def build_context(case: dict[str, Any]) -> tuple[ChatMessage, WindowContext]:
    if "side" in case:
        return build_client_context(case)
    channel = case.get("channel", "dia-a-dia")
    reactions = tuple((emoji, tuple(users)) for emoji, users in case.get("reactions", {}).items())
    author = {"user": ALERTS, "is_bot": True} if case.get("bot") else {}
    mentions = tuple(case.get("mentions", ()))
    root = message(case["text"], 30, channel=channel, reactions=reactions, mentions=mentions, **author)
    judged = root
    parents = []
    if case.get("reply"):
        bot = {"user": ALERTS, "is_bot": True} if case.get("reply_to_alert") else {}
        parents = [message(case.get("root", "Alguma novidade por aqui?"), 40, channel=channel, **bot)]
        judged = message(case["text"], 30, channel=channel, thread_id=parents[0].id)
    gap = case.get("thread_after_minutes", 0.5)
    others = parents + [
        message(text, 30 - gap * (i + 1), user=case.get("thread_user", OTHER), channel=channel, thread_id=root.id)
        for i, text in enumerate(case.get("thread", []))
    ]
    others += [
        message(f["text"], 30 - f["after_minutes"], user=OTHER if f.get("other_user") else AUTHOR, channel=channel)
        for f in case.get("followups", [])
    ]
    tickets = TicketSnapshot([] if case.get("no_tickets") else TICKETS, extra_clients=case.get("clients", []))
    patterns = [url_pattern("https://helpdesk.example/t/{id}")]
    charters = CharterBook(
        {channel: Charter.model_validate(case["charter"])} if "charter" in case else {}, case.get("groups", {})
    )
    context = WindowContext(START, [judged, *others], tickets, patterns, charters=charters)
    return judged, context


def test_every_rule_has_a_fixture_file() -> None:
    assert {p.stem for p in CASES_DIR.glob("*.toml")} == set(REGISTRY)


def test_every_fixture_has_firing_and_quiet_cases_in_both_languages() -> None:
    for path in CASES_DIR.glob("*.toml"):
        cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
        for fires in (True, False):
            names = [c["name"] for c in cases if c["fires"] is fires]
            assert any(n.startswith("pt_") for n in names), f"{path.name}: no Portuguese case with fires={fires}"
            assert any(n.startswith("en_") for n in names), f"{path.name}: no English case with fires={fires}"


def ticket_case(rule: TicketRule, case: dict[str, Any]) -> None:
    """Ticket rules: ``ticket`` (the normalized model) judged at ``now`` (naive: São Paulo time)."""
    ticket = Ticket.model_validate(case["ticket"])
    now = datetime.fromisoformat(case["now"]).replace(tzinfo=ZONE)
    book = SlaBook([], BusinessCalendar(ZONE, subdivision="SP"))
    verdict = rule.verdict(ticket, TicketClock(now, book))
    assert verdict.fired == case["fires"], verdict
    for key, value in case.get("evidence", {}).items():
        assert verdict.evidence[key] == value, (key, verdict.evidence)
    if verdict.fired:
        assert verdict.says and verdict.evidence["key"].startswith(f"ticket:{ticket.id}:")
        if "says" in case:
            assert case["says"] in verdict.says


@pytest.mark.parametrize(("code", "case"), load_cases())
def test_rule_case(code: str, case: dict[str, Any]) -> None:
    (rule,) = [r for r in build_rules({code: case.get("settings", {})}) if r.code == code]
    if isinstance(rule, TicketRule):
        ticket_case(rule, case)
        return
    judged, context = build_context(case)
    assert rule.ready(judged, context)
    verdict = rule.verdict(judged, context)
    assert verdict.fired == case["fires"], verdict
    if verdict.fired:
        assert 0 <= verdict.score <= 1
        assert verdict.evidence.get("phrases") is not None, "every finding carries its evidence"
        assert verdict.says, "a firing rule says something to the person"
        for key, value in case.get("evidence", {}).items():
            assert verdict.evidence[key] == value
        if "says" in case:
            assert case["says"] in verdict.says
    else:
        assert verdict.reason, "a quiet rule says why"
