"""HY302 client-waiting."""

from __future__ import annotations

from pydantic import Field

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.client_side import client_of, conversation_after, late_synced, not_the_clients, sent, who
from rules.speech import marked_urgent

ESCALATE = {
    "pt": "{who} espera resposta no WhatsApp há {minutes} min{urgent} (prazo: {limit} min). Alguém pode assumir?",
    "en": "{who} has waited {minutes} min for an answer on WhatsApp{urgent} (limit: {limit} min). Can someone take it?",
}
URGENT = {"pt": ", marcada como URGENTE", "en": ", marked URGENT"}


class HY302(Rule):
    """Escalates a client left waiting for an answer on WhatsApp.

    What it does:
        Judges what clients write to the team (a conversation in Digisac). Fires on a client's
        message that no agent answered in the conversation within the answer time for its
        urgency: ``urgent_minutes`` (10) for a message marked URGENTE/URGENT, ``answer_minutes``
        (40) otherwise, counted in business hours from when the client sent it. Only the first
        message of a run the client sent in a row is escalated (and a URGENTE one after plain
        ones), and history synced late is never judged. The escalation goes to the department's
        channel of the team's chat (the report channel when the department has none); nothing
        is written to the client. A message is judged while it is in the chat's
        ``rescan_hours``: give the Digisac chat 72 for waits that cross a weekend.

    Why it matters:
        The rulebook: a client is never left waiting past the answer time. When it slips, the
        team must hear about it now, where people who can answer will see it.

    Examples:
        Fires (no agent answer in time):
            Boa tarde, vocês já recalcularam a guia do DAS de setembro? Estou aguardando desde cedo.
            URGENT: the bank is asking for our balance sheet today.
        Does not fire:
            Bom dia! A nota já saiu? (an agent answered four minutes later)
            Hi, did you get my e-mail? (an agent answered in time)
            Segue o extrato que vocês pediram. (history synced three days late)
    """

    code = "HY302"
    name = "client-waiting"
    summary = "A client's message with no agent answer past its answer time"
    default_mode = Mode.NUDGE
    judges_client_side = True
    tells_team = "department"
    client_figure = "waiting"

    class Settings(RuleSettings):
        answer_minutes: float = Field(40, gt=0, description="Business minutes a client's message may wait.")
        urgent_minutes: float = Field(10, gt=0, description="Business minutes a URGENTE message may wait.")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY302.Settings)
        if (unjudged := not_the_clients(message, "nobody could have answered it in time")) is not None:
            return unjudged
        urgent = marked_urgent(message.plain)
        earlier = _unanswered_before(message, ctx)
        if earlier is not None and (marked_urgent(earlier.plain) or not urgent):
            return Verdict.no("the conversation already waits since the client's earlier message")
        answer = next((m for m in conversation_after(message, ctx) if m.author_side == "agent"), None)
        if answer is not None:
            return Verdict.no(f"an agent answered {(answer.at - message.at).total_seconds() / 60:.0f} min later")
        limit = settings.urgent_minutes if urgent else settings.answer_minutes
        waited = ctx.calendar.between(sent(message), ctx.now).total_seconds() / 60
        if waited < limit:
            return Verdict.no(f"waiting {waited:.0f} of {limit:g} business minutes")
        language = guess_language(matchable(message.plain))
        client = client_of(message, ctx)
        evidence = {
            "phrases": ["URGENTE"] if urgent else [],
            "client": client,
            "department": message.department,
            "waited_minutes": round(waited),
            "limit_minutes": limit,
            "urgent": urgent,
            "language": language,
        }
        says = ESCALATE[language].format(
            who=who(message, client),
            minutes=f"{waited:.0f}",
            urgent=URGENT[language] if urgent else "",
            limit=f"{limit:g}",
        )
        return Verdict.yes(0.9 if urgent else 0.8, evidence, says)


def _unanswered_before(message: ChatMessage, ctx: RuleContext) -> ChatMessage | None:
    """The client's own message just before it in the conversation (live, not synced late), or None:
    that earlier one is the one that waits (unless only the later one is urgent)."""
    earlier = [m for m in ctx.thread(message) if m.at < message.at and m.judged]
    if earlier and earlier[-1].author_side == "client" and not late_synced(earlier[-1]):
        return earlier[-1]
    return None
