"""Rocket.Chat message markdown to the plain text a person reads, as Slack's renderer gives it.

Rocket.Chat stores a message's ``msg`` as the markdown the person typed (the parsed tree is in
``md``; packages/message-parser): mentions are literal ``@username`` and ``#channel``, links are
``[label](url)`` or the older ``<url|label>``, and ``&``, ``<``, ``>`` are not escaped. The plain text
matches what connectors/chat/slack/markup.py makes of the same message on Slack: ``@user``,
``#channel``, ``label (url)``; emphasis markers (``*bold*``, ``_italic_``, ``~strike~``), inline
code and ``:emoji:`` shortcodes are left as typed, as Slack's renderer leaves them, so a rule reads
the same words on both platforms.
"""

from __future__ import annotations

import re

_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\((\S+?)\)")
_ANGLE_LINK = re.compile(r"<((?:https?|mailto):[^<>|\s]+)(?:\|([^<>\n]*))?>")


def render(markup: str) -> str:
    """Render Rocket.Chat message markdown as plain text."""
    text = _MARKDOWN_LINK.sub(lambda m: _link(m.group(2), m.group(1)), markup or "")
    return _ANGLE_LINK.sub(lambda m: _link(m.group(1), m.group(2) or ""), text)


def _link(target: str, label: str) -> str:
    target = target.removeprefix("mailto:") if not label else target
    if not label or label == target:
        return target
    return f"{label} ({target})"
