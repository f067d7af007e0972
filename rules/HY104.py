"""HY104 urgent-unanswered."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field

from hygiene.mentions import mention
from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.speech import marked_urgent

# Whether a text starts with URGENTE depends on the text alone: kept for the texts that come back.
_marked_urgent = lru_cache(maxsize=8192)(marked_urgent)

ESCALATE = {
    "pt": "{who}mensagem URGENTE sem resposta há {minutes} minutos. Alguém pode assumir e responder aqui?",
    "en": "{who}URGENT message with no answer for {minutes} minutes. Can someone take it and answer here?",
}


class HY104(Rule):
    """Escalates a URGENTE message that nobody answered in time.

    What it does:
        Fires on a message that starts with URGENTE or URGENT when no other person replied in
        its thread, or acknowledged it with one of ``ack_emoji``, within ``answer_minutes``
        (10 by default). The nudge is a thread reply that mentions ``escalate_to`` (Slack user
        ids like ``U024BE7LH`` or user-group ids like ``S0614TZR7``).

    Why it matters:
        The rulebook: urgent gets an answer in 10 minutes. When that slips, a person who can
        act must hear about it now, not at the end of the day.

    Examples:
        Fires (no reply within 10 minutes):
            URGENTE: a Farmácia Vida Nova precisa da certidão negativa até as 14h.
            URGENT: Acme's SSO is down for all users.
        Does not fire:
            URGENTE: … (answered in the thread 3 minutes later)
            URGENT: … (someone reacted with :eyes:)
            O DAS vence hoje. (not marked: that is HY103's case)
    """

    code = "HY104"
    name = "urgent-unanswered"
    summary = "A URGENTE message with no human reply in 10 minutes"
    default_mode = Mode.NUDGE

    class Settings(RuleSettings):
        answer_minutes: float = Field(10, gt=0, description="How long an urgent message may wait for an answer.")
        escalate_to: list[str] = Field(
            default_factory=list,
            description="User or user-group (S…) ids to mention in the chat.",
        )
        ack_emoji: list[str] = Field(
            default_factory=lambda: ["eyes", "white_check_mark", "heavy_check_mark", "ok", "raised_hand"],
            description="A reaction with one of these by someone else counts as an answer.",
        )

    def grace(self, settings: RuleSettings) -> timedelta:
        assert isinstance(settings, HY104.Settings)
        return timedelta(minutes=settings.answer_minutes)

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY104.Settings)
        if not marked_urgent(message.plain):
            return Verdict.no("not marked URGENTE")
        if message.is_reply:
            return Verdict.no("a thread reply")
        window = timedelta(minutes=settings.answer_minutes)
        answers = [m for m in ctx.thread(message) if m.at > message.at and not m.is_bot and m.user != message.user]
        in_time = [m for m in answers if _within(m, message, window)]
        if in_time:
            return Verdict.no(f"answered in time by {in_time[0].user_name or in_time[0].user}")
        acks = [e for e in settings.ack_emoji if set(message.reacted_with(e)) - {message.user}]
        if acks:
            return Verdict.no(f"acknowledged with :{acks[0]}:")
        language = guess_language(matchable(message.plain))
        who = "".join(mention(target) + " " for target in settings.escalate_to)
        minutes = f"{settings.answer_minutes:g}"
        evidence = {"phrases": ["URGENTE"], "answer_minutes": settings.answer_minutes, "replies": len(answers)}
        return Verdict.yes(0.95, evidence, ESCALATE[language].format(who=who, minutes=minutes))

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """Only a thread's first message marked URGENTE can fire."""
        return not message.is_reply and _marked_urgent(message.plain)


def _within(reply: ChatMessage, message: ChatMessage, window: timedelta) -> bool:
    return reply.at - message.at <= window
