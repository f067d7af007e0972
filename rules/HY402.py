"""HY402 alert-needs-status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from hygiene.business_time import hours
from hygiene.charters import MENTIONED, Charter, StatusDuty
from hygiene.mentions import mention
from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable

ESCALATE = {
    "pt": (
        "{owners}este alerta ({purpose}) pede um status do responsável aqui na thread em até {hours}, "
        "e ainda não tem. {escalate}"
    ),
    "en": (
        "{owners}this alert ({purpose}) needs a status from its owner in this thread within {hours}, "
        "and has none yet. {escalate}"
    ),
}
ESCALATE_TO = {"pt": "Escalando para {who}.", "en": "Escalating to {who}."}


def business_hours(hours: float, language: str) -> str:
    """``1 hora útil`` / ``2 horas úteis`` / ``1 business hour`` …"""
    one = hours == 1
    if language == "en":
        return f"{hours:g} business hour" + ("" if one else "s")
    return f"{hours:g} " + ("hora útil" if one else "horas úteis")


class HY402(Rule):
    """Escalates an automated alert that its owner did not answer with a status in time.

    What it does:
        Judges automated posts (alerts by bots and integrations) in a channel whose charter has a
        ``[charters.<channel>.status]`` duty. When no owner replied in the alert's thread within
        ``within_hours`` business hours (the team's calendar), it replies in the thread
        mentioning the owners and ``escalate_to``. The owners are the people the alert mentions
        (``from = "mentioned"``) or a people group (``from = "sales"``, from ``[people.groups]``).
        A reply by anyone else is not the owner's status.

    Why it matters:
        The rulebook: some alerts need a status from their owner within a time — a
        revenue-at-risk alert in #potential-sales-revenue is answered by the rep it names. An
        alert nobody answers is a client nobody called.

    Examples:
        Fires (no reply by the mentioned rep within the charter's business hours):
            Receita em risco: Brascont, renovação em 7 dias. Responsável: @ana
            Revenue at risk: Globex, renewal in 7 days. Owner: @sam
        Does not fire:
            … (the rep replied in the thread "liguei, renova sexta" within the hours)
            … (a person's message: that is HY401's case, not an alert)
            [alert] in a channel whose charter asks no status
    """

    code = "HY402"
    name = "alert-needs-status"
    summary = "An automated alert with no status reply from its owner in time"
    default_mode = Mode.NUDGE
    judges_automated = True
    enforces_charter = True

    class Settings(RuleSettings):
        ack_emoji: list[str] = Field(
            default_factory=list,
            description="A reaction with one of these by an owner counts as a status (none: a status is a reply).",
        )
        language: Literal["auto", "pt", "en"] = Field(
            "auto",
            description="Language of the escalation (auto: guessed from the alert; terse alerts may need it set).",
        )

    def ready(self, message: ChatMessage, ctx: RuleContext) -> bool:
        """Judged once the charter's business hours have passed since the alert."""
        return ctx.now >= self.aged_from(message, ctx)

    def aged_from(self, message: ChatMessage, ctx: RuleContext) -> datetime:
        """The owner's deadline: the alert plus the charter's business hours (its nudge is young from there)."""
        duty = _duty(ctx.charter(message))
        return message.at if duty is None else ctx.calendar.add(message.at, timedelta(hours=duty.within_hours))

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY402.Settings)
        charter = ctx.charter(message)
        duty = _duty(charter)
        if charter is None or duty is None:
            return Verdict.no("the channel's charter asks no status reply" if charter else "the channel has no charter")
        if not message.automated:
            return Verdict.no("not an automated alert")
        if message.is_reply:
            return Verdict.no("a reply in a thread, not an alert")
        owners = _owners(message, duty, ctx)
        if not owners:
            return Verdict.no("the alert names no owner to answer it")
        if answer := _status_in_time(message, owners, duty, ctx):
            return Verdict.no(answer)
        if acks := [e for e in settings.ack_emoji if set(message.reacted_with(e)) & owners]:
            return Verdict.no(f"acknowledged by an owner with :{acks[0]}:")
        language = guess_language(matchable(message.plain)) if settings.language == "auto" else settings.language
        return _escalation(message, charter, duty, owners, ctx, language)

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """Only an automated alert that starts a thread, in a channel whose charter asks a status reply, can fire."""
        return message.automated and not message.is_reply and _duty(ctx.charter(message)) is not None


def _duty(charter: Charter | None) -> StatusDuty | None:
    return charter.status if charter is not None else None


def _owners(message: ChatMessage, duty: StatusDuty, ctx: RuleContext) -> frozenset[str]:
    return frozenset(message.mentions) if duty.from_ == MENTIONED else ctx.people_in([duty.from_])


def _status_in_time(message: ChatMessage, owners: frozenset[str], duty: StatusDuty, ctx: RuleContext) -> str:
    """Why the alert is answered (an owner's reply within the hours), or an empty string."""
    for reply in ctx.thread(message):
        if reply.at > message.at and reply.user in owners and not reply.is_bot:
            waited = hours(ctx.calendar.between(message.at, reply.at))
            if waited <= duty.within_hours:
                return f"status by {reply.user_name or reply.user} after {waited:.1f} business hours"
    return ""


def _escalation(
    message: ChatMessage, charter: Charter, duty: StatusDuty, owners: frozenset[str], ctx: RuleContext, language: str
) -> Verdict:
    ordered = sorted(owners)
    evidence = {
        "phrases": [],
        "charter": message.channel_name or message.channel,
        "purpose": charter.purpose,
        "owners": ordered,
        "owners_from": duty.from_,
        "within_hours": duty.within_hours,
        "waited_hours": round(hours(ctx.calendar.between(message.at, ctx.now)), 1),
        "escalate_to": duty.escalation,
    }
    escalate = ""
    if duty.escalation:
        escalate = ESCALATE_TO[language].format(who=" ".join(mention(target) for target in duty.escalation))
    says = ESCALATE[language].format(
        owners="".join(mention(owner) + " " for owner in ordered),
        purpose=charter.purpose,
        hours=business_hours(duty.within_hours, language),
        escalate=escalate,
    )
    return Verdict.yes(0.9, evidence, says.strip())
