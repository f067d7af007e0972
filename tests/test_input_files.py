"""The team's files: kept whole when hygiene writes them, read in UTF-8 (BOM or not) or Windows-1252."""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.chat.slack.messages import to_chat_message
from connectors.helpdesk.files import FilesHelpdesk, TicketFileError, read_rows, read_tickets
from hygiene import config as config_module
from hygiene.cli import cli
from hygiene.errors import ConfigError
from hygiene.ports import ChannelInfo, TicketDraft
from hygiene.text import MAX_MESSAGE_CHARS

TEAM_ROWS = [
    {"id": "1", "subject": "Malha fina", "client": "Brascont", "status": "open", "tags": ["irpf", "vip"]},
    {"id": "2", "subject": "Notas", "status": "solved", "internal_notes": "ligar só de manhã", "sla_custom": 3},
]
DRAFT = TicketDraft(subject="Segunda via do boleto", description="…", client="Brascont")
REQUEST = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"


def _line(ts: str, text: str) -> str:
    return json.dumps({"channel": "dia-a-dia", "user": "U1", "ts": ts, "text": text}, ensure_ascii=False)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_adding_a_ticket_keeps_every_field_of_every_row(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tickets{suffix}"
    before = (
        json.dumps(TEAM_ROWS, ensure_ascii=False)
        if suffix == ".json"
        else "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in TEAM_ROWS)
    )
    path.write_text(before, encoding="utf-8")
    created = FilesHelpdesk(path).create_ticket(DRAFT, "finding-1")
    rows = [row for _, row in read_rows(path).rows]
    assert rows[:2] == TEAM_ROWS, "tags, internal_notes and sla_custom survive the write"
    assert rows[2]["id"] == created.id and rows[2]["subject"] == DRAFT.subject
    assert path.with_name(path.name + ".bak").read_text(encoding="utf-8") == before
    assert not path.with_name(path.name + ".tmp").exists()


def test_adding_a_ticket_keeps_extra_csv_columns_and_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    before = "id,subject,client,status,canal,observação\n7,Férias,Padaria Pão Quente,open,whatsapp,urgente\n"
    path.write_bytes(before.encode("cp1252"))
    FilesHelpdesk(path).create_ticket(DRAFT, "finding-1")
    text = path.read_bytes().decode("cp1252")
    lines = text.splitlines()
    assert lines[0].startswith("id,subject,client,status,canal,observação,")
    assert lines[1].startswith("7,Férias,Padaria Pão Quente,open,whatsapp,urgente,")
    assert [t.id for t in read_tickets(path)] == ["7", "hy-" + read_tickets(path)[1].id[3:]]
    assert path.with_name("tickets.csv.bak").read_bytes() == before.encode("cp1252")


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" starts with a BOM; it used to fail with "id: Field required"."""
    path = tmp_path / "tickets.csv"
    path.write_bytes(codecs.BOM_UTF8 + "id,subject,status\n1,Certidão,open\n".encode())
    assert [(t.id, t.subject) for t in read_tickets(path)] == [("1", "Certidão")]


def test_a_windows_1252_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes("id,subject,client,status\n1,Declaração,Padaria Pão Quente,open\n".encode("cp1252"))
    assert [(t.subject, t.client) for t in read_tickets(path)] == [("Declaração", "Padaria Pão Quente")]


def test_a_missing_field_names_file_row_field_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text("subject,status\nx,open\n", encoding="utf-8")
    with pytest.raises(TicketFileError, match=r"tickets.csv: row 2: id: Field required; add it"):
        read_tickets(path)


def test_bad_json_in_a_ticket_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tickets.json"
    path.write_text('[\n{"id": "1", "subject": "x", "status": "open"},\n{oops}\n]', encoding="utf-8")
    with pytest.raises(TicketFileError, match=r"tickets.json: line 3: not valid JSON"):
        read_tickets(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_the_config_is_read_with_a_bom_or_in_windows_1252(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "hygiene.toml"
    text = '[slack]\nchannels = ["dia-a-dia"]\n[clients]\naliases = { "pão quente" = "Padaria Pão Quente" }\n'
    path.write_bytes(text.encode(encoding))
    config = config_module.load(path)
    assert config.clients.aliases == {"pão quente": "Padaria Pão Quente"}


def test_a_config_no_encoding_reads_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "hygiene.toml"
    path.write_bytes(b'[slack]\nchannels = ["x"]\n# \x81\x8d\n')
    with pytest.raises(ConfigError, match=r"hygiene.toml: line 3: bytes that are not UTF-8 nor Windows-1252"):
        config_module.load(path)


def test_message_files_in_windows_1252_or_with_a_bom_are_audited(tmp_path: Path) -> None:
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(codecs.BOM_UTF8 + _line("1700000000.000100", REQUEST).encode())
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(_line("1700000000.000200", REQUEST).encode("cp1252"))
    result = CliRunner().invoke(cli, ["audit", str(bom), str(latin), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    findings = [json.loads(x) for x in result.stdout.splitlines()]
    assert [f["rule"] for f in findings] == ["HY101", "HY101"]
    assert "alguém consegue ver" in findings[1]["text"]


def test_a_line_with_bad_bytes_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    good = _line("1700000000.000100", REQUEST).encode()
    broken = _line("1700000100.000100", "Já vi").encode()[:-6] + b"\xc3\x28\xa0\xa1" + b'"}'
    later = _line("1700000200.000100", "A Brascont precisa da certidão negativa de débitos").encode()
    path.write_bytes(b"\n".join([good, broken, later]) + b"\n")
    result = CliRunner().invoke(cli, ["audit", str(path), "--format", "jsonl"])
    assert result.exit_code == 1, "a skipped line makes the exit 1, as a bad JSON line does"
    assert len(result.stdout.splitlines()) == 2, "the lines around the bad one are still judged"
    assert f"{path}:2: bytes that are not UTF-8 (skipped)" in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_day_file_in_an_export_is_skipped_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "geral").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "geral"}, "junk"]))
    (root / "users.json").write_text(json.dumps([{"id": "U1", "profile": "not an object"}, 7]))
    (root / "geral" / "2026-11-17.json").write_text("{broken")
    day = [{"user": "U1", "ts": "1700000000.000100", "text": REQUEST}, "junk", {"text": "no ts"}]
    (root / "geral" / "2026-11-18.json").write_bytes(json.dumps(day, ensure_ascii=False).encode("cp1252"))
    result = CliRunner().invoke(cli, ["audit", "--slack-export", str(root), "--format", "jsonl"])
    assert result.exit_code == 1
    assert [json.loads(x)["rule"] for x in result.stdout.splitlines()] == ["HY101"]
    assert "skipped 3 unreadable line(s)" in result.stderr and "2026-11-17.json: not valid JSON" in result.stderr


