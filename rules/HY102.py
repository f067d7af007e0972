"""HY102 status-question."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from hygiene.models import ChatMessage, Mode, Ticket
from hygiene.ports import RuleContext
from hygiene.refs import find_refs
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.analysis import analyze
from rules.phrases import phrases_for
from rules.signals import speech_inputs
from rules.speech import Judgement, SpeechSettings, event_question, judge, scan, status_cues, subject_fit

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
    answers_status = True
    phrase_lists = ("status", "asking", "check_request")

    class Settings(SpeechSettings):
        stale_after_hours: float = Field(
            48, gt=0, description="Only without SLA policies at hand: ask for an update past these hours."
        )
        min_score: float = Field(0.7, ge=0, le=1, description="Fire at or above this score.")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY102.Settings)
        judgement = judge(message, ctx, speech_inputs(settings, status=phrases_for(self.code, settings)))
        if judgement.act != "status" and message.is_reply:
            judgement = _about_the_thread(message, ctx, settings) or judgement
        if judgement.act != "status":
            request = f" ({judgement.reason}: HY101's case)" if judgement.act == "request" else ""
            return Verdict.no(f"not a progress question{request}", phrases=judgement.cues)
        tickets = [ctx.tickets.by_ref(t.id) or t for t in judgement.tickets]  # read live for the answer
        language = guess_language(matchable(message.plain))
        evidence = {
            "phrases": judgement.cues,
            "ticket": tickets[0].reference if tickets else judgement.typed_ref,
            "tickets": [t.reference for t in tickets],
            "client": tickets[0].client if tickets else None,
            "status": tickets[0].status if tickets else None,
            "referent": judgement.referent,
            "language": language,
        }
        if judgement.score < settings.min_score:
            return Verdict.no(
                f"score {judgement.score:.2f} below min_score {settings.min_score}", judgement.score, **evidence
            )
        if not tickets:
            return Verdict.yes(judgement.score, evidence, UNKNOWN_TICKET[language].format(ref=judgement.typed_ref))
        says = " ".join(self._answer(ticket, language, ctx, settings) for ticket in tickets)
        return Verdict.yes(judgement.score, evidence, says + HABIT[language])

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
            return says
        age = ctx.now - _aware(updated, ctx) if updated else None
        if ticket.is_active and age is not None and age > timedelta(hours=settings.stale_after_hours):
            says += STALE[language].format(owner=owner, age=_span(age, language))
        return says


def _about_the_thread(message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Judgement | None:
    """A reply that asks how things stand ("e o darf, saiu?"), in a thread whose earlier messages
    name a ticket, or a client whose open ticket(s) the thread is about."""
    inputs = speech_inputs(settings, status=phrases_for("HY102", settings))
    analysis = analyze(message.plain)
    if not analysis.asks:  # a reply that answers ("sai hj a tarde") asks nothing
        return None
    hits = scan(analysis, inputs)
    cues = status_cues(analysis, hits, inputs.status) or event_question(analysis, hits, bool(hits.get("ask")))
    if not cues:
        return None
    earlier = [m for m in ctx.thread(message) if m.at < message.at and not m.is_bot]
    for item in earlier:
        for ref in find_refs(item.plain, ctx.url_patterns):
            ticket = ctx.tickets.known(ref.key)
            if ticket is not None:
                referent = {"kind": "ticket", "value": ticket.reference, "score": 0.85, "how": "named in the thread"}
                return Judgement(
                    "status", "asks how the thread's ticket stands", cues, (ticket,), None, None, referent, 0.85
                )
    for item in earlier:
        client = ctx.tickets.find_client(item.plain)
        open_tickets = ctx.tickets.open_for_client(client.client, message.at, ctx.zone) if client else []
        if client is None or not open_tickets:
            continue
        fitting = subject_fit(analyze(f"{item.plain} {message.plain}"), open_tickets, client)
        chosen = tuple(fitting[:2]) or (tuple(open_tickets) if len(open_tickets) <= 2 else ())
        if chosen:
            referent = {"kind": "client", "value": client.client, "how": "named in the thread", "score": 0.8}
            return Judgement(
                "status", "asks how the thread's client work stands", cues, chosen, None, client, referent, 0.8
            )
        return None
    return None


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
