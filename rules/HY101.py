"""HY101 request-in-chat."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from hygiene.clients import ClientMatcher
from hygiene.models import ChatMessage, Finding, Mode
from hygiene.ports import RuleContext
from hygiene.refs import find_refs
from hygiene.rulebase import Rule, RuleSettings
from hygiene.text import fold, guess_language
from rules.phrases import load_phrases

NUDGE = {
    "pt": (
        "Isso parece um pedido de cliente{client}. Pelo nosso combinado, o que precisa ser feito "
        "ou verificado vira atendimento, para não se perder no chat. Se já existe, responda aqui "
        "com o número do atendimento."
    ),
    "en": (
        "This looks like a client request{client}. Our rule: anything to do or check for a client "
        "is a ticket, so it does not get lost in chat. If there is one already, reply here with "
        "its number."
    ),
}
OPEN_TICKETS = {
    "pt": " {client} já tem atendimento aberto: {tickets}. Se for o mesmo assunto, registre lá.",
    "en": " {client} already has an open ticket: {tickets}. If this is the same matter, record it there.",
}


class HY101(Rule):
    """Flags a client request made in chat with no ticket behind it.

    What it does:
        Fires on a message that asks for something to be done or checked for a client — a
        request phrase together with a client (the word "cliente"/"customer" or a client name
        known to the helpdesk) or client work (a nota fiscal, a guia, an invoice, seats) — when
        neither the message nor its thread names a ticket. It waits ``grace_minutes`` so that
        someone can answer with the ticket number first.

    Why it matters:
        Work asked for in chat has no owner, no due date and no history. The teams' rule is
        that everything to do or check for a client is a ticket ("atendimento"); in doubt, it
        is a ticket.

    Examples:
        Fires:
            O cliente Brascont pediu a segunda via do boleto de março.
            Pode verificar se a nota da Padaria Pão Quente foi emitida?
            Customer Acme wants two more seats on their plan.
        Does not fire:
            Atualizei o atendimento 4521 com o retorno da Receita.
            Como faço para exportar o relatório de horas?
            I opened ticket 8830 for Acme's renewal.
            Parabéns pelo fechamento do mês, time!
    """

    code = "HY101"
    name = "request-in-chat"
    summary = "A client request made in chat with no ticket referenced"
    default_mode = Mode.NUDGE

    class Settings(RuleSettings):
        grace_minutes: float = Field(5, ge=0, description="Wait this long for a ticket reference.")
        min_score: float = Field(0.7, ge=0, le=1, description="Fire at or above this score.")
        client_aliases: dict[str, str] = Field(
            default_factory=dict, description="Other names people use for a client: alias → client."
        )

    def grace(self, settings: RuleSettings) -> timedelta:
        assert isinstance(settings, HY101.Settings)
        return timedelta(minutes=settings.grace_minutes)

    def check(self, message: ChatMessage, ctx: RuleContext) -> Finding | None:
        settings = self.settings_for(message)
        assert isinstance(settings, HY101.Settings)
        if message.is_reply or settings.mode == Mode.OFF:
            return None
        folded = fold(message.plain)
        if len(folded) < 15 or self._ticket_in_thread(message, ctx):
            return None
        language = guess_language(folded)
        phrases = load_phrases(self.code)[language]
        if phrases.matches("not_request", folded):
            return None
        request = phrases.matches("request", folded)
        if not request:
            return None
        client_words = phrases.matches("client", folded)
        work = phrases.matches("work", folded)
        known = self._matcher(ctx.tickets.clients(), settings.client_aliases).find(message.plain)
        score = 0.45 + (0.3 if client_words else 0) + (0.3 if known else 0) + (0.15 if work else 0)
        score += 0.05 * min(len(request) - 1, 2)
        if score < settings.min_score or not (client_words or known):
            return None
        client = known.client if known else None
        open_tickets = ctx.tickets.open_for_client(client)[:3] if client else []
        says = NUDGE[language].format(client=f" ({client})" if client else "")
        if client and open_tickets:
            listed = ", ".join(f"#{t.reference} ({t.subject})" for t in open_tickets)
            says += OPEN_TICKETS[language].format(client=client, tickets=listed)
        return self.finding(
            message,
            score=min(score, 1.0),
            evidence={
                "phrases": request + client_words + work,
                "client": client,
                "client_score": round(known.score / 100, 2) if known else None,
                "ticket": None,
                "open_tickets": [t.reference for t in open_tickets],
                "language": language,
            },
            says=says,
        )

    def _matcher(self, clients: list[str], aliases: dict[str, str]) -> ClientMatcher:
        """One matcher per client list: building it folds every name, so it is kept between messages."""
        key = (tuple(clients), tuple(sorted(aliases.items())))
        if getattr(self, "_matcher_key", None) != key:
            self._matcher_key = key
            self._matcher_cache = ClientMatcher(clients, aliases)
        return self._matcher_cache

    @staticmethod
    def _ticket_in_thread(message: ChatMessage, ctx: RuleContext) -> bool:
        if ctx.linked_tickets(message):
            return True
        return any(find_refs(item.plain, ctx.url_patterns) for item in ctx.thread(message) if not item.is_bot)
