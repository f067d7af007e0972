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
_FULL_STOP = re.compile(r"[.!?;\n]")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,7}\b")
# "Velo cargo bike type, has the config gone in?": after a topic and a comma, the question starts.
_YES_NO = frozenset("did has have is are".split())  # noqa: SIM905
_OBJECTS = frozenset("them him her me us you it this that".split())  # noqa: SIM905


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
    opener: int = 0
    """Index of the first word of the first sentence: 1 after a name the message is addressed to."""
    asides: frozenset[int] = frozenset()
    """Sentence starts that only open a parenthesis or a dash: "(MEI)?" still ends the question."""
    acronyms: frozenset[str] = frozenset()
    """Words written in capitals ("DAS", "FGTS", "ISS"), folded: names of work even when they spell a
    common word ("das")."""

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
    asides: set[int] = set()
    topics: list[int] = []
    for match in _TOKEN.finditer(lowered):
        start = match.start()
        if start and lowered[start - 1] == "@":
            continue  # a mention names someone; it is not a word of the sentence
        word = match.group(0)
        if not raw_tokens:
            starts.add(0)
        elif (gap := lowered[end:start]) != " ":  # one space between words, the most of chat, holds no mark
            if "?" in gap:
                questions.append(len(raw_tokens) - 1)
            if word in _YES_NO and "," in gap:
                topics.append(len(raw_tokens))
            if _BOUNDARY.search(gap):
                starts.add(len(raw_tokens))
                if not _FULL_STOP.search(gap):
                    asides.add(len(raw_tokens))
        raw_tokens.append(word)
        end = match.end()
    opener = 0
    if len(raw_tokens) > 1 and (_VOCATIVE.match(plain) or _addressed(raw_tokens, "?" in lowered)):
        starts.add(1)  # "Sam, did the reversals clear?": the sentence starts after the name
        opener = 1
    # "Velo cargo bike type, has the config gone in?": after a topic and a comma, a question starts
    # ("…, have them clear the cache" is an imperative, not a question)
    starts.update(i for i in topics if i + 1 < len(raw_tokens) and raw_tokens[i + 1] not in _OBJECTS)
    if raw_tokens and "?" in lowered[end:]:
        questions.append(len(raw_tokens) - 1)
    # "é" (is) is not "e" (and): "…? é o mesmo problema" does not open "e o …?"
    tokens = tuple("eh" if token == "é" else _folded(token) for token in raw_tokens)
    lemmas = tuple(lemma_of(token) for token in tokens)
    return Analysis(
        plain,
        folded,
        matchable(plain),
        tokens,
        lemmas,
        language,
        frozenset(starts),
        tuple(questions),
        opener,
        frozenset(asides),
        frozenset(fold(word) for word in _ACRONYM.findall(plain)),
    )


_folded = lru_cache(maxsize=100_000)(fold)
"""A token folded (chat repeats its words)."""


def _addressed(raw_tokens: list[str], asks: bool) -> bool:
    """A first word that names whom the message is for, with no comma: "Dani como estamos com…",
    "jake how's the … coming along": a short word that is no word of the sentence, before a word
    that opens a question."""
    first, second = fold(raw_tokens[0]), fold(raw_tokens[1])
    if second in _ASKED_ONLY and not asks:
        return False  # "pão e o café": "e" joins two words unless the message asks ("Ju e o balancete?")
    if first in _HAILS:
        return second in _QUESTION_WORDS or second in _ASKED_ONLY  # "hey did the fix go out?"
    if second in _BE and (len(raw_tokens) < 3 or fold(raw_tokens[2]) not in _SUBJECTS):
        return False  # "Initech is threatening to cancel…?" tells of Initech; "Devon is the fix in?" asks Devon
    return second in _QUESTION_WORDS or (
        second in _ASKED_ONLY and 2 <= len(first) <= 12 and first not in _NOT_A_NAME and first.isalpha()
    )


# Words that open a question right after the name of the person asked.
_QUESTION_WORDS = frozenset(
    "como cade kd alguma algum how how's hows any anything where where's wheres what's whats".split()  # noqa: SIM905
)
# Words that open a question after a name only when the message asks ("Lauren did Lakeside get…?").
_ASKED_ONLY = frozenset(["e", "did", "has", "have", "is", "are"])
_BE = frozenset(["is", "are"])
# What a question put to someone by name goes on with after "is": "Devon is the crash fix going into 4.12.1?".
_SUBJECTS = frozenset("the a an this that it there anyone anybody someone we they their our".split())  # noqa: SIM905
# Words that hail before a question as a name does: "hey did the fix go out?".
_HAILS = frozenset(["hey", "hi", "oi", "ola"])
# Words a sentence starts with that are not a name.
_NOT_A_NAME = frozenset(
    """e o a os as um uma mas e ai entao gente pessoal oi ola bom boa so tipo isso esse essa aqui la nao sim
    ok and but so the a an hi hey hello yes no ok just also then well now oh is are did does has have how
    what where when who why can could will would should ja ainda tem""".split()  # noqa: SIM905
)
