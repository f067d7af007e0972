"""Matching client names in chat text: accent-folded, legal suffixes ignored, fuzzy within reason."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from hygiene.text import fold

_LEGAL_SUFFIXES = re.compile(
    r"\b(ltda|me|epp|eireli|s\.?a\.?|s/a|inc|llc|ltd|corp|co|gmbh|comercio|servicos|e cia|cia)\.?$"
)


def canonical(name: str) -> str:
    folded = fold(name)
    previous = None
    while previous != folded:
        previous = folded
        folded = _LEGAL_SUFFIXES.sub("", folded).strip(" .,-&")
    return folded


@dataclass(frozen=True)
class ClientMatch:
    client: str
    matched: str
    score: float


class ClientMatcher:
    """Finds known clients in text. Names of 3 characters or fewer only match exactly."""

    def __init__(self, clients: Iterable[str], aliases: Mapping[str, str] | None = None, threshold: float = 90) -> None:
        self.threshold = threshold
        self._names: dict[str, str] = {}
        for client in clients:
            key = canonical(client)
            if key:
                self._names.setdefault(key, client)
        for alias, client in (aliases or {}).items():
            key = canonical(alias)
            if key:
                self._names[key] = client

    def find(self, text: str) -> ClientMatch | None:
        folded = fold(text)
        best: ClientMatch | None = None
        for key, client in self._names.items():
            if re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", folded):
                score = 100.0
            elif len(key) > 5:
                score = fuzz.partial_ratio(key, folded)
            else:
                continue
            if score >= self.threshold and (best is None or (score, len(key)) > (best.score, len(best.matched))):
                best = ClientMatch(client=client, matched=key, score=score)
        return best
