"""Rocket.Chat as a chat hygiene reads and writes: the :class:`~hygiene.ports.Chat` for Rocket.Chat.

Reading (the REST API of apps/meteor/app/api/server/v1/{channels,groups,chat}.ts):

* Rooms are the public channels (``channels.list.joined``) and private groups (``groups.list``) the
  bot user is in; ``channels.list`` (every public channel) only tells "not invited" from "unknown".
* A room's messages come from ``channels.history`` / ``groups.history``, newest first, from the
  read's start (``oldest`` with ``inclusive=true``: both bounds are exclusive otherwise,
  apps/meteor/app/lib/server/methods/getChannelHistory.ts). Pages are anchored on ``latest`` (the
  oldest ``ts`` received, inclusive, duplicates dropped) rather than on ``offset``, because a
  message deleted between two offset pages would shift the next page and hide one message, which
  would then read as deleted. Thread replies are left out (``showThreadMessages=false``; the groups
  endpoint shows them by default).
* Edits and deletions: each read re-reads the rescan window, like Slack's connector, instead of
  ``chat.syncMessages``: its ``lastUpdate`` mode is unbounded and unpaginated
  (apps/meteor/server/publications/messages.ts) and its cursor mode exists only from 7.1 on, while
  a re-read gives every live message of the covered range in one pass — what the engine needs to
  tell a deletion (a stored message not returned) from a quiet channel.
* A thread's replies come from ``chat.getThreadMessages`` (oldest first, replies only) when its
  root's ``tlm`` (newest reply's ``ts``) moved since the bookmark, or when hygiene answered in it.

Writing: ``chat.sendMessage`` with an ``_id`` derived from the outbox key (:func:`post_id`). The
server never inserts a second message with an ``_id`` it has (apps/meteor/app/lib/server/functions/
sendMessage.ts), and ``chat.getMessage`` with that id finds an earlier try, so a post is never
doubled. DMs open with ``im.create`` (``{"username"}``, apps/meteor/app/api/server/v1/im.ts);
reactions are ``chat.react`` with ``shouldReact: true`` (set, not toggle).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from connectors.chat.base import ChatConnector
from connectors.chat.rocketchat.client import RocketChatClient
from connectors.chat.rocketchat.messages import (
    ID_ALPHABET,
    MalformedMessage,
    iso,
    parse_time,
    post_id,
    to_chat_message,
)
from hygiene.document import BOLD, Document
from hygiene.errors import (
    AuthError,
    BudgetExhausted,
    ChannelGone,
    ConfigError,
    ExternalError,
    NotFound,
    PermanentError,
    TransientError,
)
from hygiene.mentions import replace_mentions
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import Capabilities, ChannelFetch, ChannelInfo, ReadWindow

log = structlog.get_logger("hygiene.rocketchat")

ROOM_ID = re.compile(rf"^(?:[{ID_ALPHABET}]{{17}}|[{ID_ALPHABET}]{{34}}|GENERAL)$")
"""A room id as Meteor makes them (17 characters; a DM's is its two members' ids), or ``GENERAL``."""
CAPABILITIES = Capabilities(
    threads=True, reactions=True, direct_messages=True, ephemeral=False, buttons=False, finds_own_posts=True
)
MAX_MESSAGE = 5000
"""``Message_MaxAllowedSize`` (apps/meteor/server/settings/message.ts): a longer ``msg`` is refused."""
HISTORY = {"c": "channels.history", "p": "groups.history"}
ROUTES = {"c": "channel", "p": "group"}


class RocketChat(ChatConnector[RocketChatClient]):
    """Rocket.Chat behind the chat port (reading and writing)."""

    capabilities = CAPABILITIES
    display_name = "Rocket.Chat"

    def __init__(
        self,
        api: RocketChatClient,
        *,
        source: str = "rocketchat",
        page_size: int = 100,
        users: Mapping[str, tuple[str, bool]] | None = None,
    ) -> None:
        self.api = api
        self.source = source
        self.page_size = page_size
        self.users: dict[str, tuple[str, bool]] = dict(users or {})
        self.new_users: dict[str, tuple[str, bool]] = {}
        self.usernames: dict[str, str] = {name: user_id for user_id, (name, _) in self.users.items()}
        # The X-User-Id hygiene signs in with is its own id: known before connect(), so the outbox
        # can look for an earlier post (delivery runs before a cycle reads any chat).
        self._bot_user_id = api.user_id
        self._rooms: list[dict[str, Any]] | None = None
        self._emails: dict[str, str] | None = None
        self._everyone: list[Any] | None = None

    # identity and rooms ----------------------------------------------------------------------
    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Who the bot is (``me``, which also proves the token), unless a cached identity is given."""
        if not identity:
            data = self.api.get("me")
            identity = {"user_id": str(data.get("_id") or self.api.user_id)}
        self._bot_user_id = identity["user_id"]
        return dict(identity)

    def _directory(self) -> list[dict[str, Any]]:
        """The rooms the bot is in (public channels and private groups), read once per cycle."""
        if self._rooms is None:
            rooms = list(self._list("channels.list.joined", "channels"))
            rooms += self._list("groups.list", "groups")
            self._rooms = [room for room in rooms if isinstance(room, dict) and room.get("_id")]
        return self._rooms

    def _list(self, endpoint: str, key: str) -> Iterator[Any]:
        """Every item of an offset-paginated list (``{<key>, count, offset, total}``,
        packages/rest-typings/src/helpers/PaginatedResult.ts)."""
        offset = 0
        while True:
            data = self.api.get(endpoint, count=100, offset=offset)
            items = data.get(key)
            if not isinstance(items, list):
                raise TransientError("rocketchat", f"{endpoint}: response has no '{key}' list (malformed body)")
            yield from items
            offset += len(items)
            total = data.get("total")
            if not items or not isinstance(total, int) or offset >= total:
                return

    def _room(self, name_or_id: str) -> dict[str, Any] | None:
        wanted = name_or_id.lstrip("#")
        return next((r for r in self._directory() if wanted in (r.get("_id"), r.get("name"))), None)

    def resolve_channels(
        self, wanted: Sequence[str], paths: Sequence[str] | None = None, *, need_member: bool = True
    ) -> list[ChannelInfo]:
        """Room names or ids to rooms the bot can read; unknown ones are config errors named by
        their key path in ``paths`` (default ``chat.channels[i]``). ``need_member=False`` also
        accepts a public channel the bot is not in (exempt channels, report channels)."""
        resolved: list[ChannelInfo] = []
        problems: list[str] = []
        for index, item in enumerate(wanted):
            path = paths[index] if paths else f"chat.channels[{index}]"
            room = self._room(item) or (None if need_member else self._public(item))
            if room is not None:
                resolved.append(ChannelInfo(id=str(room["_id"]), name=str(room.get("name") or room["_id"])))
            elif self._public(item) is not None:
                problems.append(f"{path}: the bot user is not in #{item} (add it to the room on Rocket.Chat)")
            else:
                problems.append(f'{path}: unknown channel {"id" if ROOM_ID.match(item) else "name"} "{item}"')
        if problems:
            raise ConfigError(problems)
        return resolved

    def _public(self, name_or_id: str) -> dict[str, Any] | None:
        """A public channel the bot is not in (``channels.list`` lists them all with ``view-c-room``)."""
        wanted = name_or_id.lstrip("#")
        if self._everyone is None:
            self._everyone = list(self._list("channels.list", "channels"))
        return next(
            (r for r in self._everyone if isinstance(r, dict) and wanted in (r.get("_id"), r.get("name"))), None
        )

    # reading -------------------------------------------------------------------------------
    def fetch(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> ChannelFetch:
        """Messages since the bookmark (at least the rescan window), and the replies of threads
        whose newest reply moved or where hygiene answered. A failure other than refused
        credentials ends the read and says so (the old bookmark is kept); an AuthError ends the cycle."""
        start = self._start(channel, state, window)
        result = ChannelFetch(channel=channel, covered_from=start)
        found: dict[str, ChatMessage] = {}
        try:
            kind = self._read_top_level(channel, state, start, found)
            result.threads_read = self._read_threads(channel, state, found)
        except AuthError:
            raise
        except (BudgetExhausted, ExternalError) as exc:
            result.complete, result.error = False, exc
            return result
        result.messages = list(found.values())
        result.state = self._bookmark(state, kind, start, result.messages)
        return result

    def _read_top_level(
        self, channel: ChannelInfo, state: Mapping[str, Any], start: datetime, found: dict[str, ChatMessage]
    ) -> str:
        """The room's top-level messages from ``start`` on, into ``found``; the room's type (``c``
        public, ``p`` private), from the bookmark or the directory, re-read if the room changed type."""
        kind = str(state.get("t") or self._room_type(channel))
        try:
            for raw in self._history(HISTORY.get(kind, "groups.history"), channel.id, start):
                self._keep(found, raw, channel)
        except ChannelGone:
            if not state.get("t") or self._room_type(channel) == kind:
                raise
            kind = self._room_type(channel)  # made private or public since the bookmark
            for raw in self._history(HISTORY.get(kind, "groups.history"), channel.id, start):
                self._keep(found, raw, channel)
        return kind

    def _read_threads(self, channel: ChannelInfo, state: Mapping[str, Any], found: dict[str, ChatMessage]) -> set[str]:
        """The replies of the threads that moved since the bookmark or where hygiene answered, into
        ``found``; the roots of the threads read."""
        seen: dict[str, str | None] = dict(state.get("threads") or {})
        answered = set(state.get("answered") or ())
        read: set[str] = set()
        for root in [m for m in found.values() if m.reply_count and m.latest_reply]:
            if root.id not in answered and seen.get(root.id) == _marker(root):
                continue
            for raw in self._thread(root.id):
                self._keep(found, raw, channel)
            read.add(root.id)
        return read

    def _room_type(self, channel: ChannelInfo) -> str:
        room = self._room(channel.id)
        if room is None:
            raise ChannelGone("rocketchat", f"#{channel.name} is gone, or the bot user is no longer in it")
        return str(room.get("t") or "c")

    def _keep(self, found: dict[str, ChatMessage], raw: Any, channel: ChannelInfo) -> None:
        try:
            message = to_chat_message(raw, channel, self, self._bot_user_id, self.source)
        except MalformedMessage as exc:
            log.warning("rocketchat.message_skipped", channel=channel.name, reason=str(exc))
            return
        found[message.id] = message

    def _start(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> datetime:
        """The rescan window or the bookmark, whichever is older, never before the backfill limit."""
        newest = parse_time(state.get("newest"))
        start = window.rescan_from
        if newest is not None:
            start = min(start, newest)
            if newest < window.backfill_from:
                log.warning("rocketchat.gap_skipped", channel=channel.name, since=window.backfill_from.isoformat())
        return max(start, window.backfill_from)

    def _bookmark(
        self, state: Mapping[str, Any], kind: str, start: datetime, messages: list[ChatMessage]
    ) -> dict[str, Any]:
        """The newest top-level ``ts``, the room's type, each thread's marker (see :func:`_marker`) and
        the threads hygiene answered in (from ``start`` on: older threads are out of every later read)."""
        tops = [m for m in messages if not m.is_reply]
        moments = [m.at for m in tops]
        previous = parse_time(state.get("newest"))
        if previous is not None:
            moments.append(previous)
        threads = {m.id: _marker(m) for m in tops if m.reply_count and m.latest_reply}
        answered = sorted({m.root_id for m in messages if m.ours and m.is_reply})
        newest = iso(max(moments)) if moments else iso(start)
        return {"newest": newest, "t": kind, "threads": threads, "answered": answered}

    def _history(self, endpoint: str, room_id: str, start: datetime) -> Iterator[Any]:
        """Top-level messages from ``start`` on (that moment included), newest first, page by page."""
        anchor: str | None = None
        offset, seen = 0, set[str]()
        while True:
            data = self.api.get(
                endpoint,
                roomId=room_id,
                oldest=iso(start),
                latest=anchor,
                inclusive=True,
                showThreadMessages=False,
                count=self.page_size,
                offset=offset or None,
            )
            page = data.get("messages")
            if not isinstance(page, list):
                raise TransientError("rocketchat", f"{endpoint}: response has no 'messages' list (malformed body)")
            fresh = [m for m in page if isinstance(m, dict) and isinstance(m.get("_id"), str) and m["_id"] not in seen]
            seen.update(str(m["_id"]) for m in fresh)
            yield from fresh
            if len(page) < self.page_size:
                return
            anchor, offset = self._next_anchor(page, fresh, anchor, offset)

    def _next_anchor(
        self, page: list[Any], fresh: list[Any], anchor: str | None, offset: int
    ) -> tuple[str | None, int]:
        """Page on from the oldest ``ts`` received; when a whole page shares the anchor's moment,
        step over it by ``offset`` instead."""
        if not fresh:
            return anchor, offset + self.page_size
        moments = [parse_time(m.get("ts")) for m in page if isinstance(m, dict)]
        oldest = min((m for m in moments if m is not None), default=None)
        if oldest is None:
            raise TransientError("rocketchat", "history: a page without readable 'ts' (malformed body)")
        return iso(oldest), 0

    def _thread(self, root_id: str) -> Iterator[Any]:
        """A thread's replies, oldest first (``chat.getThreadMessages``, offset pages)."""
        offset = 0
        while True:
            data = self.api.get("chat.getThreadMessages", tmid=root_id, count=self.page_size, offset=offset)
            page = data.get("messages")
            if not isinstance(page, list):
                raise TransientError("rocketchat", "chat.getThreadMessages: response has no 'messages' list")
            yield from page
            offset += len(page)
            total = data.get("total")
            if not page or not isinstance(total, int) or offset >= total:
                return

    # people --------------------------------------------------------------------------------
    def user(self, user_id: str) -> tuple[str, bool]:
        """(username, is a bot) of a user id, from the cache or ``users.info``; a failed lookup
        gives the id itself and is not cached."""
        if user_id in self.users:
            return self.users[user_id]
        try:
            data = self.api.get("users.info", userId=user_id)
        except (BudgetExhausted, ExternalError):
            return (user_id, False)
        return self._learn(data.get("user")) or (user_id, False)

    def user_id(self, username: str) -> str | None:
        """The user id of a username (a reaction names people by username), None when unknown."""
        if username in self.usernames:
            return self.usernames[username]
        try:
            data = self.api.get("users.info", username=username)
        except (BudgetExhausted, ExternalError):
            return None
        user = data.get("user")
        return str(user["_id"]) if self._learn(user) and isinstance(user, dict) else None

    def _learn(self, user: Any) -> tuple[str, bool] | None:
        """Remember a ``users.info`` user: a bot is ``type: "bot"`` or has the ``bot`` role
        (``roles`` is visible to admins only; packages/core-typings/src/IUser.ts)."""
        if not isinstance(user, dict) or not user.get("_id"):
            return None
        roles = user.get("roles")
        is_bot = user.get("type") == "bot" or (isinstance(roles, list) and "bot" in roles)
        entry = (str(user.get("username") or user["_id"]), is_bot)
        self.users[str(user["_id"])] = self.new_users[str(user["_id"])] = entry
        self.usernames[entry[0]] = str(user["_id"])
        return entry

    # writing -------------------------------------------------------------------------------
    def send(self, action: Action) -> str | None:
        """Carry out one action; the posted message's id when there is one."""
        if action.kind == ActionKind.REACTION:
            emoji = f":{(action.emoji or '').strip(':')}:"
            self.api.post("chat.react", {"messageId": action.thread_id, "emoji": emoji, "shouldReact": True})
            return None
        if action.kind == ActionKind.EPHEMERAL:
            raise PermanentError("rocketchat", "Rocket.Chat's REST API has no ephemeral messages")
        room = self._dm_room(action.user) if action.kind == ActionKind.DM else action.channel
        message = {"_id": post_id(action.key), "rid": room, "msg": self._text(action)}
        if action.kind == ActionKind.THREAD_REPLY and action.thread_id:
            message["tmid"] = action.thread_id
        try:
            data = self.api.post("chat.sendMessage", {"message": message})
        except PermanentError:
            if self._posted(message["_id"]):
                return message["_id"]  # a duplicate _id: this post is already there
            raise
        posted = data.get("message")
        return str(posted.get("_id")) if isinstance(posted, dict) and posted.get("_id") else message["_id"]

    def _text(self, action: Action) -> str:
        """The message's markdown: a document laid out in Rocket.Chat's (``*bold*``, native
        ``[label](url)`` links), cut to the server's size limit."""
        if not action.document:
            return self._mentions(action.text)[:MAX_MESSAGE]
        document = Document.from_json(action.document)
        lines = [f"*{document.title}*"]
        for section in document.sections:
            lines.extend(["", *[BOLD.sub(r"*\1*", line) for line in section.lines]])
        return "\n".join(lines)[:MAX_MESSAGE]

    def _mentions(self, text: str) -> str:
        """hygiene's mention notation (``<@id>``, ``<!subteam^id>``) as Rocket.Chat's ``@username``."""
        return replace_mentions(text, lambda user_id: "@" + self.user(user_id)[0], lambda group: "@" + group)

    def _posted(self, message_id: str) -> bool:
        """Whether the bot's message with this id exists (``chat.getMessage``; an unknown id is a
        400 ``{"success": false}``, apps/meteor/app/lib/server/methods/getSingleMessage.ts)."""
        try:
            data = self.api.get("chat.getMessage", msgId=message_id)
        except NotFound:
            return False
        message = data.get("message")
        author = message.get("u") if isinstance(message, dict) else None
        return isinstance(author, dict) and author.get("_id") == self._bot_user_id

    def find_posted(self, action: Action, since: datetime) -> str | None:
        """The id of the message an earlier try of ``action`` posted: its id is derived from the key,
        so one ``chat.getMessage`` answers, whatever ``since`` is."""
        if action.kind in (ActionKind.EPHEMERAL, ActionKind.REACTION):
            return None
        message_id = post_id(action.key)
        return message_id if self._posted(message_id) else None

    def _dm_room(self, user: str | None) -> str:
        """The DM room with a person: ``im.create`` takes ``{"username"}`` and answers
        ``{"room": IRoom & {"rid"}}``, the existing room or a new one whose id is the two user ids
        sorted and joined (packages/rest-typings dm endpoints; createDirectMessage.ts)."""
        if not user:
            raise PermanentError("rocketchat", "a direct message needs a user")
        username = self.users[user][0] if user in self.users else None
        if username is None:
            learned = self._learn(self.api.get("users.info", userId=user).get("user"))
            if learned is None:
                raise TransientError("rocketchat", "users.info: response has no user (malformed body)")
            username = learned[0]
        room = self.api.post("im.create", {"username": username}).get("room")
        if not isinstance(room, dict) or not (room.get("_id") or room.get("rid")):
            raise TransientError("rocketchat", "im.create: response has no room (malformed body)")
        return str(room.get("_id") or room.get("rid"))

    def user_by_email(self, email: str) -> str | None:
        """The user id of the person with this e-mail, None when nobody has it.

        Rocket.Chat has no lookup by e-mail: ``users.info`` takes an id or a username, and
        ``users.list``'s ``query`` parameter is ignored on current servers
        (apps/meteor/server/api/lib/parseJsonQuery.ts). So the user list is read once per cycle
        and matched here. It shows e-mails only to callers with ``view-full-other-user-info``
        (limitedUserFieldsToExclude, same file): grant the bot's role that permission, or this
        always answers None and owners are not found by e-mail.
        """
        if self._emails is None:
            emails: dict[str, str] = {}
            for user in self._list("users.list", "users"):
                addresses = user.get("emails") if isinstance(user, dict) else None
                for entry in addresses if isinstance(addresses, list) else []:
                    if isinstance(entry, dict) and isinstance(entry.get("address"), str):
                        emails[entry["address"].lower()] = str(user.get("_id"))
            self._emails = emails
        return self._emails.get(email.strip().lower())

    def channel_id(self, name_or_id: str) -> str | None:
        """A room's id from its name (or id), None when the bot is not in it."""
        name = name_or_id.lstrip("#")
        room = self._room(name)
        if room is not None:
            return str(room["_id"])
        return name if ROOM_ID.match(name) else None

    def permalink(self, channel: str, message_id: str) -> str | None:
        """The link Rocket.Chat's web client gives a message (apps/meteor/client/lib/getPermaLink.ts:
        the room's route, then ``?msg=<id>``): ``/channel/<name>`` for a public channel,
        ``/group/<name>`` for a private one, ``/direct/<room id>`` for a DM (the room types' routes,
        apps/meteor/client/lib/rooms/roomTypes). Built here without a call."""
        room = self._room(channel)
        route = ROUTES.get(str(room.get("t"))) if room else None
        where = f"{route}/{room.get('name')}" if room and route else f"direct/{channel}"
        return f"{self.api.base_url}/{where}?msg={message_id}"


def _marker(root: ChatMessage) -> str:
    """What says a thread moved: its newest reply's ``ts`` and its reply count, so a deleted reply
    (deleteMessage.ts lowers the root's ``tcount``) has the thread read again too."""
    return f"{root.latest_reply}|{root.reply_count}"
