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
from typing import Any

Literals = frozenset[str]
"""Any match of the pattern contains at least one of these strings."""

_REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)})


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


def _required(sequence: Any) -> Literals | None:
    """The best requirement of a sequence of parsed items (each item must match, in order)."""
    candidates: list[Literals] = []
    run: list[str] = []
    for op, value in sequence:
        if op is _c.LITERAL:
            run.append(chr(value))
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        required = _required_of(op, value)
        if required is not None:
            candidates.append(required)
    if run:
        candidates.append(frozenset(["".join(run)]))
    if not candidates:
        return None
    return max(candidates, key=lambda literals: (min(map(len, literals)), -len(literals)))


def _required_of(op: Any, value: Any) -> Literals | None:
    if op is _c.SUBPATTERN:
        _, add_flags, _, inner = value
        return None if add_flags & re.IGNORECASE else _required(inner)
    if op is _c.BRANCH:
        union: set[str] = set()
        for branch in value[1]:
            required = _required(branch)
            if required is None:
                return None
            union |= required
        return frozenset(union)
    if op in _REPEATS:
        low, _, item = value
        return _required(item) if low >= 1 else None
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _required(value)
    return None  # character classes, any character, anchors, look-arounds, back-references


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
