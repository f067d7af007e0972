"""HY101 request-in-chat."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from hygiene.clients import ClientMatch
from hygiene.models import SAME_SUBJECT_TICKETS, ChatMessage, Mode, Ticket
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict
from hygiene.text import guess_language, matchable
from rules.analysis import analyze
from rules.phrases import PhraseSet, phrases_for
from rules.signals import ClientSignal, client_signal, speech_inputs, thread_refs
from rules.speech import Judgement, SpeechSettings, fitted, judge

NUDGE = {
    "pt": (
        "Isso parece um pedido de cliente{client}. Pelo nosso combinado, o que precisa ser feito "
        "ou verificado vira atendimento, para não se perder no chat. Se já existe, responda aqui "
        "com o número do atendimento."
    ),
    "en": (
        "This looks like a client request{client}. Our rule: anything to do or check for a client "
        "is a ticket, so it does not get lost in chat. If there is one already, reply here with "
        "its number."
    ),
}
OPEN_TICKETS = {
    "pt": " {client} já tem atendimento aberto: {tickets}. Se for o mesmo assunto, registre lá.",
    "en": " {client} already has an open ticket: {tickets}. If this is the same matter, record it there.",
}


class HY101(Rule):
    """Flags a client request made in chat with no ticket behind it.

    What it does:
        Fires on a message that asks for something to be done, checked or answered for a client — a
        request ("pediu", "pode verificar se", "wants", "can someone check") together with a client:
        a name the helpdesk knows (fuzzy and accent-insensitive, plus configured aliases), the word
        "cliente"/"customer"/"client" used for a customer, or a named party asking for client work
        ("a nota da Padaria…", "Initech's invoice"). It stays quiet when the message or its thread
        names a ticket, when it reports work already done or a ticket updated, for how-to questions,
        announcements and praise, and for progress questions about tracked work (HY102's job). A
        thread reply is judged as a request of its own only when it turns to another matter
        ("aproveitando, a Padaria pediu…", "speaking of invoices, Acme wants…", "oh and they also
        want…": the ``new_matter`` list) or another client called or asked ("Globex rang, they
        want…"); a reply that names no client then means the thread's. Other replies carry on the
        thread's matter and are left to its root. It waits ``grace_minutes`` so that someone can
        answer with the ticket number first. When the client already has open tickets, the nudge
        lists them so the request can go there instead; in ``auto`` mode it opens the ticket itself,
        unless one of those open tickets names the same subject ("a nota da Padaria" and "Emissão da
        nota fiscal"): then it offers, never a second ticket.

    Why it matters:
        Work asked for in chat has no owner, no due date and no history. The teams' rule is
        that everything to do or check for a client is a ticket ("atendimento"); in doubt, it
        is a ticket.

    Examples:
        Fires:
            O cliente Brascont pediu a segunda via do boleto de março.
            Pode verificar se a nota da Padaria Pão Quente foi emitida?
            Customer Acme wants two more seats on their plan.
            Can someone check why Initech's last invoice was charged twice?
            (in a thread) aproveitando: a Mercearia quer incluir dois funcionários na folha
            (in a thread) oh and they also want two more seats before Monday
        Does not fire:
            Atualizei o atendimento 4521 com o retorno da Receita.
            Como faço para exportar o relatório de horas?
            I opened ticket 8830 for Acme's renewal.
            Parabéns pelo fechamento do mês, time!
            Can you check the build? The client tests are failing.
            (in a thread) ainda não, a Receita pediu a procuração de novo
    """

    code = "HY101"
    name = "request-in-chat"
    summary = "A client request made in chat with no ticket referenced"
    default_mode = Mode.NUDGE
    offers_ticket = True
    phrase_lists = (
        "request",
        "client",
        "client_weak",
        "client_tech",
        "work",
        "not_request",
        "how_to",
        "tech",
        "new_matter",
    )

    class Settings(SpeechSettings):
        grace_minutes: float = Field(5, ge=0, description="Wait this long for a ticket reference in the thread.")
        min_score: float = Field(0.7, ge=0, le=1, description="Fire at or above this score.")

    def grace(self, settings: RuleSettings) -> timedelta:
        assert isinstance(settings, HY101.Settings)
        return timedelta(minutes=settings.grace_minutes)

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """A thread reply can be a request only if it turns to another matter or has someone call or ask."""
        if not message.is_reply:
            return True
        text = matchable(message.plain)
        return bool(_SPEAKING.intersection(text.split())) or phrases_for(self.code, settings).any("new_matter", text)

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY101.Settings)
        phrases = phrases_for(self.code, settings)
        judgement = judge(message, ctx, speech_inputs(settings, request=phrases))
        if judgement.act == "status":
            return Verdict.no(f"a progress question about tracked work: HY102's case ({judgement.reason})")
        if judgement.act != "request":
            return Verdict.no(judgement.reason, phrases=judgement.cues)
        refs = thread_refs(message, ctx)
        if refs or ctx.linked_tickets(message):
            return Verdict.no(f"a ticket is referenced ({refs[0].matched if refs else 'linked'})")
        text = matchable(message.plain)
        signal = client_signal(message.plain, text, ctx, phrases)
        turn: list[str] = []
        if message.is_reply:
            turned = _new_matter(message, ctx, phrases, text, signal, judgement.client)
            if turned is None:
                return Verdict.no("a thread reply that carries on its thread's matter", phrases=judgement.cues)
            turn, signal = turned
        if not signal.score:
            return Verdict.no("no client: not a known client name, nor 'cliente'/'customer'", phrases=judgement.cues)
        if not _asks(judgement) and not (signal.known_client or signal.words):
            return Verdict.no("a problem or a forward, but no client named for sure", phrases=judgement.cues)
        open_tickets = [t for t in judgement.tickets if t.is_active]
        # open tickets of the client whose subject the request names in two words or more: maybe the
        # same work, so auto offers it instead of a second ticket ("nota" alone is half of all asks)
        scored = fitted(analyze(message.plain), open_tickets, judgement.client) if open_tickets else []
        fitting = [ticket for overlap, ticket in scored if overlap >= _SAME_MATTER]
        score = 0.45 + 0.35 * signal.score + (0.15 if signal.work else 0.0) + 0.05 * min(len(judgement.cues), 2)
        language = guess_language(text)
        evidence = {
            "phrases": judgement.cues + signal.words + signal.work,
            "client": signal.client,
            "client_score": round(signal.score, 2),
            "referent": judgement.referent
            or {"kind": "client", "value": signal.client, "score": round(signal.score, 2)},
            "act": judgement.reason,
            "ticket": None,
            "open_tickets": [t.reference for t in open_tickets[:3]],
            SAME_SUBJECT_TICKETS: [t.reference for t in fitting[:3]],
            "language": language,
        }
        if message.is_reply:
            evidence["new_matter"] = turn
        if score < settings.min_score:
            return Verdict.no(f"score {score:.2f} below min_score {settings.min_score}", score, **evidence)
        return Verdict.yes(score, evidence, _nudge(language, signal.known_client, open_tickets))


_SAME_MATTER = 2
"""Words of an open ticket's subject a request names for that ticket to be offered instead of a new one."""


def _new_matter(
    message: ChatMessage,
    ctx: RuleContext,
    phrases: PhraseSet,
    text: str,
    signal: ClientSignal,
    client: ClientMatch | None,
) -> tuple[list[str], ClientSignal] | None:
    """A thread reply is a request of its own when it turns to another matter ("aproveitando",
    "speaking of", "oh and they also want…") or another client calls or asks ("Frigorífico ligou: …");
    a reply that names no client then means the thread's ("they also want…"). None: it carries on
    the thread's matter (answers, follow-ups, the same request again), which its root is judged on.
    """
    turn = phrases.matches("new_matter", text)
    root = _root(message, ctx)
    if not turn:
        speaking = client if signal.known_client else None
        root_client = ctx.tickets.find_client(root.plain) if root else None
        if speaking is None or (root_client is not None and root_client.client == speaking.client):
            return None
        if not _speaks(analyze(message.plain).tokens, speaking.matched):
            return None
        turn = [f"{speaking.matched} (another client)"]
    if not signal.score and root is not None:
        signal = client_signal(root.plain, matchable(root.plain), ctx, phrases)
    return turn, signal


def _speaks(tokens: tuple[str, ...], matched: str) -> bool:
    """The client is who called, wrote or asked ("Frigorífico ligou: …", "Tidewater rang …"), not a
    name the reply mentions ("usei na Bom Fim mês passado")."""
    name = matched.split()
    for start in range(len(tokens) - len(name) + 1):
        if list(tokens[start : start + len(name)]) == name:
            after = [word for word in tokens[start + len(name) : start + len(name) + 4] if word not in _IN_PASSING]
            return bool(after) and after[0] in _SPEAKING
    return False


_SPEAKING = frozenset(
    "ligou ligaram mandou mandaram enviou enviaram pediu pediram perguntou perguntaram quer querem disse falou "  # noqa: SIM905
    "reclamou avisou escreveu called rang emailed messaged sent asked asks wants wanted said says wrote pinged "
    "complained reported".split()
)
_IN_PASSING = frozenset("just ja tb tambem hoje hj also today again de novo s".split())  # noqa: SIM905


def _root(message: ChatMessage, ctx: RuleContext) -> ChatMessage | None:
    thread = ctx.thread(message)
    return thread[0] if thread and thread[0].id == message.root_id else None


def _asks(judgement: Judgement) -> bool:
    return judgement.reason == "asks for client work"


def _nudge(language: str, client: str | None, open_tickets: list[Ticket]) -> str:
    says = NUDGE[language].format(client=f" ({client})" if client else "")
    if client and open_tickets:
        listed = ", ".join(f"#{t.reference} ({t.subject})" for t in open_tickets[:3])
        says += OPEN_TICKETS[language].format(client=client, tickets=listed)
    return says
