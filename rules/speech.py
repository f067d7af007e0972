"""What a message does and what it is about: the judgement HY101 and HY102 share.

First the referent — what the message points at: a ticket (number, link, a bare number the
helpdesk knows), a client (the helpdesk's directory, configured names and aliases, partial and
informal names), or the subject of a client's open ticket ("a rescisão da Vila Verde" ↔ "Rescisão
- João"). Then the speech act, judged on words and lemmas (rules/data/speech.toml) as well as the
rules' phrase lists: asking about the progress of work already under way (HY102), asking for new
work or reporting a client's problem (HY101), or neither (a report of work done, an FYI, praise,
how-to, social talk). Between the two: a question about work that an open ticket of that client
covers is HY102 and is answered from that ticket; new work for the same client is HY101.

Both rules call :func:`judge`; the result is cached per message, so the second pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal

from pydantic import Field, field_validator

from hygiene.clients import GENERIC, ClientMatch
from hygiene.models import ChatMessage, Ticket
from hygiene.ports import RuleContext
from hygiene.refs import TICKET_WORDS, find_refs
from hygiene.rulebase import RuleSettings
from hygiene.text import fold, matchable, strip_emoji, words
from rules.analysis import Analysis, analyze
from rules.cues import CueMatcher, matcher_for, parse_cue, shipped_lists
from rules.lemmas import learned, lemma_of
from rules.phrases import PhraseSet

Act = Literal["status", "request", "none"]

# "o 4533 foi resolvido?": a plain number counts when the helpdesk has a ticket with that number.
BARE_NUMBER = re.compile(r"(?<![\w.,/#$-])(\d{3,7})(?![\w/%-]|[.,]\d)")
# "SR-4629", "CF-5120": a helpdesk key, when its number is a ticket the helpdesk knows.
KEYED_NUMBER = re.compile(r"(?<![\w/-])[A-Za-z]{2,6}[-#](\d{2,7})\b")
# A pasted message: a line that starts with ">", or 20 characters or more in double quotes.
_QUOTED = re.compile(r"(?:^|\n)\s*>|(?:^|(?<=[\s:(]))[\"“][^\"”\n]{20,}[\"”]|:\s*['‘][^'’\n]{20,}['’]")
_QUOTED_TEXT = re.compile(r"(?:^|\n)\s*>[^\n]*|(?:^|(?<=[\s:(]))[\"“][^\"”\n]{20,}[\"”]|(?<=:)\s*['‘][^'’\n]{20,}['’]")
# Endings of a verb in the past (preterite third person, participle) in Portuguese.
_PT_PAST = ("ou", "aram", "eram", "iram", "iu", "eu", "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas")
_STOP = frozenset(
    """que com para pra pro por porque como quando onde qual quais esse essa isso este esta isto aquele aquela
    ele ela eles elas nos vcs voce voces gente pessoal ainda ja nao sim mais muito muita pouco hoje ontem amanha
    semana mes dia cliente clientes the and for with that this from have has was were are you your our their they
    them what when where which will would could should can about into just still any update news status yet ever
    customer customers client clients team please thanks obrigado obrigada bom boa tarde noite""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Judgement:
    """The verdict both rules read: the act, what it points at, and the cues behind it."""

    act: Act
    reason: str
    cues: list[str] = field(default_factory=list)
    tickets: tuple[Ticket, ...] = ()
    """Tickets the message is about (a status question is answered from them)."""
    typed_ref: str | None = None
    """A ticket reference typed in the message that the helpdesk snapshot does not hold."""
    client: ClientMatch | None = None
    referent: dict[str, Any] = field(default_factory=dict)
    """Evidence: kind (ticket, client, subject, customer), value, score and how it was found."""
    score: float = 0.0
    new_work: bool = False


