"""How audit findings and summaries are written: table, JSONL (CONTRACTS.md) or CSV; summary on stderr."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from typing import IO

from hygiene.audit import AuditSummary
from hygiene.models import Finding

CSV_COLUMNS = ["rule", "name", "channel", "ts", "thread_ts", "user", "score", "action", "text", "evidence"]


class FindingWriter:
    def __init__(self, out: IO[str], fmt: str) -> None:
        self.out = out
        self.fmt = fmt
        self._csv = csv.writer(out) if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(CSV_COLUMNS)
        elif fmt == "table":
            out.write(f"{'RULE':<6} {'CHANNEL':<20} {'TS':<18} {'SCORE':>5}  {'ACTION':<24} TEXT\n")

    def write(self, finding: Finding, action: str) -> None:
        record = finding.as_record(action)
        if self.fmt == "jsonl":
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self._csv is not None:
            row = {**record, "evidence": json.dumps(record["evidence"], ensure_ascii=False)}
            self._csv.writerow([row[column] for column in CSV_COLUMNS])
        else:
            text = _one_line(finding.text, 90)
            self.out.write(
                f"{finding.rule:<6} {_one_line(record['channel'], 20):<20} {finding.ts:<18} "
                f"{finding.score:>5.2f}  {action:<24} {text}\n"
            )


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
