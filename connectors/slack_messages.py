"""Slack message objects (Web API or export) to :class:`~hygiene.models.ChatMessage`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hygiene.models import ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.text import render

UserLookup = Callable[[str], tuple[str, bool]]
"""user id → (display name, is a bot)."""


def to_chat_message(
    raw: dict[str, Any], channel: ChannelInfo, user_of: UserLookup, bot_user_id: str = ""
) -> ChatMessage:
    user = raw.get("user")
    subtype = raw.get("subtype")
    metadata: dict[str, Any] = raw.get("metadata") or {}
    profile = raw.get("user_profile") or {}
    is_bot = bool(
        raw.get("bot_id") or subtype == "bot_message" or (user and user == bot_user_id) or (user and user_of(user)[1])
    )
    if user and profile.get("name"):
        name = profile.get("display_name") or profile["name"]
    elif user:
        name = user_of(user)[0]
    else:
        name = raw.get("username")
    thread_ts = raw.get("thread_ts")
    text = str(raw.get("text") or "")
    return ChatMessage(
        channel=channel.id,
        channel_name=channel.name,
        ts=str(raw["ts"]),
        thread_ts=str(thread_ts) if thread_ts else None,
        user=user,
        user_name=name,
        text=text,
        plain=render(text, lambda user_id: user_of(user_id)[0]),
        subtype=subtype,
        is_bot=is_bot,
        edited_ts=(raw.get("edited") or {}).get("ts"),
        reply_count=int(raw.get("reply_count") or 0),
        latest_reply=raw.get("latest_reply"),
        reactions=tuple((str(r.get("name")), tuple(r.get("users") or ())) for r in raw.get("reactions") or ()),
        metadata_event=metadata.get("event_type"),
    )
