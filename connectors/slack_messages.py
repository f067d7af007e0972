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
    get = raw.get
    user = get("user")
    subtype = get("subtype")
    known = None  # user_of(user), asked at most once
    if get("bot_id") or subtype == "bot_message" or (user and user == bot_user_id):
        is_bot = True
    else:
        known = user_of(user) if user else None
        is_bot = bool(known and known[1])
    profile = get("user_profile") or {}
    if user and profile.get("name"):
        name = profile.get("display_name") or profile["name"]
    elif user:
        name = (known or user_of(user))[0]
    else:
        name = get("username")
    thread_ts = get("thread_ts")
    text = str(get("text") or "")
    reactions = get("reactions")
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
        edited_ts=(get("edited") or {}).get("ts"),
        reply_count=int(get("reply_count") or 0),
        latest_reply=get("latest_reply"),
        reactions=tuple((str(r.get("name")), tuple(r.get("users") or ())) for r in reactions) if reactions else (),
        metadata_event=(get("metadata") or {}).get("event_type"),
    )
