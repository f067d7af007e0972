"""The files helpdesk: tickets from a JSON, JSONL or CSV export (the format of CONTRACTS.md).

Used by ``audit``, ``report`` and the tests, and by teams whose helpdesk has no connector yet.
Created tickets and notes are written back to the same file so that the contract suite runs
against it like any other helpdesk. The file is the team's: a write keeps every row with every
field (unknown keys and extra CSV columns too) and the file's encoding, replaces the file
atomically and keeps the previous version as ``<name>.bak``. Files are read in UTF-8 with or
without a byte-order mark, or in Windows-1252.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from hygiene.errors import ExternalError
from hygiene.kinds import HelpdeskBuild, HelpdeskKind
from hygiene.models import Ticket
from hygiene.ports import Helpdesk, SyncBatch, TicketDraft
from hygiene.refs import url_pattern
from hygiene.settings import HelpdeskSettings, http_url
from hygiene.text import fold
from hygiene.textfiles import TextFileError, decode

FIELDS = list(Ticket.model_fields)


class TicketFileError(ExternalError):
    def __init__(self, message: str) -> None:
        super().__init__("files", message, transient=False)


def read_tickets(path: Path) -> list[Ticket]:
    """Parse a ticket export; a bad row names the file, its row, the field and the fix."""
    return [_ticket(path, number, row) for number, row in read_rows(path).rows]


def _ticket(path: Path, number: int, row: dict[str, Any]) -> Ticket:
    try:
        return Ticket.model_validate(row)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(row)"
        fix = "; add it (CONTRACTS.md lists the ticket fields)" if error["type"] == "missing" else ""
        raise TicketFileError(f"{path}: row {number}: {field}: {error['msg']}{fix}") from None


@dataclass
class TicketRows:
    """A ticket file as the team wrote it: every row with every key, the CSV header, the encoding."""

    rows: list[tuple[int, dict[str, Any]]]
    encoding: str = "utf-8"
    header: list[str] = field(default_factory=list)


def read_rows(path: Path) -> TicketRows:
    """Every row of a ticket file with every key it has (unknown ones too), and how it was written."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TicketFileError(f"{path}: file not found; check the path (helpdesk.path or --tickets)") from None
    except OSError as exc:
        raise TicketFileError(f"{path}: cannot be read ({exc.strerror})") from None
    encoding = _encoding(raw)
    try:
        text = decode(raw, path)
    except TextFileError as exc:
        raise TicketFileError(str(exc)) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        rows = [(index, _csv_row(row)) for index, row in enumerate(reader, start=2)]
        return TicketRows(rows, encoding, list(reader.fieldnames or []))
    if suffix == ".jsonl":
        lines = [(index, line) for index, line in enumerate(text.splitlines(), start=1) if line.strip()]
        return TicketRows([(index, _json_object(path, line, index)) for index, line in lines], encoding)
    if suffix == ".json":
        data = _json(path, text)
        if not isinstance(data, list):
            raise TicketFileError(f"{path}: expected a JSON array of tickets ([{{...}}, ...])")
        objects = [(index, _as_object(path, item, index)) for index, item in enumerate(data, start=1)]
        return TicketRows(objects, encoding)
    raise TicketFileError(f"{path}: unknown ticket file type {suffix!r} (use .json, .jsonl or .csv)")


def _encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _csv_row(row: dict[str | None, Any]) -> dict[str, Any]:
    """A CSV row; cells past the header (a ragged row) are kept under ``None`` by csv: dropped here."""
    return {key: value for key, value in row.items() if key is not None}


def _json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TicketFileError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}); fix it there") from None
    except (ValueError, RecursionError) as exc:
        raise TicketFileError(f"{path}: not valid JSON ({type(exc).__name__})") from None


def _json_object(path: Path, line: str, index: int) -> dict[str, Any]:
    try:
        return _as_object(path, json.loads(line), index)
    except json.JSONDecodeError as exc:
        raise TicketFileError(f"{path}: row {index}: not valid JSON: {exc.msg}; one ticket object per line") from None
    except (ValueError, RecursionError) as exc:
        raise TicketFileError(f"{path}: row {index}: not valid JSON ({type(exc).__name__})") from None


def _as_object(path: Path, item: object, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TicketFileError(f"{path}: row {index}: expected an object with the ticket's fields")
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
        self._append(ticket)
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

    def _append(self, ticket: Ticket) -> None:
        """Add ``ticket`` to the file, keeping every row and every field the team has in it."""
        found = read_rows(self.path)
        record = {k: v for k, v in json.loads(ticket.model_dump_json()).items() if v is not None}
        rows = [row for _, row in found.rows] + [record]
        if self.path.suffix.lower() == ".csv":
            header = found.header + [name for name in FIELDS if name not in found.header]
            content = _csv_text(rows, header)
        elif self.path.suffix.lower() == ".jsonl":
            content = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            content = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
        replace_file(self.path, _encode(content, found.encoding))


class Settings(HelpdeskSettings):
    """``[helpdesk]`` with ``kind = "files"``: a ticket export on disk, relative to the config file."""

    path: Path | None = Field(None, description="files: the ticket export (.json, .jsonl or .csv).")
    url_template: str | None = Field(None, description="A ticket's URL with {id}, e.g. https://…/tickets/{id}")

    _urls = field_validator("url_template")(http_url)

    @model_validator(mode="after")
    def _needs_a_path(self) -> Settings:
        if self.path is None:
            raise ValueError("helpdesk kind 'files' needs a path")
        return self

    def ticket_url_template(self) -> str | None:
        return self.url_template


def build(settings: Settings, _: HelpdeskBuild) -> FilesHelpdesk:
    """The files helpdesk of a validated ``[helpdesk]`` (its path already anchored to the config file)."""
    assert settings.path is not None, "validated: a files helpdesk has a path"
    return FilesHelpdesk(settings.path, settings.url_template)


KIND = HelpdeskKind(name="files", settings=Settings, build=build)


def _csv_text(rows: list[dict[str, Any]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: "" if row.get(key) is None else row[key] for key in header} for row in rows)
    return out.getvalue()


def _encode(content: str, encoding: str) -> bytes:
    """In the file's own encoding; Windows-1252 that cannot hold a new character becomes UTF-8 with BOM."""
    try:
        return content.encode(encoding)
    except UnicodeEncodeError:
        return content.encode("utf-8-sig")


def replace_file(path: Path, content: bytes) -> None:
    """Write atomically (temporary file, fsync, rename) and keep the previous version as ``<name>.bak``."""
    temporary = path.with_name(path.name + ".tmp")
    backup = path.with_name(path.name + ".bak")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    if path.exists():
        shutil.copy2(path, backup)
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
