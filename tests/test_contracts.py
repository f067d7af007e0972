"""Golden tests for the formats of CONTRACTS.md that other tools depend on."""

from __future__ import annotations

import io
import json

from hygiene.audit_output import FindingWriter
from hygiene.models import Finding


def test_finding_record_golden() -> None:
    finding = Finding(
        rule="HY101",
        name="request-in-chat",
        channel="C01DIADIA",
        channel_name="dia-a-dia",
        message_id="1763700000.000100",
        thread_id=None,
        user="U02MARINA",
        text="O cliente Brascont pediu …",
        score=0.9149,
        evidence={"phrases": ["cliente … pediu"], "client": "Brascont", "ticket": None},
    )
    line = json.dumps(finding.as_record("nudge"), ensure_ascii=False)
    assert line == (
        '{"rule": "HY101", "name": "request-in-chat", "channel": "dia-a-dia", "ts": "1763700000.000100", '
        '"thread_ts": null, "user": "U02MARINA", "text": "O cliente Brascont pediu …", "score": 0.91, '
        '"evidence": {"phrases": ["cliente … pediu"], "client": "Brascont", "ticket": null}, "action": "nudge"}'
    )


def test_fingerprint_is_stable_across_edits() -> None:
    base = dict(rule="HY101", name="n", channel="C1", message_id="1.0", user="U1", score=1.0, evidence={})
    assert Finding(text="a", **base).fingerprint == Finding(text="b", **base).fingerprint  # type: ignore[arg-type]
    assert Finding(text="a", **base).fingerprint == "c79bedb0941d69c16435"  # type: ignore[arg-type]


def test_audit_jsonl_line_golden() -> None:
    """What `hygiene audit --format jsonl` writes: json.dumps spacing, UTF-8 unescaped, contract key order."""
    finding = Finding(
        rule="HY102",
        name="status-question",
        channel="C01FISCAL",
        channel_name="fiscal",
        message_id="1763700000.000200",
        thread_id="1763699000.000100",
        user="U03JOAO",
        text="Já resolveram a NF da padaria? “urgente” 🙏",
        score=0.875,
        evidence={"ticket": "4521", "stale": False, "age": 1.5, "phrases": ["já resolveram"]},
    )
    out = io.StringIO()
    writer = FindingWriter(out, "jsonl", batch=2)
    writer.write(finding, "suppressed:exempt_channel")
    writer.flush()
    assert out.getvalue() == (
        '{"rule": "HY102", "name": "status-question", "channel": "fiscal", "ts": "1763700000.000200", '
        '"thread_ts": "1763699000.000100", "user": "U03JOAO", "text": "Já resolveram a NF da padaria? “urgente” 🙏", '
        '"score": 0.88, "evidence": {"ticket": "4521", "stale": false, "age": 1.5, "phrases": ["já resolveram"]}, '
        '"action": "suppressed:exempt_channel"}\n'
    )


def test_audit_csv_golden() -> None:
    finding = Finding(
        rule="HY101",
        name="request-in-chat",
        channel="C1",
        message_id="1.000100",
        user=None,
        text='diz "oi",\nsó',
        score=1.0,
        evidence={"client": "Açaí"},
    )
    out = io.StringIO()
    writer = FindingWriter(out, "csv")
    writer.write(finding, "nudge")
    writer.flush()
    assert out.getvalue() == (
        "rule,name,channel,ts,thread_ts,user,score,action,text,evidence\r\n"
        'HY101,request-in-chat,C1,1.000100,,,1.0,nudge,"diz ""oi"",\nsó","{""client"": ""Açaí""}"\r\n'
    )
