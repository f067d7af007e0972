"""Every rule's fixture file (tests/rule_cases/<CODE>.toml), run by one parametrized test."""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hygiene.clock import to_slack_ts
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.models import ChatMessage, Ticket
from hygiene.refs import url_pattern
from hygiene.text import render
from hygiene.wiring import build_rules
from rules import REGISTRY
from tests.conftest import SCENARIO, START

CASES_DIR = Path(__file__).parent / "rule_cases"
NAMES = {"U02MARINA": "marina", "U07SARAH": "sarah"}
TICKETS = [Ticket.model_validate(t) for t in json.loads(SCENARIO.read_text(encoding="utf-8"))["tickets"]]


def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            params.append(pytest.param(path.stem, case, id=f"{path.stem}-{case['name']}"))
    return params


def message(text: str, minutes_ago: float, *, user: str = "U03JOAO", channel: str = "dia-a-dia", **extra: Any):
    ts = to_slack_ts(START - timedelta(minutes=minutes_ago))
    return ChatMessage(
        channel="C" + channel.upper()[:8],
        channel_name=channel,
        ts=ts,
        text=text,
        plain=render(text, NAMES),
        user=user,
        **extra,
    )


def test_every_rule_has_a_fixture_file() -> None:
    assert {p.stem for p in CASES_DIR.glob("*.toml")} == set(REGISTRY)


@pytest.mark.parametrize(("code", "case"), load_cases())
def test_rule_case(code: str, case: dict[str, Any]) -> None:
    (rule,) = [r for r in build_rules({code: case.get("settings", {})}) if r.code == code]
    channel = case.get("channel", "dia-a-dia")
    root = message(case["text"], 30, channel=channel)
    judged = root
    if case.get("reply"):
        parent = message("Alguma novidade por aqui?", 40, channel=channel)
        judged = message(case["text"], 30, channel=channel, thread_ts=parent.ts)
    others = [
        message(text, 30 - 0.5 * (i + 1), user="U05PEDRO", channel=channel, thread_ts=root.ts)
        for i, text in enumerate(case.get("thread", []))
    ]
    others += [
        message(
            f["text"], 30 - f["after_minutes"], user="U05PEDRO" if f.get("other_user") else "U03JOAO", channel=channel
        )
        for f in case.get("followups", [])
    ]
    context = WindowContext(
        START, [judged, *others], TicketSnapshot(TICKETS), [url_pattern("https://helpdesk.example/t/{id}")]
    )
    assert rule.ready(judged, context)
    finding = rule.check(judged, context)
    assert (finding is not None) == case["fires"], finding
    if finding is not None:
        assert 0 <= finding.score <= 1
        assert finding.evidence.get("phrases"), "every finding carries its evidence"
        assert finding.message, "a firing rule says something to the person"
        if "client" in case:
            assert finding.evidence["client"] == case["client"]
