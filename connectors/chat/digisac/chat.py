"""Digisac as a chat hygiene reads, and writes to only by internal comments.

Channels are services (connections); the thread is the conversation with one contact (its id);
see :mod:`connectors.chat.digisac.messages` for what each field rests on. A read lists the
service's messages by ``createdAt`` ascending from the older of the rescan window and the
bookmark (minus an overlap), de-duplicated by id: never by the WhatsApp ``timestamp``, since
history synced late is stored days after it was sent. The bookmark keeps the newest
``createdAt`` read, the ids stored at that instant, and the conversations seen.

The only write is ``POST /messages`` with ``type: "comment"`` (the Postman collection's
"Enviar comentário": an internal note the client does not get; research §6.2) and
``dontOpenTicket: true`` (so a note never opens a Digisac ticket: recorded on chat sends). Every
other action kind is refused: hygiene never writes to clients. A comment ends with a marker line
(the outbox key), which is how a comment of unknown outcome is found again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from connectors.chat.base import ChatConnector
from connectors.chat.digisac.client import SYSTEM, DigisacClient, envelope
from connectors.chat.digisac.contacts import (
    CONTACTS_QUERY,
    Contact,
    DigisacTicket,
    client_label,
    to_contact,
    to_ticket,
)
from connectors.chat.digisac.messages import (
    MalformedMessage,
    Names,
    contact_name,
    is_comment,
    marker,
    parse_time,
    to_chat_message,
)
from hygiene.errors import (
    AuthError,
    BudgetExhausted,
    ChannelGone,
    ConfigError,
    ExternalError,
    OutcomeUnknown,
    PermanentError,
)
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import Capabilities, ChannelFetch, ChannelInfo, ReadWindow

log = structlog.get_logger("hygiene.digisac")

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CAPABILITIES = Capabilities(
    threads=True,
    reactions=False,
    direct_messages=False,
    ephemeral=False,
    buttons=False,
    internal_notes_only=True,
    finds_own_posts=True,
)
CONTACT_FIELDS = ["id", "name", "alternativeName", "internalName"]
NEVER_TO_CLIENTS = "Digisac: hygiene never writes to clients"


def iso(moment: datetime) -> str:
    """Digisac's timestamp form (UTC, milliseconds, ``Z``), which sorts as text the way it sorts in time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class DigisacChat(ChatConnector[DigisacClient]):
    """Digisac behind the chat port: a source, and a sink whose only write is an internal comment."""

    capabilities = CAPABILITIES
    display_name = "Digisac"

    def __init__(
        self,
        api: DigisacClient,
        *,
        source: str = "digisac",
        page_size: int = 100,
        overlap: timedelta = timedelta(minutes=2),
        users: Mapping[str, tuple[str, bool]] | None = None,
        client_from: Sequence[str] = ("organization", "name"),
        contact_clients: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.source = source
        self.page_size = page_size
        self.overlap = overlap
        self.users: dict[str, tuple[str, bool]] = dict(users or {})
        self.new_users: dict[str, tuple[str, bool]] = {}
        self._bot_user_id = ""
        self._services: list[dict[str, Any]] | None = None
        self._agents: list[dict[str, Any]] | None = None
        self._departments: dict[str, str] | None = None
        self.client_from = tuple(client_from)
        self.contact_clients = dict(contact_clients or {})
        self._clients: dict[str, str] | None = None

    # identity and channels -------------------------------------------------------------------
    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Who the token belongs to (``GET /me``: ``id``), unless a cached identity is given."""
        if not identity:
            data = self.api.get("me", "/me")
            user = str(data.get("id", "")) if isinstance(data, dict) else ""
            if not user:
                raise AuthError(SYSTEM, f"GET /me: no user id in the answer; check the token in {self.api.token_path}")
            identity = {"user_id": user}
        self._bot_user_id = identity["user_id"]
        return dict(identity)

    def _directory(self) -> list[dict[str, Any]]:
        """Every service, archived ones included (``GET /services``), read once per cycle."""
        if self._services is None:
            query = {"order": [["name", "ASC"]]}
            self._services = [row for page in self.api.pages("services.list", "/services", query, 100) for row in page]
        return self._services

    def resolve_channels(
        self, wanted: Sequence[str], paths: Sequence[str] | None = None, *, need_member: bool = True
    ) -> list[ChannelInfo]:
        """Service names or ids to channels; unknown ones (and archived ones, when hygiene must read
        them) are config errors named by their key path."""
        resolved: list[ChannelInfo] = []
        problems: list[str] = []
        for index, item in enumerate(wanted):
            path = paths[index] if paths else f"chat.channels[{index}]"
            found = self._service(item)
            if found is None:
                problems.append(f'{path}: unknown Digisac service "{item}" (a connection\'s name or id)')
            elif need_member and _archived(found):
                problems.append(f'{path}: the Digisac service "{found.get("name")}" is archived')
            else:
                resolved.append(ChannelInfo(id=str(found["id"]), name=str(found.get("name") or found["id"])))
        if problems:
            raise ConfigError(problems)
        return resolved

    def _service(self, name_or_id: str) -> dict[str, Any] | None:
        key = name_or_id.lstrip("#")
        field = "id" if UUID.match(key) else "name"
        return next((s for s in self._directory() if s.get(field) == key), None)

    def channel_id(self, name_or_id: str) -> str | None:
        found = self._service(name_or_id)
        return str(found["id"]) if found else None

    # reading -------------------------------------------------------------------------------
    def fetch(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> ChannelFetch:
        """The service's messages stored from the bookmark (at least the rescan window) on.

        An archived or vanished service is :class:`ChannelGone`; another failure (but refused
        credentials, which end the cycle) ends the read as incomplete, keeping the old bookmark.
        """
        start = self._start(channel, state, window)
        result = ChannelFetch(channel=channel, covered_from=start)
        try:
            self._check_service(channel)
            names = self._names()
            seen: dict[str, ChatMessage] = {}
            for page in self._messages({"serviceId": channel.id}, start):
                for message in self._normalize(page, channel, names):
                    seen[message.id] = message
        except AuthError:
            raise
        except (BudgetExhausted, ExternalError) as exc:
            result.complete, result.error = False, exc
            return result
        result.messages = sorted(seen.values(), key=lambda m: (m.at, m.id))
        result.state = self._bookmark(state, start, result.messages, window)
        result.threads_read = set(result.state["contacts"])
        return result

    def _start(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> datetime:
        start = window.rescan_from
        newest = parse_time(state.get("newest"))
        if newest is not None:
            start = min(start, newest - self.overlap)
            if newest < window.backfill_from:
                log.warning("digisac.gap_skipped", channel=channel.name, since=window.backfill_from.isoformat())
        return max(start, window.backfill_from)

    def _bookmark(
        self, state: Mapping[str, Any], start: datetime, messages: list[ChatMessage], window: ReadWindow
    ) -> dict[str, Any]:
        """The newest ``createdAt`` read, the ids at that instant, and each conversation's newest message."""
        contacts = {
            contact: moment
            for contact, moment in dict(state.get("contacts") or {}).items()
            if (parse_time(moment) or start) >= window.backfill_from
        }
        for message in messages:
            contacts[str(message.thread_id)] = max(contacts.get(str(message.thread_id), ""), iso(message.at))
        previous = parse_time(state.get("newest"))
        newest = max((m.at for m in messages), default=None)
        if newest is None or (previous is not None and previous > newest):
            return {"newest": iso(previous or start), "ids": list(state.get("ids") or []), "contacts": contacts}
        ids = sorted(m.id for m in messages if m.at == newest)
        return {"newest": iso(newest), "ids": ids, "contacts": contacts}

    def _check_service(self, channel: ChannelInfo) -> None:
        found = next((s for s in self._directory() if s.get("id") == channel.id), None)
        if found is None or _archived(found):
            raise ChannelGone(SYSTEM, f'the service "{channel.name}" was {"archived" if found else "removed"}')

    def _messages(self, where: Mapping[str, Any], since: datetime) -> Iterator[list[dict[str, Any]]]:
        """Messages stored from ``since`` on, oldest first, each once.

        Paged by key, not by offset: each request asks for ``createdAt >= `` the last one read
        (ties ordered by id), so a message deleted or stored while hygiene pages shifts no row
        out of the read; rows already read are dropped. When a whole page shares one instant, the
        next page of that instant is asked for instead.
        """
        cursor, last, page = iso(since), ("", ""), 1
        while True:
            query = {
                "where": {**where, "createdAt": {"$gte": cursor}},
                "order": [["createdAt", "ASC"], ["id", "ASC"]],
                "include": [{"model": "contact", "attributes": CONTACT_FIELDS}],
                "page": page,
                "perPage": self.page_size,
            }
            rows, current, final = envelope(self.api.get("messages.list", "/messages", query), "GET /messages")
            fresh = [row for row in rows if _position(row) > last]
            yield fresh
            if current >= final or len(rows) < self.page_size:
                return
            if fresh:
                cursor, last, page = str(fresh[-1].get("createdAt")), _position(fresh[-1]), 1
            else:
                page += 1

    def _normalize(self, page: list[dict[str, Any]], channel: ChannelInfo, names: Names) -> Iterator[ChatMessage]:
        for raw in page:
            contact = raw.get("contact")
            if isinstance(contact, dict) and isinstance(contact.get("id"), str):
                self._learn(contact["id"], contact_name(contact), False)
            try:
                message = to_chat_message(raw, channel, self._with_contacts(names), self.source)
            except MalformedMessage as exc:
                log.warning("digisac.message_skipped", channel=channel.name, reason=str(exc))
                continue
            if message.user and message.user_name and message.extras.get("side") != "client":
                self._learn(message.user, message.user_name, message.user == self._bot_user_id)
            yield message

    def _with_contacts(self, names: Names) -> Names:
        contacts = {key: value[0] for key, value in self.users.items()}
        return Names(names.me, names.agents, contacts, names.departments, names.clients)

    def _names(self) -> Names:
        agents = {str(u["id"]): str(u.get("name") or u["id"]) for u in self._users() if isinstance(u.get("id"), str)}
        return Names(self._bot_user_id, agents, {}, self._department_names(), self._client_labels())

    def _client_labels(self) -> dict[str, str]:
        """Contact id → its client's label by the mapping, read once per cycle; none when the contacts
        list fails (the rules then match the contact's name and the text, as before)."""
        if self._clients is None:
            try:
                contacts = self.contacts()
            except (BudgetExhausted, ExternalError) as exc:
                log.warning("digisac.contacts_unread", reason=str(exc))
                contacts = []
            self._clients = {c.id: label for c in contacts if (label := self.client_label(c))}
        return self._clients

    def client_label(self, contact: Contact) -> str | None:
        """The contact's client label by this chat's ``client_from`` and explicit contacts."""
        return client_label(contact, self.client_from, self.contact_clients)

    def unmapped_contacts(self, find_client: Callable[[str], str | None]) -> list[str]:
        """The contacts (shown by first name and the number's last two digits) whose client neither
        the mapping nor the contact's name gives, as ``find_client`` (the client matcher) judges:
        the ones someone should map in ``[chat.contacts]``, sorted by how they are shown."""
        unmapped: list[str] = []
        for contact in self.contacts():
            label = self.client_label(contact)
            if not any(find_client(text) for text in (label, contact.name) if text):
                unmapped.append(contact.shown())
        return sorted(unmapped, key=str.casefold)

    def _department_names(self) -> dict[str, str]:
        """Department id → name, read once per cycle; ids stand for names when the list fails."""
        if self._departments is None:
            try:
                self._departments = self.departments()
            except (BudgetExhausted, ExternalError) as exc:
                log.warning("digisac.departments_unread", reason=str(exc))
                self._departments = {}
        return self._departments

    def _learn(self, user: str, name: str, is_bot: bool) -> None:
        if self.users.get(user) != (name, is_bot):
            self.users[user] = self.new_users[user] = (name, is_bot)

    def _users(self) -> list[dict[str, Any]]:
        """Every Digisac user (agents), read once per cycle (``GET /users``)."""
        if self._agents is None:
            query = {"order": [["name", "ASC"]]}
            self._agents = [row for page in self.api.pages("users.list", "/users", query, 100) for row in page]
        return self._agents

    # what rules and the mapping to clients may read ---------------------------------------------
    def contacts(self) -> list[Contact]:
        """Every visible contact with its tags, custom fields and person (for contact → client)."""
        rows = self.api.pages("contacts.list", "/contacts", CONTACTS_QUERY, self.page_size)
        return [contact for page in rows for raw in page if (contact := to_contact(raw))]

    def tickets(self, *, open_only: bool = True) -> list[DigisacTicket]:
        """Digisac's own conversation tickets (open ones by default): department and agent."""
        query: dict[str, Any] = {"order": [["updatedAt", "ASC"], ["id", "ASC"]]}
        if open_only:
            query["where"] = {"isOpen": True}
        rows = self.api.pages("tickets.list", "/tickets", query, self.page_size)
        return [ticket for page in rows for raw in page if (ticket := to_ticket(raw))]

    def departments(self) -> dict[str, str]:
        """Department id → name, archived ones left out."""
        query = {"attributes": ["id", "name", "archivedAt"]}
        rows = [row for page in self.api.pages("departments.list", "/departments", query, 100) for row in page]
        return {str(d["id"]): str(d.get("name") or d["id"]) for d in rows if d.get("id") and not d.get("archivedAt")}

    # writing -------------------------------------------------------------------------------
    def send(self, action: Action) -> str | None:
        """An internal comment on the conversation ``action.thread_id`` (a contact): the only write."""
        contact = self._comment_target(action)
        body = {
            "type": "comment",
            "contactId": contact,
            "text": f"{action.text}\n{marker(action.key)}",
            "userId": self._bot_user_id or None,
            "origin": "bot",
            "dontOpenTicket": True,
        }
        data = self.api.post("messages.comment", "/messages", {k: v for k, v in body.items() if v is not None})
        posted = data.get("id") if isinstance(data, dict) else None
        if not isinstance(posted, str) or not posted:
            raise OutcomeUnknown(SYSTEM, "POST /messages: the answer names no message; the comment may exist")
        return posted

    def _comment_target(self, action: Action) -> str:
        if action.kind != ActionKind.THREAD_REPLY:
            raise PermanentError(
                SYSTEM,
                f"{NEVER_TO_CLIENTS}: a {action.kind.value} would reach a client; "
                "its only write is an internal comment on a conversation",
            )
        if not action.thread_id or not UUID.match(action.thread_id):
            raise PermanentError(SYSTEM, f"a comment needs a conversation (a contact id), not {action.thread_id!r}")
        return action.thread_id

    def find_posted(self, action: Action, since: datetime) -> str | None:
        """The id of a comment an earlier try of ``action`` left, found by its marker (a read)."""
        if action.kind != ActionKind.THREAD_REPLY or not action.thread_id:
            return None
        wanted = marker(action.key)
        for page in self._messages({"contactId": action.thread_id}, since):
            for raw in page:
                text = raw.get("text")
                if is_comment(raw) and isinstance(text, str) and text.rstrip().endswith(wanted):
                    return str(raw.get("id"))
        return None

    def user_by_email(self, email: str) -> str | None:
        """The Digisac user (agent) with this e-mail, compared case-insensitively over the users
        list (``GET /users``; a client contact has no e-mail field, so none is found among them)."""
        wanted = email.strip().casefold()
        for user in self._users():
            if isinstance(user.get("email"), str) and user["email"].strip().casefold() == wanted:
                return str(user.get("id"))
        return None

    def permalink(self, channel: str, message_id: str) -> None:
        """None: Digisac documents no link that opens one conversation or message in its web app."""
        return None


def _position(row: Mapping[str, Any]) -> tuple[str, str]:
    """Where a row sorts: its ``createdAt`` (ISO text sorts as time) then its id."""
    return (str(row.get("createdAt") or ""), str(row.get("id") or ""))


def _archived(service: Mapping[str, Any]) -> bool:
    """Archived services: ``archivedAt`` set (2022 recording) or ``isArchived`` (2021 recording)."""
    return bool(service.get("archivedAt")) or service.get("isArchived") is True
