"""HY303 agent-incomplete-message."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable, strip_emoji
from rules.phrases import PhraseSet, phrases_for

_PUNCT = re.compile(r"[?!.,;:…()\-\"*_~]+")

COACH = {
    "pt": (
        "Dica: para o cliente, uma mensagem completa resolve mais rápido. Depois do cumprimento, diga "
        "no mesmo envio o que precisa dele (documento, prazo, dúvida), para ele responder de uma vez."
    ),
    "en": (
        "Tip: a complete message gets a client's answer sooner. After the greeting, say in the same "
        "message what you need (document, deadline, question), so they can answer at once."
    ),
}


class HY303(Rule):
    """Coaches an agent who greeted a client and said nothing else.

    What it does:
        Judges what agents write to clients (a conversation in Digisac). Fires on an agent's
        message that is only a greeting, a courtesy or an attention ask ("oi, tudo bem?",
        "Bom dia, Sr. Antônio!", "hi, do you have a minute?") when the same agent adds nothing
        to the conversation within ``grace_minutes`` (HY105's idea, with the courtesies an
        agent uses with a client). Report only by default; as a nudge it is an internal note in
        the conversation, which the client never receives.

    Why it matters:
        The rulebook: agents ask everything they need in one complete message. A bare greeting
        makes the client answer and wait, and the real question arrives when they have gone.

    Examples:
        Fires (when nothing follows):
            oi, tudo bem?
            Hi, do you have a minute?
        Does not fire:
            Oi, tudo bem? Preciso do extrato de setembro para fechar a guia até sexta.
            oi, tudo bem? (followed by the question a minute later)
            Hello! Your October invoice is attached.
    """

    code = "HY303"
    name = "agent-incomplete-message"
    summary = "An agent's bare greeting to a client with nothing after it"
    default_mode = Mode.REPORT
    judges_client_side = True
    tells_team = "conversation"
    phrase_lists = ("greeting", "ask")

    class Settings(RuleSettings):
        grace_minutes: float = Field(5, ge=0, description="How long the agent has to complete the message.")

    def grace(self, settings: RuleSettings) -> timedelta:
        assert isinstance(settings, HY303.Settings)
        return timedelta(minutes=settings.grace_minutes)

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY303.Settings)
        if message.author_side != "agent":
            return Verdict.no("not an agent's message to a client")
        bare = re.sub(r"\s+", " ", _PUNCT.sub(" ", matchable(strip_emoji(message.plain)))).strip()
        said = greeting_only(bare, phrases_for(self.code, settings))
        if not said:
            return Verdict.no("says something beyond a greeting")
        grace = timedelta(minutes=settings.grace_minutes)
        followed = [m for m in ctx.following(message, grace) if m.user == message.user]
        if followed:
            return Verdict.no(f"completed by the agent {(followed[0].at - message.at).total_seconds():.0f}s later")
        language = guess_language(matchable(message.plain))
        evidence = {"phrases": said, "grace_minutes": settings.grace_minutes, "language": language}
        return Verdict.yes(0.85, evidence, COACH[language])


def greeting_only(bare: str, phrases: PhraseSet) -> list[str]:
    """The greetings and asks a folded, punctuation-free text is made of, or [] when it says more."""
    rest, said = bare, []
    while rest.strip():
        match = next(
            (m for name in ("greeting", "ask") for p in phrases.lists.get(name, ()) if (m := p.match(rest))),
            None,
        )
        if match is None or not match.group(0).strip():
            return []
        said.append(match.group(0).strip())
        rest = rest[match.end() :]
    return said
