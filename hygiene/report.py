"""The daily report: tickets that break their SLA, grouped by owner and department.

Built from a ticket list and a moment, so that ``hygiene report --tickets FILE --now …`` depends
on nothing else; when it runs against the store it adds totals against the previous report and
the day's hygiene figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from hygiene.document import Document, Section
from hygiene.models import Ticket
from hygiene.rulebase import TicketRule
from hygiene.sla import SlaBook, TicketClock
from hygiene.store import Store

CSV_COLUMNS = [
    "id", "number", "subject", "client", "assignee", "department", "priority", "status", "updated_at",
    "age_business_hours", "sla_business_hours", "overdue_business_hours", "rule", "url",
]  # fmt: skip
NO_OWNER = "(sem responsável)"
NO_DEPARTMENT = "(sem departamento)"
CLIENT_FIGURES = {"waiting": "clientes esperando", "untracked": "pedidos sem atendimento"}
"""The client side's figures, as the report names them."""


@dataclass(frozen=True)
class ReportRow:
    ticket: Ticket
    rule: str
    age: float
    sla: float
    overdue: float
    url: str | None

    @property
    def owner(self) -> str:
        return self.ticket.assignee or NO_OWNER

    @property
    def department(self) -> str:
        return self.ticket.department or NO_DEPARTMENT


