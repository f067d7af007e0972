"""How hygiene names a person or a group in what it writes, whatever the chat.

Rules write a mention as ``<@USER_ID>`` (a person) or ``<!subteam^GROUP_ID>`` (a user group),
which is Slack's own markup, so Slack shows it as is; every other chat's sink turns the
notation into its own (Rocket.Chat: ``@username``) with :func:`replace_mentions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MENTION = re.compile(r"<@([A-Za-z0-9._-]+)>|<!subteam\^([A-Za-z0-9._-]+)>")


SLACK_GROUP = re.compile(r"S[A-Z0-9]{8,}")
"""A Slack user-group id (upper case, ``S…``); ids of other chats are mixed case and never match."""


def mention(target: str) -> str:
    """A mention of a user id, a Slack user group (``S0…``) or a channel written ``#name`` (left as it is)."""
    if target.startswith("#"):
        return target
    return f"<!subteam^{target}>" if SLACK_GROUP.fullmatch(target) else f"<@{target}>"


def replace_mentions(text: str, person: Callable[[str], str], group: Callable[[str], str]) -> str:
    """``text`` with each mention written the way a chat writes it (``person(id)``, ``group(id)``)."""
    return MENTION.sub(lambda m: person(m.group(1)) if m.group(1) else group(m.group(2)), text)
