"""The literal gate in front of the phrase lists never hides a match: it only skips lists that cannot match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.text import matchable
from rules import REGISTRY
from rules.literals import RE2Literals, list_literals, required_literals
from rules.phrases import PhraseSet, phrases_for, shipped

CORPUS = Path(__file__).parent / "corpus"


def test_required_literals_of_simple_patterns() -> None:
    assert required_literals(r"\bpediu\b") == {"pediu"}
    spelled = {"cancelar o contrato", "cancelar os servicos", "rescindir o contrato", "rescindir os servicos"}
    assert required_literals(r"\b(cancelar|rescindir) (o contrato|os servicos)\b") == spelled
    assert required_literals(r"\birritad[oa]s?\b") == {"irritado", "irritada"}
    assert required_literals(r"\bja (foi|saiu)\b.*\?") == {"ja foi", "ja saiu"}
    assert required_literals(r"\b(muito|super)\b") == {"muito", "super"}
    assert required_literals(r"(?i)pediu") is None  # case-insensitive: the literal's case is not the text's
    assert required_literals(r"[a-z]+") is None
    assert required_literals(r"(pediu|)") is None  # an empty branch requires nothing
    assert required_literals(r"(?:abc)?xyz") == {"xyz"}


def test_a_list_literal_that_contains_another_is_dropped() -> None:
    assert list_literals([r"\bsolicit", r"\bsolicitamos\b"]) == {"solicit"}
    assert list_literals([r"pediu", r"[a-z]+"]) is None


def _texts() -> list[str]:
    texts = []
    for name in ("labeled.jsonl", "holdout.jsonl"):
        for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
            texts.append(matchable(json.loads(line).get("text", "")))
    return texts


def _shipped_sets() -> list[tuple[str, PhraseSet]]:
    return [(code, phrases_for(code, rule.Settings())) for code, rule in REGISTRY.items() if shipped(code)]


def _ungated(phrases: PhraseSet) -> PhraseSet:
    return PhraseSet(phrases.lists, phrases.joined)


@pytest.mark.parametrize(("code", "phrases"), _shipped_sets())
def test_gated_lists_match_what_ungated_lists_match(code: str, phrases: PhraseSet) -> None:
    plain = _ungated(phrases)
    assert phrases.gates, f"{code}: no list is gated"
    for text in _texts():
        for name in phrases.lists:
            assert phrases.matches(name, text) == plain.matches(name, text), (code, name, text)
            assert phrases.any(name, text) == plain.any(name, text), (code, name, text)
            assert phrases.distinct(name, text) == plain.distinct(name, text), (code, name, text)


_LITERAL_BITS = st.sampled_from(["pediu", "cliente", "status", "a", "o", " ", "?", "nao", "x", "urgente", "ja"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LITERAL_BITS | st.text(alphabet="abcdefghijklmnopqrstuvwxyz ?", max_size=6), max_size=12))
def test_gate_never_hides_a_match(bits: list[str]) -> None:
    text = "".join(bits)
    for _, phrases in _shipped_sets():
        for name, patterns in phrases.lists.items():
            gate = phrases.gates.get(name)
            if gate is not None and any(isinstance(p, re.Pattern) and p.search(text) for p in patterns):
                assert gate.search(text) is not None, (name, text)


_STATUS = phrases_for("HY102", REGISTRY["HY102"].Settings())
_STATUS_LITERALS = sorted(list_literals([p.pattern for p in _STATUS.lists["status"]]) or [])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_STATUS_LITERALS) | st.text(max_size=8), max_size=8))
def test_re2_gate_finds_a_literal_exactly_when_one_is_in_the_text(bits: list[str]) -> None:
    text = "".join(bits)
    gate = _STATUS.gates["status"]
    assert isinstance(gate, RE2Literals)
    expected = any(literal in text for literal in _STATUS_LITERALS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        expected = True  # a lone surrogate: the gate lets the patterns decide
    assert bool(gate.search(text)) == expected, text


def test_every_shipped_joined_list_runs_on_re2_where_it_can() -> None:
    for code, phrases in _shipped_sets():
        for name in phrases.joined:
            split = phrases.joined_re2.get(name)
            assert split is not None, (code, name)  # every shipped list has patterns RE2 runs


_TRICKY = ["écafe", "café", "cafe\n", "x\x0bcafe", "cafe\x1c", "naõ", "ação pediu", "pediu\n", "ＡＢＣ", "١٢٣"]


def test_re2_is_asked_only_where_both_engines_agree() -> None:
    # \b and \w are Unicode on re and ASCII on RE2; re's $ also matches before a final line break.
    patterns = [r"\bcafe\b", r"pediu$", r"\s+cafe", r"\d{3}", r"(?<!x)cafe\b"]
    phrases = PhraseSet.compile({"list": [re.compile(p) for p in patterns]}, {"list": patterns})
    fast, rest = phrases.joined_re2["list"]
    assert rest is not None and rest.pattern == r"(?<!x)cafe\b"  # a look-behind stays on re
    plain = _ungated(phrases)
    disagree = [text for text in _TRICKY if bool(fast.search(text)) != bool(plain.joined["list"].search(text))]
    assert disagree  # the engines do differ on such text …
    for text in _TRICKY:  # … and there the answer is re's
        assert phrases.any("list", text) == plain.any("list", text), text
        assert phrases.matches("list", text) == plain.matches("list", text), text


@settings(max_examples=300, deadline=None)
@given(st.lists(_LITERAL_BITS | st.sampled_from(_TRICKY) | st.text(max_size=6), max_size=12))
def test_joined_lists_on_re2_answer_as_re_does(bits: list[str]) -> None:
    text = "".join(bits)
    for code, phrases in _shipped_sets():
        plain = _ungated(phrases)
        for name in phrases.joined_re2:
            assert phrases.any(name, text) == plain.any(name, text), (code, name, text)
