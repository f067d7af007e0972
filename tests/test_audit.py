"""`hygiene audit` and `hygiene explain`: inputs, subtypes, formats, labels, streaming."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.audit import Auditor
from hygiene.audit_output import progress_bar
from hygiene.cli import cli
from hygiene.context import TicketSnapshot
from hygiene.models import ChatEvent, ChatMessage
from hygiene.wiring import build_rules
from tests.conftest import at_of

CORPUS = Path(__file__).parent / "corpus"
TICKETS = str(CORPUS / "tickets.json")
REQUEST = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"


def line(ts: str, text: str, channel: str = "dia-a-dia", **extra: object) -> str:
    return json.dumps({"channel": channel, "type": "message", "user": "U1", "ts": ts, "text": text, **extra})


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["audit", *args], input=stdin)


def write_export(root: Path) -> None:
    (root / "dia-a-dia").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "dia-a-dia"}]))
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "joao", "profile": {"display_name": "João"}}]))
    day = [
        {"type": "message", "user": "U1", "ts": "1700000000.000100", "text": REQUEST},
        {"type": "message", "user": "U1", "ts": "1700000100.000100", "text": "Bom dia"},
        {
            "type": "message",
            "subtype": "channel_join",
            "user": "U2",
            "ts": "1700000200.000100",
            "text": "<@U2> has joined",
        },
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "ts": "1700000300.000100", "text": REQUEST},
        {"type": "message", "user": "U1", "ts": "1700000400.000100", "text": "Reunião às 15h"},
        {
            "type": "message",
            "subtype": "message_changed",
            "ts": "1700000450.000100",
            "message": {
                "type": "message",
                "user": "U1",
                "ts": "1700000400.000100",
                "text": "A Globex quer o contrato revisado",
            },
        },
        {"type": "message", "user": "U1", "ts": "1700000500.000100", "text": "O cliente Acme pediu a nota de outubro."},
        {"type": "message", "subtype": "message_deleted", "ts": "1700000550.000100", "deleted_ts": "1700000500.000100"},
    ]
    (root / "dia-a-dia" / "2023-11-14.json").write_text(json.dumps(day))


@pytest.mark.parametrize("packed", [False, True])
def test_slack_export_folder_and_zip(tmp_path: Path, packed: bool) -> None:
    root = tmp_path / "export"
    write_export(root)
    source = root
    if packed:
        source = tmp_path / "export.zip"
        with zipfile.ZipFile(source, "w") as archive:
            for path in root.rglob("*.json"):
                archive.write(path, "export/" + str(path.relative_to(root)))
    result = run("--slack-export", str(source), "--format", "jsonl", "--rules", "HY101")
    assert result.exit_code == 0, result.output
    findings = [json.loads(x) for x in result.stdout.splitlines()]
    assert [f["ts"] for f in findings] == ["1700000000.000100", "1700000400.000100"]
    assert findings[1]["text"] == "A Globex quer o contrato revisado", "judged on the edited text"
    assert all(f["channel"] == "dia-a-dia" for f in findings)
    assert "audit: 8 events, 3 messages judged" in result.stderr, "joins, bots and the deleted message are not"


def test_message_lines_from_files_and_stdin_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(line("1700000000.000100", REQUEST) + "\n", encoding="utf-8")
    jsonl = run("--messages", str(path), "--format", "jsonl", "--tickets", TICKETS)
    record = json.loads(jsonl.stdout)
    assert list(record) == ["rule", "name", "channel", "ts", "thread_ts", "user", "text", "score", "evidence", "action"]
    assert record["evidence"]["client"] == "Brascont" and record["action"] == "nudge"
    rows = list(csv.reader(io.StringIO(run("-", "--format", "csv", stdin=path.read_text()).stdout)))
    assert rows[0] == ["rule", "name", "channel", "ts", "thread_ts", "user", "score", "action", "text", "evidence"]
    assert rows[1][0] == "HY101"
    table = run(str(path)).stdout.splitlines()
    assert table[0].split() == ["RULE", "CHANNEL", "TS", "SCORE", "ACTION", "TEXT"]
    assert table[1].startswith("HY101  dia-a-dia")


def test_summary_goes_to_stderr_with_rates(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    lines = [line(f"17000000{i:02d}.000100", REQUEST if i == 0 else "tudo certo por aqui") for i in range(10)]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = run(str(path), "--format", "jsonl")
    assert "1 findings (100.00 per 1,000 messages)" in result.stderr
    hy101 = next(x for x in result.stderr.splitlines() if x.startswith("HY101"))
    assert hy101.split()[2:4] == ["1", "100.00"] and "O cliente Brascont" in hy101


def test_labels_print_precision_and_recall(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        "\n".join(
            [
                line("1700000000.000100", REQUEST, labels=["HY101"]),
                line("1700000100.000100", "Atualizei o atendimento 4521", labels=[]),
                line("1700000200.000100", "A Brascont precisa da certidão negativa", labels=["HY101"]),
                line("1700000300.000100", "O cliente Acme pediu a nota"),  # no labels key: not scored
            ]
        ),
        encoding="utf-8",
    )
    result = run(str(path), "--labels", "--mistakes", "--tickets", TICKETS, "--rules", "HY101")
    assert "labels: 3 labeled messages" in result.stderr
    row = next(x for x in result.stderr.splitlines() if x.startswith("HY101") and "." in x.split()[-1])
    assert row.split() == ["HY101", "2", "0", "0", "1.000", "1.000"]


def test_unreadable_lines_are_reported_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(line("1700000000.000100", REQUEST) + "\n{not json\n" + json.dumps({"text": "x"}) + "\n")
    result = run(str(path), "--format", "jsonl")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1, "the good line was still judged"
    assert f"skipped 2 unreadable line(s), first: {path}:2: not valid JSON" in result.stderr


def test_no_input_is_a_usage_error() -> None:
    result = run()
    assert result.exit_code == 2
    assert "give --slack-export DIR_OR_ZIP, --messages FILE, or --from-chat" in result.stderr


def test_window_keeps_memory_flat() -> None:
    auditor = Auditor(build_rules({}), TicketSnapshot(), window=timedelta(minutes=30))
    sizes = []

    def events():  # type: ignore[no-untyped-def]
        for i in range(20_000):
            ts = f"{1_700_000_000 + i * 60}.000100"  # one a minute, ~14 days
            text = REQUEST if i % 50 == 0 else "mensagem comum número " + str(i)
            message = ChatMessage(channel="C1", id=ts, at=at_of(ts), text=text, plain=text, user="U1")
            yield ChatEvent("message", "C1", ts, message)
            if i % 1000 == 0:
                sizes.append(auditor.held())

    findings = list(auditor.run(events()))
    assert len(findings) == 400
    assert max(sizes) < 1_000, "the context holds a window of messages, not 20,000 of history"


def test_explain_shows_firing_and_quiet_rules() -> None:
    result = CliRunner().invoke(cli, ["explain", REQUEST, "--tickets", TICKETS])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "HY101 request-in-chat" in out and "FIRES  score" in out
    assert "client: Brascont" in out and "open_tickets: ['4521']" in out
    assert "HY102 status-question      -      not a progress question" in out
    quiet = CliRunner().invoke(cli, ["explain", "Como faço para exportar o relatório?"]).output
    assert "not a new request ('como faco')" in quiet


def test_custom_rules_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "hygiene.toml"
    config.write_text(
        '[slack]\nchannels = ["support-team", "dia-a-dia"]\n[rules.HY901]\nname = "roadmap-question"\n'
        'match_phrases = ["roadmap", "quando vai ter"]\nonly_channels = ["support-team"]\n'
        'says = "Perguntas de roadmap vão no #sugestoes-produto."\n',
        encoding="utf-8",
    )
    fires = CliRunner().invoke(
        cli, ["explain", "Quando vai ter integração com o Pix?", "--channel", "support-team", "--config", str(config)]
    )
    assert "HY901 roadmap-question" in fires.output and "FIRES" in fires.output
    assert "says: Perguntas de roadmap vão no #sugestoes-produto." in fires.output
    elsewhere = CliRunner().invoke(cli, ["explain", "Quando vai ter integração?", "--config", str(config)])
    assert "HY901 roadmap-question     -      not one of its channels" in elsewhere.output
    listing = CliRunner().invoke(cli, ["rules"]).output
    assert "HY106" in listing


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with progress_bar(2_000_000, stream) as bar:
            bar.update(1_000_000)
    assert "audit:  50%" in terminal.getvalue() and "1.00M/2.00M" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(line("1700000000.000100", REQUEST) + "\n", encoding="utf-8")
    result = run(str(path), "--format", "jsonl", "--jobs", "1")
    assert result.stderr.startswith("audit: 1 events, 1 messages judged"), "no bar before the summary"


def test_per_channel_settings_are_merged_once_per_channel() -> None:
    rule = next(r for r in build_rules({"HY105": {"channels": {"elogios": {"mode": "off"}}}}) if r.code == "HY105")
    quiet = ChatMessage(channel="C9", channel_name="elogios", id="1.0", at=at_of("1.0"), text="oi", plain="oi")
    loud = ChatMessage(channel="C8", channel_name="geral", id="1.0", at=at_of("1.0"), text="oi", plain="oi")
    assert rule.settings_for(quiet).mode == "off" and rule.settings_for(loud).mode == "nudge"
    assert rule.settings_for(quiet) is rule.settings_for(quiet), "not validated again for every message"
    assert rule.settings_for(loud) is rule.settings


def test_without_fork_the_audit_runs_in_one_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "a.jsonl"
    path.write_text(line("1700000000.000100", REQUEST) + "\n", encoding="utf-8")
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(multiprocessing, "get_context", None)  # a worker pool would fail
    result = run(str(path), "--format", "jsonl", "--jobs", "3")
    assert result.exit_code == 0 and json.loads(result.stdout)["rule"] == "HY101"


def test_message_lines_can_carry_a_client_conversation(tmp_path: Path) -> None:
    lines = tmp_path / "whatsapp.jsonl"
    rows = [
        {"channel": "whatsapp", "ts": "1795300000.000100", "user": "C01", "side": "client",
         "client": "Padaria Pão Quente", "text": "Vocês são demais, obrigado pela agilidade com a nota!",
         "labels": ["HY304"]},
        {"channel": "whatsapp", "ts": "1795300900.000100", "user": "C01", "side": "client",
         "client": "Padaria Pão Quente", "text": "ok, recebido", "labels": []},
        {"channel": "whatsapp", "ts": "1795301800.000100", "user": "C02", "side": "robot", "text": "x"},
    ]  # fmt: skip
    lines.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", str(lines), "--labels", "--jobs", "1", "--rules", "HY304,HY101"])
    assert "HY304      1     0     0     1.000   1.000" in result.stderr
    assert "'side' must be one of agent, client, note, team, not 'robot'" in result.stderr
    assert result.exit_code == 1, "the malformed line is reported"
