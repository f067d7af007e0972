"""The push port: a chat that tells hygiene what happens as it happens (``hygiene serve``).

A platform that can push (Slack's Socket Mode) states ``Capabilities.push`` and its kind builds a
:class:`ChatEvents`. The connector acknowledges each delivery to its platform itself, at once, and
hands the core one neutral :class:`PushEvent` per thing that happened: a message posted, changed
or deleted, a reaction added, or a person's interaction with a nudge (a button, a shortcut, a
form). Nothing here is platform-shaped: a button is an :class:`Intent`, never a Block Kit action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hygiene.models import ChatMessage


class EventKind(StrEnum):
    MESSAGE = "message"
    CHANGED = "changed"
    DELETED = "deleted"
    REACTION = "reaction"
    INTERACTION = "interaction"


class Intent(StrEnum):
    """What a person asked for by acting on a nudge or a message (a button, a shortcut, a form)."""

    CREATE_TICKET = "create_ticket"
    NOT_A_REQUEST = "not_a_request"
    ALREADY_IN = "already_in"
    ASK_OWNER = "ask_owner"
    SHORTCUT_TICKET = "shortcut_ticket"


BUTTONS_FOR_REQUESTS = (Intent.CREATE_TICKET, Intent.NOT_A_REQUEST, Intent.ALREADY_IN)
"""The buttons a request nudge (HY101) carries when the chat has buttons and someone listens."""
OPEN_TICKET_LINK = "open_ticket"
"""A button that only opens the ticket linked in the post's text (no interaction comes back)."""
BUTTONS_FOR_STATUS: tuple[str, ...] = (OPEN_TICKET_LINK, Intent.ASK_OWNER)
"""The buttons a status answer (HY102) carries: the ticket's link, and asking its owner for an update."""


@dataclass(frozen=True)
class PushEvent:
    """One thing that happened in a chat, as the connector understood it.

    ``message_id`` is the message concerned: the one posted, changed, deleted or reacted to; for an
    interaction, the nudge the button was on (or the message a shortcut was used on).
    ``fingerprint`` names the finding a button acts on; ``ticket_ref`` is what a person typed in a
    form ("Already in #N"). ``received`` is when the connector got it (monotonic seconds), so the
    time to a nudge can be measured; ``delivery`` is the platform's id of the delivery (audit).
    """

    kind: EventKind
    source: str
    channel: str
    message_id: str
    received: float
    message: ChatMessage | None = None
    user: str | None = None
    emoji: str | None = None
    intent: Intent | None = None
    fingerprint: str | None = None
    ticket_ref: str | None = None
    thread_id: str | None = None
    delivery: str = ""
    extras: dict[str, str] = field(default_factory=dict, compare=False)
    """Platform data handed back unread to the connector (a form's trigger)."""


EventSink = Callable[[PushEvent], None]
"""Where a connector hands its events: it must return at once (the core only queues them)."""


class ChatEvents(Protocol):
    """A chat's push connection: started once, it calls ``sink`` for every event until stopped.

    It reconnects by itself (with backoff) and honours the platform's requests to reconnect; what
    is lost while disconnected is read by the polling cycle's rescan.
    """

    source: str

    def start(self, sink: EventSink) -> None:
        """Open the connection and deliver events to ``sink`` from the connector's own threads."""
        ...

    def stop(self) -> None:
        """Close the connection; no event is delivered after this returns."""
        ...

    def connected(self) -> bool:
        """Whether the connection is up now (health)."""
        ...

    def connections(self) -> int:
        """How many connections were opened so far (a reconnect counts)."""
        ...

    def is_member(self, channel: str, user: str) -> bool:
        """Whether ``user`` is in ``channel`` (only they may act on its nudges)."""
        ...

    def ask_ticket_number(self, event: PushEvent, language: str) -> None:
        """Ask the person who pressed "Already in #N" for the number (a form); the answer comes
        back as an interaction with ``ticket_ref``."""
        ...

    def new_cycle(self) -> None:
        """A new period of the chat's per-cycle call budgets begins (serve runs for days)."""
        ...
