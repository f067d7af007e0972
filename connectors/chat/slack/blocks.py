"""A :class:`~hygiene.document.Document` as Slack Block Kit, inside Slack's limits.

Slack allows 50 blocks a message and 3,000 characters a section's text
(https://docs.slack.dev/reference/block-kit/blocks/section-block); long sections are split
into several section blocks, and a message stays at 45 blocks.
"""

from __future__ import annotations

import json
from typing import Any

from hygiene.document import BOLD, LINK, Document

SLACK_TEXT_LIMIT = 2900
SLACK_BLOCKS_PER_MESSAGE = 45


def render_blocks(document: Document | str) -> list[dict[str, Any]]:
    """Block Kit blocks for a document (or its JSON), cut at the per-message limit."""
    doc = Document.from_json(document) if isinstance(document, str) else document
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": doc.title[:150]}}]
    for section in doc.sections:
        if section.divider:
            blocks.append({"type": "divider"})
        blocks.extend(_sections([mrkdwn(line) for line in section.lines]))
    return blocks[:SLACK_BLOCKS_PER_MESSAGE]


def render_messages(document: Document) -> list[list[dict[str, Any]]]:
    """Every message's blocks, when the document is cut into the parts hygiene posts one by one."""
    return [render_blocks(part) for part in document.parts()]


def mrkdwn(line: str) -> str:
    """A document line in Slack's mrkdwn: ``**x**`` → ``*x*``, ``[l](u)`` → ``<u|l>``."""
    escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BOLD.sub(r"*\1*", LINK.sub(r"<\2|\1>", escaped))


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    sections, current = [], ""
    for line in lines:
        line = line[:SLACK_TEXT_LIMIT]
        if current and len(current) + len(line) + 1 > SLACK_TEXT_LIMIT:
            sections.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in sections]


def to_json(blocks: list[list[dict[str, Any]]]) -> str:
    return json.dumps(blocks, ensure_ascii=False, indent=2) + "\n"