class SpeechSettings(RuleSettings):
    """Settings of the rules that read the shared judgement (HY101, HY102)."""

    cues: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description=(
            "Extra word cues by language and list (rules/data/speech.toml), e.g. "
            "{pt = {progress_noun = ['posicionamento']}}: words match their inflections too."
        ),
    )

    @field_validator("cues")
    @classmethod
    def _cues_parse(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        for language, lists in value.items():
            if language not in ("pt", "en"):
                raise ValueError(f"{language}: unknown language (use pt or en)")
            for name, cues in lists.items():
                if name not in speech_lists():
                    raise ValueError(f"{language}.{name}: unknown cue list (known: {', '.join(speech_lists())})")
                for index, cue in enumerate(cues):
                    try:
                        parse_cue(name, cue)
                    except ValueError as exc:
                        raise ValueError(f"{language}.{name}[{index}]: {exc}") from None
        return value


def speech_lists() -> tuple[str, ...]:
    """The cue lists rules/data/speech.toml defines (in either language): the ones a config may extend."""
    return tuple(dict.fromkeys(name for lists in shipped_cues().values() for name in lists))


def shipped_cues() -> dict[str, dict[str, list[str]]]:
    return shipped_lists("speech.toml")


def cue_matcher(extra: dict[str, dict[str, list[str]]] | None = None) -> CueMatcher:
    return matcher_for("speech.toml", extra)


@dataclass(frozen=True)
class Inputs:
    """What a judgement reads besides the message: the two rules' phrase lists and the cue lists."""

    request: PhraseSet
    """HY101's lists: request, client, client_weak, client_tech, work, not_request, tech."""
    status: PhraseSet
    """HY102's lists: status, asking, check_request."""
    cues: CueMatcher


def judge(message: ChatMessage, ctx: RuleContext, inputs: Inputs) -> Judgement:
    """The speech act of ``message`` and its referent, as HY101 and HY102 both see it (cached)."""
    # Most chat is settled by its text alone (too short, social, no cue of either act): that part
    # is judged once per text, whatever the tickets, and the rest once per text and ticket state.
    front = _front(message.plain, inputs, learned())
    if isinstance(front, Judgement):
        return front
    # What the rest reads of the message is its text and whether it is a reply; the same text in
    # the same helpdesk snapshot is judged the same ("bom dia", bots, the same request pasted twice).
    patterns = tuple(pattern.pattern for pattern in ctx.url_patterns)
    # Which tickets were open depends on when it was said (an audit replays a later export).
    epoch = ctx.tickets.epoch(message.at, ctx.zone)
    linked = tuple(ctx.linked_tickets(message))
    key = (
        message.plain,
        message.is_reply,
        id(ctx.tickets),
        len(ctx.tickets),
        epoch,
        linked,
        patterns,
        id(inputs),
        learned(),
    )
    cached = _CACHE.get(key)
    if cached is None:
        cached = _judge(message, ctx, inputs, front, linked)
        if len(_CACHE) >= 4096:
            del _CACHE[next(iter(_CACHE))]  # the oldest: a long audit keeps its recent texts
        _CACHE[key] = cached
    return cached


_CACHE: dict[tuple[Any, ...], Judgement] = {}


@dataclass(frozen=True)
class _Front:
    """What the judgement reads of a text before it looks at tickets (shared, never changed)."""

    analysis: Analysis
    hits: dict[str, list[str]]
    ask: list[str]
    status: list[str]
    reports: bool
    """Something forwarded, a problem, a relayed request or an event told."""
    case: str


@lru_cache(maxsize=16384)  # as many texts as analyze keeps: a front holds little beside its analysis
def _front(plain: str, inputs: Inputs, lemma_table: int) -> _Front | Judgement:
    """The text's cues, or its judgement when the text alone settles it (cached per text and lemma
    table: ``lemma_table`` is :func:`~rules.lemmas.learned`, so forms a config teaches are read)."""
    return _read(plain, inputs)


def _read(plain: str, inputs: Inputs) -> _Front | Judgement:
    analysis = analyze(plain)
    if len(analysis.text) < 8 and not (analysis.asks and any(t.isdigit() and len(t) >= 3 for t in analysis.tokens)):
        return Judgement("none", "too short to judge")  # but "48174?" asks after a ticket
    if _social_only(analysis, inputs):
        return Judgement("none", "talk among colleagues (food, outings), no client work")
    requested = _affirmed(inputs.request.matches("request", analysis.text), analysis.text)
    hits = scan(analysis, inputs, requested)
    if not analysis.asks and _fond(plain, hits):
        return _FOND
    social = {word for cue in hits.get("social", []) for word in cue.split()}
    ask = [
        p
        for p in requested
        if not p.startswith(_INABILITY) and not _offers(analysis, p, social) and not _speakers_own(analysis, p, True)
    ]
    ask += hits.get("ask", []) + hits.get("wants", [])
    # Someone asked to act ("pode lançar…?", "can someone send…") makes it a request unless it asks
    # plainly for the state of things; a client's wants reported ("a dona quer saber") do not.
    forwarded = bool(hits.get("forward")) or bool(_QUOTED.search(plain))
    # A pasted client message is judged on what it asks, not on a verb of its story ("pediu nota, como emito?")
    status = status_cues(analysis, hits, inputs.status, asked_to_act=bool(hits.get("ask")), loose=not forwarded)
    reports = forwarded or any(hits.get(name) for name in _REQUEST_LISTS)
    case = _case_head(plain)
    if not (status or ask or analysis.asks or reports or case):
        return _NOTHING  # most chat: no cue of either act, no question — no referent to look for
    return _Front(analysis, hits, ask, status, reports, case)


def _judge(
    message: ChatMessage, ctx: RuleContext, inputs: Inputs, front: _Front, linked: tuple[str, ...] = ()
) -> Judgement:
    analysis, reports, case = front.analysis, front.reports, front.case
    hits = dict(front.hits)  # the front is shared: a case found below is set on a copy
    ask, status = front.ask, front.status
    question = asks(analysis, hits, inputs.status)
    done = done_report(analysis, hits) or (_my_work_done(analysis) if message.is_reply else [])
    standing = hits.get("standing", [])
    if done and standing and _in_question(analysis, standing[0].split()[0]):
        done = []  # "is 4495 closed out? Athlone want a confirmation it's all sorted": it asks
    ticket, typed, ticket_score = referenced_ticket(message, ctx)
    if ticket is not None or typed is not None:
        named = ticket.reference if ticket else typed
        if _WHY.intersection(analysis.tokens[analysis.opener : analysis.opener + 3]):
            return Judgement("none", "asks why, not how the ticket stands")  # "pq o 6144 caiu na minha fila?"
        if done:
            return Judgement("none", f"reports work done on ticket {named}", done)
        status = status or event_question(analysis, hits, asked_to_act=bool(hits.get("ask")))
        if not status and analysis.asks and len(analysis.tokens) <= 2:
            status = [f"{named}?"]  # "48174?": the ticket, asked after
        if not status and analysis.asks and not hits.get("ask") and _DONE_WORDS.intersection(analysis.lemmas):
            status = [f"? about {named}"]  # "o 4520 fica pronto até terça?"
        if not status and not hits.get("ask") and _short_question(analysis):
            status = [f"? about {named}"]  # "61219 close? their office asked again…"
        if not status and not hits.get("ask") and (asked := _state_asked(analysis, words_only=True)):
            # "o 5543 dá pra fechar semana q vem?": the question beside the ticket asks where it stands
            status, question = [f"{asked}? about {named}"], True
        if status and question and not _TAG_QUESTION.search(analysis.text):
            referent = {"kind": "ticket", "value": named, "score": ticket_score}
            tickets = (ticket,) if ticket else ()
            return Judgement(
                "status", "asks about a ticket it names", status, tickets, typed, None, referent, ticket_score
            )
        return Judgement("none", f"names ticket {named}: the work is tracked")
    client = ctx.tickets.find_client(message.plain)
    open_tickets = ctx.tickets.open_for_client(client.client, message.at, ctx.zone) if client else []
    # a ticket opened for this very message is not work it asks about
    open_tickets = [t for t in open_tickets if t.id not in linked]
    new_work = bool(hits.get("new_work"))
    if new_work and set(hits["new_work"]) <= _WEAK_NEW and open_tickets and client is not None:
        # "X also asked about the fee on their statements — did that get corrected?": "also" adds a
        # question about the subject of an open ticket, it does not set new work apart
        fit = fitted(analysis, open_tickets, client)
        new_work = not (fit and fit[0][0] >= 2 and event_question(analysis, hits, False))
    if not status and client is not None and open_tickets and not done:
        # "did 5.2.1 bring back the missing ELD logs?": an event asked about, on the subject of an open ticket
        event = event_question(analysis, hits, asked_to_act=bool(hits.get("ask")))
        event = event or _deadline_question(analysis, hits)
        event = event or ([] if hits.get("ask") else [w for w in [_state_asked(analysis)] if w])  # "sai quando?"
        if event and subject_fit(analysis, open_tickets, client):
            status, question = event, True
    if status and question and not done:
        existing = [t for t in open_tickets if _existed(t, message.at, ctx.zone)]
        answer = _status_about_client(analysis, hits, client, open_tickets, existing, new_work, status)
        if answer is None and client is not None and not new_work:
            closed = ctx.tickets.closed_for_client(client.client, message.at, _RECENTLY_CLOSED, ctx.zone)
            answer = _status_of_closed(analysis, client, closed, status)
        if answer is None and client is None and not inputs.request.any("how_to", analysis.text):
            answer = _status_by_subject(analysis, ctx.tickets.active(), status)
        if answer is not None:
            return answer
    if done:
        return Judgement("none", f"reports work done ({done[0]!r})", done)
    if case and client is not None and _names_first(case, client):
        hits["case"] = [f"{case}:"]  # "Peak Form: a return headed to Reno printed with the Toronto address"
    if client is not None and open_tickets and not new_work and (ask or reports):
        tracked = _tracked_request(analysis, hits, client, open_tickets)
        if tracked is not None:
            return tracked
    return _request(message, analysis, hits, ask, inputs, client, open_tickets, new_work, bool(status) and question)


_REQUEST_LISTS = ("problem", "forward", "relay", "event")

_WHY = frozenset("pq porque por why".split())  # noqa: SIM905
# Someone else asked: a how-to question they put is theirs ("pediu orientação de como fazer").
_ASKED = frozenset(
    """pediu pediram pede pedem perguntou perguntaram solicitou quer querem queria asked asks requested
    wants want wanted""".split()  # noqa: SIM905
)


def _asked_by_someone(analysis: Analysis, cue: str) -> bool:
    """A want or an ask someone had ("Mercia's insurer wants…"), not one a kind of client may have
    ("how do we handle a customer who wants to backdate…")."""
    word = cue.split()[0]
    if word not in _ASKED or word not in analysis.tokens:
        return False
    index = analysis.tokens.index(word)
    return not _HYPOTHETICAL.intersection(analysis.tokens[max(0, index - 3) : index])


# "a customer who wants", "if a customer wants", "quando o cliente quer": any client, not one
_HYPOTHETICAL = frozenset("who whoever if when whenever que quem se quando".split())  # noqa: SIM905


def _social_only(analysis: Analysis, inputs: Inputs) -> bool:
    """Lunch, coffee, a food truck outside: social talk that names a client's shop is no request
    ("lunch at Umami was unreal, told them we're fans"), unless someone asks, wants or asks after
    something (the café a client runs, a client's lunch-break rota)."""
    hits = inputs.cues.scan(analysis)
    if not hits.get("social") or any(hits.get(name) for name in (*_ASKING_LISTS, "problem")):
        return False  # "a Padaria emitiu cupom com NCM de bolo errado": the cake is the client's product
    return not inputs.request.any("work", analysis.text)


_ASKING_LISTS = (
    "ask", "wants", "event", "forward", "standing", "waiting", "progress_noun", "info_request", "indirect", "again",
)  # fmt: skip


def scan(analysis: Analysis, inputs: Inputs, requested: list[str] | None = None) -> dict[str, list[str]]:
    """The cue hits of a message as the judgement reads them (``requested``: HY101's request phrases found)."""
    return _as_judged(inputs.cues.scan(analysis), analysis, requested or [])


def _as_judged(hits: dict[str, list[str]], analysis: Analysis, requested: list[str]) -> dict[str, list[str]]:
    """The cue hits as the judgement reads them (a new dict: the matcher's own is shared):
    wants in the first person are the speaker's, and an inability a request phrase names
    ("não consegue") is a problem reported."""
    social = {word for cue in hits.get("social", []) for word in cue.split()}
    wants = [
        w
        for w in hits.get("wants", [])
        if not _speakers_own(analysis, w) and not _offers(analysis, w, social) and not _a_noun(analysis, w)
    ]
    # "alguém já protocolou…?" asks whether it was done, not for it to be done
    ask = [cue for cue in hits.get("ask", []) if not _offers(analysis, cue, social) and not _done_already(cue)]
    problem = hits.get("problem", []) + [p for p in requested if p.startswith(_INABILITY)]
    indirect = hits.get("indirect", []) or _long_indirect(analysis)
    asked = bool(indirect)  # "preciso saber se a rescisão sai essa semana"
    due = [cue for cue in hits.get("due", []) if asked or _in_question(analysis, cue.split()[0])]
    info_request = hits.get("info_request", []) + due
    judged = {**hits, "wants": wants, "ask": ask, "problem": problem, "info_request": info_request}
    if indirect:
        judged["indirect"] = indirect
    return judged


def _my_work_done(analysis: Analysis) -> list[str]:
    """What a thread reply says its writer did ("chegaram ontem, transmiti o PER/DCOMP hj", "cobrei
    ontem por email", "I chased them"): an answer in the thread, not a question."""
    tokens = analysis.tokens
    mine = [token for token in tokens if token in _MY_DONE]
    mine += [f"{a} {b}" for a, b in pairwise(tokens) if a in ("i", "we") and _said_in_past(b)]
    return mine


_MY_DONE = frozenset(
    """transmiti cobrei protocolei conferi enviei mandei emiti lancei paguei respondi fechei encerrei atualizei
    anexei gerei corrigi ajustei refiz retifiquei liguei pedi achei retifico""".split()  # noqa: SIM905
)


def _done_already(cue: str) -> bool:
    """An ask cue whose verb stands in the past ("alguem ja protocolou", "anyone already sent")."""
    return _said_in_past(cue.split()[-1])


def _long_indirect(analysis: Analysis) -> list[str]:
    """An asking verb, then "se/if/whether" further on in the same sentence: "perguntou no culto de
    domingo (…) se a certidão saiu", "asked me at dinner last night whether SSO will be sorted"."""
    tokens = analysis.tokens
    for index, token in enumerate(tokens):
        if token not in _ASKING_VERBS:
            continue
        for later in range(index + 1, min(len(tokens), index + 14)):
            if later in analysis.sentence_starts and later not in analysis.asides:
                break
            if tokens[later] in _IF:
                return [f"{token} … {tokens[later]}"]
    return []


_ASKING_VERBS = frozenset("perguntou perguntaram perguntando asked asking wondering".split())  # noqa: SIM905
_IF = frozenset(["se", "if", "whether"])


def _a_noun(analysis: Analysis, cue: str) -> bool:
    """ "their ask", "the request", "a need": a thing named, not someone asking."""
    word = cue.split()[0]
    if word not in _NOUN_TOO or word not in analysis.tokens:
        return False
    index = analysis.tokens.index(word)
    return index > 0 and analysis.tokens[index - 1] in _DETERMINERS


_NOUN_TOO = frozenset("ask asks request requests need needs want".split())  # noqa: SIM905
_DETERMINERS = frozenset("their the a an our your that this his her its my".split())  # noqa: SIM905


def _offers(analysis: Analysis, cue: str, social: set[str]) -> bool:
    """An ask or a want whose object is coffee or lunch ("alguém quer pão de queijo?", "alguém prepara
    café?"), or an invitation ("alguém quer ir no show?", "anyone want to split a 4-pack?"): talk
    among colleagues, not client work."""
    if _invites(analysis, cue):
        return True
    if not social:
        return False
    if _BRINGING.intersection(analysis.tokens):
        return True  # "o acarajé da Dona Graça tá com fila, alguém quer q eu traga?"
    words = cue.split()
    if words[0] not in analysis.tokens:
        return False
    start = analysis.tokens.index(words[0])
    if not analysis.asks and not _ANYONE.intersection(analysis.tokens[: start + 1]):
        return False  # "Harbourview now also wants breakfast covers pushed to…": a client's want, told
    return bool(social.intersection(analysis.tokens[start : start + len(words) + 3]))


_BRINGING = frozenset("traga trago busco compro bring grab".split())  # noqa: SIM905


def _invites(analysis: Analysis, cue: str) -> bool:
    """ "alguém quer ir…", "anyone want to split…": someone is invited to go or join."""
    word = cue.split()[0]
    if word not in _WANTING or word not in analysis.tokens:
        return False
    index = analysis.tokens.index(word)
    before, after = analysis.tokens[max(0, index - 2) : index], analysis.tokens[index + 1 : index + 3]
    return bool(_ANYONE.intersection(before)) and bool(_INVITED_TO.intersection(after))


def _who_has(analysis: Analysis) -> str:
    """The message opens by asking who has or holds a thing ("quem tá com o token A3 da Borboleta?",
    "alguém tem o contato do gerente…?", "does anyone have the Summit Ridge deck?"), not who has time
    or a way to do work ("alguém tem como emitir…?", "anyone have time to look at…?")."""
    tokens = analysis.tokens[analysis.opener : analysis.opener + 7]
    for index, token in enumerate(tokens[:3]):
        if token not in _ANYONE:
            continue
        rest = [word for word in tokens[index + 1 :] if word not in _FILLERS]
        if rest[:1] == ["com"] and index + 1 < len(tokens) and tokens[index + 1] in ("ta", "esta"):
            rest = rest[1:]  # "quem tá com o token"
        elif rest[:1] and rest[0] in _HOLDS:
            rest = rest[1:]
        else:
            continue
        things = [word for word in rest if word not in _ARTICLE_WORDS]
        if things and things[0] not in _NOT_A_THING:
            return " ".join(tokens[index : index + 4])
    return ""


_FILLERS = frozenset("does do ta esta".split())  # noqa: SIM905
_HOLDS = frozenset("tem has have got".split())  # noqa: SIM905
_ARTICLE_WORDS = frozenset("o a os as the an um uma".split())  # noqa: SIM905
_NOT_A_THING = frozenset(
    "como tempo tempinho time minute minuto sec second chance bandwidth capacity capacidade ideia idea".split()  # noqa: SIM905
)


_WANTING = frozenset("quer querem want wants".split())  # noqa: SIM905
_ANYONE = frozenset("alguem anyone anybody quem who".split())  # noqa: SIM905
_INVITED_TO = frozenset("ir vir junto split come join carpool go tag".split())  # noqa: SIM905

_NOTHING = Judgement("none", "no request, no reported problem, nothing forwarded, no question")


_CHASING = frozenset("cobrando cobrou cobrar chasing".split())  # noqa: SIM905
_CONTACTED = frozenset("ligou ligaram called pinged emailed messaged rang chased".split())  # noqa: SIM905
_ASKING_ABOUT = frozenset(
    "perguntou perguntaram perguntando pergunta perguntam cobrando cobrou cobrar asked asking asks ask chasing".split()  # noqa: SIM905
)


def _tracked_request(
    analysis: Analysis, hits: dict[str, list[str]], client: ClientMatch, open_tickets: list[Ticket]
) -> Judgement | None:
    """An ask again about work a client's open ticket covers ("o gerente ligou de novo", "asked again
    about the retention increase"): the work is tracked, so the answer comes from that ticket
    (HY102), not a new ticket (HY101). Naming the subject alone is not enough: new work for the
    same client often shares its words."""
    scored = fitted(analysis, open_tickets, client)
    best = [t for overlap, t in scored if overlap and overlap == scored[0][0]]
    chasing = [w for w in hits.get("wants", []) if _chases(analysis, w.split()[0], hits)]
    asked_about = any(w.split()[0] in _ASKING_ABOUT for w in hits.get("wants", [])) or bool(hits.get("indirect"))
    asked_about = asked_about or bool(_CONTACTED.intersection(analysis.tokens))  # "MedRoute called again about…"
    quoted = _quoted_words(analysis.plain)
    again = [cue for cue in hits.get("again", []) if cue.split()[0] not in quoted]  # not the client's "again"
    indirect = hits.get("indirect", [])
    if indirect:
        again = [cue for cue in again if cue != "still"]  # "asked whether we'd still honor the discount"
    if _asks_what_may(analysis, indirect):
        return None  # "de novo: querem saber se podem usar o crédito…": a new question, asked again
    # "o dono da Cajuí quer saber se a rescisão da Jéssica tá pronta": relayed, it asks whether work moved
    moved = bool(indirect) and _embeds_progress(analysis, hits)
    if indirect and not chasing and not moved:
        return None  # "de novo: … perguntaram se incide encargo": asked again, but something new
    strong = scored[0][0] >= 1 and (bool(again) or moved) and (asked_about or bool(chasing))
    # "quer saber do parcelamento do ISS" with a ticket "Parcelamento de ISS em atraso": asked about
    # the very work a ticket holds
    strong = strong or (scored[0][0] >= 2 and _asks_about_it(analysis))
    # "Caledonia PVG import — all 80 in now?", "a nota do churrasco sai quando?": where the work a
    # ticket holds stands, asked in so many words, without asking anyone to do anything
    strong = strong or (scored[0][0] >= 2 and not hits.get("ask") and bool(_state_asked(analysis)))
    # "a folha de dezembro com as férias coletivas vc consegue fechar até quinta?" with a ticket "Folha
    # de dezembro com férias coletivas": a question on the very work a ticket holds, told in its words
    strong = strong or (scored[0][0] >= _CLOSE_FIT and _asked_of(analysis, hits, indirect))
    if not best or not strong or len(best) > 2:
        return None
    referent = _client_referent(client)
    referent["ticket"] = "subject of an open ticket"
    cues = [*hits.get("again", []), f"subject: {best[0].subject}"]
    score = 0.6 + 0.3 * client.score + 0.05
    return Judgement(
        "status",
        "asks about work an open ticket of the client covers",
        cues,
        tuple(best),
        None,
        client,
        referent,
        score,
    )


_CLOSE_FIT = 3
"""Content words a message shares with an open ticket's subject for a question to be about it."""


def _asked_of(analysis: Analysis, hits: dict[str, list[str]], indirect: list[str]) -> bool:
    """The message asks (a question mark) or relays a question ("ligou querendo saber se…"), and
    asks no one to act and pastes nothing from the client ("can someone look?", "> Hi team, …")."""
    if hits.get("ask") or hits.get("forward") or _QUOTED.search(analysis.plain):
        return False
    if any(cue.split()[0] in _ANYONE for cue in hits.get("wants", [])):
        return False  # "alguém avisa o pastor…?": someone asked to act
    if indirect and not analysis.asks:
        return not _asks_what_may(analysis, indirect) and not _HOW.intersection(_embedded(analysis, indirect)[:1])
    if any(a in _HOW and b in _DOING for a, b in pairwise(analysis.tokens)):
        return False  # "quer saber como faz, paga em juízo? consignação?": how to, not how it stands
    return any(_asks_how_it_stands(analysis, end) for end in analysis.question_ends)


def _asks_how_it_stands(analysis: Analysis, end: int) -> bool:
    """The question ending at ``end`` asks neither who, why, how work is filed nor for something
    ("who approves hardware credits?", "anyone got a spare Android 15?", "could we spin up a sandbox?")."""
    start = _sentence_start(analysis, end)
    words = analysis.tokens[start : end + 1]
    opening = set(analysis.tokens[start : start + 2])
    # "entra essa semana?": a demonstrative names a time here, not which ticket
    return not ((_NOT_STATE - _IDENTIFYING).intersection(words) or (_MODALS | _ANYONE | _HOW).intersection(opening))


_DOING = frozenset("faz faco fazer fica ficam do does should can".split())  # noqa: SIM905


def _chases(analysis: Analysis, verb: str, hits: dict[str, list[str]]) -> bool:
    """A chasing verb ("cobrou", "chasing"), or a complaint made again ("their night lead
    complained again"); "de novo: o professor reclamou que…" is a new complaint."""
    if verb in _CHASING:
        return True
    if verb not in _COMPLAINING or verb not in analysis.tokens:
        return False
    index = analysis.tokens.index(verb)
    after = " ".join(analysis.tokens[index + 1 : index + 4])
    return any(f" {cue} " in f" {after} " for cue in hits.get("again", []))


_COMPLAINING = frozenset("complained complaining reclamou reclamaram reclamando".split())  # noqa: SIM905


def _existed(ticket: Ticket, at: datetime, zone: tzinfo) -> bool:
    """The ticket had been opened when the message was written (or its opening is unknown)."""
    if ticket.created_at is None:
        return True
    created = ticket.created_at if ticket.created_at.tzinfo else ticket.created_at.replace(tzinfo=zone)
    return created <= at


def _status_about_client(
    analysis: Analysis,
    hits: dict[str, list[str]],
    client: ClientMatch | None,
    open_tickets: list[Ticket],
    existing: list[Ticket],
    other_work: bool,
    cues: list[str],
) -> Judgement | None:
    """A question about a client's open ticket: the one(s) its subject fits, else the client's only
    one or two. A progress question presupposes work under way, and a client's work under way is
    on its open tickets; only words that set it apart ("nada a ver com…", "also") make it new."""
    if client is None or not open_tickets or other_work:
        return None  # "separate from the nexus setup, …": not about the open ticket
    fitting = subject_fit(analysis, open_tickets, client)
    # without a subject that fits, only the client's tickets open now and opened before the message
    # can be meant (not one an audit counts as open only because it was closed later, nor one
    # opened since: "o lead da Globex já foi contatado?" is not about a ticket opened an hour later)
    candidates = fitting or [t for t in existing if t.is_active]
    if not candidates or (not fitting and len(candidates) > 2):
        return None
    if not fitting and _new_question(analysis, hits, cues):
        return None  # "a Odonto quer contratar uma dentista PJ e perguntou se tem risco": new work
    chosen = tuple(candidates[:2])
    how = "subject of an open ticket" if fitting else "the client's open ticket"
    referent = _client_referent(client)
    referent["ticket"] = how
    score = 0.6 + 0.3 * client.score + (0.05 if fitting else 0.0)
    return Judgement("status", f"asks about {client.client}'s {how}", cues, chosen, None, client, referent, score)


_RECENTLY_CLOSED = timedelta(days=14)


def _new_question(analysis: Analysis, hits: dict[str, list[str]], cues: list[str]) -> bool:
    """A question the client puts that no progress of theirs answers: what may or must be done
    ("perguntou se tem risco trabalhista", "asked if they can be paid out daily"), or which way to
    go ("desconta ou não?"). Asked again, or asked outright before ("did batch 2 finish? want to
    know if…"), it chases the work."""
    indirect = hits.get("indirect", [])
    if not indirect:
        return all(cue in _EITHER_WAY for cue in cues)
    if _asked_before(analysis, indirect[0].split()[0], cues):
        return False
    if _asks_what_may(analysis, indirect):
        return True
    if [cue for cue in hits.get("again", []) if cue != "still"]:  # not "whether we'd still honor…"
        return False
    words = _embedded(analysis, indirect)[:8]
    either = words[: next((i for i, word in enumerate(words) if word in _OR), len(words))]
    if len(either) < len(words) and not _ASPECT.intersection(words) and not any(map(_maybe_past, either)):
        return True  # "querem saber se lança como despesa ou vai pro imobilizado": which way to go
    clause = f" {' '.join(words)} "
    if any(" " in cue and f" {cue} " in clause for cue in cues if cue not in _EITHER_WAY):
        return False  # "perguntou como tá a saída do simples": how it stands, asked for her
    return not _embeds_progress(analysis, hits)


def _asked_before(analysis: Analysis, opener: str, cues: list[str]) -> bool:
    """A cue of the message's own question comes before the relayed one ("did batch 2 finish? want
    to know if…")."""
    at = analysis.tokens.index(opener) if opener in analysis.tokens else 0
    firsts = {cue.split()[0] for cue in cues}
    return any(token in firsts and _sentence_asks(analysis, i) for i, token in enumerate(analysis.tokens[:at]))


_EITHER_WAY = frozenset(["ou nao", "or not"])
_OR = frozenset(["ou", "or"])


def _status_of_closed(
    analysis: Analysis, client: ClientMatch, closed: list[Ticket], cues: list[str]
) -> Judgement | None:
    """ "a renovação do certificado saiu ou não?" about a ticket closed days ago: answered from it
    (its status says it is done), when its subject fits closely (two content words) and alone."""
    own = set(words(fold(client.client)))
    ticket = _sole_best(sorted(((_words_shared(analysis, t.subject, own), t) for t in closed), key=_by_overlap))
    if ticket is None:
        return None
    referent = _client_referent(client)
    referent["ticket"] = "subject of a ticket closed lately"
    score = 0.6 + 0.3 * client.score
    return Judgement(
        "status", f"asks about {client.client}'s ticket closed lately", cues, (ticket,), None, client, referent, score
    )


def _words_shared(analysis: Analysis, subject: str, leave_out: set[str]) -> int:
    """How many of the message's words (each with its lemma and stem) the subject holds."""
    held = subject_lemmas(subject)
    return sum(
        1 for token, lemma in _content_words(analysis) if token not in leave_out and {token, lemma, token[:5]} & held
    )


def _sole_best(scored: list[tuple[int, Ticket]]) -> Ticket | None:
    """The ticket that fits best, by two words or more and better than any other (never a guess)."""
    strong = [(overlap, t) for overlap, t in scored if overlap >= 2]
    if not strong or (len(strong) > 1 and strong[1][0] == strong[0][0]):
        return None
    return strong[0][1]


def _by_overlap(item: tuple[int, Ticket]) -> int:
    return -item[0]


def _status_by_subject(analysis: Analysis, active: list[Ticket], cues: list[str]) -> Judgement | None:
    """No client named: an open ticket whose subject the question names closely enough."""
    ticket = _sole_best(fitted(analysis, active, None))
    if ticket is None:
        return None  # none, or two that fit as well: not a guess
    referent = {"kind": "subject", "value": ticket.reference, "subject": ticket.subject, "score": 0.8}
    return Judgement("status", "asks about an open ticket by its subject", cues, (ticket,), None, None, referent, 0.8)


def _request(
    message: ChatMessage,
    analysis: Analysis,
    hits: dict[str, list[str]],
    ask: list[str],
    inputs: Inputs,
    client: ClientMatch | None,
    open_tickets: list[Ticket],
    new_work: bool,
    progress_question: bool,
) -> Judgement:
    text = analysis.text
    forward = hits.get("forward", []) + (["(quoted)"] if _QUOTED.search(message.plain) else [])
    own_words = matchable(_QUOTED_TEXT.sub(" ", message.plain)) if forward else text
    # "emailed:", "ligou:" only say how it came; thanks pasted after them is still thanks
    asked = [cue for cue in ask if cue.split()[0] not in _CONTACTED]
    if forward and not (asked or hits.get("problem")) and (praise := _quoted_praise(message.plain, inputs)):
        return Judgement("none", f"forwards a client's thanks ({praise[0]!r})", praise)
    if _fond(message.plain, hits):
        return _FOND
    if not forward and (held := _who_has(analysis)):
        return Judgement("none", f"asks who has something ({held!r}): coordination among colleagues", [held])
    blocked = inputs.request.matches("not_request", own_words)
    if blocked and set(blocked) <= _HEADS_UP and hits.get("problem"):
        blocked = []  # "fyi Saint-Laurent's super can't sign daily logs": a problem, announced
    if blocked and all(phrase.startswith(_SIGNED) for phrase in blocked) and hits.get("wants"):
        blocked = []  # "Hawkeye signed the contract Friday, they need a promoter account": news, then a need
    if blocked:
        return Judgement("none", f"not a new request ({blocked[0]!r})", blocked)
    # A how-to question is the asker's own, unless a client's question is relayed or pasted.
    relayed = forward or hits.get("indirect") or any(_asked_by_someone(analysis, w) for w in hits.get("wants", []))
    relayed = relayed or bool(_FOR_THEM.search(own_words))  # "is there a way for them to bulk-close…"
    if not relayed and (how := inputs.request.matches("how_to", own_words)):
        return Judgement("none", f"not a new request ({how[0]!r}): a how-to question", how)
    problem = hits.get("problem", []) + hits.get("event", [])
    relay = hits.get("relay", []) + hits.get("case", [])
    if marked_urgent(message.plain):
        problem = []  # an URGENT incident follows the urgent path (an answer in ten minutes, HY104)
    # "is the portal down for anyone else?" asks, it does not report
    problem = [cue for cue in problem if not _in_question(analysis, cue.split()[0])]
    if not (ask or problem or forward or relay):
        return Judgement("none", "no request, no reported problem, nothing forwarded")
    if progress_question and not ask:
        return Judgement("none", "a progress question, but no ticket or open ticket of the client fits it")
    cues = _unique(ask + problem + forward + relay)
    return Judgement(
        "request",
        "asks for client work"
        if ask
        else "reports a client's problem"
        if problem
        else "forwards a client's message"
        if forward
        else "relays what a client says",
        cues,
        tuple(open_tickets),
        None,
        client,
        _client_referent(client) if client else {},
        0.0,
        new_work,
    )


def _case_head(plain: str) -> str:
    """The head of a message that opens with whom it is about and a colon or dash ("Peak Form: …",
    "Kindred again, different thing: …", "Prairie Boot again — …"), when a statement of some
    length follows: how a colleague lays out a client's case."""
    if not any(mark in plain for mark in _CASE_MARKS):
        return ""  # most chat: no colon or dash, no regular expression
    match = _CASE_HEAD.match(plain)
    if match is None or "?" in plain or _GOOD_NEWS.search(plain):
        return ""  # a question takes the question's path; ✅ and 🎉 tell of work done
    head, tail = words(fold(match.group("head"))), _WORD_PIECES.findall(fold(match.group("tail")))
    if tail and tail[0] in _ASKS_FIRST:
        return ""  # "Marigold login loop — is that with eng yet or still with us": a question without "?"
    if len(tail) < 5 or _TRACKED.intersection(tail) or _TRACKED.intersection(head):
        return ""  # "… vou processar e atualizar o chamado", "Pinewood update from their side: …"
    if _settled(tail):
        return ""  # "… já foram corrigidos no eSocial", "multi-box scanning works in v4.12"
    return match.group("head").strip()


def _names_first(head: str, client: ClientMatch) -> bool:
    """The head starts with the client's name ("Heatherbank's Ripon home: …") or says whom it came
    from ("one more from Kestrel: …"), not with the work ("pagamentos da Cerrado feitos hoje: …")."""
    folded = " ".join(_WORD_PIECES.findall(fold(head)))
    if any(folded.endswith(f"{source} {client.matched}") for source in _FROM):
        return True
    return any(folded.startswith(article + client.matched) for article in _ARTICLES)


_FROM = ("from", "de", "da", "do")
_SIGNED = ("signed the", "closed the")
_FONDNESS = re.compile("[🥹😍🥰❤💜💙💚🤩🍩🎂🍰🍕]")  # fondness, and treats a client sends
_FOND = Judgement("none", "fondness for a client (🥹, 😍): praise or social, no work asked")


def _fond(plain: str, hits: dict[str, list[str]]) -> bool:
    """Fondness or a treat (🥹, 🍩) and nothing asked to be done, no problem told."""
    return bool(_FONDNESS.search(plain)) and not (hits.get("ask") or hits.get("problem"))


_HEADS_UP = frozenset(["fyi", "heads up", "just so you know"])
_FOR_THEM = re.compile(r"\b(for|to) them\b|\b(pra|para) (eles|elas)\b")


_ARTICLES = ("", "the ", "a ", "o ", "os ", "as ")


def _settled(tail: list[str]) -> bool:
    """The statement says the work is done or the trouble gone: a verb in the past after "já/already",
    what the speaker did ("mandei"), or a word of a good state not denied ("works", "tá pronta";
    not "not working")."""
    if _MY_DONE.intersection(tail):
        return True
    for index, word in enumerate(tail):
        before = tail[index - 1] if index else ""
        if word in _GOOD_STATE and before not in _DENIALS:
            return True
        if before in ("ja", "already") and (_past_form(word) or word in _AUXILIARIES):
            return True
    return False


_ASKS_FIRST = frozenset(
    """is are was were did does do has have can could will would any anything what where how who why which
    e ja alguem como cade kd onde qual quem""".split()  # noqa: SIM905
)
_GOOD_NEWS = re.compile("[✅✔☑🎉👏🙌👍🥳💪🚀]")
_TRACKED = frozenset([*TICKET_WORDS, "updated", "update", "atualizado", "atualizei", "atualizacao"])
_WORD_PIECES = re.compile(r"[a-z0-9]+")
_GOOD_STATE = frozenset(
    """works working worked fixed resolved sorted gone funciona funcionando funcionou resolvido resolvida
    normalizou pronta pronto prontas prontos""".split()  # noqa: SIM905
)
_DENIALS = frozenset("not no never isn't aren't nao n nunca stopped parou still ainda only so".split())  # noqa: SIM905


_CASE_MARKS = (":", "—", "–", " - ")
_CASE_HEAD = re.compile(r"\s*(?P<head>[^:—–\n]{2,48}?)\s*(?::|—|–|\s-\s)\s*(?P<tail>[^\s\"“'‘>].*)", re.DOTALL)


def _client_referent(client: ClientMatch) -> dict[str, Any]:
    return {
        "kind": "client",
        "value": client.client,
        "matched": client.matched,
        "how": client.how,
        "score": round(client.score, 2),
    }


def status_cues(
    analysis: Analysis, hits: dict[str, list[str]], phrases: PhraseSet, asked_to_act: bool = False, loose: bool = True
) -> list[str]:
    """Words that ask how tracked work stands.

    When the message also asks someone to do something ("pode lançar…?", "can someone check if
    … was sent?"), a verb in the past is not enough: only words that ask for the state of things
    count, and asking someone to check ("verificar se") leaves it a request.
    """
    if asked_to_act and phrases.any("check_request", analysis.text):
        # "alguém já conseguiu ver se…?": whether the check was done, not a check asked for
        return [cue for cue in hits.get("standing", []) if "ja" in cue.split()]
    if _PERSON_WH.intersection(analysis.tokens) or _ASSIGNED.intersection(analysis.tokens):
        return list(hits.get("standing", []))  # "who's on 8809?", "which tech is on 8813 now it's done?"
    found = list(phrases.matches("status", analysis.text)) + hits.get("standing", [])
    found += [cue for cue in hits.get("state", []) if _in_question(analysis, cue.split()[0])]
    if hits.get("progress_noun") and (hits.get("info_request") or (analysis.asks and not asked_to_act)):
        found += hits["progress_noun"]
    if hits.get("info_request") and (hits.get("progress") or hits.get("progress_noun")):
        found += hits["info_request"]
    if analysis.asks:
        found += hits.get("waiting", [])  # "to esperando fechar a folha" tells; "still waiting on X?" asks
    # beside a question, a progress verb in a sentence that asks nothing tells ("…? chegou uma marmita")
    progress = [
        cue
        for cue in hits.get("progress", [])
        if (not analysis.asks or _in_question(analysis, cue.split()[0])) and not _needed(analysis, cue)
    ]
    if not asked_to_act and progress and (hits.get("aspect") or (loose and _past(analysis, progress))):
        found += progress + hits.get("aspect", [])
    openers = [cue for cue in hits.get("info_request", []) if cue.split()[0] in ("did", "has", "have")]
    if openers and hits.get("aspect") and not asked_to_act:
        found += openers + hits["aspect"]  # "did Tidepool's dispute ever get decided"
    elif not asked_to_act and "yet" in analysis.tokens and _PERFECT.intersection(analysis.tokens):
        yet = analysis.tokens.index("yet")
        if any(t in _PERFECT for t in analysis.tokens[max(0, yet - 10) : yet]):
            found.append("did … yet")  # "…, did legal sign off on the discount yet"
    indirect = [] if asked_to_act else hits.get("indirect", [])
    already = _already_done_question(analysis, require_mark=not indirect)
    if indirect and _asks_what_happened(analysis, indirect[0].split()[0], progress):
        found += indirect + hits.get("aspect", []) + already
    elif not asked_to_act:
        found += already
        if analysis.asks and any(cue.split()[0] == "e" for cue in hits.get("info_request", [])):
            found += [cue for cue in hits["info_request"] if cue.split()[0] == "e"]  # "e a retificação do SPED?"
    return _unique(found)


def _has_to(tokens: tuple[str, ...] | list[str]) -> bool:
    """ "tem que", "tem q", "temos que": an obligation."""
    return any(a in ("tem", "temos", "tenho") and b in ("q", "que") for a, b in pairwise(tokens))


def _asks_what_may(analysis: Analysis, indirect: list[str]) -> bool:
    """The embedded question asks what may or must be done ("se podem usar o crédito", "if they need
    a new CNAE"), not whether something already happened."""
    tail = _embedded(analysis, indirect)[:6]
    if any(pair in _MUST for pair in pairwise(tail[:4])):
        return True  # "se tem q declarar o milho", "whether they have to"
    return bool(_NEEDS.intersection(tail)) or (_modal_in(tail[:5]) and not _ASPECT.intersection(tail[:4]))


def _modal_in(tokens: tuple[str, ...]) -> bool:
    """A word of what may be done among ``tokens``; "da" (dá) only in "dá pra", not "da filial"."""
    return any(
        token in _MODALS and (token != "da" or tokens[index + 1 : index + 2] in (("pra",), ("para",), ("pro",)))
        for index, token in enumerate(tokens[:4])
    )


_MUST = frozenset([("tem", "q"), ("tem", "que"), ("tenho", "que"), ("have", "to"), ("has", "to")])


def _embedded(analysis: Analysis, indirect: list[str]) -> tuple[str, ...]:
    """The words of the question an asking cue embeds: after its "se/if/whether" ("perguntaram
    se incide encargo" → incide encargo), else after the cue's first word."""
    if not indirect or indirect[0].split()[0] not in analysis.tokens:
        return ()
    start = analysis.tokens.index(indirect[0].split()[0]) + 1
    near = range(start, min(start + 4, len(analysis.tokens)))
    conjunction = next((i for i in near if analysis.tokens[i] in _IF), None)
    return analysis.tokens[(conjunction + 1 if conjunction is not None else start) :]


def _embeds_progress(analysis: Analysis, hits: dict[str, list[str]]) -> bool:
    """The embedded question asks whether work moved ("se a declaração já foi entregue", "if the
    refund went through"), not a new question ("se incide encargo", "whether to keep printing")."""
    clause = _embedded(analysis, hits.get("indirect", []))[:8]
    if not clause:
        return True
    first_words = {cue.split()[0] for cue in hits.get("progress", [])}
    said = f" {' '.join(clause)} "
    if any(f" {cue} " in said for cue in hits.get("again", []) + hits.get("state", [])):
        return True  # "if the export is working again", "se a guia tá ok"
    return bool(_ASPECT.intersection(clause) or first_words.intersection(clause)) or any(
        _maybe_past(token) for token in clause
    )


def _needed(analysis: Analysis, cue: str) -> bool:
    """The verb follows a need ("precisa transmitir a DCTFWeb", "needs to send"): work still to do."""
    word = cue.split()[0]
    if word not in analysis.tokens:
        return False
    index = analysis.tokens.index(word)
    before = analysis.tokens[max(0, index - 2) : index]
    return bool(_NEEDS.intersection(before)) or (before[-1:] == ("que",) and "tem" in before)


def _asks_what_happened(analysis: Analysis, opener: str, progress: list[str]) -> bool:
    """After "perguntou se" / "asked if": whether something already happened ("se a junta já
    registrou", "if the refund has gone out yet"), not whether something can be done."""
    start = analysis.tokens.index(opener) if opener in analysis.tokens else 0
    # from the conjunction on: "like to know whether …", "quer saber se …"
    start = next((i for i in range(start, min(start + 14, len(analysis.tokens))) if analysis.tokens[i] in _IF), start)
    tail = analysis.tokens[start + 1 :]
    end = next((i for i, token in enumerate(tail) if token in _CLAUSE_ENDS), len(tail))
    tail = tail[: min(end, _EMBEDDED)]  # the embedded question only: "whether the fix is live so they can…"
    if _NEEDS.intersection(tail) or _has_to(tail):
        return False  # "se precisa de CNAE novo", "se tem q declarar": what must be done is new work
    aspect = [t for i, t in enumerate(tail) if t in _ASPECT and tail[i + 1 : i + 2] not in (("q",), ("que",))]
    if aspect:  # "já que" is "since"
        return True  # "se já dá pra escriturar", "if the export is live yet"
    if _MODALS.intersection(tail[:3]):
        return False  # "se posso vender ostra pra…": what may be done is a new question
    lemmas = analysis.lemmas[start + 1 : start + 1 + len(tail)]
    if any(
        _past_form(token) and (token != lemma or token in _EN_IRREGULAR_PAST) and token not in _ADJECTIVES
        for token, lemma in zip(tail, lemmas, strict=True)
    ):
        return True
    # "se a prestação de contas fica pronta antes da assembleia": completion asked, not ability
    completion = set(lemmas)
    return bool(_COMPLETION & completion) and not _MODALS.intersection(tail)


# Words that ask whether a named ticket's work is finished ("o 4520 fica pronto até terça?").
_DONE_WORDS = frozenset("sair chegar terminar concluir finalizar pronto ready done live".split())  # noqa: SIM905
_COMPLETION = frozenset(
    """ficar sair chegar terminar concluir finalizar fechar pronto ready done go live land ship happen clear
    will vai""".split()  # noqa: SIM905
)


_PERFECT = frozenset(["did", "has", "have", "had"])
_YES_NO = frozenset(["is", "are", "was", "were", "did", "has", "have", "will", "does", "do"])
# Participles that say what something is, not that it happened: "se é devido" asks what is owed.
_ADJECTIVES = frozenset("devido devida devidos devidas indevido indevida valido valida".split())  # noqa: SIM905
_EMBEDDED = 10
"""Words of an embedded question read after "se/if" ("se compensa ir pro lucro real em 2027 (…), o dono pediu")."""
_CLAUSE_ENDS = frozenset("so because since but pq porque mas pois".split())  # noqa: SIM905
_MODALS = frozenset("pode podem poderia da consegue conseguem posso podemos can could may should".split())  # noqa: SIM905
# Need and obligation: "precisa transmitir", "se precisa de CNAE novo", "needs to send".
_NEEDS = frozenset(
    "precisa precisam preciso precisamos precisaria devo deve devem must need needs required".split()  # noqa: SIM905
)


def _looks_past(token: str) -> bool:
    """A verb the lemma table does not know, in the past by its ending ("voltou", "travaram")."""
    return token in _EN_IRREGULAR_PAST or (len(token) >= 5 and token.endswith(("ou", "aram", "eram", "iram", "iu")))


def _past_form(token: str) -> bool:
    return token.endswith(_PT_PAST) or token.endswith("ed") or token in _EN_IRREGULAR_PAST


def _said_in_past(token: str, lemma: str | None = None) -> bool:
    """A verb in the past by the lemma table: a past ending on a word it turns into another word
    ("protocolou" → protocolar). "set", "put" stay themselves: present as much as past."""
    lemma = lemma_of(token) if lemma is None else lemma
    return _past_form(token) and token != lemma


def _maybe_past(token: str, lemma: str | None = None) -> bool:
    """A verb in the past by the table, or one the table lacks that looks like one ("travaram")."""
    return _said_in_past(token, lemma) or (_past_form(token) and _looks_past(token))


_QUESTION_OPENERS = frozenset(
    "ja conseguiram conseguiu saiu sairam andou foi foram has have did".split()  # noqa: SIM905
)
_ASPECT = frozenset("ja ainda yet already ever still".split())  # noqa: SIM905


def _short_question(analysis: Analysis) -> bool:
    """The message opens with a question of a word or two beside the ticket ("61219 close?", "48231
    progress?"), not who holds it or which one it is ("who owns 8836?", "isn't that SUP-2275?")."""
    if not analysis.question_ends or analysis.question_ends[0] >= 3:
        return False
    asked = analysis.tokens[: analysis.question_ends[0] + 1]
    return not (_WH_WORDS | _PERSON_WH | _ASSIGNED | _IDENTIFYING).intersection(asked)


_IDENTIFYING = frozenset("that this isso esse essa owns owner dono".split())  # noqa: SIM905


def _state_asked(analysis: Analysis, words_only: bool = False) -> str:
    """The word of a question that asks where work stands ("sai quando?", "all 80 in now?", "when's
    the Forth Bridges cutover?", "did they answer?"), or "": not who holds the work, why, how it is
    filed or what the speaker may do. ``words_only``: beside a ticket it names, a word of state
    only, not "now" or a verb of completion."""
    tokens, lemmas = analysis.tokens, analysis.lemmas
    for end in analysis.question_ends:
        start = _sentence_start(analysis, end)
        if _NOT_STATE.intersection(tokens[start : end + 1]):
            continue
        for index in range(start, end + 1):
            if _state_word(tokens, index) or (
                not words_only and (tokens[index] in _STATE_NOW or lemmas[index] in _DONE_WORDS)
            ):
                return tokens[index]
    return ""


# "all 80 in now?", "live for them now?": a state asked after, besides the words of progress.
_STATE_NOW = frozenset("now agora live".split())  # noqa: SIM905
# Words of a question about where work stands.
_STATE_ASKED = frozenset(
    """when whens when's hows how's coming yet ever answer answered heard back blocking blocked land
    landing ship making closing ready done quando ja ainda ficou pronto respondeu responderam
    aceitou novidade retorno olho""".split()  # noqa: SIM905
)
# "como q tá…?", "how close are we…?" ask where work stands; "como que faz?", "how do I…?" ask how to.
_HOW = frozenset(["como", "how"])
_HOW_STANDS = frozenset("ta esta estao tao anda andam ficou fica vai close far is are did".split())  # noqa: SIM905


def _state_word(tokens: tuple[str, ...], index: int) -> bool:
    word = tokens[index]
    if word in _HOW:
        after = [t for t in tokens[index + 1 : index + 3] if t not in ("q", "que")]
        return bool(after) and after[0] in _HOW_STANDS
    return word in _STATE_ASKED


# How a ticket is filed or who acts on it next: "o 4866 é urgente ou deixo normal?", "posso fechar o 5562?".
_HANDLING = frozenset(
    """priority prioridade urgent urgente normal alta queue fila group grupo department departamento
    category categoria tag assigned responsavel meu minha mine posso can should devo pega pegou reabro
    reenvio excluir move moving mudar passar prefere prefer""".split()  # noqa: SIM905
)


def _deadline_question(analysis: Analysis, hits: dict[str, list[str]]) -> list[str]:
    """Whether work will be done by a time, asked ("o PIS/COFINS fecha antes do dia 25?", "os
    contratos saem até quarta?"): a progress verb in a question, a deadline after it."""
    if hits.get("ask"):
        return []
    for cue in hits.get("progress", []):
        verb = cue.split()[0]
        if verb in analysis.tokens and _in_question(analysis, verb) and not _needed(analysis, cue):
            after = analysis.tokens[analysis.tokens.index(verb) + 1 :][:8]
            if _DEADLINE.intersection(after):
                return [cue, next(word for word in after if word in _DEADLINE)]
    return []


_DEADLINE = frozenset(
    """ate antes amanha hoje by before until tomorrow today tonight eod segunda terca quarta quinta sexta
    monday tuesday wednesday thursday friday""".split()  # noqa: SIM905
)


def _asks_about_it(analysis: Analysis) -> bool:
    """Someone asks about a thing ("quer saber do parcelamento", "perguntou da certidão", "asking
    about the refund"), not whether something may or must be done."""
    return any(first in _ASKING_OF and second in _OF_IT for first, second in pairwise(analysis.tokens))


_ASKING_OF = frozenset("saber perguntou perguntando perguntaram asked asking asks".split())  # noqa: SIM905
_OF_IT = frozenset("do da dos das about after".split())  # noqa: SIM905


def event_question(analysis: Analysis, hits: dict[str, list[str]], asked_to_act: bool) -> list[str]:
    """A yes/no question on what happened ("did eng pick up 8809?", "5.2.2 rolled out fully?"): a
    progress question when it is about tracked work (a ticket named, or an open ticket's subject)."""
    if asked_to_act or not analysis.asks:
        return []
    if _WH_WORDS.intersection(analysis.tokens) and not _opens_yes_no(analysis):
        return []  # "what's left on it?" asks what, not whether; "did eng figure out why…?" does
    if _ASSIGNED.intersection(analysis.tokens):
        return []  # who holds it, not whether it happened
    openers = [cue for cue in hits.get("info_request", []) if cue.split()[0] in _EVENT_OPENERS]
    participles = [
        token
        for index, token in enumerate(analysis.tokens)
        if token.endswith("ed")
        or _maybe_past(token, analysis.lemmas[index])
        or token in _PT_DONE_FORMS
        or _state_participle(analysis.tokens, index)
        if any(0 <= end - index <= 3 for end in analysis.question_ends)
    ]
    if not (hits.get("aspect") or participles or any(o.split()[0] in ("did", "has", "have") for o in openers)):
        return []  # "is 8836 with payroll ops or engineering?" asks where, not whether it happened
    return openers + hits.get("aspect", []) + participles[:1]


# "8814 can be closed, right?" asks for agreement, not for how the work stands.
_TAG_QUESTION = re.compile(r"\b(right|ne|certo|correto|ok|yes)\s*\?")
# Who holds a ticket is not how it stands: "is 18247 still assigned to Tom?".
# Nor is merging it with another: "mescla o 5512 com aquele outro?".
_ASSIGNED = frozenset(
    "assigned assignee unassigned responsavel atribuido atribuida merge mescla mesclar juntar unificar".split()  # noqa: SIM905
)
_PERSON_WH = frozenset("quem who who's whos whom which".split())  # noqa: SIM905
# A question with one of these asks who holds work, why, how it is filed or what the speaker may do.
_NOT_STATE = _PERSON_WH | _ASSIGNED | _IDENTIFYING | _WHY | _HANDLING
_WH_WORDS = frozenset(
    """quem qual quais quanto quantos onde who who's whos whom whose which what where why how""".split()  # noqa: SIM905
)


def _opens_yes_no(analysis: Analysis) -> bool:
    """A question sentence opens with "did", "has", "is"… ("did eng figure out why it failed?")."""
    return any(analysis.tokens[_sentence_start(analysis, end)] in _YES_NO_OPENERS for end in analysis.question_ends)


_YES_NO_OPENERS = frozenset("did has have is are was were".split())  # noqa: SIM905


def _state_participle(tokens: tuple[str, ...], index: int) -> bool:
    """A participle after a verb of state ("o certificado tá instalado?", "a DASN foi transmitida?"):
    the lemma table holds only the verbs of the cue lists, so the ending tells."""
    return tokens[index].endswith(_PARTICIPLE) and bool(_COPULA.intersection(tokens[max(0, index - 2) : index]))


_PARTICIPLE = ("ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas")
_COPULA = frozenset("ta esta tao estao foi foram ficou ficaram ja".split())  # noqa: SIM905
_EVENT_OPENERS = frozenset(["did", "has", "have", "is", "are", "was", "were", "will", "ja", "ainda"])


def _already_done_question(analysis: Analysis, require_mark: bool = True) -> list[str]:
    """Portuguese "já" before a verb in the past, asked: "já bateu?", "a vigilância já marcou…?"."""
    if require_mark and not analysis.asks:
        return []
    found = []
    tokens = analysis.tokens
    for index, token in enumerate(tokens[:-1]):
        following = tokens[index + 1]
        if token == "ja" and (following in _PT_IRREGULAR_PAST or following.endswith(_PT_THIRD_PAST)):
            found.append(f"ja {following}")
    return found


_PT_THIRD_PAST = ("ou", "aram", "eram", "iram", "iu", "eu")
_PT_HAPPENED = frozenset(["foi", "foram", "fez", "fizeram", "deu", "deram", "veio", "vieram", "saiu"])
_PT_IRREGULAR_PAST = _PT_HAPPENED | {"teve", "tiveram", "pode", "pôde"}
# Irregular pasts and participles of work that happened: "foi pra Padaria?", "registro feito?"
_PT_DONE_FORMS = _PT_HAPPENED | frozenset(
    "feito feita feitos feitas pago paga pagos pagas entregue entregues aberto aberta dito posto visto".split()  # noqa: SIM905
)


def asks(analysis: Analysis, hits: dict[str, list[str]], phrases: PhraseSet) -> bool:
    """Written as a question or an ask for information, with or without a question mark."""
    if analysis.asks or phrases.any("asking", analysis.text):
        return True
    if hits.get("info_request") or hits.get("standing") or hits.get("indirect"):
        return True
    opener = analysis.opener
    if opener >= len(analysis.tokens):
        return False
    first = analysis.tokens[opener]
    return first in _QUESTION_OPENERS or (first.endswith(("aram", "eram", "iram")) and analysis.lemmas[opener] != first)


def done_report(analysis: Analysis, hits: dict[str, list[str]]) -> list[str]:
    """Words that report work done or a ticket updated, in a sentence that is not itself a question
    ("emiti o DARF e mandei pro financeiro. anexo no 4547 ou abro outro chamado?" reports)."""
    embedded = _first_index(analysis, hits.get("indirect", []))
    return [
        cue
        for cue in hits.get("done", [])
        if not _in_question(analysis, cue.split()[0])
        and not embedded < _first_index(analysis, [cue])
        and not _opens_as_question(analysis, _first_index(analysis, [cue]))
        and not _undecided(analysis, _first_index(analysis, [cue]))
    ]


def _undecided(analysis: Analysis, index: int) -> bool:
    """The done word is still to be ("going to be fixed", "vai ser enviado") or one side of a choice
    ("fixed or still broken", "did it get fixed by the update or not")."""
    tokens = analysis.tokens
    if tokens[index - 1 : index] in (("be",), ("ser",)):
        return True
    end = min((start for start in analysis.sentence_starts if start > index), default=len(tokens))
    after = tokens[index + 1 : end]
    return any(word in _OR and after[i + 1 : i + 2] and after[i + 1] in _OTHER_SIDE for i, word in enumerate(after))


_OR = frozenset(["ou", "or"])
# "…or still broken", "…or not", "…ou ainda tá pendente", "…or do they keep using the iPads"
_OTHER_SIDE = frozenset("still not nao ainda do does are is did continua segue ta".split())  # noqa: SIM905


def _opens_as_question(analysis: Analysis, index: int) -> bool:
    """The sentence of the token at ``index`` opens like a question ("is 9345 fixed")."""
    start = _sentence_start(analysis, index)
    return start < len(analysis.tokens) and analysis.tokens[start] in _YES_NO


def _sentence_start(analysis: Analysis, index: int) -> int:
    """Where the sentence of the token at ``index`` starts."""
    return max((s for s in analysis.sentence_starts if s <= index), default=0)


def _first_index(analysis: Analysis, cues: list[str]) -> int:
    """Where the first of ``cues`` starts in the message (past the end when none is there)."""
    found = [analysis.tokens.index(c.split()[0]) for c in cues if c.split()[0] in analysis.tokens]
    return min(found, default=len(analysis.tokens))


def _in_question(analysis: Analysis, word: str) -> bool:
    """The sentence where ``word`` first stands ends with a question mark."""
    if word not in analysis.tokens:
        return analysis.asks
    return _sentence_asks(analysis, analysis.tokens.index(word))


def _sentence_asks(analysis: Analysis, index: int) -> bool:
    """The sentence of the token at ``index`` ends with a question mark."""
    full_stops = analysis.sentence_starts - analysis.asides
    end = min((start - 1 for start in full_stops if start > index), default=len(analysis.tokens) - 1)
    return any(index <= question <= end for question in analysis.question_ends)


def _past(analysis: Analysis, progress: list[str]) -> bool:
    """A progress verb in the past that asks how the work went: at the start of a sentence
    ("saiu?", "conseguiram emitir…", "fixed?"), as a participle after a form of be/have ("foi
    emitida?", "has been sent"), or just before the question mark ("a admissão saiu no eSocial?").
    "O Mercadinho mandou um print de uma multa … de 2019??" tells, it does not ask."""
    first_words = {cue.split()[0] for cue in progress}
    tokens = analysis.tokens
    for index, (token, lemma) in enumerate(zip(tokens, analysis.lemmas, strict=True)):
        if not _maybe_past(token, lemma):
            continue
        finite = token.endswith(_PT_THIRD_PAST) or token.endswith("ed") or token in _EN_IRREGULAR_PAST
        asked_right_after = finite and any(0 <= end - index <= _CLAUSE for end in analysis.question_ends)
        if asked_right_after and not _boundary_between(analysis, index):
            return True  # "…voltou com erro de novo?", "…saiu no eSocial?": any verb in the past
        after_start = index in analysis.sentence_starts or (index and tokens[index - 1] in _AUXILIARIES)
        # "…da esquina? chegou uma marmita": beside a question, a sentence without one tells
        told = analysis.asks and not _sentence_asks(analysis, index)
        if token in first_words and after_start and not told:
            return True
    return False


_CLAUSE = 10
"""A past verb this close before a question mark is what the question asks about ("…saiu no eSocial?")."""


def _boundary_between(analysis: Analysis, index: int) -> bool:
    """A sentence starts between the token and the question mark that follows it."""
    end = next((e for e in analysis.question_ends if e >= index), index)
    return any(index < start <= end for start in analysis.sentence_starts)


_EN_IRREGULAR_PAST = frozenset(
    [
        "went",
        "gone",
        "sent",
        "done",
        "got",
        "gotten",
        "made",
        "paid",
        "heard",
        "came",
        "brought",
        "found",
        "took",
        "given",
        "left",
        "put",
        "set",
    ]
)
_AUXILIARIES = frozenset(
    [
        "foi",
        "foram",
        "esta",
        "estao",
        "ta",
        "tao",
        "ficou",
        "ficaram",
        "sera",
        "was",
        "were",
        "been",
        "is",
        "are",
        "be",
        "being",
        "get",
        "got",
        "has",
        "have",
        "had",
        "it",
        "they",
    ]
)


def referenced_ticket(message: ChatMessage, ctx: RuleContext) -> tuple[Ticket | None, str | None, float]:
    """The ticket the message names (or, without a helpdesk, the reference typed) and a score."""
    for ref in find_refs(message.plain, ctx.url_patterns):
        ticket = ctx.tickets.known(ref.key)
        if ticket is not None:
            return ticket, ref.key, 0.95
        if not len(ctx.tickets) and any(word in TICKET_WORDS for word in words(fold(ref.matched))):
            return None, ref.key, 0.8
    for number in BARE_NUMBER.findall(message.plain) + KEYED_NUMBER.findall(message.plain):
        ticket = ctx.tickets.known(number)
        if ticket is not None:
            return ticket, number, 0.85
    return None, None, 0.0


_WEAK_NEW = frozenset(["also", "tambem", "tb", "tbm"])


def fitted(analysis: Analysis, tickets: list[Ticket], client: ClientMatch | None) -> list[tuple[int, Ticket]]:
    """Each ticket with how much of its subject the message names (content words, their lemmas and
    stems, the client's own name left out), best first."""
    content = content_lemmas(analysis) - (set(words(fold(client.client))) if client else set())
    return sorted(((len(content & subject_lemmas(t.subject)), t) for t in tickets), key=_by_overlap)


def subject_fit(analysis: Analysis, tickets: list[Ticket], client: ClientMatch | None) -> list[Ticket]:
    """The tickets whose subject shares a content word (or its lemma) with the message, best first."""
    return [t for overlap, t in fitted(analysis, tickets, client) if overlap]


def content_lemmas(analysis: Analysis) -> set[str]:
    found: set[str] = set(analysis.acronyms)
    for token, lemma in _content_words(analysis):
        found |= {token, lemma, token[:5]}
    return found


def _content_words(analysis: Analysis) -> Iterator[tuple[str, str]]:
    """The message's words that can name work (not stop words, not generic ones, not numbers), with their lemmas."""
    for token, lemma in zip(analysis.tokens, analysis.lemmas, strict=True):
        if len(token) >= 3 and token not in _STOP and token not in GENERIC and not token.isdigit():
            yield token, lemma


@lru_cache(maxsize=8192)
def subject_lemmas(subject: str) -> frozenset[str]:
    return frozenset(content_lemmas(analyze(subject)))


_LEADING_NOISE = re.compile(r"^(?:\s|@\S+|[*_~>:!\-–—\[\](){}|,.])*")
_URGENT_MARK = re.compile(r"^(urgente|urgent|urgencia)\b")


def marked_urgent(plain: str) -> bool:
    """The message starts with URGENTE or URGENT (after mentions, emoji and punctuation)."""
    head = _LEADING_NOISE.sub("", fold(strip_emoji(plain)))
    return bool(_URGENT_MARK.match(head))


# "não consegue", "sem conseguir": someone cannot do something — a problem reported, not an ask.
_INABILITY = ("nao ", "sem ")


def _speakers_own(analysis: Analysis, cue: str, spelled_out: bool = False) -> bool:
    """A want in the first person ("I need…", "want to reuse…", "pergunto pq…"): the speaker's, not a
    client's; with ``spelled_out``, only when the pronoun is written ("I want to order a bag"). A
    want inside a pasted client message is the client's."""
    word = cue.split()[0]
    if word not in analysis.tokens or word in _quoted_words(analysis.plain):
        return False
    index = analysis.tokens.index(word)
    before = analysis.tokens[index - 1] if index else ""
    bare = not spelled_out and index in analysis.sentence_starts and word in _BARE_FIRST_PERSON
    # "o lembrete q tu pediu", "the report you asked for": a colleague's ask
    yours = before in _SECOND_PERSON and word in _ASKED
    # "ou quer q eu recalcule?", "want me to send it?": an offer, not a want
    offer = word in _OFFERING and (
        analysis.tokens[index + 1 : index + 3] in (("q", "eu"), ("que", "eu"))
        or analysis.tokens[index + 1 : index + 2] == ("me",)
    )
    return before in _FIRST_PERSON or bare or yours or offer


_SECOND_PERSON = frozenset("tu vc voce voces vcs you".split())  # noqa: SIM905
_OFFERING = frozenset("quer queres want".split())  # noqa: SIM905
_SIGN_OFF = frozenset(["obrigado", "obrigada", "obrigados", "obrigadas", "valeu", "thank you", "thanks", "thx"])


def _quoted_praise(plain: str, inputs: Inputs) -> list[str]:
    """Praise in a pasted client message: thanks it opens with ("'obrigado pessoal, a admissão foi
    rapidinho'"), or words of praise beyond a thank-you sign-off ("Preciso da 2ª via… Obrigada!")."""
    found: list[str] = []
    for match in _QUOTED_TEXT.finditer(plain):
        quoted = matchable(match.group(0))
        praise = inputs.request.matches("not_request", quoted)
        opening = " ".join(quoted.split()[:4])
        found += [p for p in praise if p not in _SIGN_OFF or p in opening]
    return found


@lru_cache(maxsize=1024)
def _quoted_words(plain: str) -> frozenset[str]:
    if not _QUOTED.search(plain):
        return frozenset()
    return frozenset(words(fold(" ".join(m.group(0) for m in _QUOTED_TEXT.finditer(plain)))))


_FIRST_PERSON = frozenset("i we i'd we'd i'll eu nos gente to tou estou vou".split())  # noqa: SIM905
_BARE_FIRST_PERSON = frozenset("want need pergunto preciso quero queria gostaria".split())  # noqa: SIM905


def _affirmed(phrases: list[str], text: str) -> list[str]:
    """Phrase hits not negated right before ("não conseguem emitir" reports, it does not ask)."""
    return [p for p in phrases if not re.search(rf"\b(?:nao|not|never|nunca|nem)\s+{re.escape(p)}", text)]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
