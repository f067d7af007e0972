"""HY304 client-praise."""

from __future__ import annotations

from pydantic import Field

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.client_side import client_of, not_the_clients, who
from rules.phrases import PhraseSet, phrases_for

SHARE = {
    "pt": "Elogio de cliente no WhatsApp: {who} escreveu “{text}”. Parabéns ao time!",
    "en": "Client praise on WhatsApp: {who} wrote “{text}”. Well done, team!",
}
MAX_QUOTE = 280


class HY304(Rule):
    """Shares a client's praise with the whole team.

    What it does:
        Judges what clients write to the team (a conversation in Digisac). Fires on a client's
        message that praises the team or its work ("vocês são ótimos", "excelente atendimento",
        "vc salvou minha semana", "great job", "you're a lifesaver"), says it recommended the firm
        ("indiquei vcs pro meu cunhado"), or thanks warmly ("obrigada de coração", "valeu demais
        pela agilidade"), unless the same message complains or the praise is ironic ("parabéns
        Brasil 🙃"). Thanks alone ("recebi, obrigado") is not praise. The praise is posted in the team chat's
        ``channel``; with ``anonymise`` (the default, for clients who did not consent to be
        named) the client is named by first name and company only. Phone numbers never appear:
        the connector masks them. Nothing is written to the client.

    Why it matters:
        The rulebook: praise from any channel is shared with the whole team. Praise that stays
        in one agent's WhatsApp is praise nobody else hears.

    Examples:
        Fires:
            Recebi a nota, obrigado! Vocês são ótimos.
            Indiquei vocês pro meu cunhado, o serviço de vocês é excelente.
            Great job on the payroll this month, thank you!
            Thank you so much for sorting out the registration, you're a lifesaver.
        Does not fire:
            Recebi a nota, obrigado. (thanks, not praise)
            Vocês são ótimos, mas a guia veio errada de novo. (a complaint)
            Esse governo só inventa imposto, parabéns Brasil 🙃 (ironic)
            Thanks, got it.
    """

    code = "HY304"
    name = "client-praise"
    summary = "A client's praise, shared with the team"
    default_mode = Mode.NUDGE
    judges_client_side = True
    tells_team = "channel"
    phrase_lists = ("praise", "referral", "gratitude", "warmth", "not_praise", "irony")

    class Settings(RuleSettings):
        channel: str = Field("elogios", description="The team chat's channel praise is shared in.")
        anonymise: bool = Field(True, description="Name the client by first name and company only.")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY304.Settings)
        if (unjudged := not_the_clients(message, "old praise is not news")) is not None:
            return unjudged
        folded = matchable(message.plain)
        phrases = phrases_for(self.code, settings)
        praise = praise_in(phrases, folded)
        if not praise:
            return Verdict.no("no praise (thanks alone is not praise)")
        if phrases.any("not_praise", folded) or phrases.any("irony", folded):
            return Verdict.no("praise with a complaint, or ironic", phrases=praise)
        language = guess_language(folded)
        client = client_of(message, ctx)
        text = message.plain if len(message.plain) <= MAX_QUOTE else message.plain[: MAX_QUOTE - 1] + "…"
        evidence = {"phrases": praise, "client": client, "anonymised": settings.anonymise, "language": language}
        says = SHARE[language].format(who=who(message, client, settings.anonymise), text=text)
        return Verdict.yes(0.85, evidence, says)


def praise_in(phrases: PhraseSet, folded: str) -> list[str]:
    """What makes the message praise: a good word on the team or its work, a recommendation to
    someone else, or thanks said warmly ("obrigada de coração", "valeu demais"); not thanks alone."""
    praise = phrases.matches("praise", folded) + phrases.matches("referral", folded)
    if praise:
        return praise
    thanks = phrases.matches("gratitude", folded)
    warm = phrases.matches("warmth", folded)
    return thanks + warm if thanks and warm else []
