"""`hygiene report`: the CSV contract, grouping, Block Kit splitting, posting, HTML in a real browser."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from connectors.chat.slack.blocks import render_messages
from hygiene.cli import cli
from hygiene.clock import FrozenClock
from hygiene.models import Ticket
from hygiene.report import DailyReport, ReportRow, report_document
from hygiene.store import Store
from sandbox.slack_api import SlackSandbox, SlackState

FIXTURES = Path(__file__).parent / "fixtures"
TICKETS = str(FIXTURES / "report_tickets.csv")
NOW = "2026-11-18T10:00"
SP = ZoneInfo("America/Sao_Paulo")


def report(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["report", "--tickets", TICKETS, "--now", NOW, *args])


def test_csv_golden() -> None:
    result = report("--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == (FIXTURES / "report_golden.csv").read_text(encoding="utf-8")


def test_csv_leaves_solved_and_closed_out_and_is_most_overdue_first() -> None:
    rows = report("--format", "csv").stdout.splitlines()[1:]
    ids = [row.split(",")[0] for row in rows]
    assert "4490" not in ids and "4300" not in ids
    overdue = [float(row.split(",")[11]) for row in rows]
    assert overdue == sorted(overdue, reverse=True)


def test_markdown_groups_by_owner_and_department_oldest_first() -> None:
    text = report().stdout
    assert text.startswith("# Atendimentos parados — 18/11/2026 10:00")
    assert "4 atendimentos fora do SLA, 1 perto do prazo — HY201 3, HY202 1, HY203 1" in text
    marina = text.index("## Marina Souza · Fiscal (1)")
    assert "[#4533](https://hd.example/t/4533) Emissão de notas de serviço" in text[marina:]
    assert "## Pedro Alves · Fiscal (1)" in text and "## (sem responsável) · Societário (1)" in text


def test_the_output_depends_only_on_tickets_and_now(tmp_path: Path) -> None:
    first, second = report("--format", "csv").stdout, report("--format", "csv").stdout
    assert first == second
    later = CliRunner().invoke(cli, ["report", "--tickets", TICKETS, "--now", "2026-11-19T10:00", "--format", "csv"])
    assert later.stdout != first


def test_bad_now_is_a_usage_error() -> None:
    result = report("--now", "yesterday")
    assert result.exit_code == 2 and "--now: 'yesterday' is not an ISO-8601 date and time" in result.stderr


def test_slack_blocks_are_split_to_respect_limits() -> None:
    tickets = [
        Ticket(id=str(i), subject="x" * 200, status="open", assignee=f"Owner {i % 60}", department="Fiscal")
        for i in range(400)
    ]
    rows = [ReportRow(t, "HY201", 30.0, 16.0, 14.0, f"https://hd.example/t/{t.id}") for t in tickets]
    messages = render_messages(report_document(DailyReport(datetime(2026, 11, 18, 10, tzinfo=SP), rows), SP))
    assert len(messages) > 1
    for blocks in messages:
        assert len(blocks) <= 50
        for block in blocks:
            text = block.get("text", {}).get("text", "")
            assert len(text) <= 3000
    listed = sum(b["text"]["text"].count("• ") for m in messages for b in m if b["type"] == "section")
    assert listed == 400, "every ticket is in one message or another"


def test_post_sends_block_kit_to_the_report_channel_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = SlackState.from_scenario(
        FIXTURES.parent.parent / "sandbox/scenarios/accounting.json",
        FrozenClock(datetime(2026, 11, 18, 10, tzinfo=SP)),
    )
    with SlackSandbox(state) as sandbox:
        config = tmp_path / "hygiene.toml"
        config.write_text(
            f'[hygiene]\nstate_dir = "state"\n[slack]\nbase_url = "{sandbox.base_url}"\nchannels = ["fiscal"]\n'
            f'[helpdesk]\nkind = "files"\npath = "{TICKETS}"\n[report]\nchannel = "dia-a-dia"\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("SLACK_BOT_TOKEN", sandbox.token)
        for _ in range(2):
            result = CliRunner().invoke(
                cli, ["report", "--config", str(config), "--now", NOW, "--post", "--format", "slack"]
            )
            assert result.exit_code == 0, result.output
        posts = state.bot_posts()
        assert len(posts) == 1, "a second run the same day does not post again"
        message = state.find(posts[0]["channel"], posts[0]["ts"])
        assert message and message["blocks"][0]["type"] == "header"
        assert "Atendimentos parados" in message["blocks"][0]["text"]["text"]
        store = Store.open(tmp_path / "state" / "hygiene.db")
        assert store.db.execute("select stale from reports").fetchall() == [(5,)]


def test_totals_against_the_previous_report(tmp_path: Path) -> None:
    config = tmp_path / "hygiene.toml"
    config.write_text(
        '[hygiene]\nstate_dir = "state"\n[slack]\nchannels = ["fiscal"]\n'
        f'[helpdesk]\nkind = "files"\npath = "{TICKETS}"\n',
        encoding="utf-8",
    )
    CliRunner().invoke(cli, ["report", "--config", str(config), "--now", "2026-11-17T10:00"])
    today = CliRunner().invoke(cli, ["report", "--config", str(config), "--now", NOW])
    assert "desde 2026-11-17)" in today.stdout
    assert "## Higiene do dia" in today.stdout and "Reações 👎 (falsos positivos): 0" in today.stdout


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = report("--format", "html", "--out", str(page))
    assert result.exit_code == 0, result.output
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert "<svg" in dom and dom.count("<rect") == 5, "a bar per owner"
    assert dom.count("<tr>") == 5 + 5, "a row per ticket and a header row per owner and department"
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,1400", page.as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 20_000
    keep = Path("/tmp/hygiene-report-screenshot.png")
    shutil.copy(shot, keep)
