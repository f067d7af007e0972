"""HY103 urgent-unmarked."""

from __future__ import annotations

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.phrases import phrases_for
from rules.signals import client_signal
from rules.speech import marked_urgent

NUDGE = {
    "pt": (
        "Isso parece urgente. Pelo nosso combinado, mensagens urgentes começam com *URGENTE* "
        "(cliente saindo, reclamação, algo vencido, cliente esperando resposta) e têm resposta em "
        "10 minutos. Se for o caso, edite a mensagem e comece com URGENTE."
    ),
    "en": (
        "This sounds urgent. Our rule: urgent messages start with *URGENT* (a client leaving, a "
        "complaint, something overdue, a client waiting on an urgent answer) and get an answer "
        "within 10 minutes. If it is, edit the message to start with URGENT."
    ),
}


class HY103(Rule):
    """Flags an urgent situation that was not marked URGENTE.

    What it does:
        Fires on a message about a client (as HY101 recognises one) that describes what the
        teams call urgent — a client threatening to leave or cancel, a strong complaint,
        something due today or overdue, a client waiting for days, "o quanto antes"/"ASAP" —
        when it does not start with URGENTE or URGENT. Reminders and announcements ("Lembrete:
        o DAS vence hoje, fiquem atentos") and urgency that is not about a client ("I'll fix
        it ASAP") are left alone.

    Why it matters:
        Urgent messages get an answer in 10 minutes, normal ones in 40. An urgent message
        without the prefix waits like any other, and the client waits with it.

    Examples:
        Fires:
            A Brascont disse que vai cancelar o contrato se não resolvermos hoje.
            A guia do DAS da Mercearia vence hoje e o cliente está esperando o boleto.
            Initech is threatening to cancel if the invoice isn't fixed today.
        Does not fire:
            URGENTE: a Farmácia precisa da certidão até as 14h.
            Lembrete: o prazo do Simples vence dia 20, fiquem atentos.
            Can you send me the deck when you have a minute?
    """

    code = "HY103"
    name = "urgent-unmarked"
    summary = "An urgent situation without the URGENTE/URGENT prefix"
    default_mode = Mode.NUDGE
    phrase_lists = ("leaving", "urgent", "not_urgent")

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        if marked_urgent(message.plain):
            return Verdict.no("already marked URGENTE")
        if message.is_reply:
            return Verdict.no("a thread reply: urgency is marked where the conversation starts")
        text = matchable(message.plain)
        phrases = phrases_for(self.code, settings)
        if calm := phrases.matches("not_urgent", text):
            return Verdict.no(f"a reminder or announcement ({calm[0]!r})")
        leaving = phrases.matches("leaving", text)
        urgent = leaving + phrases.matches("urgent", text)
        if not urgent:
            return Verdict.no("nothing urgent in it")
        client = client_signal(message.plain, text, ctx, phrases_for("HY101", _SHIPPED))
        if not client.score and not leaving:
            return Verdict.no("urgent words, but not about a client or client work", phrases=urgent)
        language = guess_language(text)
        score = min(1.0, 0.7 + 0.2 * max(client.score, 0.8 if leaving else 0.0) + 0.05 * (len(urgent) - 1))
        evidence = {"phrases": urgent + client.words, "client": client.client, "language": language}
        return Verdict.yes(score, evidence, NUDGE[language])

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """Only a thread's first message with a phrase of the leaving or urgent lists can fire."""
        if message.is_reply:
            return False
        phrases, text = phrases_for(self.code, settings), matchable(message.plain)
        return phrases.any("leaving", text) or phrases.any("urgent", text)


_SHIPPED = RuleSettings()
