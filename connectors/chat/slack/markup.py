"""Slack markup to the plain text a person reads.

Slack sends ``<@U123>``, ``<#C123|fiscal>``, ``<!here>``, ``<https://x|label>`` and escapes
``&``, ``<`` and ``>`` (https://docs.slack.dev/messaging/formatting-message-text).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

_ANGLE = re.compile(r"<([^<>]+)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}

UserNamer = Callable[[str], str | None]


def render(markup: str, users: Mapping[str, str] | UserNamer | None = None) -> str:
    """Render Slack message markup as the plain text a person reads."""
    if not markup or ("<" not in markup and "&" not in markup):
        return markup or ""  # no markup and nothing escaped: most chat

    def name_of(user_id: str) -> str | None:
        if users is None:
            return None
        if callable(users):
            return users(user_id)
        return users.get(user_id)

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            return "@" + (label or name_of(target[1:]) or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            keyword = target[1:].split("^")[0]
            if keyword.startswith("subteam"):
                return label or "@group"
            return _SPECIAL.get(keyword, label or keyword)
        if label:
            return f"{label} ({target})" if label != target else target
        return target.removeprefix("mailto:")

    return html.unescape(_ANGLE.sub(replace, markup or ""))
