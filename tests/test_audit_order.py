"""Audit results do not depend on how the input is split or how many processes judge it.

Each channel is judged on its own clock, so the labeled corpus split into one file per channel,
in any file order, gives the same findings and scores as the single file; ``--jobs N`` writes
what ``--jobs 1`` writes, byte for byte; and the findings on the labeled corpora are pinned.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connectors.chat.slack.export import MessageReader
from connectors.helpdesk.files import read_tickets
from hygiene.audit import Auditor, AuditSummary
from hygiene.cli import cli
from hygiene.context import TicketSnapshot
from hygiene.wiring import build_rules

CORPUS = Path(__file__).parent / "corpus"
TICKETS = str(CORPUS / "tickets.json")


def audit_cli(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["audit", "--tickets", TICKETS, *args])
    assert result.exit_code == 0, result.output
    return result


def split_per_channel(corpus: Path, folder: Path, seed: int) -> list[str]:
    """One file per channel, in a shuffled order."""
    by_channel: dict[str, list[str]] = defaultdict(list)
    for line in corpus.read_text(encoding="utf-8").splitlines():
        by_channel[json.loads(line)["channel"]].append(line)
    paths = []
    for channel, lines in by_channel.items():
        path = folder / f"{corpus.stem}-{channel}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path))
    random.Random(seed).shuffle(paths)
    return paths


def summary_of(*files: str) -> tuple[list[str], AuditSummary]:
    reader = MessageReader()
    auditor = Auditor(build_rules({}), TicketSnapshot(read_tickets(Path(TICKETS))))

    def events():  # type: ignore[no-untyped-def]
        for name in files:
            with open(name, "rb") as handle:
                yield from reader.from_lines(handle, name)

    findings = sorted(json.dumps(finding.as_record(action)) for finding, action in auditor.run(events()))
    return findings, auditor.summary


def score_table(summary: AuditSummary) -> dict[str, tuple[int, int, int]]:
    return {code: (s.tp, s.fp, s.fn) for code, s in summary.scores.items()}


@pytest.mark.parametrize("corpus", ["labeled.jsonl", "holdout.jsonl"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_split_per_channel_and_shuffled_finds_the_same(tmp_path: Path, corpus: str, seed: int) -> None:
    whole, whole_summary = summary_of(str(CORPUS / corpus))
    split, split_summary = summary_of(*split_per_channel(CORPUS / corpus, tmp_path, seed))
    assert split == whole
    assert score_table(split_summary) == score_table(whole_summary)
    assert split_summary.judged == whole_summary.judged


def test_a_channel_read_after_another_still_sees_its_thread_replies(tmp_path: Path) -> None:
    """The second file's urgent message was answered in its thread: no HY104, whatever came before."""
    first = tmp_path / "a.jsonl"
    later = "1700090000.000100"  # a day after the second channel's messages
    first.write_text(json.dumps({"channel": "a", "user": "U1", "ts": later, "text": "bom dia"}) + "\n")
    second = tmp_path / "b.jsonl"
    root = {"channel": "b", "user": "U1", "ts": "1700000000.000100", "text": "URGENTE: a Brascont está sem acesso"}
    reply = {**root, "user": "U2", "ts": "1700000120.000100", "thread_ts": root["ts"], "text": "vendo agora"}
    second.write_text(json.dumps(root) + "\n" + json.dumps(reply) + "\n")
    result = audit_cli(str(first), str(second), "--format", "jsonl", "--rules", "HY104", "--jobs", "1")
    assert result.stdout == ""


