"""Cue lists matched on words and lemmas, all lists of all languages in one pass per message.

A cue is a short sequence of elements, written folded (no accents, lower case):

* ``sair`` matches the token ``sair`` or any token whose lemma is ``sair`` ("saiu", "saíram");
* ``=update`` matches the token ``update`` only, not the forms of its lemma ("updated");
* ``resolv*`` matches any token that starts with ``resolv``, ``*ar`` any that ends with ``ar``;
* ``pode|consegue`` matches either;
* ``...`` lets up to three other tokens stand between its neighbours;
* ``^`` as the first element pins the cue to the start of a sentence.

A negation just before a hit of a list named in ``NEGATED`` cancels it: "não conseguem emitir"
is a problem reported, not someone asked to emit.

Every list of every language is compiled into one index keyed by the first element, so one scan
over a message's tokens yields every list's hits (the single pass the audit's speed rests on).
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise

from rules.analysis import Analysis
from rules.lemmas import cue_words, learn

GAP = "..."
MAX_GAP = 3
NEGATION = frozenset({"nao", "not", "never", "nunca", "nem"})
NEGATED = frozenset({"ask", "progress", "done"})


@dataclass(frozen=True)
class _Element:
    words: frozenset[str]
    prefixes: tuple[str, ...]
    exact: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()

    def matches(self, token: str, lemma: str) -> bool:
        return (
            token in self.words
            or token in self.exact
            or lemma in self.words
            or token.startswith(self.prefixes)
            or (len(token) > 3 and token.endswith(self.suffixes))
        )


@dataclass(frozen=True)
class Cue:
    list_name: str
    text: str
    elements: tuple[_Element | None, ...]
    """``None`` stands for a gap."""
    sentence_start: bool


def parse_cue(list_name: str, text: str) -> Cue:
    parts = text.split()
    sentence_start = bool(parts) and parts[0] == "^"
    if sentence_start:
        parts = parts[1:]
    if not parts or parts[0] == GAP or parts[-1] == GAP:
        raise ValueError(f"{list_name}: cue {text!r} must start and end with a word")
    words_of = [part.split("|") for part in parts]
    for before, after in pairwise(words_of):
        if shared := set(before) & set(after) - {GAP}:
            # "someone|somebody should|needs to" reads as someone, should|needs, to, to: never met
            raise ValueError(
                f"{list_name}: cue {text!r} has {sorted(shared)[0]!r} in two neighbouring places: '|' "
                "separates the options of one word, so write each phrase as its own cue"
            )
    elements: list[_Element | None] = []
    for part in parts:
        if part == GAP:
            elements.append(None)
            continue
        options = [option for option in part.split("|") if option]
        words = frozenset(o for o in options if not o.endswith("*") and not o.startswith(("=", "*")))
        exact = frozenset(o[1:] for o in options if o.startswith("=") and len(o) > 1)
        prefixes = tuple(o[:-1] for o in options if o.endswith("*") and len(o) > 2)
        suffixes = tuple(o[1:] for o in options if o.startswith("*") and len(o) > 1)
        elements.append(_Element(words, prefixes, exact, suffixes))
    return Cue(list_name, text, tuple(elements), sentence_start)


_NONE: list[Cue] = []


class CueMatcher:
    """Named cue lists compiled into one index."""

    def __init__(self, lists: Mapping[str, Iterable[str]]) -> None:
        self._by_word: dict[str, list[Cue]] = defaultdict(list)
        self._scanned: dict[int, tuple[Analysis, dict[str, list[str]]]] = {}
        self._by_prefix: list[Cue] = []
        prefixes: list[str] = []
        suffixes: list[str] = []
        for name, cues in lists.items():
            for text in cues:
                cue = parse_cue(name, text)
                first = cue.elements[0]
                assert first is not None
                for word in first.words | first.exact:
                    self._by_word[word].append(cue)
                if first.prefixes or first.suffixes:
                    self._by_prefix.append(cue)
                    prefixes += first.prefixes
                    suffixes += first.suffixes
        self._prefixes, self._suffixes = tuple(prefixes), tuple(suffixes)
        """Every prefix and suffix a prefix cue starts with: a token that has none of them starts no
        prefix cue but by a word of it, which :attr:`_by_word` holds too."""

    def scan(self, analysis: Analysis) -> dict[str, list[str]]:
        """Each list's hits in the message, as the words they matched, in order, without repeats.

        Several rules scan the same message: the result is remembered for the analysis (kept
        alive beside it, so that its id is not reused) and must not be changed by the caller.
        """
        known = self._scanned.get(id(analysis))
        if known is not None and known[0] is analysis:
            return known[1]
        if len(self._scanned) >= 1024:
            del self._scanned[next(iter(self._scanned))]
        hits = self._scan(analysis)
        self._scanned[id(analysis)] = (analysis, hits)
        return hits

    def _scan(self, analysis: Analysis) -> dict[str, list[str]]:
        hits: dict[str, list[str]] = {}
        tokens, lemmas = analysis.tokens, analysis.lemmas
        starts = analysis.sentence_starts
        by_word, by_prefix, prefixes, suffixes = self._by_word, self._by_prefix, self._prefixes, self._suffixes
        for index, (token, lemma) in enumerate(zip(tokens, lemmas, strict=True)):
            candidates = by_word.get(token, _NONE)
            if lemma != token and lemma in by_word:
                candidates = candidates + by_word[lemma]
            if by_prefix and (token.startswith(prefixes) or (len(token) > 3 and token.endswith(suffixes))):
                candidates = candidates + [cue for cue in by_prefix if cue.elements[0].matches(token, lemma)]  # type: ignore[union-attr]
            for cue in candidates:
                if cue.sentence_start and index not in starts:
                    continue
                if cue.list_name in NEGATED and index and tokens[index - 1] in NEGATION:
                    continue
                end = _match(cue.elements, 0, tokens, lemmas, index)
                if end is not None:
                    found = " ".join(tokens[index:end])
                    listed = hits.setdefault(cue.list_name, [])
                    if found not in listed:
                        listed.append(found)
        return hits


def _match(
    elements: tuple[_Element | None, ...], at: int, tokens: tuple[str, ...], lemmas: tuple[str, ...], position: int
) -> int | None:
    """The token index just past a match of ``elements[at:]`` starting at ``position``, or None."""
    while at < len(elements):
        element = elements[at]
        if element is None:
            for skip in range(MAX_GAP + 1):
                end = _match(elements, at + 1, tokens, lemmas, position + skip)
                if end is not None:
                    return end
            return None
        if position >= len(tokens) or not element.matches(tokens[position], lemmas[position]):
            return None
        at, position = at + 1, position + 1
    return position


@cache
def shipped_lists(data_file: str) -> dict[str, dict[str, list[str]]]:
    """The cue lists by language of a data file under rules/data/ (``speech.toml``, ``client_speech.toml``)."""
    return tomllib.loads(resources.files("rules").joinpath("data", data_file).read_text(encoding="utf-8"))


def matcher_for(data_file: str, extra: dict[str, dict[str, list[str]]] | None = None) -> CueMatcher:
    """One matcher over a data file's lists of every language and a team's extra cues (their words
    learn their inflections), built once per file and extra."""
    return _matcher_for(data_file, json.dumps(extra or {}, sort_keys=True))


@lru_cache(maxsize=64)
def _matcher_for(data_file: str, extra_json: str) -> CueMatcher:
    extra = json.loads(extra_json)
    learn(cue_words(extra))
    lists: dict[str, list[str]] = {}
    for source in (shipped_lists(data_file), extra):
        for language_lists in source.values():
            for name, cues in language_lists.items():
                lists.setdefault(name, []).extend(cues)
    return CueMatcher(lists)
