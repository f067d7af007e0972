"""HY105 incomplete-message."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from pydantic import Field

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable, strip_emoji
from rules.phrases import PhraseSet, phrases_for

_PUNCT = re.compile(r"[?!.,;:…()\-\"*_~]+")
_PERSON = re.compile(r"^\s*@\S+")

NUDGE = {
    "pt": (
        "Oi! Por aqui as mensagens são assíncronas e completas: conte o contexto, o pedido e o que "
        "você espera, tudo na mesma mensagem, e quem puder responde."
    ),
    "en": (
        "Hi! Messages here are asynchronous and complete: give the context, the ask and what you "
        "expect in one message, and whoever can will answer."
    ),
}


class HY105(Rule):
    """Flags a bare greeting or "got a minute?" that nothing followed.

    What it does:
        Fires on a message that is only a greeting or a request for attention ("oi", "bom dia,
        tem um minuto?", "hey, got a sec?", "oi @marina") when its author adds nothing to the
        same conversation within ``grace_minutes``. A courtesy to everyone ("Bom dia,
        pessoal!") is not an unfinished ask and is left alone.

    Why it matters:
        Chat is asynchronous. A bare "oi" makes the other person stop, answer and wait for the
        real question; a complete message (context, the ask, what you expect) can be answered
        at once by whoever is free.

    Examples:
        Fires (when nothing follows):
            Oi, tem um minuto?
            oi @marina
            hey, got a sec?
        Does not fire:
            Bom dia, pessoal! (a courtesy to everyone, not an unfinished ask)
            Oi! Pode conferir a guia do DAS da Brascont? Vence amanhã.
            Bom dia, tem um minuto? (followed by the question two minutes later)
            Hi team, quick question: where is the onboarding checklist?
    """

    code = "HY105"
    name = "incomplete-message"
    summary = "A greeting or 'got a minute?' with nothing after it"
    default_mode = Mode.NUDGE
    phrase_lists = ("greeting", "call", "group", "ask")

    class Settings(RuleSettings):
        grace_minutes: float = Field(5, ge=0, description="How long the author has to complete the message.")

    def grace(self, settings: RuleSettings) -> timedelta:
        assert isinstance(settings, HY105.Settings)
        return timedelta(minutes=settings.grace_minutes)

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY105.Settings)
        bare, shape = _shaped(message.plain, phrases_for(self.code, settings))
        if shape is None:
            return Verdict.no("says something beyond a greeting")
        grace = timedelta(minutes=settings.grace_minutes)
        followed = [m for m in ctx.following(message, grace) if m.user == message.user]
        if followed:
            return Verdict.no(f"completed by the author {(followed[0].at - message.at).total_seconds():.0f}s later")
        language = guess_language(matchable(message.plain))
        evidence = {"phrases": [bare], "shape": shape, "grace_minutes": settings.grace_minutes, "language": language}
        return Verdict.yes(0.9, evidence, NUDGE[language])


@lru_cache(maxsize=8192)
def _shaped(plain: str, phrases: PhraseSet) -> tuple[str, str | None]:
    """The message's words without emoji and punctuation, and their shape (once per text: "ok", "bom dia"
    and "+1" come back all day)."""
    bare = re.sub(r"\s+", " ", _PUNCT.sub(" ", matchable(strip_emoji(plain)))).strip()
    return bare, bare_shape(bare, phrases)


def bare_shape(bare: str, phrases: PhraseSet) -> str | None:
    """How a folded, punctuation-free text is incomplete, or None when it says something.

    ``ask`` ("tem um minuto?"), ``greeting-to-person`` ("oi @ana") or ``call`` ("oi").
    """
    rest, greeting, person, group, ask = bare, "", False, False, False
    for pattern in phrases.lists.get("greeting", ()):
        if match := pattern.match(rest):
            greeting, rest = match.group(0), rest[match.end() :]
            break
    while True:
        if match := _PERSON.match(rest):
            person, rest = True, rest[match.end() :]
        elif match := _first_match(phrases, "group", rest):
            group, rest = True, rest[match.end() :]
        elif not ask and (match := _first_match(phrases, "ask", rest)):
            ask, rest = True, rest[match.end() :]
        else:
            break
    if rest.strip():
        return None
    if ask:
        return "ask"
    if greeting and person:
        return "greeting-to-person"
    if greeting and not group and phrases.any("call", greeting.strip()):
        return "call"
    return None


def _first_match(phrases: PhraseSet, name: str, text: str) -> re.Match[str] | None:
    for pattern in phrases.lists.get(name, ()):
        if match := pattern.match(text):
            return match
    return None
