"""A structured message (the daily report) that each chat lays out its own way.

A :class:`Document` is a title and sections of lines; a line may use two marks, ``**bold**`` and
``[label](url)``. Slack turns it into Block Kit, another chat into its own markdown, and
:meth:`Document.plain` is the fallback every chat can show.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class Section:
    lines: tuple[str, ...]
    divider: bool = False
    """A rule before the section (it starts a new part of the message)."""


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]

    def to_json(self) -> str:
        data = {
            "title": self.title,
            "sections": [{"lines": list(s.lines), "divider": s.divider} for s in self.sections],
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Document:
        data: dict[str, Any] = json.loads(text)
        sections = tuple(
            Section(tuple(str(line) for line in s.get("lines", [])), bool(s.get("divider"))) for s in data["sections"]
        )
        return cls(str(data["title"]), sections)

    def plain(self) -> str:
        """The document as plain text: marks dropped, links as ``label (url)``."""
        lines = [self.title]
        for section in self.sections:
            lines.append("")
            lines.extend(strip_marks(line) for line in section.lines)
        return "\n".join(lines)

    def parts(self, max_lines: int = 40) -> list[Document]:
        """The document cut into messages of at most ``max_lines`` lines (a long section goes on in
        the next part), the title repeated: every chat limits how much one message holds."""
        parts: list[list[Section]] = [[]]
        room = max_lines
        for section in self.sections:
            lines, divider = list(section.lines), section.divider
            while lines:
                if room == 0:
                    parts.append([])
                    room = max_lines
                taken, lines = lines[:room], lines[room:]
                parts[-1].append(Section(tuple(taken), divider))
                room -= len(taken)
                divider = False
        return [Document(self.title, tuple(part)) for part in parts if part] or [self]


def strip_marks(line: str) -> str:
    return BOLD.sub(r"\1", LINK.sub(r"\1 (\2)", line))
