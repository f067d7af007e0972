"""Digisac message objects to :class:`~hygiene.models.ChatMessage`.

Field meanings, from recorded traffic (douglara/digisac ``spec/cassettes``, research §6.1) unless
marked:

- ``isFromMe: false`` is the client writing (``fromId == contactId``, ``userId: null``);
  ``isFromMe: true`` is the team side (``userId`` = the agent, ``origin`` ``user`` or ``bot``).
  ``isFromBot`` marks a Digisac bot (n8n/webhook consumers filter on it).
- ``createdAt`` is when Digisac stored the message, ``timestamp`` the WhatsApp time: history
  synced late arrives days after its ``timestamp`` (recorded: 2021-03-12 vs 2021-03-15, with
  ``data.isNew: false``). ``at`` is ``createdAt`` (what reads are bookmarked by); the WhatsApp
  time is ``extras["sent_at"]`` and ``extras["late_sync"]`` says when they are far apart.
- ``type: "ticket"`` rows are ticket events (open, transfer, close) with ``text: null``: system.
- Internal comments: ``type: "comment"`` is the send body of the Postman collection's "Enviar
  comentário"; an ``isComment`` flag is read by a bulk exporter (br-luis-alexandre/
  digisac-api-st-import). Which of the two a listed comment carries is UNVERIFIED, so either
  makes a comment. hygiene's own comments end with a marker line carrying the outbox key.
- ``ticketId``, ``ticketDepartmentId``, ``ticketUserId``: the Digisac ticket (null outside one).
- Edits: the Postman collection has a message edit route; how an edited message is flagged is
  UNVERIFIED: ``data.editedAt`` is read when present, and a changed text is seen anyway when the
  rescan window re-reads the message.

The neutral fields the core reads: ``author_side`` (``client`` for the contact's messages,
``agent`` for the team's, ``note`` for internal comments), ``sent_at`` (the WhatsApp time) and
``department`` (the Digisac ticket's department, by name when ``GET /departments`` lists it) and
``client_hint`` (the contact's client as the ``client_from`` mapping reads it, on every message of
the conversation).

The conversation is the thread: ``thread_id`` is the contact's id, present on every message
(``ticketId`` is null on late-synced history), so the rules see everything the client and the
team said, across Digisac tickets. Phone numbers are masked in names and text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.chat.digisac.client import SYSTEM
from connectors.chat.fields import iso_time
from connectors.chat.fields import mapping as _dict
from connectors.chat.fields import text as _str
from hygiene.errors import ExternalError
from hygiene.logs import mask_tokens
from hygiene.models import ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.text import clip

LATE_SYNC = timedelta(minutes=10)
"""``createdAt`` this far after ``timestamp``: the message is history synced late."""
MARKER = re.compile(r"\n?\[hygiene:([^\]\s]+)\]\s*$")
UNSAFE_IN_MARKER = re.compile(r"[\]\s]")
PHONE = re.compile(r"(?<![\w/.,])\+?(?:\(?\d[\d\s().-]{8,18}\d)(?![\w/])")


class MalformedMessage(ExternalError):
    """A message object hygiene cannot read (no id or createdAt): skipped."""

    def __init__(self, message: str) -> None:
        super().__init__(SYSTEM, f"malformed message: {message}")


def marker(key: str) -> str:
    """The line hygiene ends its comments with: the outbox key (how a write is found again). The
    team sees it in the note; the key names a finding's hash, never a person or a client."""
    return "[hygiene:" + UNSAFE_IN_MARKER.sub("_", key) + "]"


def mask_phones(text: str) -> str:
    """Phone numbers (10 to 15 digits, with spaces, dashes, dots or brackets) shown as their last
    two digits: a number is personal data and hygiene's output is read in shared places."""

    def hide(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if not 10 <= len(digits) <= 15 or "." in match.group():
            return match.group()
        return f"[telefone …{digits[-2:]}]"

    return PHONE.sub(hide, text)


@dataclass(frozen=True)
class Names:
    """Who people are: the token's user, agents by id, contacts by id (already masked), the
    departments' names by id, and each contact's client as the contact mapping says."""

    me: str
    agents: Mapping[str, str]
    contacts: Mapping[str, str]
    departments: Mapping[str, str] = field(default_factory=dict)
    clients: Mapping[str, str] = field(default_factory=dict)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 moment with its zone; a naive one is None."""
    moment = iso_time(value)
    return moment if moment is not None and moment.tzinfo else None


def contact_name(contact: Mapping[str, Any]) -> str:
    """``name || alternativeName || internalName`` (consumers' precedence), phone numbers masked."""
    for key in ("name", "alternativeName", "internalName"):
        value = contact.get(key)
        if isinstance(value, str) and value.strip():
            return mask_phones(value.strip())
    return "cliente"


def is_comment(raw: Mapping[str, Any]) -> bool:
    return raw.get("type") == "comment" or raw.get("isComment") is True


def to_chat_message(raw: Mapping[str, Any], channel: ChannelInfo, names: Names, source: str) -> ChatMessage:
    if not isinstance(raw, Mapping):
        raise MalformedMessage(f"expected an object, got {type(raw).__name__}")
    message_id, contact = _str(raw.get("id")), _str(raw.get("contactId"))
    at = parse_time(raw.get("createdAt"))
    if not message_id or not contact or at is None:
        raise MalformedMessage("no id, contactId or createdAt")
    text = mask_phones(mask_tokens(clip(raw["text"] if isinstance(raw.get("text"), str) else "")))
    comment, from_team = is_comment(raw), raw.get("isFromMe") is True
    user = _str(raw.get("userId")) if from_team or comment else contact
    found = MARKER.search(text)
    ours = comment and found is not None and user == names.me
    sent_at = parse_time(raw.get("timestamp"))
    department = _str(raw.get("ticketDepartmentId"))
    return ChatMessage(
        channel=channel.id,
        channel_name=channel.name,
        id=message_id,
        at=at,
        source=source,
        thread_id=contact,
        user=user,
        user_name=_name(user, from_team or comment, names),
        text=text,
        plain=MARKER.sub("", text).strip() if ours else text,
        system=_system(raw),
        is_bot=ours or raw.get("isFromBot") is True or raw.get("origin") == "bot",
        edited_at=parse_time(_dict(raw.get("data")).get("editedAt")),
        ours=ours,
        author_side="note" if comment else "agent" if from_team else "client",
        sent_at=sent_at,
        department=names.departments.get(department, department) if department else None,
        client_hint=names.clients.get(contact),
        extras=_extras(raw, contact, from_team, comment, at, sent_at),
    )


def _system(raw: Mapping[str, Any]) -> str | None:
    if raw.get("type") == "ticket":
        data = _dict(raw.get("data"))
        event = next((key for key in ("ticketOpen", "ticketTransfer", "ticketClose") if data.get(key)), "ticket")
        return f"digisac_{event}"
    return None


def _name(user: str | None, team: bool, names: Names) -> str | None:
    if user is None:
        return None
    return names.agents.get(user) if team else names.contacts.get(user, "cliente")


def _extras(
    raw: Mapping[str, Any], contact: str, team: bool, comment: bool, at: datetime, sent_at: datetime | None
) -> dict[str, Any]:
    return {
        "side": "note" if comment else "agent" if team else "client",
        "contact": contact,
        "ticket": _str(raw.get("ticketId")),
        "department": _str(raw.get("ticketDepartmentId")),
        "agent": _str(raw.get("ticketUserId")),
        "type": _str(raw.get("type")),
        "sent_at": sent_at.isoformat() if sent_at else None,
        "late_sync": bool(sent_at and at - sent_at > LATE_SYNC),
    }
