"""What the charter rules (HY401–HY403) share: who may post in a chartered channel, how a place
is named in a nudge, how a person is mentioned, and the charter's cue words matched as words."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from hygiene.charters import Charter, Elsewhere
from hygiene.models import ChatMessage
from hygiene.ports import RuleContext
from hygiene.text import fold
from rules.analysis import Analysis
from rules.cues import CueMatcher


def breaches_posting(message: ChatMessage, charter: Charter, ctx: RuleContext) -> bool:
    """Whether a person's message breaks who may post: an automated-only channel, or someone outside
    the charter's ``posters`` groups (where in a thread it may post is the caller's question)."""
    if message.is_bot:
        return False
    if charter.posters and message.user in ctx.people_in(charter.posters):
        return False
    return charter.automated_only or bool(charter.posters)


def place(where: str | None, language: str) -> str:
    """A place to ask as a nudge names it (a default when the charter names none)."""
    if where:
        return where
    return "outro canal" if language == "pt" else "another channel"


def elsewhere_hits(analysis: Analysis, charter: Charter) -> tuple[Elsewhere, list[str]] | None:
    """The first kind of message the charter sends elsewhere whose cues the message holds, with the
    words that matched (cues of both languages, folded, matched on words and lemmas)."""
    if not charter.elsewhere:
        return None
    hits = _matcher(_cue_lists(charter)).scan(analysis)
    for index, kind in enumerate(charter.elsewhere):
        found = hits.get(str(index))
        if found and not hits.get(f"{index}!"):
            return kind, found
    return None


VOCABULARIES_FILE = Path(__file__).parent / "data" / "elsewhere.toml"


@cache
def vocabularies() -> dict[str, dict[str, tuple[str, ...]]]:
    """The shipped vocabularies by name: ``pt`` and ``en`` cues, and ``not`` (what cancels the kind)."""
    data = tomllib.loads(VOCABULARIES_FILE.read_text(encoding="utf-8"))
    return {name: {part: tuple(cues) for part, cues in lists.items()} for name, lists in data.items()}


def _cue_lists(charter: Charter) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per kind ``i``: its own cues (plain words, folded) plus its vocabulary's, and under ``i!`` what
    cancels it."""
    lists: list[tuple[str, tuple[str, ...]]] = []
    for index, kind in enumerate(charter.elsewhere):
        shipped = vocabularies().get(kind.vocabulary or "", {})
        own = tuple(fold(cue) for cue in (*kind.pt, *kind.en))
        lists.append((str(index), own + shipped.get("pt", ()) + shipped.get("en", ())))
        if shipped.get("not"):
            lists.append((f"{index}!", shipped["not"]))
    return tuple(lists)


@cache
def _matcher(lists: tuple[tuple[str, tuple[str, ...]], ...]) -> CueMatcher:
    """One matcher per distinct set of cue lists (a charter's are fixed for the life of the config)."""
    return CueMatcher(dict(lists))
