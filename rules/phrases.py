"""Phrase lists shipped as data files (``rules/data/<CODE>.toml``), extended or replaced by the TOML.

Patterns are regular expressions matched against accent- and case-folded text. A rule reads its
lists through :func:`phrases_for`, which merges the shipped lists of every language with the
ones a team configured (``[rules.HY101.phrases.pt] request = [...]``).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hygiene.rulebase import RuleSettings, compile_configured

LANGUAGES = ("pt", "en")


@dataclass(frozen=True)
class PhraseSet:
    """Named lists of compiled patterns."""

    lists: dict[str, tuple[re.Pattern[str], ...]]

    def matches(self, name: str, folded: str) -> list[str]:
        """The text each pattern of list ``name`` matched, in order, without repeats."""
        found: list[str] = []
        for pattern in self.lists.get(name, ()):
            match = pattern.search(folded)
            if match:
                text = match.group(0).strip(" ,.;:!?")
                if text and text not in found:
                    found.append(text)
        return found

    def distinct(self, name: str, folded: str) -> set[str]:
        """Every different text any pattern of list ``name`` matches (not just the first of each)."""
        return {m.group(0).strip() for pattern in self.lists.get(name, ()) for m in pattern.finditer(folded)}

    def any(self, name: str, folded: str) -> bool:
        return any(pattern.search(folded) for pattern in self.lists.get(name, ()))


@cache
def shipped(code: str) -> dict[str, dict[str, list[str]]]:
    path = resources.files("rules").joinpath("data", f"{code}.toml")
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def phrases_for(code: str, settings: RuleSettings) -> PhraseSet:
    """Every language's lists for a rule, with the settings' extra patterns merged in."""
    return _compiled(code, json.dumps(settings.phrases, sort_keys=True), settings.replace_phrases)


@cache
def _compiled(code: str, extra_json: str, replace: bool) -> PhraseSet:
    extra: dict[str, dict[str, list[str]]] = json.loads(extra_json)
    merged: dict[str, list[re.Pattern[str]]] = {}
    base = {} if replace else shipped(code)
    # Shipped lists are ours (standard re); the team's run on RE2, which cannot backtrack for ever.
    for source, compile_one in ((base, re.compile), (extra, compile_configured)):
        for lists in source.values():
            for name, patterns in lists.items():
                merged.setdefault(name, []).extend(compile_one(p) for p in patterns)
    return PhraseSet({name: tuple(patterns) for name, patterns in merged.items()})


def unknown_phrase_keys(code: str, known_lists: tuple[str, ...], settings: RuleSettings) -> list[str]:
    """Key paths of configured phrase lists that the rule does not read."""
    problems = []
    for language, lists in settings.phrases.items():
        if language not in LANGUAGES:
            problems.append(f"rules.{code}.phrases.{language}: unknown language (use {' or '.join(LANGUAGES)})")
            continue
        for name in lists:
            if name not in known_lists:
                problems.append(
                    f"rules.{code}.phrases.{language}.{name}: unknown phrase list (known: {', '.join(known_lists)})"
                )
    return problems
