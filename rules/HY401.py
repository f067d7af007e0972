"""HY401 alerts-only-channel."""

from __future__ import annotations

from pydantic import Field

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.charters import breaches_posting, place

NUDGE = {
    "pt": (
        "Oi! Este canal é só para {purpose}: por aqui postam as integrações, e as respostas de status vão "
        "na thread de cada alerta. Para perguntar ou comentar, use {where}."
    ),
    "en": (
        "Hi! This channel is only for {purpose}: integrations post here, and status replies go in each "
        "alert's thread. To ask or comment, please use {where}."
    ),
}


class HY401(Rule):
    """Flags a person's message in a channel whose charter keeps it for automated alerts.

    What it does:
        Fires on a person's top-level message in a channel whose charter
        (``[charters.<channel>]``) says ``automated_only = true``, or names ``posters`` groups
        the author is not in. The nudge, in the message's thread, names the channel's
        ``purpose`` and where to ask instead (``ask_instead``). Replies in a thread (where an
        alert's status goes) are left alone, and bots never fire it.

    Why it matters:
        The rulebook: some channels carry automated alerts only. A question there buries the
        alerts people watch and is itself lost among them; the place to ask gets it answered.

    Examples:
        Fires (in #potential-sales-revenue, automated only):
            Alguém sabe se a Brascont renovou o contrato?
            Does anyone know who owns the Globex renewal?
        Does not fire:
            Falei com o cliente hoje, ele renova na sexta. (a reply in the alert's thread)
            Status: called them, renewal signed. (a reply in the alert's thread)
            [alert] Revenue at risk: Globex, renewal in 7 days. (posted by the integration)
    """

    code = "HY401"
    name = "alerts-only-channel"
    summary = "A person's message in a channel kept for automated alerts"
    default_mode = Mode.NUDGE
    enforces_charter = True

    class Settings(RuleSettings):
        top_level_only: bool = Field(
            True,
            description="true: replies in threads are allowed (statuses go there); false: a reply by someone who "
            "may not post breaches too, unless it is in an alert's thread.",
        )

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY401.Settings)
        charter = ctx.charter(message)
        if charter is None:
            return Verdict.no("the channel has no charter")
        if not (charter.automated_only or charter.posters):
            return Verdict.no("the charter lets anyone post")
        if message.is_reply and (settings.top_level_only or ctx.thread(message)[0].automated):
            return Verdict.no("a reply in a thread (statuses go there)")
        if not breaches_posting(message, charter, ctx):
            return Verdict.no("the author is one of the charter's posters")
        language = guess_language(matchable(message.plain))
        evidence = {
            "phrases": [],
            "charter": message.channel_name or message.channel,
            "purpose": charter.purpose,
            "automated_only": charter.automated_only,
            "posters": charter.posters,
            "ask_instead": charter.ask_instead,
        }
        says = NUDGE[language].format(purpose=charter.purpose, where=place(charter.ask_instead, language))
        return Verdict.yes(0.95, evidence, says)

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """Only a message in a channel with a charter can fire."""
        return ctx.charter(message) is not None
