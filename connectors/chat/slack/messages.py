"""Slack message objects (Web API or export) to :class:`~hygiene.models.ChatMessage`.

Any JSON may arrive where a message object is expected: fields of the wrong type are read as
absent, and an object without a usable ``ts`` raises :class:`MalformedMessage`. Text is cut to
Slack's own cap (40,000 characters) here, where messages enter, so every rule sees the cap, and
tokens someone pasted into chat are masked before the text is stored, judged or quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.chat.fields import count as _count
from connectors.chat.fields import mapping as _dict
from connectors.chat.fields import scalar as _str
from connectors.chat.slack.markup import render
from hygiene.errors import ExternalError
from hygiene.logs import mask_tokens
from hygiene.models import ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.text import clip

METADATA_EVENT = "hygiene_action"
"""The metadata event type hygiene puts on its own posts (how they are told apart)."""
HUMAN_SUBTYPES = frozenset({"thread_broadcast", "file_share"})
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
"""Subtypes of messages a person wrote; every other subtype is a system event (join, topic …)."""

UserLookup = Callable[[str], tuple[str, bool]]
"""user id → (display name, is a bot)."""


class MalformedMessage(ExternalError):
    """A message object hygiene cannot read (no ts, not an object): skipped by readers."""

    def __init__(self, message: str) -> None:
        super().__init__("slack", f"malformed message: {message}")


def to_slack_ts(moment: datetime, seq: int = 0) -> str:
    """Slack's message timestamp for a moment: seconds with a 6-digit sequence part."""
    return f"{int(moment.timestamp())}.{seq:06d}"


def from_slack_ts(ts: str) -> datetime:
    """The moment a Slack ts stands for (its seconds since the epoch, in UTC)."""
    return datetime.fromtimestamp(float(ts), UTC)


def oldest_param(moment: datetime) -> str:
    """A moment as the ``oldest`` parameter of Slack's history and replies methods."""
    return f"{moment.timestamp():.6f}"


def to_chat_message(
    raw: dict[str, Any], channel: ChannelInfo, user_of: UserLookup, bot_user_id: str = "", source: str = "slack"
) -> ChatMessage:
    if not isinstance(raw, dict):
        raise MalformedMessage(f"expected an object, got {type(raw).__name__}")
    ts = _str(raw.get("ts"))
    if not ts:
        raise MalformedMessage("no 'ts'")
    try:
        at = from_slack_ts(ts)
    except (ValueError, OverflowError, OSError):
        raise MalformedMessage(f"'ts' {ts!r} is not a Slack timestamp") from None
    user = _str(raw.get("user"))
    # Most optional keys are absent from most messages: an absent key is None without its field reader.
    subtype = None if (value := raw.get("subtype")) is None else _str(value)
    profile = _dict(raw.get("user_profile"))
    is_bot = bool(
        raw.get("bot_id") or subtype == "bot_message" or (user and user == bot_user_id) or (user and user_of(user)[1])
    )
    if user and _str(profile.get("name")):
        name = _str(profile.get("display_name")) or _str(profile.get("name"))
    elif user:
        name = user_of(user)[0]
    else:
        name = _str(raw.get("username"))
    text = mask_tokens(clip(raw["text"] if isinstance(raw.get("text"), str) else ""))
    return ChatMessage(
        channel=channel.id,
        channel_name=channel.name,
        id=ts,
        at=at,
        source=source,
        thread_id=None if (thread_ts := raw.get("thread_ts")) is None else _str(thread_ts),
        user=user,
        user_name=name,
        text=text,
        plain=render(text, lambda user_id: user_of(user_id)[0]),
        system=subtype if subtype not in HUMAN_SUBTYPES else None,
        is_bot=is_bot,
        edited_at=_moment(edited.get("ts")) if isinstance(edited := raw.get("edited"), dict) else None,
        reply_count=_count(raw.get("reply_count")),
        latest_reply=None if (latest := raw.get("latest_reply")) is None else _str(latest),
        reactions=() if (reactions := raw.get("reactions")) is None else _reactions(reactions),
        ours=isinstance(metadata := raw.get("metadata"), dict) and _str(metadata.get("event_type")) == METADATA_EVENT,
        mentions=mentioned(text),
    )


def mentioned(text: str) -> tuple[str, ...]:
    """The user ids a message's markup mentions (``<@U123>``, ``<@U123|name>``), first mention first."""
    return tuple(dict.fromkeys(MENTION.findall(text))) if "<@" in text else ()


def _moment(value: Any) -> datetime | None:
    text = _str(value)
    try:
        return from_slack_ts(text) if text else None
    except (ValueError, OverflowError, OSError):
        return None


def _reactions(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, list):
        return ()
    found = []
    for reaction in value:
        if isinstance(reaction, dict) and _str(reaction.get("name")):
            users = reaction["users"] if isinstance(reaction.get("users"), list) else []
            found.append((str(reaction["name"]), tuple(u for u in users if isinstance(u, str))))
    return tuple(found)
