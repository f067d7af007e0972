"""The lemma table rules read: every inflected form of the words the cue lists use.

Loading a full lemmatizer costs ~120 MB and a few microseconds a word; the cues only need their
own words. ``rules/data/lemmas.json`` maps each form of every cue word ("saiu", "saíram",
"sairá" → ``sair``; "fixed", "fixing" → ``fix``) in both languages, folded. It is generated
from simplemma's dictionaries by :func:`write` whenever ``speech.toml`` changes (a
test checks that it is current). Words a team adds in the TOML that the table does not know are
expanded with simplemma when the rules are built, so only such a config pays for it.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from hygiene.text import fold

LANGUAGES = ("pt", "en")
DATA = Path(__file__).parent / "data" / "lemmas.json"
SPEECH = Path(__file__).parent / "data" / "speech.toml"


@cache
def table() -> dict[str, str]:
    """Folded form → folded lemma, both languages (Portuguese wins a form both have)."""
    data = json.loads(resources.files("rules").joinpath("data", "lemmas.json").read_text(encoding="utf-8"))
    merged: dict[str, str] = {}
    for language in reversed(LANGUAGES):
        merged.update(data["forms"][language])
    return merged


_ADDED: dict[str, str] = {}


@lru_cache(maxsize=100_000)  # chat repeats its words; emptied when learn() adds forms
def lemma_of(token: str) -> str:
    """The folded lemma of a folded token (the token itself when no cue word has it as a form).

    A form the dictionaries lack ("protocolou") is found by the regular endings of verbs in both
    languages, when that gives a cue word's lemma.
    """
    found = _ADDED.get(token) or table().get(token)
    if found:
        return found
    for ending, replacement in _ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 3:
            candidate = token[: -len(ending)] + replacement
            if candidate in _lemmas():
                return candidate
    return token


# Regular inflections: Portuguese -ar/-er/-ir verbs (past, participle, gerund), English -ed/-ing/-s.
_ENDINGS = (
    ("aram", "ar"), ("ou", "ar"), ("ado", "ar"), ("ada", "ar"), ("ados", "ar"), ("adas", "ar"), ("ando", "ar"),
    ("ei", "ar"), ("a", "ar"), ("am", "ar"), ("eram", "er"), ("eu", "er"), ("endo", "er"), ("e", "er"),
    ("em", "er"), ("iram", "ir"), ("iu", "ir"), ("indo", "ir"), ("ido", "ir"), ("ida", "ir"), ("ido", "er"),
    ("ida", "er"), ("ied", "y"), ("ies", "y"), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("s", ""),
)  # fmt: skip


@cache
def _lemmas() -> frozenset[str]:
    return frozenset(table().values()) | frozenset(_ADDED.values())


def learn(words: Iterable[str]) -> None:
    """Make the forms of configured cue words known (loads simplemma once, only when needed)."""
    known = set(table().values()) | set(table()) | set(_ADDED.values())
    missing = {word for word in words if word not in known}
    if not missing:
        return
    _ADDED.update({form: lemma for form, lemma in expand(missing).items() if form not in table()})
    from rules.analysis import analyze

    global _learned
    _lemmas.cache_clear()
    lemma_of.cache_clear()
    analyze.cache_clear()
    _learned += 1


_learned = 0


def learned() -> int:
    """How many times :func:`learn` added forms: what was judged on the table before is stale."""
    return _learned


def cue_words(cues: dict[str, dict[str, list[str]]]) -> set[str]:
    """The plain words of cue lists (no ``=exact``, ``prefix*``, ``...`` or ``^``)."""
    found: set[str] = set()
    for lists in cues.values():
        for phrases in lists.values():
            for phrase in phrases:
                for part in phrase.split():
                    found |= {w for w in part.split("|") if w and w not in ("...", "^") and not w.startswith("=")}
    return {w for w in found if not w.endswith("*") and not w.startswith("*")}


def expand(words: Iterable[str], languages: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """Every form of each word's lemma, from simplemma's dictionaries (slow: loads them)."""
    import simplemma
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    words = list(words)
    forms: dict[str, str] = {}
    for language in languages:
        wanted = {fold(simplemma.lemmatize(word, lang=language)) for word in words} | set(words)
        for form, lemma in factory.get_dictionary(language).items():
            folded_lemma = fold(str(lemma))
            if folded_lemma in wanted and str(form).islower() and " " not in str(form):
                forms.setdefault(fold(str(form)), folded_lemma)
    return dict(sorted(forms.items()))


def build(speech: Path) -> dict[str, object]:
    cues = tomllib.loads(speech.read_text(encoding="utf-8"))
    words = sorted(cue_words(cues))
    return {"words": words, "forms": {language: expand(words, (language,)) for language in LANGUAGES}}


def render(result: dict[str, object]) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n"


def write() -> None:
    """Regenerate the table: ``python -c 'from rules.lemmas import write; write()'``."""
    result = build(SPEECH)
    DATA.write_text(render(result), encoding="utf-8")
    print(f"{DATA}: {len(result['words'])} cue words", file=sys.stderr)  # type: ignore[arg-type]
