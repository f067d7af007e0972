"""HY106 thread-off-ticket."""

from __future__ import annotations

from pydantic import Field

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.phrases import phrases_for
from rules.signals import client_signal, thread_refs

NUDGE = {
    "pt": (
        "Esta conversa{client} já tem {replies} respostas e nenhum atendimento. O que foi combinado "
        "aqui precisa estar no atendimento: registre lá e responda com o número para vincular."
    ),
    "en": (
        "This conversation{client} has {replies} replies and no ticket. What was agreed here belongs "
        "on the ticket: record it there and reply with the number to link it."
    ),
}


class HY106(Rule):
    """Flags a long client thread that no ticket records.

    What it does:
        Fires on the first message of a thread that has ``min_replies`` replies or more from
        people, when the thread is about a client (a client the helpdesk knows, or the words
        "cliente"/"customer") and neither the thread nor a link names a ticket. It fires once
        per thread, when the thread crosses the threshold.

    Why it matters:
        A long thread about a client is a decision log nobody will find again. What was agreed
        belongs on the ticket, where the next person will look.

    Examples:
        Fires:
            A Auto Peças Silva quer mudar para o lucro presumido… (8 replies, no ticket)
            Globex wants to move their renewal date… (10 replies, no ticket)
        Does not fire:
            … (8 replies, one of them "abri o atendimento 4600")
            Quem vai no futebol quinta? (20 replies, no client)
    """

    code = "HY106"
    name = "thread-off-ticket"
    summary = "A client thread past N replies with no ticket linked"
    default_mode = Mode.NUDGE

    class Settings(RuleSettings):
        min_replies: int = Field(6, ge=2, description="Fire when a client thread reaches this many replies.")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY106.Settings)
        if message.is_reply:
            return Verdict.no("judged on the thread's first message")
        replies = [m for m in ctx.thread(message) if m.id != message.id and not m.is_bot]
        if len(replies) < settings.min_replies:
            return Verdict.no(f"{len(replies)} replies, fewer than min_replies {settings.min_replies}")
        if refs := thread_refs(message, ctx):
            return Verdict.no(f"the thread names a ticket ({refs[0].matched})")
        if ctx.linked_tickets(message):
            return Verdict.no("the thread is linked to a ticket")
        everything = " ".join(m.plain for m in [message, *replies])
        signal = client_signal(everything, matchable(everything), ctx, phrases_for("HY101", RuleSettings()))
        if not signal.score:
            return Verdict.no("not about a client")
        language = guess_language(matchable(message.plain))
        client = f" ({signal.client})" if signal.client else ""
        evidence = {"phrases": signal.words, "client": signal.client, "replies": len(replies)}
        return Verdict.yes(0.85, evidence, NUDGE[language].format(client=client, replies=len(replies)))

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """Only a thread's first message can fire."""
        return not message.is_reply
