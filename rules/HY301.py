"""HY301 client-request-untracked."""

from __future__ import annotations

from pydantic import Field

from hygiene.models import ChatMessage, Mode, Ticket
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.client_side import client_of, not_the_clients, refs_after, sent, subject_stems, who
from rules.client_speech import client_cue_matcher, judge_client
from rules.HY304 import praise_in
from rules.phrases import phrases_for

NUDGE = {
    "pt": (
        "Pedido de {who} no WhatsApp sem atendimento há {hours} h úteis. Pelo nosso combinado, "
        "o que o cliente pede vira atendimento: abram no helpdesk ou respondam na conversa com o número."
    ),
    "en": (
        "A request from {who} on WhatsApp has had no ticket for {hours} business hours. Our rule: "
        "whatever a client asks for becomes a ticket; open one, or answer in the conversation with its number."
    ),
}


class HY301(Rule):
    """Flags a client's request on WhatsApp that no ticket tracks.

    What it does:
        Judges what clients write to the team (a conversation in Digisac). Fires on a client's
        message that asks for something to be done, checked or sent (the same referent and
        speech-act detector as HY101, on the client's words) when, ``business_hours`` after it
        was sent, no ticket was referenced in the conversation and the client (the contact's
        name or organization through the helpdesk's client matcher) has no open ticket whose
        subject shares its words. History synced late is not judged. By default it only
        records the finding (``report``): on clients' messages it never saw it is right four
        times in five (bench/clientside), so a team turns it on after ``hygiene audit
        --from-chat`` on its own history. With ``nudge`` the team hears about it in the
        department's channel of its own chat; ``auto`` opens the ticket (a G Click pre-task)
        through the outbox instead. Nothing is ever written to the client. A message
        is judged while it is in the chat's ``rescan_hours``: give the Digisac chat 72 for waits
        that cross a weekend.

    Why it matters:
        The rulebook: whatever a client asks for becomes an atendimento. A request that lives
        only in a WhatsApp conversation has no owner and no due date, and the client is the one
        who notices it was forgotten.

    Examples:
        Fires (no matching ticket after the wait):
            Oi, preciso da segunda via do boleto de honorários de outubro, pode me mandar?
            Can you send me the payroll report for October? I need it by Friday.
        Does not fire:
            Conseguem ver se a nota de serviço de outubro já foi emitida? (ticket "Emissão de notas
            de serviço" is open for the client)
            Recebi a nota, obrigado! (no request)
            Thanks, got it! (no request)
    """

    code = "HY301"
    name = "client-request-untracked"
    summary = "A client's request on WhatsApp with no ticket for it"
    default_mode = Mode.REPORT  # measured at 0.80 precision on clients it never saw: opt in per team
    offers_ticket = True
    judges_client_side = True
    tells_team = "department"
    client_figure = "untracked"

    class Settings(RuleSettings):
        business_hours: float = Field(2, ge=0, description="Business hours a request may wait for its ticket.")
        client_cues: dict[str, dict[str, list[str]]] = Field(
            default_factory=dict,
            description=(
                "Extra cues by language and list (rules/data/client_speech.toml), e.g. "
                "{pt = {ask = ['me arruma']}}: words match their inflections too."
            ),
        )

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY301.Settings)
        if (unjudged := not_the_clients(message, "not a request anyone could track in time")) is not None:
            return unjudged
        waited = ctx.calendar.between(sent(message), ctx.now).total_seconds() / 3600
        if waited < settings.business_hours:
            return Verdict.no(f"waited {waited:.1f} of {settings.business_hours:g} business hours for a ticket")
        work = phrases_for("HY101", _SHIPPED)
        judgement = judge_client(message.plain, client_cue_matcher(settings.client_cues or None), work)
        if judgement.act != "request":
            return Verdict.no(f"not a new request: {judgement.reason}", phrases=judgement.cues)
        praise = praise_in(phrases_for("HY304", _SHIPPED), matchable(message.plain))
        if praise and not _plainly_asks(message.plain, judgement.cues):
            return Verdict.no(f"praise, no ask ({praise[0]!r}): HY304's case", phrases=praise)
        refs = refs_after(message, ctx)
        if refs:
            return Verdict.no(f"a ticket is referenced in the conversation ({refs[0]})")
        client = client_of(message, ctx)
        open_tickets = ctx.tickets.open_for_client(client) if client else []
        tracked = _matching(message, open_tickets)
        if tracked is not None:
            return Verdict.no(f"{client} has an open ticket on it: #{tracked.reference} {tracked.subject}")
        language = guess_language(matchable(message.plain))
        evidence = {
            "phrases": judgement.cues,
            "client": client,
            "department": message.department,
            "open_tickets": [t.reference for t in open_tickets[:3]],
            "waited_hours": round(waited, 1),
            "language": language,
        }
        says = NUDGE[language].format(who=who(message, client), hours=f"{waited:.1f}")
        return Verdict.yes(0.8 if client else 0.7, evidence, says)


_SHIPPED = RuleSettings()
# Words of an ask that praise does not explain away ("vcs são demais… me manda o informe").
_PLAIN_ASK = frozenset("me nos manda mande envia envie preciso precisamos pfv please need".split())  # noqa: SIM905


def _plainly_asks(plain: str, cues: list[str]) -> bool:
    """Beside praise, an ask that is a question or an imperative, not a figure of speech ("dá pra
    ver o cuidado", "queria registrar que…")."""
    return "?" in plain or bool(_PLAIN_ASK.intersection(" ".join(cues).split()))


def _matching(message: ChatMessage, tickets: list[Ticket]) -> Ticket | None:
    """The client's open ticket whose subject shares a content word with the request, if any."""
    asked = subject_stems(message.plain)
    return next((t for t in tickets if subject_stems(t.subject) & asked), None)
