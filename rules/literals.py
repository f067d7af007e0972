"""Which words a pattern cannot match without: the cheap prefilter in front of the phrase lists.

Most messages match no pattern of most lists, and Python's ``re`` proves that slowly: an
alternation of a list's patterns is tried at every position of the text. Every shipped pattern
holds literal text that any match must contain ("cancelar" or "rescindir" or "encerrar" in
``\\b(cancelar|rescindir|encerrar) (o contrato|…)\\b``), so when none of those literals is a
substring of the text, the pattern cannot match and need not run.

The literals are read from the patterns themselves (Python's own parse of them), so the filter
follows the lists as they change; a pattern whose literals cannot be told for sure (a case-
insensitive flag, a pattern made only of character classes) is never filtered out.
"""

from __future__ import annotations

import re
from functools import cache
from re import _constants as _c  # type: ignore[attr-defined]  # the re module's own parser (3.11+)
from re import _parser as _sre  # type: ignore[attr-defined]
from typing import Any, Protocol

import re2

Literals = frozenset[str]
"""Any match of the pattern contains at least one of these strings."""

_REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)})
_ZERO_WIDTH = frozenset({_c.AT, _c.ASSERT, _c.ASSERT_NOT})
"""Items that match no character: the literals on either side of them are adjacent in the text."""


@cache
def required_literals(pattern: str, flags: int = 0) -> Literals | None:
    """Strings one of which every match of ``pattern`` contains, or None when that cannot be told."""
    try:
        parsed = _sre.parse(pattern, flags)
    except (re.error, RecursionError):
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _required(parsed)


MAX_ALTERNATIVES = 128
"""Literals spelled out of adjacent alternatives ("ja " + "foi|saiu") are kept up to this many."""

_Requirement = tuple[Literals, bool]
"""Literals one of which a match contains, and whether a match is exactly one of them."""


def _required(sequence: Any) -> Literals | None:
    requirement = _sequence(sequence)
    return None if requirement is None or "" in requirement[0] else requirement[0]


def _sequence(sequence: Any) -> _Requirement | None:
    """The best requirement of a sequence of parsed items (each item matches in turn, adjacent).

    Items that match exactly one of a few strings are spelled out together ("ja " then "foi" or
    "saiu": "ja foi", "ja saiu"); zero-width items (``\b``, ``^``, look-arounds) keep their
    neighbours adjacent. The longest requirement is kept (a longer literal is rarer in text).
    """
    candidates: list[Literals] = []
    spelled: set[str] = {""}
    exact = True
    for op, value in sequence:
        if op in _ZERO_WIDTH:
            continue
        requirement = _item(op, value)
        if requirement is not None and requirement[1] and len(spelled) * len(requirement[0]) <= MAX_ALTERNATIVES:
            spelled = {before + after for before in spelled for after in requirement[0]}
            continue
        if spelled != {""}:
            candidates.append(frozenset(spelled))
        spelled, exact = {""}, False
        if requirement is None:
            continue
        if requirement[1]:  # exact, but too many to spell out with what came before: start again from it
            spelled = set(requirement[0])
        else:
            candidates.append(requirement[0])
    if exact:
        return frozenset(spelled), True
    if spelled != {""}:
        candidates.append(frozenset(spelled))
    candidates = [literals for literals in candidates if "" not in literals]
    if not candidates:
        return None
    return max(candidates, key=lambda literals: (min(map(len, literals)), -len(literals))), False


def _item(op: Any, value: Any) -> _Requirement | None:
    if op is _c.LITERAL:
        return frozenset([chr(value)]), True
    if op is _c.IN:
        return _char_set(value)
    if op is _c.SUBPATTERN:
        _, add_flags, _, inner = value
        return None if add_flags & re.IGNORECASE else _sequence(inner)
    if op is _c.BRANCH:
        union: set[str] = set()
        exact = True
        for branch in value[1]:
            requirement = _sequence(branch)
            if requirement is None:
                return None
            union |= requirement[0]
            exact = exact and requirement[1]
        return frozenset(union), exact
    if op in _REPEATS:
        low, high, item = value
        requirement = _sequence(item)
        if requirement is None or low < 1:
            return None
        return requirement[0], requirement[1] and low == high == 1
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _sequence(value)
    return None  # any character, categories, back-references


def _char_set(items: Any) -> _Requirement | None:
    """``[oa]``: exactly one of a few characters (None for ranges, categories and negated sets)."""
    chars = set()
    for op, value in items:
        if op is not _c.LITERAL:
            return None
        chars.add(chr(value))
    return (frozenset(chars), True) if 0 < len(chars) <= 8 else None


def list_literals(patterns: list[str]) -> Literals | None:
    """Strings one of which any match of any of ``patterns`` contains (None: some pattern cannot be told).

    A literal that contains another is dropped: the shorter one is present whenever it is.
    """
    union: set[str] = set()
    for pattern in patterns:
        required = required_literals(pattern)
        if required is None or "" in required:
            return None
        union |= required
    shortest_first = sorted(union, key=len)
    kept: list[str] = []
    for literal in shortest_first:
        if not any(short in literal for short in kept):
            kept.append(literal)
    return frozenset(kept)


class Gate(Protocol):
    """What a gate needs: a search that is None when none of its literals is in the text."""

    def search(self, string: str, /) -> object | None: ...


class RE2Literals:
    """A literal alternation searched by RE2 without the wrapper's match objects (a yes or no is enough).

    RE2's own search (its automaton, falling back to its NFA when the automaton runs out of
    memory) answers for any number of literals at the cost of one pass; ``re2``'s Python wrapper
    would add a few microseconds per call building spans and a match object.
    """

    __slots__ = ("_compiled", "_match", "_unanchored")

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        regexp = getattr(compiled, "_regexp", None)
        anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
        self._match = getattr(regexp, "Match", None)
        self._unanchored = anchor

    def search(self, string: str, /) -> bool | None:
        if self._match is None or self._unanchored is None:
            return True if self._compiled.search(string) else None
        try:
            encoded = string.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let the patterns themselves decide
            return True
        spans = self._match(self._unanchored, encoded, 0, len(encoded))
        return True if spans and spans[0][0] >= 0 else None
