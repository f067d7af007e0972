from __future__ import annotations

import pytest

from connectors.chat.slack.markup import render
from hygiene.refs import find_refs, url_pattern
from hygiene.text import fold, guess_language


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        ("<@U1> pode ver?", "@marina pode ver?"),
        ("<@U9|fulano> oi", "@fulano oi"),
        ("veja <#C1|fiscal>", "veja #fiscal"),
        ("<!here> reunião", "@here reunião"),
        ("<!subteam^S1|@fiscal> ajuda", "@fiscal ajuda"),
        ("link <https://x.example/a|o manual>", "link o manual (https://x.example/a)"),
        ("<https://x.example/a>", "https://x.example/a"),
        ("<mailto:a@b.example|a@b.example>", "a@b.example (mailto:a@b.example)"),
        ("P&amp;D &lt;urgente&gt;", "P&D <urgente>"),
        ("<@U404> sem nome", "@U404 sem nome"),
    ],
)
def test_render(markup: str, plain: str) -> None:
    assert render(markup, {"U1": "marina"}) == plain


def test_fold_removes_accents_case_and_extra_space() -> None:
    assert fold("  Não  ÉMITIDA\tàs 16h ") == "nao emitida as 16h"


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("como está o atendimento 4521?", ["4521"]),
        ("any update on #8810?", ["8810"]),
        ("Chamado nº 77 e ticket #78", ["77", "78"]),
        ("tarefa 4.1 da G Click", ["4.1"]),
        ("veja https://helpdesk.example/t/990 e #990", ["990"]),
        ("canal #fiscal e C#1 e &#39;", []),
        ("pagamos R$ 4521 ontem", []),
        ("issue 12 do GitHub", ["12"]),
    ],
)
def test_ticket_references(text: str, keys: list[str]) -> None:
    refs = find_refs(text, [url_pattern("https://helpdesk.example/t/{id}")])
    assert [ref.key for ref in refs] == keys


def test_language_guess() -> None:
    assert guess_language(fold("O cliente pediu a nota de outubro")) == "pt"
    assert guess_language(fold("The customer wants two more seats")) == "en"
    assert guess_language("") == "pt"
    # English without an article or "you": its pronouns and prepositions tell it
    assert guess_language(fold("lanternfish rang — their audiobook loans expire after 7 days")) == "en"
    assert guess_language(fold("not yet, chasing them Monday")) == "en"
    assert guess_language(fold("Rosi, tarifa bancária vai em despesa financeira? to na dúvida")) == "pt"
