"""HY102 status-question."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import Field

from hygiene.models import ChatMessage, Mode, Ticket
from hygiene.ports import RuleContext
from hygiene.refs import TICKET_WORDS, find_refs
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import fold, guess_language, matchable, words
from rules.phrases import phrases_for

STATUS_NAMES = {
    "pt": {"open": "aberto", "pending": "pendente", "solved": "resolvido", "closed": "fechado"},
    "en": {"open": "open", "pending": "pending", "solved": "solved", "closed": "closed"},
}
ANSWER = {
    "pt": "Atendimento #{ref} ({subject}): *{status}*, responsável {owner}, última atualização {updated}.{link}",
    "en": "Ticket #{ref} ({subject}): *{status}*, owner {owner}, last updated {updated}.{link}",
}
STALE = {
    "pt": " {owner}, o atendimento está sem atualização há {age}: pode registrar o andamento nele?",
    "en": " {owner}, the ticket has had no update for {age}: could you record the progress on it?",
}
STALE_SLA = {
    "pt": (
        " {owner}, o atendimento está há {age} h úteis sem atualização (SLA {sla} h): pode registrar o andamento nele?"
    ),
    "en": (
        " {owner}, the ticket has gone {age} business hours without an update (SLA {sla} h): "
        "could you record the progress on it?"
    ),
}
HABIT = {
    "pt": " Da próxima vez, o andamento está no próprio atendimento.",
    "en": " Next time, the progress is on the ticket itself.",
}
UNKNOWN_TICKET = {
    "pt": (
        "O andamento do atendimento {ref} fica no próprio atendimento: confira lá ou peça ao "
        "responsável que o atualize."
    ),
    "en": "The progress of ticket {ref} lives on the ticket: check it there, or ask its owner to update it.",
}


# "o 4533 foi resolvido?": a plain number counts when the helpdesk has a ticket with that number.
_BARE_NUMBER = re.compile(r"(?<![\w.,/#$-])(\d{3,7})(?![\w.,/%-])")


class HY102(Rule):
    """Answers a question about the progress of tracked work from the ticket itself.

    What it does:
        Fires on a question about how tracked work is going — "como está", "alguma novidade",
        "já saiu?", "any update on", "is … done yet" — that names a ticket (``#4521``,
        ``atendimento 4521``, a helpdesk link) or a client with an open ticket ("já resolveram a
        NF da padaria?"). The reply gives the ticket's status, owner, last update and link, and
        when the ticket is past its SLA update window (business time, as HY201 measures it; where
        no SLA book is at hand, ``stale_after_hours`` of wall-clock time) it asks the owner to
        record the progress on it. Numbers that are not tickets in the helpdesk are left alone; without
        a helpdesk, only references spelled as tickets ("chamado 4521") count.

    Why it matters:
        The rulebook: don't ask in chat how a ticket is going, look at the ticket; if the
        ticket is not up to date, ask its owner to update the ticket. Answering from the ticket
        saves the owner an interruption and teaches where the answer lives.

    Examples:
        Fires:
            Como está o atendimento 4521?
            Já resolveram a NF da padaria?
            Any update on #8810?
            Is the Acme SSO setup done yet?
        Does not fire:
            Como está o trânsito aí?
            Any update on the office wifi?
            Atualizei o atendimento 4521 com o retorno da Receita.
    """

    code = "HY102"
    name = "status-question"
    summary = "A question about the progress of tracked work, answered from the ticket"
    default_mode = Mode.NUDGE
    phrase_lists = ("status", "asking", "check_request")

    class Settings(RuleSettings):
        stale_after_hours: float = Field(
            48, gt=0, description="Only without SLA policies at hand: ask for an update past these hours."
        )
        min_score: float = Field(0.7, ge=0, le=1, description="Fire at or above this score.")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY102.Settings)
        text = matchable(message.plain)
        phrases = phrases_for(self.code, settings)
        status = phrases.matches("status", text)
        if not status:
            return Verdict.no("not a progress question")
        is_question = (
            "?" in message.plain
            or phrases.any("asking", text)
            or any(s.startswith(("any ", "alguma", "novidade", "status", "where are we")) for s in status)
        )
        if not is_question:
            return Verdict.no("not phrased as a question", phrases=status)
        ticket, matched, score = self._tracked_work(message, ctx)
        if ticket is None and matched is None:
            return Verdict.no("names no ticket and no client with an open ticket", phrases=status)
        if matched is None and (check := phrases.matches("check_request", text)):
            return Verdict.no(f"asks someone to check ({check[0]!r}): a request, HY101's case", phrases=status)
        language = guess_language(text)
        evidence = {
            "phrases": status,
            "ticket": ticket.reference if ticket else matched,
            "client": ticket.client if ticket else None,
            "status": ticket.status if ticket else None,
            "language": language,
        }
        if score < settings.min_score:
            return Verdict.no(f"score {score:.2f} below min_score {settings.min_score}", score, **evidence)
        says = self._answer(ticket, language, ctx, settings) if ticket else UNKNOWN_TICKET[language].format(ref=matched)
        return Verdict.yes(score, evidence, says)

    def _tracked_work(self, message: ChatMessage, ctx: RuleContext) -> tuple[Ticket | None, str | None, float]:
        """The ticket the question is about (or, without a helpdesk, the reference typed) and a score."""
        for ref in find_refs(message.plain, ctx.url_patterns):
            ticket = ctx.tickets.by_ref(ref.key)
            if ticket is not None:
                return ticket, ref.key, 0.95
            if not len(ctx.tickets) and any(word in TICKET_WORDS for word in words(fold(ref.matched))):
                return None, ref.key, 0.8
        for number in _BARE_NUMBER.findall(message.plain):
            ticket = ctx.tickets.by_ref(number)
            if ticket is not None:
                return ticket, number, 0.85
        client = ctx.tickets.find_client(message.plain)
        if client is None:
            return None, None, 0.0
        open_tickets = ctx.tickets.open_for_client(client.client)
        if not open_tickets:
            return None, None, 0.0
        return _best_subject_match(open_tickets, message.plain), None, 0.6 + 0.3 * client.score

    def _answer(self, ticket: Ticket, language: str, ctx: RuleContext, settings: HY102.Settings) -> str:
        updated = ticket.updated_at or ticket.created_at
        link = f" {ticket.url}" if ticket.url else ""
        says = ANSWER[language].format(
            ref=ticket.reference,
            subject=ticket.subject,
            status=STATUS_NAMES[language][ticket.status],
            owner=ticket.assignee or ("ninguém" if language == "pt" else "nobody"),
            updated=_when(updated, ctx) if updated else "—",
            link=link,
        )
        owner = ticket.assignee or ("responsável" if language == "pt" else "owner")
        sla = ctx.staleness(ticket)
        if sla is not None:
            if sla.stale:
                says += STALE_SLA[language].format(
                    owner=owner, age=_hours(sla.age, language), sla=_hours(sla.window, language)
                )
            return says + HABIT[language]
        age = ctx.now - _aware(updated, ctx) if updated else None
        if ticket.is_active and age is not None and age > timedelta(hours=settings.stale_after_hours):
            says += STALE[language].format(owner=owner, age=_span(age, language))
        return says + HABIT[language]


def _best_subject_match(tickets: list[Ticket], plain: str) -> Ticket:
    """Among a client's open tickets, the one whose subject shares most words with the question."""
    asked = {w for w in words(fold(plain)) if len(w) > 3}
    return max(tickets, key=lambda t: len(asked & set(words(fold(t.subject)))))


def _aware(moment: datetime, ctx: RuleContext) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ctx.zone)


def _when(moment: datetime, ctx: RuleContext) -> str:
    return f"{_aware(moment, ctx).astimezone(ctx.zone):%d/%m %H:%M}"


def _hours(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "pt" else text


def _span(age: timedelta, language: str) -> str:
    days = age.days
    if days >= 1:
        return f"{days} dia{'s' if days > 1 else ''}" if language == "pt" else f"{days} day{'s' if days > 1 else ''}"
    hours = int(age.total_seconds() // 3600)
    return f"{hours} h"