@dataclass
class DailyReport:
    now: datetime
    rows: list[ReportRow]
    previous: dict[str, Any] | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.rule] = counts.get(row.rule, 0) + 1
        return dict(sorted(counts.items()))

    def groups(self) -> list[tuple[str, str, list[ReportRow]]]:
        """(owner, department, rows oldest first), the owners with most tickets first."""
        grouped: dict[tuple[str, str], list[ReportRow]] = {}
        for row in self.rows:
            grouped.setdefault((row.owner, row.department), []).append(row)
        ordered = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))
        return [(owner, dept, sorted(rows, key=lambda r: -r.age)) for (owner, dept), rows in ordered]

    def per_owner(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.owner] = counts.get(row.owner, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def build_rows(
    tickets: Sequence[Ticket], rules: Sequence[TicketRule], book: SlaBook, now: datetime, url_template: str | None
) -> list[ReportRow]:
    """One row per ticket that breaks its SLA (its most overdue rule), most overdue first."""
    context = TicketClock(now, book)
    rows: list[ReportRow] = []
    for ticket in tickets:
        if not ticket.is_active:
            continue
        best: ReportRow | None = None
        for rule in rules:
            verdict = rule.verdict(ticket, context)
            if not verdict.fired:
                continue
            evidence = verdict.evidence
            row = ReportRow(
                ticket=ticket,
                rule=rule.code,
                age=float(evidence["age_business_hours"]),
                sla=float(evidence["sla_business_hours"]),
                overdue=float(evidence["overdue_business_hours"]),
                url=ticket.url or (url_template.replace("{id}", ticket.reference) if url_template else None),
            )
            if best is None or row.overdue > best.overdue:
                best = row
        if best is not None:
            rows.append(best)
    return sorted(rows, key=lambda r: (-r.overdue, r.ticket.id))


def day_figures(
    store: Store,
    now: datetime,
    zone: Any,
    long_pending_hours: float = 4,
    answering: Sequence[str] = (),
    charter_rules: Sequence[str] = (),
    client_rules: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The day's hygiene work, from the store: nudges per rule, answers (nudges of the ``answering``
    rules), tickets created, 👎 reactions, the findings of the ``charter_rules`` (when the team has
    charters), the client side per department (the findings of ``client_rules``, rule → figure,
    when a chat with clients is configured), and the side effects that failed or have been
    pending too long (nothing fails silently)."""
    since = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    nudges = store.reports.nudges_by_rule(since)
    disliked = store.reports.disliked_by_rule(since)
    return {
        "outbox": outbox_problems(store, now, long_pending_hours),
        "nudges": dict(sorted((rule, count) for rule, count in nudges.items() if rule.startswith("HY"))),
        "status_answers": sum(nudges.get(code, 0) for code in answering),
        "tickets_created": store.reports.tickets_created(since),
        "false_positive_reactions": sum(disliked.values()),
        "false_positives_by_rule": dict(sorted(disliked.items())),
        "charters": dict(sorted(store.reports.findings_by_rule(since, charter_rules).items()))
        if charter_rules
        else None,
        "client_side": client_side(store, since, client_rules) if client_rules else None,
    }


def client_side(store: Store, since: datetime, client_rules: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Per department, the day's client-side findings by figure (``waiting``, ``untracked``)."""
    counts: dict[str, dict[str, int]] = {}
    for department, by_rule in store.reports.by_department(since, list(client_rules)).items():
        figures = counts.setdefault(department or NO_DEPARTMENT, {figure: 0 for figure in CLIENT_FIGURES})
        for rule, count in by_rule.items():
            figures[client_rules[rule]] = figures.get(client_rules[rule], 0) + count
    return counts


def outbox_problems(store: Store, now: datetime, long_pending_hours: float) -> list[dict[str, Any]]:
    """Outbox entries that failed, or are still not done after ``long_pending_hours``."""
    problems = []
    for entry in store.outbox.unsettled():
        if entry.status != "failed" and (now - entry.created_at).total_seconds() < long_pending_hours * 3600:
            continue
        problems.append(
            {
                "key": entry.action.key,
                "kind": entry.action.kind.value,
                "status": entry.status,
                "attempts": entry.attempts,
                "error": entry.error or "",
                "created_at": entry.created_at.isoformat(),
            }
        )
    return problems


def remember(store: Store, report: DailyReport, zone: Any) -> None:
    store.reports.save(report_day(report.now, zone), len(report.rows), report.by_rule, report.now)


# rendering -----------------------------------------------------------------------------------
def _h(value: float) -> str:
    return f"{value:.1f}"


def render_csv(report: DailyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        t = row.ticket
        writer.writerow(
            [
                t.id, t.number or "", t.subject, t.client or "", t.assignee or "", t.department or "", t.priority,
                t.status, t.updated_at.isoformat() if t.updated_at else "", _h(row.age), _h(row.sla),
                _h(row.overdue), row.rule, row.url or "",
            ]
        )  # fmt: skip
    for problem in report.figures.get("outbox") or []:  # against the store only: rule "outbox", id = its key
        writer.writerow(
            [
                problem["key"], "", problem["error"], "", "", "", "", problem["status"], problem["created_at"],
                "", "", "", "outbox", "",
            ]
        )  # fmt: skip
    return out.getvalue()


def _totals_line(report: DailyReport) -> str:
    late = sum(1 for row in report.rows if row.overdue > 0)
    line = f"{late} atendimentos fora do SLA"
    if len(report.rows) > late:
        line += f", {len(report.rows) - late} perto do prazo"
    if report.previous is not None:
        delta = len(report.rows) - int(report.previous["stale"])
        sign = "+" if delta > 0 else ""
        line += f" ({sign}{delta} desde {report.previous['day']})"
    by_rule = ", ".join(f"{code} {count}" for code, count in report.by_rule.items())
    return line + (f" — {by_rule}" if by_rule else "")


def _figures_lines(report: DailyReport) -> list[str]:
    f = report.figures
    if not f:
        return []
    nudges = ", ".join(f"{code} {count}" for code, count in f["nudges"].items()) or "nenhum"
    lines = [
        f"Lembretes hoje: {nudges}",
        f"Perguntas de andamento respondidas: {f['status_answers']}",
        f"Atendimentos criados a partir do chat: {f['tickets_created']}",
        f"Reações 👎 (falsos positivos): {f['false_positive_reactions']}{_by_rule(f.get('false_positives_by_rule'))}",
    ]
    if f.get("charters") is not None:
        lines.append(
            f"Cartas de canal: {', '.join(f'{code} {n}' for code, n in f['charters'].items()) or 'nenhum achado'}"
        )
    if f.get("client_side") is not None:
        lines.append(_client_side_line(f["client_side"]))
    problems = f.get("outbox") or []
    if problems:
        lines.append(f"Ações que falharam ou estão pendentes há muito tempo: {len(problems)} (veja `hygiene outbox`)")
        lines += [
            f"{p['status']}: {p['kind']} {p['key']} — {p['attempts']} tentativa(s); {p['error'] or '-'}"
            for p in problems
        ]
    return lines


def _client_side_line(per_department: dict[str, dict[str, int]]) -> str:
    """Clients on WhatsApp, per department: how many waited past their answer time, how many
    requests had no atendimento."""
    parts = [
        f"{department}: " + ", ".join(f"{figures.get(key, 0)} {name}" for key, name in CLIENT_FIGURES.items())
        for department, figures in sorted(per_department.items())
    ]
    return "Clientes (WhatsApp): " + ("; ".join(parts) or "nenhum cliente esperando nem pedido sem atendimento")


def _by_rule(counts: dict[str, int] | None) -> str:
    return f" ({', '.join(f'{code} {n}' for code, n in counts.items())})" if counts else ""


def render_markdown(report: DailyReport, zone: Any) -> str:
    local = report.now.astimezone(zone)
    lines = [f"# Atendimentos parados — {local:%d/%m/%Y %H:%M}", "", _totals_line(report), ""]
    for owner, department, rows in report.groups():
        lines += [f"## {owner} · {department} ({len(rows)})", ""]
        lines += [
            "| atendimento | cliente | prioridade | idade (h úteis) | SLA (h) | atraso (h) | regra |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for row in rows:
            t = row.ticket
            ref = f"[#{t.reference}]({row.url})" if row.url else f"#{t.reference}"
            lines.append(
                f"| {ref} {t.subject} | {t.client or ''} | {t.priority} | {_h(row.age)} | {_h(row.sla)} | "
                f"{_h(row.overdue)} | {row.rule} |"
            )
        lines.append("")
    if figures := _figures_lines(report):
        lines += ["## Higiene do dia", "", *[f"- {line}" for line in figures], ""]
    return "\n".join(lines)


def render_html(report: DailyReport, zone: Any) -> str:
    local = report.now.astimezone(zone)
    owners = report.per_owner()
    chart = _bar_chart(owners)
    sections = []
    for owner, department, rows in report.groups():
        body = "".join(
            "<tr>"
            f"<td>{_link(row)}</td><td>{escape(row.ticket.subject)}</td><td>{escape(row.ticket.client or '')}</td>"
            f"<td>{row.ticket.priority}</td><td class=n>{_h(row.age)}</td><td class=n>{_h(row.sla)}</td>"
            f"<td class='n{' late' if row.overdue > 0 else ''}'>{_h(row.overdue)}</td><td>{row.rule}</td>"
            "</tr>"
            for row in rows
        )
        sections.append(
            f"<section><h2>{escape(owner)} <small>{escape(department)} · {len(rows)}</small></h2>"
            "<table><thead><tr><th>Atendimento</th><th>Assunto</th><th>Cliente</th><th>Prioridade</th>"
            "<th>Idade (h úteis)</th><th>SLA (h)</th><th>Atraso (h)</th><th>Regra</th></tr></thead>"
            f"<tbody>{body}</tbody></table></section>"
        )
    figures = "".join(f"<li>{escape(line)}</li>" for line in _figures_lines(report))
    return f"""<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8">
<title>Atendimentos parados — {local:%d/%m/%Y}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2330; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.15rem; margin: 1.6rem 0 .4rem; }}
h2 small {{ color: #667; font-weight: normal; }} .totals {{ color: #445; margin-bottom: 1rem; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ padding: .35rem .55rem; text-align: left;
  border-bottom: 1px solid #e3e6ea; }}
th {{ background: #f3f5f8; font-weight: 600; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.late {{ color: #b3261e; font-weight: 600; }} a {{ color: #2456a6; }}
svg text {{ font: 13px system-ui, sans-serif; fill: #1d2330; }}
</style></head><body>
<h1>Atendimentos parados</h1>
<p class="totals">{local:%d/%m/%Y %H:%M} · {escape(_totals_line(report))}</p>
<h2>Por responsável</h2>
{chart}
{"".join(sections) or "<p>Nenhum atendimento fora do SLA. 🎉</p>"}
{f"<h2>Higiene do dia</h2><ul>{figures}</ul>" if figures else ""}
</body></html>
"""


def _link(row: ReportRow) -> str:
    ref = escape(f"#{row.ticket.reference}")
    return f'<a href="{escape(row.url)}">{ref}</a>' if row.url else ref


def _bar_chart(owners: list[tuple[str, int]]) -> str:
    if not owners:
        return ""
    width, bar_height, label_width = 640, 26, 200
    top = max(count for _, count in owners)
    height = bar_height * len(owners) + 10
    bars = []
    for index, (owner, count) in enumerate(owners):
        y = index * bar_height + 5
        length = (width - label_width - 40) * count / top
        bars.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end">{escape(owner)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.0f}" height="{bar_height - 8}" '
            'fill="#3b6fd4" rx="3"/>'
            f'<text x="{label_width + length + 6:.0f}" y="{y + 17}">{count}</text>'
        )
    return (
        f'<svg role="img" aria-label="Atendimentos parados por responsável" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(bars)}</svg>'
    )


def report_document(report: DailyReport, zone: Any) -> Document:
    """The report as a document each chat lays out its own way (Block Kit in Slack)."""
    local = report.now.astimezone(zone)
    sections = [Section((_totals_line(report),))]
    for owner, department, rows in report.groups():
        lines = [f"**{owner}** · {department} ({len(rows)})"]
        for row in rows:
            t = row.ticket
            ref = f"[#{t.reference}]({row.url})" if row.url else f"#{t.reference}"
            lines.append(f"• {ref} {t.subject} — {_h(row.age)} h úteis, {_h(row.overdue)} h além do SLA ({row.rule})")
        sections.append(Section(tuple(lines)))
    if figures := _figures_lines(report):
        sections.append(Section(tuple(figures), divider=True))
    return Document(f"Atendimentos parados — {local:%d/%m %H:%M}", tuple(sections))


def report_day(now: datetime, zone: Any) -> str:
    return now.astimezone(zone).date().isoformat()
