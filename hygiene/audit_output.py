"""How audit findings and summaries are written: table, JSONL (CONTRACTS.md) or CSV; summary on stderr."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

from tqdm import tqdm

from hygiene.audit import AuditSummary
from hygiene.models import Finding

CSV_COLUMNS = ["rule", "name", "channel", "ts", "thread_ts", "user", "score", "action", "text", "evidence"]


_JSON = json.JSONEncoder(ensure_ascii=False)
"""The finding line of CONTRACTS.md: ``json.dumps(record, ensure_ascii=False)``, key order kept."""


class FindingFormat:
    """Turns findings into the lines of one output format (workers render their own)."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)

    def header(self) -> str:
        if self.fmt == "csv":
            return self._csv_line(CSV_COLUMNS)
        if self.fmt == "table":
            return f"{'RULE':<6} {'CHANNEL':<20} {'TS':<18} {'SCORE':>5}  {'ACTION':<24} TEXT\n"
        return ""

    def line(self, finding: Finding, action: str) -> str:
        record = finding.as_record(action)
        if self.fmt == "jsonl":
            return _JSON.encode(record) + "\n"
        if self.fmt == "csv":
            row = {**record, "evidence": _JSON.encode(record["evidence"])}
            return self._csv_line([row[column] for column in CSV_COLUMNS])
        return (
            f"{finding.rule:<6} {_one_line(record['channel'], 20):<20} {finding.message_id:<18} "
            f"{finding.score:>5.2f}  {action:<24} {_one_line(finding.text, 90)}\n"
        )

    def _csv_line(self, row: Sequence[object]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(row)
        return self._buffer.getvalue()


class FindingWriter:
    """Writes rendered lines to ``out`` in batches of ``batch`` lines."""

    def __init__(self, out: IO[str], fmt: str, batch: int = 256) -> None:
        self.out = out
        self.format = FindingFormat(fmt)
        self.batch = batch
        self._lines: list[str] = []
        out.write(self.format.header())

    def write(self, finding: Finding, action: str) -> None:
        self.write_line(self.format.line(finding, action))

    def write_line(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= self.batch:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self._lines))
        self._lines.clear()
        self.out.flush()


def progress_bar(total: int | None, stream: IO[str] | None = None) -> tqdm[Any]:
    """Bytes of input read, on stderr when it is a terminal; silent (and free) otherwise."""
    stream = stream or sys.stderr
    return tqdm(total=total, unit="B", unit_scale=True, desc="audit", file=stream, disable=not stream.isatty())


def message_bar(stream: IO[str] | None = None) -> tqdm[Any]:
    """Messages read from a live chat, on stderr when it is a terminal; silent otherwise."""
    stream = stream or sys.stderr
    return tqdm(unit=" messages", desc="history", file=stream, disable=not stream.isatty())


SKIPPED_SHOWN = 20
"""Skipped lines named one by one on stderr; past this many, only counted."""


def print_summary(
    summary: AuditSummary, names: dict[str, str], echo: Callable[[str], None], skipped: list[str]
) -> None:
    total = sum(summary.findings.values())
    echo(
        f"audit: {summary.events:,} events, {summary.judged:,} messages judged ({summary.plain:,} plain), "
        f"{total:,} findings ({1000 * total / summary.judged if summary.judged else 0:.2f} per 1,000 messages)"
    )
    echo(f"{'rule':<6} {'name':<22} {'findings':>8} {'per 1,000':>9}  examples")
    for code, name in names.items():
        count = summary.findings.get(code, 0)
        examples = " | ".join(_one_line(text, 60) for text in summary.examples.get(code, []))
        echo(f"{code:<6} {name:<22} {count:>8,} {summary.per_thousand(code):>9.2f}  {examples}")
    if skipped:
        echo(f"skipped {len(skipped)} unreadable line(s), first: {skipped[0]}")
        for where in skipped[1:SKIPPED_SHOWN]:
            echo(f"  skipped {where}")
        if len(skipped) > SKIPPED_SHOWN:
            echo(f"  … and {len(skipped) - SKIPPED_SHOWN} more")


def print_scores(summary: AuditSummary, echo: Callable[[str], None], mistakes: bool) -> None:
    echo(f"labels: {summary.labeled:,} labeled messages")
    echo(f"{'rule':<6} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>9} {'recall':>7}")
    for code, score in summary.scores.items():
        if score.tp + score.fp + score.fn == 0:
            continue
        echo(f"{code:<6} {score.tp:>5} {score.fp:>5} {score.fn:>5} {score.precision:>9.3f} {score.recall:>7.3f}")
        if mistakes:
            for kind, text in score.mistakes:
                echo(f"    {kind:<14} {_one_line(text, 110)}")


def _one_line(text: str, width: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
