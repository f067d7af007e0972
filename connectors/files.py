"""The files helpdesk: tickets from a JSON, JSONL or CSV export (the format of CONTRACTS.md).

Used by ``audit``, ``report`` and the tests, and by teams whose helpdesk has no connector yet.
Created tickets and notes are written back to the same file (JSON and JSONL append; CSV is
rewritten) so that the contract suite runs against it like any other helpdesk.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hygiene.errors import ExternalError
from hygiene.models import Ticket
from hygiene.ports import Helpdesk, SyncBatch, TicketDraft
from hygiene.refs import url_pattern
from hygiene.text import fold

FIELDS = list(Ticket.model_fields)


class TicketFileError(ExternalError):
    def __init__(self, message: str) -> None:
        super().__init__("files", message, transient=False)


def read_tickets(path: Path) -> list[Ticket]:
    """Parse a ticket export; a bad row names its number and the field."""
    rows = list(_read_rows(path))
    tickets: list[Ticket] = []
    for number, row in rows:
        try:
            tickets.append(Ticket.model_validate(row))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "(row)"
            raise TicketFileError(f"{path}: row {number}: {field}: {error['msg']}") from None
    return tickets


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TicketFileError(f"{path}: file not found") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [(index, dict(row)) for index, row in enumerate(csv.DictReader(raw.splitlines()), start=2)]
    if suffix == ".jsonl":
        rows = []
        for index, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                rows.append((index, _json_object(path, line, index)))
        return rows
    if suffix == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TicketFileError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, list):
            raise TicketFileError(f"{path}: expected a JSON array of tickets")
        return [(index, _as_object(path, item, index)) for index, item in enumerate(data, start=1)]
    raise TicketFileError(f"{path}: unknown ticket file type {suffix!r} (use .json, .jsonl or .csv)")


def _json_object(path: Path, line: str, index: int) -> dict[str, Any]:
    try:
        return _as_object(path, json.loads(line), index)
    except json.JSONDecodeError as exc:
        raise TicketFileError(f"{path}: row {index}: not valid JSON: {exc.msg}") from None


def _as_object(path: Path, item: object, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TicketFileError(f"{path}: row {index}: expected an object")
    return item


class FilesHelpdesk(Helpdesk):
    name = "files"

    def __init__(self, path: Path, url_template: str | None = None) -> None:
        self.path = path
        self.url_template = url_template
        self._notes_path = path.with_name(path.name + ".notes.jsonl")

    def _load(self) -> list[Ticket]:
        tickets = read_tickets(self.path)
        if not self.url_template:
            return tickets
        return [t if t.url else t.model_copy(update={"url": self.ticket_url(t)}) for t in tickets]

    def sync(self, state: dict[str, Any]) -> SyncBatch:
        """The whole file, diffed against content hashes kept in ``state``."""
        seen: dict[str, str] = state.get("hashes", {})
        changed, hashes = [], {}
        for ticket in self._load():
            digest = hashlib.sha256(ticket.model_dump_json().encode()).hexdigest()[:16]
            hashes[ticket.id] = digest
            if seen.get(ticket.id) != digest:
                changed.append(ticket)
        return SyncBatch(tickets=changed, state={"hashes": hashes}, calls=1)

    def get_ticket(self, key: str) -> Ticket | None:
        tickets = self._load()
        for ticket in tickets:
            if ticket.id == key:
                return ticket
        return next((ticket for ticket in tickets if ticket.number == key), None)

    def clients(self) -> list[str]:
        return sorted({ticket.client for ticket in self._load() if ticket.client})

    def open_tickets_of(self, client: str) -> list[Ticket]:
        wanted = fold(client)
        return [t for t in self._load() if t.is_active and t.client and fold(t.client) == wanted]

    def create_ticket(self, draft: TicketDraft, key: str) -> Ticket:
        tickets = self._load()
        ticket_id = f"hy-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
        for ticket in tickets:
            if ticket.id == ticket_id:
                return ticket
        numbers = [int(t.number or t.id) for t in tickets if re.fullmatch(r"\d+", t.number or t.id)]
        now = datetime.now(UTC).replace(microsecond=0)
        ticket = Ticket(
            id=ticket_id,
            number=str(max(numbers, default=0) + 1),
            subject=draft.subject,
            client=draft.client,
            status="open",
            department=draft.department,
            created_at=now,
            updated_at=now,
        )
        if self.url_template:
            ticket = ticket.model_copy(update={"url": self.url_template.replace("{id}", ticket.reference)})
        self._write([*tickets, ticket])
        return ticket

    def add_note(self, ticket_id: str, text: str) -> None:
        if self.get_ticket(ticket_id) is None:
            raise TicketFileError(f"{self.path}: no ticket {ticket_id!r}")
        with self._notes_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"ticket": ticket_id, "note": text}, ensure_ascii=False) + "\n")

    def ticket_url(self, ticket: Ticket) -> str | None:
        if ticket.url:
            return ticket.url
        return self.url_template.replace("{id}", ticket.reference) if self.url_template else None

    def url_patterns(self) -> list[re.Pattern[str]]:
        return [url_pattern(self.url_template)] if self.url_template else []

    def _write(self, tickets: list[Ticket]) -> None:
        records = [json.loads(ticket.model_dump_json()) for ticket in tickets]
        temporary = self.path.with_name(self.path.name + ".tmp")
        suffix = self.path.suffix.lower()
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            if suffix == ".json":
                json.dump(records, handle, ensure_ascii=False, indent=2)
            elif suffix == ".jsonl":
                handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
            else:
                writer = csv.DictWriter(handle, fieldnames=FIELDS)
                writer.writeheader()
                writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        os.replace(temporary, self.path)
