"""HY105 incomplete-message."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field

from hygiene.models import ChatMessage, Finding, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings
from hygiene.text import fold, guess_language, strip_emoji

_GREETING = re.compile(
    r"^(?:oi+|ola|opa|ei|e ai|eai|fala|bom dia|boa tarde|boa noite|hi+|hello|hey+|yo|morning|good morning"
    r"|good afternoon|good evening)\b"
)
# Greetings that call someone's attention; "bom dia" alone is a courtesy, not an unfinished ask.
_CALLS = frozenset({"oi", "oii", "oiii", "ola", "opa", "ei", "e ai", "eai", "fala", "hi", "hey", "hello", "yo"})
_PERSON = re.compile(r"^\s*@\S+")
_GROUP = re.compile(r"^\s*(?:pessoal|gente|galera|time|turma|todos|all|team|everyone|folks|guys|there|y'?all)\b")
_ASK = re.compile(
    r"^\s*(?:"
    r"(?:voce |vc |alguem )?(?:tem|teria|tens) (?:um )?(?:minuto|minutinho|segundo|tempinho|tempo)(?: ai)?"
    r"|(?:posso|poderia) (?:te |lhe )?(?:fazer uma pergunta|perguntar uma coisa|tirar uma duvida|falar com voce)"
    r"|(?:pode|podemos|consegue) falar(?: agora)?|(?:alguem|voce|vc) (?:ai|esta ai|ta ai|por ai|online)"
    r"|(?:alguem pode|pode) me ajudar|(?:tenho |tem )?uma duvida|(?:preciso de|queria) uma ajuda"
    r"|preciso falar com voce|posso te ligar"
    r"|(?:have|got|do you have|you have|anyone have) (?:a |one )?(?:sec|second|minute|min|moment)"
    r"|quick question|can i ask (?:you )?(?:something|a question)|(?:are you|you|anyone) (?:there|around|online)"
    r"|can (?:someone|anyone|you) help(?: me)?|ping|need (?:some )?help|can we talk"
    r")\b"
)
_PUNCT = re.compile(r"[?!.,;:…()\-\"']+")

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
        tem um minuto?", "hey, got a sec?") when its author adds nothing to the same
        conversation within ``grace_minutes``.

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

    class Settings(RuleSettings):
        grace_minutes: float = Field(5, ge=0, description="How long the author has to complete the message.")

    def grace(self, settings: RuleSettings) -> timedelta:
        assert isinstance(settings, HY105.Settings)
        return timedelta(minutes=settings.grace_minutes)

    def check(self, message: ChatMessage, ctx: RuleContext) -> Finding | None:
        settings = self.settings_for(message)
        assert isinstance(settings, HY105.Settings)
        bare = _PUNCT.sub(" ", fold(strip_emoji(message.plain)))
        bare = re.sub(r"\s+", " ", bare).strip()
        shape = bare_shape(bare)
        if shape is None:
            return None
        followed = [
            other
            for other in ctx.following(message, timedelta(minutes=settings.grace_minutes))
            if other.user == message.user
        ]
        if followed:
            return None
        language = guess_language(fold(message.plain))
        return self.finding(
            message,
            score=0.9,
            evidence={
                "phrases": [bare],
                "shape": shape,
                "grace_minutes": settings.grace_minutes,
                "language": language,
            },
            says=NUDGE[language],
        )


def bare_shape(bare: str) -> str | None:
    """How a folded, punctuation-free text is incomplete, or None when it says something.

    ``ask`` ("tem um minuto?"), ``greeting-to-person`` ("oi @ana") or ``call`` ("oi").
    """
    rest, greeting, person, group, ask = bare, "", False, False, False
    if match := _GREETING.match(rest):
        greeting, rest = match.group(0), rest[match.end() :]
    while True:
        if match := _PERSON.match(rest):
            person, rest = True, rest[match.end() :]
        elif match := _GROUP.match(rest):
            group, rest = True, rest[match.end() :]
        elif not ask and (match := _ASK.match(rest)):
            ask, rest = True, rest[match.end() :]
        else:
            break
    if rest.strip():
        return None
    if ask:
        return "ask"
    if greeting and person:
        return "greeting-to-person"
    if greeting in _CALLS and not group:
        return "call"
    return None
