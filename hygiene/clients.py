"""Matching client names in chat text: accent-folded, legal suffixes ignored, fuzzy within reason.

A client is found by its full name (score 1.0), by a close spelling of it (rapidfuzz, score
0.85–0.99), or by the first distinctive word of its name when no other client starts with it —
"a padaria" for "Padaria Pão Quente", "the Acme SSO" for "Acme Corp" — (score 0.8). Aliases from the config
map other names people use to a client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from hygiene.text import fold

_LEGAL_SUFFIXES = re.compile(
    r"\b(ltda|me|epp|eireli|s\.?a\.?|s/a|inc|llc|ltd|corp|co|gmbh|e cia|cia|limitada|group|grupo)\.?$"
)
# Words that do not tell one client from another.
GENERIC = frozenset(
    """de da do das dos e the of and a o em comercio servicos industria grupo holding participacoes
    tecnologia solutions systems group company consultoria assessoria contabilidade empreendimentos
    distribuidora administradora associacao sociedade cooperativa brasil nova novo""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z0-9]+")


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
    """1.0 for the full name, less for a close spelling or one distinctive word."""


class ClientMatcher:
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
        owners: dict[str, set[str]] = {}
        for key, client in self._names.items():
            head = next((w for w in _WORD.findall(key) if len(w) >= 4 and w not in GENERIC), None)
            if head:
                owners.setdefault(head, set()).add(client)
        self._distinctive = {word: next(iter(c)) for word, c in owners.items() if len(c) == 1}
        self._full = [
            (re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])"), key, client)
            for key, client in sorted(self._names.items(), key=lambda item: -len(item[0]))
        ]

    def find(self, text: str) -> ClientMatch | None:
        folded = fold(text)
        for pattern, key, client in self._full:
            if pattern.search(folded):
                return ClientMatch(client=client, matched=key, score=1.0)
        best: ClientMatch | None = None
        for key, client in self._names.items():
            if len(key) > 6 and " " in key:
                ratio = fuzz.partial_ratio(key, folded)
                if ratio >= self.threshold and (best is None or ratio / 100 > best.score):
                    best = ClientMatch(client=client, matched=key, score=min(0.99, 0.85 + (ratio - 90) / 100))
        if best is not None:
            return best
        for word in _WORD.findall(folded):
            if word in self._distinctive:
                return ClientMatch(client=self._distinctive[word], matched=word, score=0.8)
        return None