def test_messages_are_cut_to_slacks_cap_where_they_enter() -> None:
    huge = "O cliente Brascont pediu a nota. " + "a" * 5_000_000
    started = time.monotonic()
    message = to_chat_message({"ts": "1.000001", "text": huge}, ChannelInfo(id="C1", name="x"), lambda u: (u, False))
    assert len(message.text) == MAX_MESSAGE_CHARS and len(message.plain) == MAX_MESSAGE_CHARS
    assert time.monotonic() - started < 1


def test_a_5_mb_message_is_judged_quickly(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(_line("1700000000.000100", REQUEST + " " + "palavra " * 600_000), encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["audit", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 3, "judging 40,000 characters, not 5 MB"


def test_every_skipped_line_is_named_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"{bad\n" + _line("1700000000.000100", REQUEST).encode() + b"\n\xff\xfe\x81\n[1]\n")
    result = CliRunner().invoke(cli, ["audit", str(path), "--format", "jsonl"])
    assert f"skipped 3 unreadable line(s), first: {path}:1: not valid JSON" in result.stderr
    assert f"  skipped {path}:3: bytes that are not UTF-8 (skipped)" in result.stderr
    assert f"  skipped {path}:4: expected a message object" in result.stderr


def test_a_broken_users_file_leaves_user_ids_and_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "geral").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "geral"}]))
    (root / "users.json").write_text("[{broken")
    day = [{"user": "U1", "ts": "1700000000.000100", "text": REQUEST}]
    (root / "geral" / "2026-11-18.json").write_text(json.dumps(day))
    result = CliRunner().invoke(cli, ["audit", "--slack-export", str(root), "--format", "jsonl"])
    assert [json.loads(x)["user"] for x in result.stdout.splitlines()] == ["U1"]
    assert "users.json: not valid JSON" in result.stderr and "(user names not read)" in result.stderr
