"""What a client's message to the firm does: asks for something, or not (HY301's judgement).

The team's judgement (:mod:`rules.speech`) reads a colleague relaying a client ("a Padaria pediu a
guia"); a client writes in the first person to the firm ("preciso da guia do FGTS até sexta",
"me manda a segunda via", "posso parcelar o Simples?"), so its own wants and questions about its
own case are requests. What is not: an answer to the firm's question ("isso, pode considerar o
mesmo valor"), permission to go on ("pode emitir"), a document handed over ("segue o extrato"),
something the client will do itself ("deixa comigo"), venting about a bank or the government,
payment confirmed ("paguei o FGTS hoje") and praise (HY304's). Cue lists: rules/data/client_speech.toml,
with the team's lists for problems, client events and work done (rules/data/speech.toml).
"""

from __future__ import annotations

import re

from rules.analysis import Analysis, analyze
from rules.cues import CueMatcher, matcher_for
from rules.phrases import PhraseSet
from rules.speech import Judgement, cue_matcher, done_report

_OWN_CASE = frozenset(
    """eu meu minha meus minhas posso devo tenho preciso precisa to estou vi mando envio faco pago gente
    nos nosso nossa i my we our me""".split()  # noqa: SIM905
)
_TOLD = frozenset("saber saberem sabendo avisar contar dizer constar registrar".split())  # noqa: SIM905
_TO_THE_FIRM = frozenset("vc voce vcs voces ces you your".split())  # noqa: SIM905


def client_cue_matcher(extra: dict[str, dict[str, list[str]]] | None = None) -> CueMatcher:
    return matcher_for("client_speech.toml", extra)


def judge_client(plain: str, matcher: CueMatcher | None = None, work: PhraseSet | None = None) -> Judgement:
    """Whether a client's message asks the firm for something, and the cues that say so. ``work``:
    the words of client work (HY101's ``work`` list): a client's question is about its case when
    it names some."""
    analysis = analyze(plain)
    if len(analysis.text) < 8:
        return Judgement("none", "too short to judge")
    hits = (matcher or client_cue_matcher()).scan(analysis)
    team = cue_matcher().scan(analysis)
    asks = _asks(analysis, hits)
    if hits.get("fyi") and not analysis.asks:
        fyi_words = _TOLD.intersection(word for cue in hits["fyi"] for word in cue.split())
        asks = [cue for cue in asks if not fyi_words.intersection(cue.split())]  # "só pra vc saber"
        if not asks:
            return Judgement("none", "told for the firm to know", hits["fyi"])
    if asks:
        return Judgement("request", "the client asks the firm", asks)
    if done := done_report(analysis, team):
        return Judgement("none", f"the client reports it done ({done[0]!r})", done)
    question = analysis.asks and not _TAG_QUESTION.search(analysis.plain.lower())
    if question and _about_own_case(analysis, work):
        return Judgement("request", "the client asks about its own case", ["(question)"])
    for name, reason in _NOT_ASKED:
        if hits.get(name):
            return Judgement("none", reason, hits[name])
    told = team.get("event", []) + ([] if hits.get("elsewhere") else team.get("problem", []))
    if told:
        return Judgement("request", "the client tells of a change or a problem the firm must act on", told)
    return Judgement("none", "asks nothing of the firm")


_NOT_ASKED = (
    ("answer", "an answer to the firm"),
    ("permission", "permission to go on with work already asked for"),
    ("handover", "a document handed over"),
    ("own", "the client sees to it"),
    ("vent", "venting, no ask"),
)


# "já foi pago, tá?": a tag asks for agreement, not for anything to be done.
_TAG_QUESTION = re.compile(r"\b(ta|tá|ne|né|ok|certo|right|ok)\s*\?+\s*$")


def _asks(analysis: Analysis, hits: dict[str, list[str]]) -> list[str]:
    """The client's asks, without a permission given ("pode emitir", no question mark)."""
    asks = hits.get("ask", [])
    if not analysis.asks and hits.get("permission"):
        granted = {word for cue in hits["permission"] for word in cue.split()}
        asks = [cue for cue in asks if not granted.intersection(cue.split())]
    return asks


def _about_own_case(analysis: Analysis, work: PhraseSet | None) -> bool:
    """A question about the client's own business put to the firm ("isso muda algo no meu simples?",
    "vcs mandaram a guia?"), on client work ("vc viu o jogo ontem?" is not)."""
    personal = bool((_OWN_CASE | _TO_THE_FIRM).intersection(analysis.tokens))
    return personal and (work is None or work.any("work", analysis.text))
