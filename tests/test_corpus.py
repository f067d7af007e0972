"""Rule quality on labeled messages, and noise on a real community's chat.

``tests/corpus/labeled.jsonl`` (236 messages) and ``holdout.jsonl`` (164 messages, written after
the rules to check that they generalise) use the chat message input of CONTRACTS.md with a
``labels`` key; ``tickets.json`` is the helpdesk they refer to. ``tests/corpus/blind/setN/`` are
sets written by people who never read the rules (messages, the helpdesk's tickets and its client
directory); their scores before and after each change are in ``bench/detection.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.chat.slack.export import MessageReader
from connectors.helpdesk.files import read_tickets
from hygiene.audit import Auditor, AuditSummary
from hygiene.clients import read_client_names
from hygiene.context import TicketSnapshot
from hygiene.wiring import build_rules

CORPUS = Path(__file__).parent / "corpus"
CLOJURIANS = Path(__file__).parent.parent.parent / "shared" / "corpora" / "clojurians-2018-02"


BLIND = sorted(path for path in (CORPUS / "blind").iterdir() if (path / "messages.jsonl").exists())


def audit(
    *files: Path, tickets: Path | None = CORPUS / "tickets.json", clients: Path | None = None
) -> tuple[AuditSummary, MessageReader]:
    reader = MessageReader()
    directory = read_client_names(clients) if clients else []
    auditor = Auditor(
        build_rules({}), TicketSnapshot(read_tickets(tickets) if tickets else [], extra_clients=directory)
    )

    def events():  # type: ignore[no-untyped-def]
        for path in files:
            with path.open(encoding="utf-8") as handle:
                yield from reader.from_lines(handle, path.name)

    for _ in auditor.run(events()):
        pass
    return auditor.summary, reader


@pytest.mark.parametrize("corpus", ["labeled.jsonl", "holdout.jsonl"])
@pytest.mark.parametrize("code", ["HY101", "HY102"])
def test_precision_and_recall(corpus: str, code: str) -> None:
    summary, reader = audit(CORPUS / corpus)
    assert reader.skipped == []
    score = summary.scores[code]
    assert score.tp >= 8, "enough positives to mean something"
    assert score.precision >= 0.95, score.mistakes
    assert score.recall >= 0.85, score.mistakes


# What the detector reaches on each blind set (bench/detection.md has the history: before, unseen,
# after tuning). A pin against regressions, a little under today's figures; the goal is precision
# 0.95 and recall 0.90 everywhere. Each set was scored once unseen, then tuned on (sets 8, 9 and 10
# in this order, then sets 11 to 15; set 16 never was. bench/detection.md has each set's unseen score).
# Sets 37-46 were first read for the round that began at 9dc490c; what "never tuned on" says of
# them holds up to it, and sets written since are the unseen check of that round.
BLIND_FLOOR = {  # set: (HY101 precision, HY101 recall, HY102 precision, HY102 recall)
    "set1": (0.98, 0.97, 0.99, 0.98),
    "set2": (0.97, 0.96, 0.99, 0.93),
    "set3": (0.97, 0.97, 0.98, 0.93),
    "set4": (0.98, 0.97, 0.99, 0.96),
    "set5": (0.96, 0.94, 0.99, 0.96),
    "set6": (0.92, 0.95, 0.97, 0.91),
    "set7": (0.93, 0.98, 0.94, 0.89),
    "set8": (0.98, 0.97, 0.97, 0.96),
    "set9": (0.97, 0.94, 0.99, 0.94),
    "set10": (0.96, 0.97, 0.97, 0.95),
    "set11": (0.96, 0.98, 0.99, 0.92),
    "set12": (0.96, 0.95, 0.96, 0.94),
    "set13": (0.97, 0.98, 0.99, 0.96),
    "set14": (0.98, 0.97, 0.96, 0.94),
    "set15": (0.93, 0.96, 0.94, 0.83),
    "set16": (0.95, 0.94, 0.96, 0.88),
    "set17": (0.95, 0.91, 0.94, 0.93),
    "set18": (0.96, 0.94, 0.96, 0.96),
    "set19": (0.96, 0.92, 0.98, 0.98),
    "set20": (0.98, 0.90, 0.97, 0.83),
    "set21": (0.95, 0.92, 0.99, 0.90),
    "set22": (0.97, 0.95, 0.97, 0.97),
    "set23": (0.96, 0.94, 0.97, 0.85),
    "set24": (0.97, 0.84, 0.93, 0.94),
    "set25": (0.96, 0.89, 0.97, 0.90),
    "set26": (0.93, 0.95, 0.96, 0.90),
    "set27": (0.93, 0.93, 0.97, 0.92),
    "set28": (0.96, 0.89, 0.96, 0.90),
    "set29": (0.97, 0.91, 0.93, 0.93),
    "set30": (0.94, 0.93, 0.97, 0.91),
    "set31": (0.92, 0.90, 0.96, 0.85),  # scored unseen; read with sets 1-33 for the thread-reply round
    "set32": (0.96, 0.95, 0.99, 0.93),  # scored unseen; read with sets 1-33 for the thread-reply round
    "set33": (0.96, 0.92, 0.96, 0.94),  # the review's blind check; read with sets 1-33 for the thread-reply round
    "set34": (0.96, 0.86, 0.93, 0.93),  # scored unseen, then tuned on
    "set35": (0.99, 0.94, 0.99, 0.92),  # scored unseen; its mistakes read, not tuned on
    "set36": (0.92, 0.80, 0.97, 0.81),  # scored unseen, then tuned on
    "set37": (0.95, 0.90, 0.96, 0.88),  # never tuned on
    "set38": (0.93, 0.83, 0.97, 0.90),  # never tuned on
    "set39": (0.97, 0.83, 0.96, 0.87),  # never tuned on
    "set40": (0.93, 0.78, 0.87, 0.85),  # never tuned on
    "set41": (0.97, 0.85, 0.92, 0.90),  # never tuned on
    "set42": (0.95, 0.88, 0.95, 0.86),  # never tuned on: the review's blind check
    "set43": (0.95, 0.91, 0.96, 0.84),  # never tuned on
    "set44": (0.96, 0.93, 0.95, 0.81),  # never tuned on
    "set45": (0.96, 0.91, 0.96, 0.93),  # never tuned on
    "set46": (0.95, 0.94, 0.97, 0.86),  # never tuned on: scored after the round ended
}


@pytest.mark.parametrize("blind", BLIND, ids=[path.name for path in BLIND])
def test_precision_and_recall_on_blind_sets(blind: Path) -> None:
    summary, reader = audit(blind / "messages.jsonl", tickets=blind / "tickets.json", clients=blind / "clients.txt")
    assert reader.skipped == []
    assert summary.labeled >= 290
    p101, r101, p102, r102 = BLIND_FLOOR[blind.name]
    hy101, hy102 = summary.scores["HY101"], summary.scores["HY102"]
    assert hy101.precision >= p101 and hy101.recall >= r101, hy101.mistakes
    assert hy102.precision >= p102 and hy102.recall >= r102, hy102.mistakes


def test_the_labeled_corpus_is_big_and_bilingual() -> None:
    summary, _ = audit(CORPUS / "labeled.jsonl")
    assert summary.labeled >= 200
    text = (CORPUS / "labeled.jsonl").read_text(encoding="utf-8")
    assert "support-team" in text and "fiscal" in text


def test_other_rules_on_the_labeled_corpus() -> None:
    summary, _ = audit(CORPUS / "labeled.jsonl")
    for code in ("HY103", "HY104", "HY105", "HY106"):
        score = summary.scores[code]
        assert score.precision >= 0.9 and score.recall >= 0.8, (code, score.mistakes)


@pytest.mark.skipif(not CLOJURIANS.exists(), reason="shared/corpora is not beside the checkout")
def test_real_community_chat_is_quiet_and_fully_read() -> None:
    summary, reader = audit(*sorted(CLOJURIANS.glob("*.jsonl")), tickets=None)
    assert reader.skipped == [], reader.skipped[:3]
    assert summary.events > 10_000
    assert summary.plain > 7_500
    noisy = summary.findings.get("HY101", 0) + summary.findings.get("HY102", 0)
    assert noisy / summary.plain <= 0.005
