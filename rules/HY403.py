"""HY403 belongs-elsewhere."""

from __future__ import annotations

from pydantic import Field

from hygiene.charters import Charter
from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from rules.analysis import Analysis, analyze
from rules.charters import breaches_posting, elsewhere_hits, place

NUDGE = {
    "pt": "Oi! Pelo combinado deste canal ({purpose}), isto ({kind}) tem outro lugar: {goes_to}.{sla}",
    "en": "Hi! By this channel's charter ({purpose}), this ({kind}) has its own place: {goes_to}.{sla}",
}
SLA = {"pt": " Lá o prazo é {sla}.", "en": " The answer time there is {sla}."}
QUESTION = {"pt": "uma pergunta", "en": "a question"}


class HY403(Rule):
    """Points a message to where the channel's charter says it belongs.

    What it does:
        Fires on a person's top-level message in a chartered channel when it holds a cue of one
        of the charter's ``[[charters.<channel>.elsewhere]]`` kinds (a roadmap suggestion, a
        non-critical bug, a critical failure …; cues are plain words or phrases, matched on
        folded words and their lemmas), or when it asks a question (a question mark) in a
        channel whose charter says ``questions = false``. The nudge, in the thread, says where
        it goes (``goes_to``, or ``ask_instead`` for questions) and the answer time there
        (``sla``) when given. The evidence names the kind and the cue matched.

    Why it matters:
        The rulebook: questions have a home channel — roadmap suggestions go to the product
        suggestions system, non-critical bugs to the bug form, critical product failures to the
        tech leads with their SLA. In the wrong place they are not tracked and not answered in time.

    Examples:
        Fires (with the cues of config.example.toml):
            Sugestão: exportar a DRE direto para Excel.
            Feature request: schedule reports every Monday.
        Does not fire:
            Como exporto a DRE em PDF? (a how-to question, no cue)
            I filed the date picker bug through the bug form. (no cue of a kind: "bug" alone is not one)
    """

    code = "HY403"
    name = "belongs-elsewhere"
    summary = "A message the channel's charter sends to another place"
    default_mode = Mode.NUDGE
    enforces_charter = True

    class Settings(RuleSettings):
        min_words: int = Field(3, ge=1, description="Shorter messages are left alone (too little to tell).")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY403.Settings)
        charter = ctx.charter(message)
        if charter is None:
            return Verdict.no("the channel has no charter")
        if message.is_reply:
            return Verdict.no("a reply in a thread (judged where the conversation starts)")
        if breaches_posting(message, charter, ctx):
            return Verdict.no("the author may not post here at all: HY401's case")
        analysis = analyze(message.plain)
        if len(analysis.tokens) < settings.min_words:
            return Verdict.no(f"fewer than {settings.min_words} words")
        if found := elsewhere_hits(analysis, charter):
            kind, cues = found
            return _points(message, charter, analysis, kind.name, cues, kind.goes_to, kind.sla)
        if not charter.questions and analysis.asks:
            where = place(charter.ask_instead, analysis.language)
            return _points(message, charter, analysis, "question", ["?"], where, None, QUESTION[analysis.language])
        return Verdict.no("no cue of a kind the charter sends elsewhere")

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """Only a message in a channel with a charter can fire."""
        return ctx.charter(message) is not None


def _points(
    message: ChatMessage,
    charter: Charter,
    analysis: Analysis,
    kind: str,
    cues: list[str],
    goes_to: str,
    sla: str | None,
    shown: str | None = None,
) -> Verdict:
    language = analysis.language
    evidence = {
        "phrases": cues,
        "kind": kind,
        "charter": message.channel_name or message.channel,
        "purpose": charter.purpose,
        "goes_to": goes_to,
        "sla": sla,
    }
    says = NUDGE[language].format(
        purpose=charter.purpose,
        kind=shown or kind,
        goes_to=goes_to,
        sla=SLA[language].format(sla=sla) if sla else "",
    )
    return Verdict.yes(0.8, evidence, says)