@pytest.mark.parametrize("corpus", ["labeled", "holdout"])
def test_findings_on_the_labeled_corpora_are_pinned(corpus: str) -> None:
    result = audit_cli(str(CORPUS / f"{corpus}.jsonl"), "--labels", "--format", "jsonl", "--jobs", "1")
    assert result.stdout == (CORPUS / "expected" / f"{corpus}.findings.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_jobs_n_writes_what_jobs_1_writes(tmp_path: Path, fmt: str) -> None:
    files = [*split_per_channel(CORPUS / "labeled.jsonl", tmp_path, 5), str(CORPUS / "holdout.jsonl")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"channel": "x", "text": "no ts"}\nnot json\n', encoding="utf-8")
    args = [*files, str(bad), "--labels", "--mistakes", "--format", fmt]
    one = CliRunner().invoke(cli, ["audit", "--tickets", TICKETS, *args, "--jobs", "1"])
    assert one.exit_code == 1 and "skipped 2 unreadable line(s)" in one.stderr
    for jobs in ("2", "3"):
        many = CliRunner().invoke(cli, ["audit", "--tickets", TICKETS, *args, "--jobs", jobs])
        assert many.exit_code == 1
        assert many.stdout == one.stdout
        assert many.stderr == one.stderr


def test_jobs_on_a_slack_export(tmp_path: Path) -> None:
    """A zip export of several channels: day files go to the workers of their channels."""
    lines = [json.loads(x) for x in (CORPUS / "labeled.jsonl").read_text(encoding="utf-8").splitlines()]
    channels = sorted({m["channel"] for m in lines})
    source = tmp_path / "export.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr(
            "export/channels.json", json.dumps([{"id": f"C{i}", "name": c} for i, c in enumerate(channels)])
        )
        archive.writestr("export/users.json", json.dumps([{"id": "U03JOAO", "name": "joao"}]))
        for channel in channels:
            days: dict[int, list[dict[str, object]]] = defaultdict(list)
            for message in lines:
                if message["channel"] == channel:
                    days[int(float(message["ts"])) // 86400].append(message)
            for day, messages in days.items():
                archive.writestr(f"export/{channel}/{day}.json", json.dumps(messages))
    one = audit_cli("--slack-export", str(source), "--format", "jsonl", "--labels", "--jobs", "1")
    two = audit_cli("--slack-export", str(source), "--format", "jsonl", "--labels", "--jobs", "2")
    assert one.stdout == two.stdout and one.stderr == two.stderr
    whole, _ = summary_of(str(CORPUS / "labeled.jsonl"))
    assert sorted(json.dumps(json.loads(x)) for x in one.stdout.splitlines()) == whole


@pytest.mark.parametrize("late", [True, False])
def test_a_deletion_in_a_quiet_channel_counts_from_when_it_happened(tmp_path: Path, late: bool) -> None:
    """Deleted three hours after it was said, a request was judged first; deleted in a minute, it never was."""
    request = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"
    said = 1_700_000_000
    gone = said + (3 * 3600 if late else 60)
    quiet = [
        {"channel": "quiet", "user": "U1", "ts": f"{said}.000100", "text": request},
        {"channel": "quiet", "subtype": "message_deleted", "ts": f"{gone}.000100", "deleted_ts": f"{said}.000100"},
    ]
    busy = [
        {"channel": "busy", "user": "U2", "ts": f"{said + 600 * i}.000200", "text": "tudo certo"} for i in range(30)
    ]
    merged = sorted([*quiet, *busy], key=lambda m: float(m["ts"]))
    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps(m) + "\n" for m in merged))
    apart = [tmp_path / "quiet.jsonl", tmp_path / "busy.jsonl"]
    for path, lines in zip(apart, (quiet, busy), strict=True):
        path.write_text("".join(json.dumps(m) + "\n" for m in lines))
    for files in ([one], apart, apart[::-1]):
        result = audit_cli(*map(str, files), "--format", "jsonl", "--rules", "HY101", "--jobs", "1")
        assert len(result.stdout.splitlines()) == (1 if late else 0), files


def test_a_message_is_judged_on_nothing_later_than_its_window(tmp_path: Path) -> None:
    """The quiet channel's next event, five hours on, names a ticket: too late to count, however it is read."""
    request = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"
    said = 1_700_000_000
    quiet = [
        {"channel": "quiet", "user": "U1", "ts": f"{said}.000100", "text": request},
        {
            "channel": "quiet",
            "user": "U2",
            "ts": f"{said + 5 * 3600}.000100",
            "thread_ts": f"{said}.000100",
            "text": "abri o atendimento 4600",
        },
    ]
    busy = [
        {"channel": "busy", "user": "U2", "ts": f"{said + 600 * i}.000200", "text": "tudo certo"} for i in range(40)
    ]
    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps(m) + "\n" for m in sorted([*quiet, *busy], key=lambda m: float(m["ts"]))))
    alone = tmp_path / "quiet.jsonl"
    alone.write_text("".join(json.dumps(m) + "\n" for m in quiet))
    for files in ([one], [alone]):
        result = audit_cli(*map(str, files), "--format", "jsonl", "--rules", "HY101", "--jobs", "1")
        assert [json.loads(x)["ts"] for x in result.stdout.splitlines()] == [f"{said}.000100"], files
