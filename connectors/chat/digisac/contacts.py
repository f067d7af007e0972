"""Digisac's contacts, tickets and departments, read for a later contact → client mapping.

- Contacts: ``GET /contacts`` with ``include`` of ``tags`` (recorded: ``tags[].label``) and
  ``customFieldValues`` (``[{customFieldId, value}]``, read by iguaconimobiliaria/webhook-digisac),
  and ``person`` (``{id, name, document}``, Postman collection e143). A person's organizations
  (``person.organizations``) are read when the answer carries them: the include is UNVERIFIED.
  Names are shown with phone numbers masked; the number itself is never kept.
- Tickets ("chamados"): ``GET /tickets`` with ``where.isOpen`` (Postman e136/e137; ext_digisac
  ``checkOpenTicket``), fields ``id, protocol, isOpen, startedAt, endedAt, contactId,
  departmentId, userId`` (Postman attributes; the full shape was never recorded).
- Departments: ``GET /departments`` → ``id, name, archivedAt`` (Postman e088; digisac-api-st-import).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.chat.digisac.messages import contact_name, mask_phones, parse_time


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    service: str | None
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, str] = field(default_factory=dict)
    person: str | None = None
    """The Digisac person (often the client company) the contact belongs to, by name."""
    document: str | None = None
    organizations: tuple[str, ...] = ()
    current_ticket: str | None = None


@dataclass(frozen=True)
class DigisacTicket:
    """A Digisac conversation ticket: who is handling the conversation now, in which department."""

    id: str
    protocol: str | None
    contact: str | None
    department: str | None
    agent: str | None
    is_open: bool
    started_at: datetime | None
    ended_at: datetime | None


CONTACTS_QUERY: dict[str, Any] = {
    "where": {"visible": True},
    "include": ["tags", "customFieldValues", {"model": "person", "include": ["organizations"]}],
    "order": [["createdAt", "ASC"], ["id", "ASC"]],
}


def to_contact(raw: Mapping[str, Any]) -> Contact | None:
    if not isinstance(raw.get("id"), str):
        return None
    person: Mapping[str, Any] = raw["person"] if isinstance(raw.get("person"), dict) else {}
    return Contact(
        id=raw["id"],
        name=contact_name(raw),
        service=_text(raw.get("serviceId")),
        tags=tuple(str(t["label"]) for t in _list(raw.get("tags")) if isinstance(t.get("label"), str)),
        custom_fields={
            str(v["customFieldId"]): mask_phones(str(v.get("value") or ""))
            for v in _list(raw.get("customFieldValues"))
            if isinstance(v.get("customFieldId"), str)
        },
        person=_text(person.get("name")),
        document=_text(person.get("document")),
        organizations=tuple(str(o["name"]) for o in _list(person.get("organizations")) if _text(o.get("name"))),
        current_ticket=_text(raw.get("currentTicketId")),
    )


def to_ticket(raw: Mapping[str, Any]) -> DigisacTicket | None:
    if not isinstance(raw.get("id"), str):
        return None
    protocol = raw.get("protocol")
    return DigisacTicket(
        id=raw["id"],
        protocol=str(protocol) if isinstance(protocol, str | int) and not isinstance(protocol, bool) else None,
        contact=_text(raw.get("contactId")),
        department=_text(raw.get("departmentId")),
        agent=_text(raw.get("userId")),
        is_open=raw.get("isOpen") is True,
        started_at=parse_time(raw.get("startedAt")),
        ended_at=parse_time(raw.get("endedAt")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
