from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.helpdesk.files import FilesHelpdesk, TicketFileError, read_tickets
from hygiene.ports import TicketDraft

ROWS = [
    {
        "id": "1",
        "number": "4521",
        "subject": "Malha fina",
        "client": "Brascont",
        "status": "open",
        "updated_at": "2026-11-18T09:00:00",
        "extra_column": "ignored",
    },
    {"id": "2", "subject": "Notas", "client": "Padaria Pão Quente", "status": "solved", "priority": ""},
]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv"])
def test_every_format_reads_the_same_tickets(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(ROWS), encoding="utf-8")
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    else:
        header = "id,number,subject,client,status,updated_at,extra_column,priority"
        path.write_text(
            header
            + "\n1,4521,Malha fina,Brascont,open,2026-11-18T09:00:00,ignored,\n2,,Notas,Padaria Pão Quente,solved,,,\n",
            encoding="utf-8",
        )
    tickets = read_tickets(path)
    assert [(t.id, t.number, t.status, t.priority) for t in tickets] == [
        ("1", "4521", "open", "normal"),
        ("2", None, "solved", "normal"),
    ]
    helpdesk = FilesHelpdesk(path)
    assert helpdesk.get_ticket("4521") == tickets[0]
    assert helpdesk.clients() == ["Brascont", "Padaria Pão Quente"]
    assert [t.id for t in helpdesk.open_tickets_of("brascont")] == ["1"]


def test_bad_rows_name_the_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps({"id": "3", "subject": "x", "status": "weird"}) + "\n")
    with pytest.raises(TicketFileError) as caught:
        read_tickets(path)
    assert "row 2: status: Input should be 'open', 'pending', 'solved' or 'closed'" in str(caught.value)
    path.write_text(json.dumps({"id": "3", "subject": "x", "status": "open", "updated_at": "yesterday"}) + "\n")
    with pytest.raises(TicketFileError, match="row 1: updated_at"):
        read_tickets(path)


def test_sync_returns_only_changed_tickets(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(ROWS), encoding="utf-8")
    helpdesk = FilesHelpdesk(path)
    first = helpdesk.sync({})
    assert len(first.tickets) == 2
    assert helpdesk.sync(first.state).tickets == []
    rows = [dict(ROWS[0], status="pending"), ROWS[1]]
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert [t.id for t in helpdesk.sync(first.state).tickets] == ["1"]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv"])
def test_create_is_idempotent_by_key(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t{suffix}"
    path.write_text("[]" if suffix == ".json" else ("" if suffix == ".jsonl" else "id,subject,status\n"))
    helpdesk = FilesHelpdesk(path, url_template="https://hd.example/t/{id}")
    draft = TicketDraft(subject="Segunda via do boleto", description="…", client="Brascont")
    first = helpdesk.create_ticket(draft, "finding-abc")
    again = helpdesk.create_ticket(draft, "finding-abc")
    assert first == again
    assert len(read_tickets(path)) == 1
    assert first.url == "https://hd.example/t/1"
    helpdesk.add_note(first.id, "criado pelo hygiene")
    assert "criado pelo hygiene" in path.with_name(path.name + ".notes.jsonl").read_text()
