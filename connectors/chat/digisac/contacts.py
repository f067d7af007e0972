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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.chat.digisac.messages import contact_name, mask_phones, parse_time
from connectors.chat.fields import mapping as _dict
from connectors.chat.fields import text as _text


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
    phone_end: str | None = None
    """The last two digits of the contact's number (``data.number``): all of it hygiene keeps."""

    def shown(self) -> str:
        """How hygiene names the contact where the team reads it: a first name and the number's last
        two digits, never the whole number."""
        words = (w for w in re.sub(r"\[[^\]]*\]", " ", self.name).split() if w.isalpha())
        first = next(words, "cliente" if self.name == "cliente" else "contato")
        return f"{first} (…{self.phone_end})" if self.phone_end else first


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
        custom_fields=_custom_fields(raw),
        person=_text(person.get("name")),
        document=_text(person.get("document")),
        organizations=tuple(str(o["name"]) for o in _list(person.get("organizations")) if _text(o.get("name"))),
        current_ticket=_text(raw.get("currentTicketId")),
        phone_end=_phone_end(_dict(raw.get("data")).get("number")),
    )


def _phone_end(number: Any) -> str | None:
    digits = re.sub(r"\D", "", str(number)) if isinstance(number, str | int) else ""
    return digits[-2:] if len(digits) >= 2 else None


def _custom_fields(raw: Mapping[str, Any]) -> dict[str, str]:
    """Custom field values by the field's id, and by its name too when the value carries its field
    (``customField.name``: UNVERIFIED, so ``custom_field:<id>`` always works)."""
    fields: dict[str, str] = {}
    for value in _list(raw.get("customFieldValues")):
        if not isinstance(value.get("customFieldId"), str):
            continue
        text = mask_phones(str(value.get("value") or ""))
        fields[value["customFieldId"]] = text
        if name := _text(_dict(value.get("customField")).get("name")):
            fields.setdefault(name, text)
    return fields


def client_label(contact: Contact, sources: Sequence[str], explicit: Mapping[str, str]) -> str | None:
    """The client a contact belongs to, as its Digisac data says: the explicit entry for its id or
    name, else the first of ``sources`` that gives a value. A label for the client matcher: the
    connector does not know the helpdesk's client names."""
    mapped = explicit.get(contact.id) or _by_name(explicit, contact.name)
    if mapped:
        return mapped
    return next((label for source in sources if (label := _label(contact, source))), None)


def _by_name(explicit: Mapping[str, str], name: str) -> str | None:
    wanted = name.strip().casefold()
    return next((client for key, client in explicit.items() if key.strip().casefold() == wanted), None)


def _label(contact: Contact, source: str) -> str | None:
    """One source's value: ``organization``, ``custom_field:<id or name>``, ``tag:<prefix>`` or ``name``."""
    if source == "organization":
        return next(iter(contact.organizations), None) or contact.person
    if source == "name":
        return contact.name if contact.name != "cliente" else None
    if source.startswith("custom_field:"):
        return _text(contact.custom_fields.get(source.removeprefix("custom_field:").strip(), "").strip())
    prefix = source.removeprefix("tag:").strip().casefold()
    tagged = (tag[len(prefix) :].strip(" :-=/") for tag in contact.tags if tag.casefold().startswith(prefix))
    return next((label for label in tagged if label), None)


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


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
