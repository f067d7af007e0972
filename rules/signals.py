"""Signals several chat rules share: ticket references in a thread, progress questions, urgency."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from hygiene.models import ChatMessage
from hygiene.ports import RuleContext
from hygiene.refs import TicketRef, find_refs
from hygiene.rulebase import RuleSettings
from hygiene.text import fold
from rules.phrases import PhraseSet, per_settings, phrases_for
from rules.speech import BARE_NUMBER, KEYED_NUMBER, Inputs, cue_matcher


def thread_refs(message: ChatMessage, ctx: RuleContext) -> list[TicketRef]:
    """Ticket references people made in the message or its thread (the bot's own words never count):
    spelled as tickets, links, or a bare number the helpdesk knows ("abri o 4583 pra isso")."""
    thread = ctx.thread(message)
    items = thread if any(m.id == message.id for m in thread) else [message, *thread]
    refs: list[TicketRef] = []
    for item in items:
        if item.is_bot:
            continue
        refs += find_refs(item.plain, ctx.url_patterns)
        numbers = BARE_NUMBER.findall(item.plain) + KEYED_NUMBER.findall(item.plain)
        refs += [TicketRef(n, n) for n in numbers if ctx.tickets.known(n) is not None]
    return refs


_SHIPPED = RuleSettings()


def speech_inputs(settings: RuleSettings, request: PhraseSet | None = None, status: PhraseSet | None = None) -> Inputs:
    """What the shared judgement reads: the calling rule's own (extended) lists, the other's shipped ones.

    Asked by several rules on every message: the answer is kept per settings object and lists,
    kept alive beside it so that their ids are not reused while the entry stands.
    """
    call = (id(settings), id(request), id(status))
    known = _BY_CALL.get(call)
    if known is not None and known[0] is settings and known[1] is request and known[2] is status:
        return known[3]
    inputs = _speech_inputs(settings, request, status)
    if len(_BY_CALL) > 1024:
        _BY_CALL.clear()
    _BY_CALL[call] = (settings, request, status, inputs)
    return inputs


_BY_CALL: dict[tuple[int, int, int], tuple[RuleSettings, PhraseSet | None, PhraseSet | None, Inputs]] = {}


def _speech_inputs(settings: RuleSettings, request: PhraseSet | None, status: PhraseSet | None) -> Inputs:
    request = request or phrases_for("HY101", _SHIPPED)
    status = status or phrases_for("HY102", _SHIPPED)
    cues = per_settings("cues", settings, lambda: json.dumps(getattr(settings, "cues", None) or {}, sort_keys=True))
    key = (id(request), id(status), cues)
    if key not in _INPUTS:
        _INPUTS[key] = Inputs(request, status, cue_matcher(json.loads(cues)))
    return _INPUTS[key]


# Phrase sets are cached by phrases_for, so their identity is stable; two rules with the same lists
# and cues share one Inputs (and so one cached judgement per message).
_INPUTS: dict[tuple[int, int, str], Inputs] = {}


# "Cliente Ótica Visão", "customer Acme", "client Initech" (capitals mark the name, so plain text).
_CLIENT_NAMED = re.compile(
    r"\b(?:[Cc]lientes?|[Cc]ustomers?|[Cc]lients?)\s+(?:nov[oa],?\s+|new\s+|[ao]\s+)?"
    r"([A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w&'.-]+(?:\s+[A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w&'.-]+)*)"
)
# A named party asking: "Initech is asking for…", "A Mercearia quer…" (on the rendered text, so
# capital letters still mark a name).
_NAMED_PARTY = re.compile(
    r"(?:^|[.!?]\s+|\b(?i:a|o|os|as|the)\s+)([A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w&'.-]+(?:\s+(?:[A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w&'.-]+|d[aoe]s?|&)){0,4})"
    r"(?:'s\s+\w+(?:\s+\w+)?)?\s+(?:is asking|asked|asks|wants|needs|would like|requested|reported|complained|"
    r"quer|querem|pediu|pediram|precisa|precisam|solicitou|está pedindo|mandou|ligou|reclamou|gostaria|vai precisar)\b"
)
# "a nota da Padaria Pão Quente", "o DAS da Mercearia", "Initech's invoice".
_WORK_OF_NAME = re.compile(
    r"\b(?:nota|notas|NF|NFs|guia|guias|boleto|boletos|folha|DAS|DARF|DCTF|certidão|balancete|contrato|"
    r"holerites?|rescisão|férias|declaração|extratos?|cadastro|senha|SPED|EFD)\b"
    r"(?:\s+\w+){0,4}?\s+d[aoe]s?\s+([A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w&'.-]+)"
    r"|\b([A-Z][\w&.-]+)'s\s+(?:\w+\s+)?(?:invoice|invoices|account|plan|billing|contract|renewal|password|admin|"
    r"data|report|seats|licenses|subscription)\b"
)


@dataclass(frozen=True)
class ClientSignal:
    """How sure we are that a message is about a client, and which one."""

    score: float
    client: str | None
    known_client: str | None
    words: list[str]
    work: list[str]


def client_signal(plain: str, text: str, ctx: RuleContext, phrases: PhraseSet) -> ClientSignal:
    """A known client (helpdesk or alias), the word for a customer, or a named party asking for client work.

    ``phrases`` holds HY101's lists (client, client_weak, work, tech). A client known only by one
    word of its name needs client work or the word "cliente" beside it; "client" in English
    counts only with client work and no technical words around.
    """
    known = ctx.tickets.find_client(plain)
    work = phrases.matches("work", text)
    software_client = phrases.any("client_tech", text)
    technical = software_client or len(phrases.distinct("tech", text)) >= 2
    words = phrases.matches("client", text)
    named_client = None if software_client else _CLIENT_NAMED.search(plain)
    if software_client and not known:
        words = []
    if named_client:
        words.append(named_client.group(0))
    if work and not technical:
        words += phrases.matches("client_weak", text)
    named = _named_party(plain) if work and not technical else ""
    written_as_name = known is not None and (known.score >= 0.9 or _capitalized(plain, known.matched))
    known_score = known.score if known and (written_as_name or work or words) else 0.0
    score = max(known_score, 0.7 if words else 0.0, 0.6 if named else 0.0)
    if known_score:
        client: str | None = known.client if known else None
    else:
        client = named_client.group(1) if named_client else (named or None)
    return ClientSignal(score, client, known.client if known_score and known else None, words, work)


def _capitalized(plain: str, matched: str) -> bool:
    """The client's word is written as a name ("Bluefin reporting…"), not as a common word ("a padaria")."""
    written = {
        piece
        for word in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", plain)  # "Ha'penny" is written as a name
        if word[:1].isupper()
        for piece in re.findall(r"[^\W_]+", fold(word))
    }
    parts = matched.split()
    if all(part in written for part in parts):
        return True
    # a name spelled close to the directory's, short of its last words ("Redline Hobby" for "Redline
    # Hobby Shop Inc."): the words of it the text holds are written as a name
    said = set(fold(plain).split())
    present = [part for part in parts if part in said]
    return len(present) >= 2 and all(part in written for part in present)


# Capitalised words that start sentences but name no client.
_NOT_A_NAME = frozenset(
    """i he she we they it you someone somebody anyone anybody everyone everybody nobody people who
    this that these those what which admin admins user users team support sales finance marketing ops
    dev devs engineering management legal product he's she's ele ela eles elas alguem ninguem todos
    todo voce voces gente pessoal time equipe financeiro suporte sistema quem isso isto aquilo
    cliente clientes customer customers client clients o a os as""".split()  # noqa: SIM905
)


_ARTICLE = re.compile(r"^(?:[AaOo]s?|The)\s+")


def _named_party(plain: str) -> str:
    for pattern in (_NAMED_PARTY, _WORK_OF_NAME):
        for match in pattern.finditer(plain):
            name = _ARTICLE.sub("", next(group for group in match.groups() if group))
            if name and fold(name).split()[0] not in _NOT_A_NAME:
                return name
    return ""
