"""Golden tests for the formats of CONTRACTS.md that other tools depend on."""

from __future__ import annotations

import json

from hygiene.models import Finding


def test_finding_record_golden() -> None:
    finding = Finding(
        rule="HY101",
        name="request-in-chat",
        channel="C01DIADIA",
        channel_name="dia-a-dia",
        ts="1763700000.000100",
        thread_ts=None,
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
    base = dict(rule="HY101", name="n", channel="C1", ts="1.0", user="U1", score=1.0, evidence={})
    assert Finding(text="a", **base).fingerprint == Finding(text="b", **base).fingerprint  # type: ignore[arg-type]
    assert Finding(text="a", **base).fingerprint == "c79bedb0941d69c16435"  # type: ignore[arg-type]
