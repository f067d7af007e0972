"""Phrase lists shipped as data files (``rules/data/<CODE>.toml``), compiled once per language."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class PhraseSet:
    """Named lists of compiled patterns for one language."""

    lists: dict[str, tuple[re.Pattern[str], ...]]

    def matches(self, name: str, folded: str) -> list[str]:
        """The text each pattern of list ``name`` matched, in order."""
        found = []
        for pattern in self.lists.get(name, ()):
            match = pattern.search(folded)
            if match:
                found.append(match.group(0).strip())
        return found


@cache
def load_phrases(code: str) -> dict[str, PhraseSet]:
    raw = resources.files("rules").joinpath("data", f"{code}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return {
        language: PhraseSet({name: tuple(re.compile(p) for p in patterns) for name, patterns in lists.items()})
        for language, lists in data.items()
    }
