"""Phrase lists shipped as data files (``rules/data/<CODE>.toml``), extended or replaced by the TOML.

Patterns are regular expressions matched against accent- and case-folded text. A rule reads its
lists through :func:`phrases_for`, which merges the shipped lists of every language with the
ones a team configured (``[rules.HY101.phrases.pt] request = [...]``).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TypeVar, cast

import re2

from hygiene.rulebase import RuleSettings, compile_configured
from rules.literals import Gate, RE2Literals, list_literals

LANGUAGES = ("pt", "en")


@dataclass(frozen=True, eq=False)
class PhraseSet:
    """Named lists of compiled patterns, each list also joined into one alternation.

    Most messages match no pattern of most lists. Before any pattern runs, a literal gate says
    so cheaply: the strings one of which every match of a pattern must contain (read from the
    pattern itself, :mod:`rules.literals`), looked for in the text with one search of their
    alternation. A list whose gate finds none of them cannot match; one that passes is searched
    with its joined alternation, and only a list that matches is searched pattern by pattern
    (each pattern behind its own gate) for its evidence.
    """

    lists: dict[str, tuple[re.Pattern[str], ...]]
    joined: dict[str, re.Pattern[str]] = field(default_factory=dict)
    gates: dict[str, Gate] = field(default_factory=dict)
    """Per list: the alternation of the literals any match of its patterns contains (absent: no gate)."""
    pattern_gates: dict[str, tuple[Gate | None, ...]] = field(default_factory=dict)
    """Per list, per pattern: the same gate for that pattern alone (None: no gate)."""
    joined_re2: dict[str, tuple[RE2Literals, re.Pattern[str] | None]] = field(default_factory=dict)
    """Per joined list: the alternation of its patterns RE2 can run, which answers in one pass
    (Python's ``re`` tries every pattern at every position), and of the others (look-arounds) on
    ``re``; used on text where both engines read every class and boundary alike (:func:`_same_to_both`)."""

    @classmethod
    def compile(cls, lists: dict[str, list[re.Pattern[str]]], joinable: dict[str, list[str]]) -> PhraseSet:
        """``joinable``: the lists made only of shipped patterns (a team's patterns run on RE2, alone)."""
        joined = {name: pattern for name, patterns in joinable.items() if (pattern := _join(patterns))}
        gates: dict[str, Gate] = {}
        pattern_gates: dict[str, tuple[Gate | None, ...]] = {}
        for name, patterns in lists.items():
            if (gate := _gate([pattern.pattern for pattern in patterns if isinstance(pattern, re.Pattern)])) and all(
                isinstance(pattern, re.Pattern) for pattern in patterns
            ):
                gates[name] = gate
            pattern_gates[name] = tuple(
                _gate([pattern.pattern]) if isinstance(pattern, re.Pattern) else None for pattern in patterns
            )
        joined_re2 = {name: split for name in joined if (split := _split(joinable[name]))}
        return cls(
            {name: tuple(patterns) for name, patterns in lists.items()}, joined, gates, pattern_gates, joined_re2
        )

    def _may_match(self, name: str, folded: str) -> bool:
        gate = self.gates.get(name)
        if gate is not None and gate.search(folded) is None:
            return False
        return self._joined_matches(name, folded) is not False

    def _joined_matches(self, name: str, folded: str) -> bool | None:
        """Whether the list's joined alternation matches (None: the list is not joined)."""
        split = self.joined_re2.get(name)
        if split is not None and _same_to_both(folded):
            fast, rest = split
            return fast.search(folded) is not None or (rest is not None and rest.search(folded) is not None)
        joined = self.joined.get(name)
        return None if joined is None else joined.search(folded) is not None

    def matches(self, name: str, folded: str) -> list[str]:
        """The text each pattern of list ``name`` matched, in order, without repeats."""
        found: list[str] = []
        if not self._may_match(name, folded):
            return found
        patterns = self.lists.get(name, ())
        gates = self.pattern_gates.get(name) or (None,) * len(patterns)
        for pattern, gate in zip(patterns, gates, strict=True):
            if gate is not None and gate.search(folded) is None:
                continue
            match = pattern.search(folded)
            if match:
                text = match.group(0).strip(" ,.;:!?")
                if text and text not in found:
                    found.append(text)
        return found

    def distinct(self, name: str, folded: str) -> set[str]:
        """Every different text any pattern of list ``name`` matches (not just the first of each)."""
        gate = self.gates.get(name)
        if gate is not None and gate.search(folded) is None:
            return set()
        return {m.group(0).strip() for pattern in self.lists.get(name, ()) for m in pattern.finditer(folded)}

    def any(self, name: str, folded: str) -> bool:
        gate = self.gates.get(name)
        if gate is not None and gate.search(folded) is None:
            return False
        joined = self._joined_matches(name, folded)
        if joined is not None:
            return joined
        return any(pattern.search(folded) for pattern in self.lists.get(name, ()))


RE2_GATE_LITERALS = 16
"""Gates of more literals than this search with RE2, whose automaton costs the same for any number
of literals (Python's re tries every literal at every position). A pure literal alternation means
the same to both engines on any text."""


def _gate(patterns: list[str]) -> Gate | None:
    """One search for the literals any match of ``patterns`` contains (None when they cannot be told)."""
    literals = list_literals(patterns) if patterns else None
    if not literals:
        return None
    alternation = "|".join(re.escape(literal) for literal in sorted(literals, key=lambda lit: (-len(lit), lit)))
    try:
        gate: Gate
        if len(literals) > RE2_GATE_LITERALS:
            gate = RE2Literals(compile_configured(alternation))
        else:
            gate = re.compile(alternation)
    except (re.error, re2.error):
        return None
    if not all(gate.search(literal) for literal in literals):  # the escaping read the literals back as written
        return None
    return gate


_NOT_PLAIN = re.compile(r"[^\x00-\x0a\x0c-\x1b\x20-\x7f]|\n$")
r"""Text the two engines read differently: any non-ASCII (Python's ``\w``, ``\d`` and ``\b`` are
Unicode, RE2's ASCII), the ASCII controls Python's ``\s`` holds and RE2's does not, and a final
line break (before which Python's ``$`` also matches)."""


def _same_to_both(text: str) -> bool:
    return text.isascii() and _NOT_PLAIN.search(text) is None


def _split(patterns: list[str]) -> tuple[RE2Literals, re.Pattern[str] | None] | None:
    """A list's patterns RE2 runs as one alternation, and the rest joined on ``re`` (None: RE2 runs none)."""
    on_re2: list[str] = []
    rest: list[str] = []
    for pattern in patterns:
        (on_re2 if _runs_on_re2(pattern) else rest).append(pattern)
    if not on_re2:
        return None
    fast = RE2Literals(compile_configured("|".join(f"(?:{pattern})" for pattern in on_re2)))
    if not rest:
        return fast, None
    others = _join(rest) or re.compile(rest[0])
    return fast, others


def _runs_on_re2(pattern: str) -> bool:
    r"""RE2 compiles it (no look-arounds, no back-references) and it names no ``\Z``."""
    if "\\Z" in pattern:
        return False
    try:
        compile_configured(pattern)
    except re2.error:
        return False
    return True


def _join(patterns: list[str]) -> re.Pattern[str] | None:
    """One alternation of a list's patterns (None when they cannot be joined, e.g. global flags)."""
    if len(patterns) < 2:
        return None
    try:
        return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
    except re.error:
        return None


@cache
def shipped(code: str) -> dict[str, dict[str, list[str]]]:
    path = resources.files("rules").joinpath("data", f"{code}.toml")
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def phrases_for(code: str, settings: RuleSettings) -> PhraseSet:
    """Every language's lists for a rule, with the settings' extra patterns merged in.

    Rules ask for their lists on every message: the answer is kept per (rule, settings object),
    with the settings kept alive beside it so that its id is not reused while the entry stands.
    """
    if not settings.phrases and not settings.replace_phrases:  # the shipped lists (rules build such settings anew)
        shipped_lists = _SHIPPED_SETS.get(code)
        if shipped_lists is None:
            shipped_lists = _SHIPPED_SETS[code] = _compiled(code, json.dumps({}), False)
        return shipped_lists
    key = (code, id(settings))
    known = _PHRASES.get(key)
    if known is not None and known[0] is settings:
        return known[1]
    phrases = _compiled(code, json.dumps(settings.phrases, sort_keys=True), settings.replace_phrases)
    if len(_PHRASES) > 1024:
        _PHRASES.clear()
    _PHRASES[key] = (settings, phrases)
    return phrases


_PHRASES: dict[tuple[str, int], tuple[RuleSettings, PhraseSet]] = {}
_SHIPPED_SETS: dict[str, PhraseSet] = {}


T = TypeVar("T")


def per_settings(what: str, settings: RuleSettings, compute: Callable[[], T]) -> T:
    """``compute()`` once per settings object: rules ask for their lists and cues once per message.

    The settings object is kept alive beside its entry, so that its id is not reused while the
    entry stands.
    """
    key = (what, id(settings))
    known = _BY_SETTINGS.get(key)
    if known is None or known[0] is not settings:
        if len(_BY_SETTINGS) > 1024:
            _BY_SETTINGS.clear()
        known = (settings, compute())
        _BY_SETTINGS[key] = known
    return cast(T, known[1])


_BY_SETTINGS: dict[tuple[str, int], tuple[RuleSettings, object]] = {}


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
    configured = {name for lists in extra.values() for name in lists}
    joinable: dict[str, list[str]] = {}
    for lists in base.values():
        for name, patterns in lists.items():
            if name not in configured:
                joinable.setdefault(name, []).extend(patterns)
    return PhraseSet.compile(merged, joinable)


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
