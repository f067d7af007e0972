"""One message's text, analysed once and shared by every rule: folded text, tokens, lemmas.

Rules judge words, not spellings: "saiu", "saíram" and "sairá" are one lemma (``sair``), and so
are "fixed" and "fixing" (``fix``). Lemmas come from the table of :mod:`rules.lemmas` (every form
of every word the cue lists use, from simplemma's dictionaries), folded like everything else, so
that cue lists are written without accents; a word the table does not hold is its own lemma. An
analysis is cached by the message's plain text, so the second rule that asks for it pays nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hygiene.text import fold, guess_language, matchable
from rules.lemmas import lemma_of

_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_VOCATIVE = re.compile(r"\s*@?[^\W\d_][\w.-]*\s*,")
_BOUNDARY = re.compile(r"[.!?:;\n—–(]|\s-\s")


@dataclass(frozen=True)
class Analysis:
    """A message's plain text as rules read it."""

    plain: str
    folded: str
    """Accent- and case-folded, whitespace collapsed."""
    text: str
    """Folded with apostrophes as spaces: what regular-expression phrase lists match."""
    tokens: tuple[str, ...]
    """Folded word tokens, in order."""
    lemmas: tuple[str, ...]
    """The folded lemma of each token (the token itself when the lemmatizer knows no better)."""
    language: str
    """``pt`` or ``en``."""
    sentence_starts: frozenset[int]
    """Indices of the tokens that open a sentence: the first, and those after . ! ? : ; or a line break."""
    question_ends: tuple[int, ...] = ()
    """Indices of the tokens a question mark follows."""

    @property
    def asks(self) -> bool:
        """Written as a question (a question mark anywhere)."""
        return "?" in self.plain


@lru_cache(maxsize=16384)
def analyze(plain: str) -> Analysis:
    folded = fold(plain)
    language = guess_language(folded)
    lowered = plain.lower().replace("’", "'")
    raw_tokens: list[str] = []
    starts: set[int] = set()
    end = 0
    questions: list[int] = []
    for match in _TOKEN.finditer(lowered):
        if match.start() and lowered[match.start() - 1] == "@":
            continue  # a mention names someone; it is not a word of the sentence
        if raw_tokens and "?" in lowered[end : match.start()]:
            questions.append(len(raw_tokens) - 1)
        if not raw_tokens or _BOUNDARY.search(lowered, end, match.start()):
            starts.add(len(raw_tokens))
        raw_tokens.append(match.group(0))
        end = match.end()
    if len(raw_tokens) > 1 and 1 not in starts and _VOCATIVE.match(plain):
        starts.add(1)  # "Sam, did the reversals clear?": the sentence starts after the name
    if raw_tokens and "?" in lowered[end:]:
        questions.append(len(raw_tokens) - 1)
    tokens = tuple(fold(token) for token in raw_tokens)
    lemmas = tuple(lemma_of(token) for token in tokens)
    return Analysis(plain, folded, matchable(plain), tokens, lemmas, language, frozenset(starts), tuple(questions))
