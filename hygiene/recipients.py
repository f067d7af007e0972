"""Who hears about a ticket in chat: its owner by DM, else the department's channel, else the report channel.

Owners are found through ``[people] chat_ids`` (by helpdesk name or e-mail), then by e-mail
through the chat (answers, including "nobody", are remembered in the store).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hygiene.config import Config
from hygiene.errors import BudgetExhausted, ExternalError
from hygiene.models import ActionKind, Ticket
from hygiene.ports import Chat
from hygiene.store import Store
from hygiene.text import fold


@dataclass(frozen=True)
class Recipient:
    kind: ActionKind
    channel: str
    user: str | None
    described: str
    source: str
    """The chat the message goes through."""


class Recipients:
    def __init__(self, config: Config, store: Store, chat: Chat) -> None:
        self.config = config
        self.store = store
        self.chat = chat
        self._people = {fold(k): v for k, v in config.people.chat_ids.items()}
        self._departments = {fold(k): v for k, v in config.report.department_channels.items()}

    @property
    def reachable(self) -> bool:
        """Whether the chat can tell people anything: a client-facing chat (the only one configured)
        takes nothing but notes in a client's conversation, so findings stay in the report."""
        return not self.chat.capabilities.internal_notes_only

    def for_ticket(self, ticket: Ticket, now: datetime, *, owner_first: bool = True) -> Recipient | None:
        if not self.reachable:
            return None
        if owner_first:
            user = self._owner(ticket, now)
            if user:
                return Recipient(ActionKind.DM, "", user, f"DM to {ticket.assignee or user}", self.chat.source)
        return self.for_department(ticket.department)

    def for_department(self, department: str | None) -> Recipient | None:
        """The department's channel (``[report] department_channels``), else the report channel: where
        the team hears about a client's conversation (never the client-facing chat itself)."""
        return self.in_channel(self._departments.get(fold(department or "")), self.config.report.channel)

    def in_channel(self, *names: str | None) -> Recipient | None:
        """A post in the first of the named channels the people chat knows, or None."""
        if not self.reachable:
            return None
        for name in names:
            if name and (channel := self._channel(name)):
                return Recipient(ActionKind.CHANNEL_POST, channel, None, f"#{name.lstrip('#')}", self.chat.source)
        return None

    def _owner(self, ticket: Ticket, now: datetime) -> str | None:
        for key in (ticket.assignee_email, ticket.assignee):
            if key and fold(key) in self._people:
                return self._people[fold(key)]
        email = ticket.assignee_email
        if not email or not self.config.people.lookup_by_email:
            return None
        source = self.chat.source
        if self.store.people.knows_email(source, email):
            return self.store.people.chat_id_for_email(source, email) or None
        try:
            user = self.chat.user_by_email(email)
        except (BudgetExhausted, ExternalError):
            return None
        self.store.people.remember_email(source, email, user, now)
        return user

    def _channel(self, name: str) -> str | None:
        try:
            return self.chat.channel_id(name)
        except (BudgetExhausted, ExternalError):
            return None
