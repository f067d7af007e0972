"""The folding rules compare text with, and other plain-text helpers.

Chat connectors render their platform's markup to plain text (Slack's in
``connectors/chat/slack/markup.py``); rules judge that plain text, accent- and case-folded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_EMOJI = re.compile(r":[a-z0-9_+\-']+:")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Accent- and case-folded text with collapsed whitespace, for matching."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text.casefold()).strip()


def strip_emoji(text: str) -> str:
    return _SPACES.sub(" ", _EMOJI.sub(" ", text)).strip()


def words(folded: str) -> list[str]:
    """Word tokens of already-folded text (letters and digits, hyphens kept inside words)."""
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", folded)


_PT_MARKERS = frozenset(
    """o a os as de do da dos das que nao e um uma para com por pra esta voce cliente pode obrigado
    obrigada bom dia tarde noite oi ola tem isso ele ela nota mes ja foi ainda eles elas mas em
    na se q pq vc vcs tb hj ta sao""".split()  # noqa: SIM905
)
_EN_MARKERS = frozenset(
    """the a an of to and is are was for with can you please customer client this that it thanks hi
    hello hey got any on we our my your be do does did has have they their them in at after but
    not if from there what when just been will would should i""".split()  # noqa: SIM905
)


def guess_language(folded: str) -> str:
    """``pt`` or ``en`` by counting common words; Portuguese wins ties (the product's home)."""
    tokens = words(folded)
    pt = sum(token in _PT_MARKERS for token in tokens)
    en = sum(token in _EN_MARKERS for token in tokens)
    return "en" if en > pt else "pt"


_APOSTROPHES = re.compile(r"[’'`´]")


@lru_cache(maxsize=8192)
def matchable(text: str) -> str:
    """Folded text with apostrophes as spaces ("what's" → "what s"), as phrase lists expect."""
    return _SPACES.sub(" ", _APOSTROPHES.sub(" ", fold(text))).strip()


MAX_MESSAGE_CHARS = 40_000
"""Slack's own cap on a message's text: longer text is cut to it where messages enter."""


def clip(text: str) -> str:
    """``text`` cut to :data:`MAX_MESSAGE_CHARS` (judging a 5 MB message took 10 s)."""
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS]
