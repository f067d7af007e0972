"""The shared vocabulary: chat messages, tickets, findings and the actions taken on them.

Connectors produce these, rules read them, the engine and the store move them around.
The ticket model is the normalized one of CONTRACTS.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator


class Mode(StrEnum):
    """What a rule is allowed to do with its findings."""

    OFF = "off"
    REPORT = "report"
    NUDGE = "nudge"
    AUTO = "auto"


LEGACY_SOURCE = "slack"
"""The chat that data written before chats had names belongs to (store schema v3 and earlier).

Findings of this chat keep the identity they had then, so an upgrade never nudges twice."""


BOT_POST = "bot_message"
"""The ``system`` name of a post by an integration (Slack's subtype; other connectors map theirs to it)."""


Side = Literal["team", "agent", "client", "note"]
"""Which side of a conversation a message's author is on (see :attr:`ChatMessage.author_side`)."""
CLIENT_CHANNEL_SIDES: frozenset[str] = frozenset({"agent", "client", "note"})


@dataclass(frozen=True)
class ChatMessage:
    """One chat message in the shape every chat connector produces, whatever the platform.

    ``id`` is the platform's id of the message (unique in its channel) and ``at`` when it was
    posted; ``thread_id`` is the id of its thread's root (None outside threads; a root with replies
    has its own id). ``text`` is the platform's markup as received and ``plain`` the plain text
    rules judge. ``ours`` marks hygiene's own posts. ``system`` names a non-human event (a join, a
    topic change); ``extras`` carries platform data the core never interprets.
    """

    channel: str
    id: str
    at: datetime
    text: str
    plain: str
    source: str = LEGACY_SOURCE
    user: str | None = None
    user_name: str | None = None
    channel_name: str | None = None
    thread_id: str | None = None
    system: str | None = None
    is_bot: bool = False
    edited_at: datetime | None = None
    reply_count: int = 0
    latest_reply: str | None = None
    """A marker of the thread's newest reply: it changes when a reply arrives."""
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ours: bool = False
    mentions: tuple[str, ...] = ()
    """Ids of the people the message mentions (an alert's owner, someone asked directly)."""
    author_side: Side = "team"
    """Who speaks to whom: ``team`` in the team's own chat, ``agent`` (the team writing to a
    client), ``client`` (a client writing to the team) or ``note`` (the team's internal note in a
    client's conversation). Client-channel connectors set it; the team's rules judge ``team`` only."""
    sent_at: datetime | None = None
    """When the author sent it, when the platform knows a time other than ``at`` (history synced
    late is stored long after it was sent)."""
    department: str | None = None
    """The team's department handling the conversation (a client channel's queue), when known."""
    client_hint: str | None = None
    """Which client the author is, as the client-channel connector's mapping says (a contact's
    organization, custom field, tag or explicit entry): a label for the client matcher, not yet a
    helpdesk client name."""
    extras: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_reply(self) -> bool:
        return self.thread_id is not None and self.thread_id != self.id

    @property
    def root_id(self) -> str:
        """The id of the thread this message belongs to (its own id when it is a root)."""
        return self.thread_id or self.id

    @property
    def in_client_channel(self) -> bool:
        """Said in a conversation with a client (WhatsApp through Digisac), not in the team's chat."""
        return self.author_side in CLIENT_CHANNEL_SIDES

    @property
    def judged(self) -> bool:
        """Bot messages, joins, topics and other non-human events are never judged."""
        return not self.is_bot and not self.system

    @property
    def automated(self) -> bool:
        """A post by a bot or an integration (an alert), not hygiene's own and not a join or topic change."""
        return self.is_bot and not self.ours and self.system in (None, BOT_POST)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def reacted_with(self, emoji: str) -> tuple[str, ...]:
        for name, users in self.reactions:
            if name == emoji:
                return users
        return ()


Status = Literal["open", "pending", "solved", "closed"]
Priority = Literal["urgent", "high", "normal", "low"]


class Ticket(BaseModel):
    """A helpdesk ticket in the normalized model of CONTRACTS.md."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    number: str | None = None
    subject: str
    client: str | None = None
    status: Status
    assignee: str | None = None
    assignee_email: str | None = None
    priority: Priority = "normal"
    category: str | None = None
    department: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    due_at: datetime | None = None
    url: str | None = None
    raw_status: str | None = None
    """The helpdesk's own status code (G Click ``P`` is a pre-task awaiting confirmation)."""

    @field_validator("id", "number", mode="before")
    @classmethod
    def _keys_are_strings(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator(
        "number",
        "client",
        "assignee",
        "assignee_email",
        "category",
        "department",
        "url",
        "created_at",
        "updated_at",
        "due_at",
        "raw_status",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("priority", mode="before")
    @classmethod
    def _default_priority(cls, value: object) -> object:
        return "normal" if value in (None, "") else value

    @property
    def is_active(self) -> bool:
        return self.status in ("open", "pending")

    @property
    def reference(self) -> str:
        """What people type in chat to name this ticket."""
        return self.number or self.id


@dataclass(frozen=True)
class SlaTerms:
    """The windows a ticket's SLA policy gives it, in business time."""

    first_response: timedelta
    update: timedelta
    policy: str
    """How the policy reads, for evidence: ``priority=normal`` …"""


@dataclass(frozen=True)
class Staleness:
    """How long a ticket has gone without an update by a person, against what its SLA allows."""

    age: float
    """Business hours since the last update by a person."""
    window: float
    """Business hours the SLA allows."""
    first_response: bool = False
    """The window is the first-response one: nobody has updated the ticket since it was opened."""
    policy: str = ""

    @property
    def stale(self) -> bool:
        return self.age > self.window


SAME_SUBJECT_TICKETS = "fitting_tickets"
"""Evidence key a rule that offers a ticket fills with the client's open tickets on the same subject."""


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one message, thread or ticket, with the evidence behind it."""

    rule: str
    name: str
    channel: str
    message_id: str
    user: str | None
    text: str
    score: float
    evidence: dict[str, Any]
    thread_id: str | None = None
    channel_name: str | None = None
    message: str = ""
    """The sentence the bot would say about it (separate from the rule's documentation)."""
    key: str = ""
    """What the finding is about when it is not a message (``ticket:4521:…``)."""
    source: str = LEGACY_SOURCE
    """The chat the message is in."""

    @property
    def fingerprint(self) -> str:
        """Stable identity: one finding per rule and message (or ticket episode), whatever the text becomes."""
        if self.key:
            raw = f"{self.rule}|{self.key}"
        elif self.source == LEGACY_SOURCE:
            raw = f"{self.rule}|{self.channel}|{self.message_id}"
        else:
            raw = f"{self.rule}|{self.source}|{self.channel}|{self.message_id}"
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]

    def as_record(self, action: str) -> dict[str, Any]:
        """The finding format of CONTRACTS.md."""
        return {
            "rule": self.rule,
            "name": self.name,
            "channel": self.channel_name or self.channel,
            "ts": self.message_id,
            "thread_ts": self.thread_id,
            "user": self.user,
            "text": self.text,
            "score": round(self.score, 2),
            "evidence": self.evidence,
            "action": action,
        }

    @property
    def tracked_elsewhere(self) -> bool:
        """An open ticket of the client names the same subject: ``auto`` offers, never a second ticket."""
        return bool(self.evidence.get(SAME_SUBJECT_TICKETS))


class ActionKind(StrEnum):
    THREAD_REPLY = "thread_reply"
    CHANNEL_POST = "channel_post"
    DM = "dm"
    EPHEMERAL = "ephemeral"
    REACTION = "reaction"
    CREATE_TICKET = "create_ticket"
    EDIT = "edit"


@dataclass(frozen=True)
class Action:
    """A side effect the outbox will carry out exactly once (at most once for ephemerals)."""

    kind: ActionKind
    key: str
    channel: str
    text: str = ""
    thread_id: str | None = None
    user: str | None = None
    emoji: str | None = None
    fingerprint: str | None = None
    rule: str | None = None
    document: str | None = None
    """A structured message as JSON (the daily report: see :mod:`hygiene.document`), which each
    chat lays out its own way; ``text`` is its plain-text fallback."""
    source: str = LEGACY_SOURCE
    """The chat that carries it out (a ticket to create: the chat whose thread it answers)."""
    buttons: tuple[str, ...] = ()
    """What people may do on the post (:class:`hygiene.ports.events.Intent` values), when the chat
    has buttons and ``hygiene serve`` listens; each chat draws them its own way."""
    target_id: str | None = None
    """The message an ``EDIT`` replaces (hygiene's own post)."""
    language: str | None = None
    """The language of ``text`` ("pt", "en"), for what a chat adds around it (button labels)."""


@dataclass(frozen=True)
class ChatEvent:
    """One line of chat history as an audit reads it: a message, an edit or a deletion.

    ``labels`` is the list of rule codes a person said should fire on this message (None when the
    message is not labeled); ``source`` names where it came from (``file:line``) for errors;
    ``seq`` is its position in the input (the file or export day file it is in, counted from 0
    across the whole input, and its line or index there), which orders an audit's output;
    ``at`` is when an edit or deletion happened (seconds since the epoch), when the input says.
    """

    kind: Literal["message", "changed", "deleted"]
    channel: str
    message_id: str
    message: ChatMessage | None = None
    labels: tuple[str, ...] | None = None
    source: str = ""
    seq: tuple[int, int] = (0, 0)
    at: float | None = None
