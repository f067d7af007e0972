"""Rocket.Chat message objects (``IMessage``) to :class:`~hygiene.models.ChatMessage`.

The fields read (packages/core-typings/src/IMessage/IMessage.ts): ``_id``; ``ts`` (an ISO-8601
string over REST: packages/http-router/src/Router.ts serialises with ``JSON.stringify``); ``msg``
(markdown); ``u {_id, username, name}``; ``t``, set only on system messages (joins, topic changes,
``rm`` for a removed message) and never judged; ``tmid``, the thread root of a reply; ``tcount``
and ``tlm`` on a root (reply count and the newest reply's ``ts``); ``editedAt``; ``reactions``
``{":emoji:": {"usernames": [...]}}``; ``mentions [{_id, username}]`` (``all``/``here`` are not
people); ``bot``, set on messages integrations post (apps/meteor/app/integrations/server/lib/
triggerHandler.ts).

Threads read as on Slack: a reply's ``thread_id`` is its root's id, a root with replies has its own
id as ``thread_id``, a message outside any thread has None. Reactions name the emoji without colons
and the people by user id (Rocket.Chat sends usernames; they are looked up). hygiene's own posts
are the bot user's messages whose ``_id`` hygiene chose (:func:`post_id`): ``chat.sendMessage``
accepts a client ``_id`` (apps/meteor/app/api/server/v1/chat.ts), which is how a post is found
again by its outbox key. A ``customFields`` marker would not do: the server refuses custom fields
("Custom fields not enabled") unless an admin enabled them and gave their schema
(apps/meteor/app/lib/server/lib/validateCustomMessageFields.ts). Text is cut to hygiene's cap
and tokens pasted into chat are masked.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Protocol

from connectors.chat.fields import count as _count
from connectors.chat.fields import iso_time
from connectors.chat.fields import mapping as _dict
from connectors.chat.fields import scalar as _str
from connectors.chat.rocketchat.markup import render
from hygiene.errors import ExternalError
from hygiene.logs import mask_tokens
from hygiene.models import ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.text import clip

ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
"""Meteor's ``Random.id`` alphabet (17 characters make an id): hygiene's ids look like any other."""
OWN_PREFIX = "hy"
NOT_PEOPLE = frozenset({"all", "here"})


class People(Protocol):
    """Who is who: the connector's cached user lookups."""

    def user(self, user_id: str) -> tuple[str, bool]:
        """user id → (username, is a bot)."""
        ...

    def user_id(self, username: str) -> str | None:
        """username → user id (None when nobody has it)."""
        ...


class MalformedMessage(ExternalError):
    """A message object hygiene cannot read (no ``_id`` or ``ts``): skipped by readers."""

    def __init__(self, message: str) -> None:
        super().__init__("rocketchat", f"malformed message: {message}")


def post_id(key: str) -> str:
    """The 17-character message ``_id`` hygiene gives the post of an outbox key: the same key always
    gives the same id, so a resent post is never a second message."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")
    chars = []
    for _ in range(17 - len(OWN_PREFIX)):
        number, index = divmod(number, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[index])
    return OWN_PREFIX + "".join(chars)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 date as Rocket.Chat's REST API sends it (``2026-11-18T12:50:51.555Z``), or an
    EJSON ``{"$date": ms}``; None for anything else."""
    if isinstance(value, dict) and isinstance(value.get("$date"), int | float):
        try:
            return datetime.fromtimestamp(value["$date"] / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            return None
    moment = iso_time(value)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """A moment as Rocket.Chat's date parameters take it (UTC, milliseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_chat_message(
    raw: Any, channel: ChannelInfo, people: People, bot_user_id: str = "", source: str = "rocketchat"
) -> ChatMessage:
    if not isinstance(raw, dict):
        raise MalformedMessage(f"expected an object, got {type(raw).__name__}")
    message_id = _str(raw.get("_id"))
    at = parse_time(raw.get("ts"))
    if not message_id or at is None:
        raise MalformedMessage("no '_id' or no readable 'ts'")
    author = _dict(raw.get("u"))
    user = _str(author.get("_id"))
    name, bot = people.user(user) if user else (None, False)
    text = mask_tokens(clip(raw["msg"] if isinstance(raw.get("msg"), str) else ""))
    reply_count = _count(raw.get("tcount"))
    own = bool(user) and user == bot_user_id
    return ChatMessage(
        channel=channel.id,
        channel_name=channel.name,
        id=message_id,
        at=at,
        source=source,
        thread_id=_str(raw.get("tmid")) or (message_id if reply_count else None),
        user=user,
        user_name=_str(author.get("username")) or name,
        text=text,
        plain=render(text),
        system=_str(raw.get("t")),
        is_bot=bool(raw.get("bot")) or own or bot,
        edited_at=parse_time(raw.get("editedAt")),
        reply_count=reply_count,
        latest_reply=_str(raw.get("tlm")) if reply_count else None,
        reactions=_reactions(raw.get("reactions"), people),
        ours=own and message_id.startswith(OWN_PREFIX) and len(message_id) == 17,
        mentions=_mentions(raw.get("mentions")),
    )


def _mentions(value: Any) -> tuple[str, ...]:
    """The ids of the people mentioned, first mention first (``@all``/``@here`` and teams left out)."""
    if not isinstance(value, list):
        return ()
    ids = (_str(item.get("_id")) for item in value if isinstance(item, dict) and item.get("type", "user") == "user")
    return tuple(dict.fromkeys(i for i in ids if i and i not in NOT_PEOPLE))


def _reactions(value: Any, people: People) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{":eyes:": {"usernames": [...]}}`` as ``(("eyes", (user ids…)),)``; a username nobody has
    any more is kept as it is."""
    found = []
    for emoji, entry in _dict(value).items():
        name = emoji.strip(":") if isinstance(emoji, str) else ""
        usernames = _dict(entry).get("usernames")
        if not name or not isinstance(usernames, list):
            continue
        users = tuple(people.user_id(u) or u for u in usernames if isinstance(u, str) and u)
        found.append((name, users))
    return tuple(found)
