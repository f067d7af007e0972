"""The shared judgement of HY101 and HY102: analysis, cue lists, client names, referents, acts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.clients import ClientMatcher, read_client_names
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.errors import ConfigError
from hygiene.models import ChatMessage, Ticket
from hygiene.wiring import build_rules
from rules.analysis import analyze
from rules.cues import CueMatcher, matcher_for, parse_cue
from rules.signals import speech_inputs
from rules.speech import SpeechSettings, judge
from tests.conftest import at_of

NOW = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)


def ticket(
    number: str,
    subject: str,
    client: str,
    status: str = "open",
    opened: datetime | None = None,
    updated: datetime | None = None,
) -> Ticket:
    return Ticket(  # type: ignore[call-arg]
        id=number, number=number, subject=subject, client=client, status=status, created_at=opened, updated_at=updated
    )


TICKETS = [
    ticket("700", "Rescisão - João", "Condomínio Residencial Vila Verde"),
    ticket("701", "Folha de novembro", "Condomínio Residencial Vila Verde"),
    ticket("702", "Parcelamento do Simples", "Mercado Sol Ltda"),
    ticket("703", "Parcelamento de ICMS", "Mercado Sol Ltda"),
    ticket("704", "Refund for October", "Umbra Labs Inc."),
]
DIRECTORY = ["Vortex Freight LLC", "Padaria Pão de Mel"]
TS = "1795003000.000000"


def judged(text: str, **extra: object) -> tuple[str, tuple[str, ...], str]:
    message = ChatMessage(
        channel="C1",
        channel_name="geral",
        id="1795003000.000000",
        at=at_of("1795003000.000000"),
        text=text,
        plain=text,
        user="U1",
    )
    context = WindowContext(NOW, [message], TicketSnapshot(TICKETS, extra_clients=DIRECTORY))
    result = judge(message, context, speech_inputs(SpeechSettings()))
    return result.act, tuple(t.reference for t in result.tickets), result.reason


def test_analysis_folds_tokens_and_lemmatizes_once() -> None:
    analysis = analyze("Bom dia! Já saíram as guias?")
    assert analysis.tokens == ("bom", "dia", "ja", "sairam", "as", "guias")
    assert analysis.lemmas[3] == "sair"
    assert analysis.sentence_starts == {0, 2}
    assert analyze("Bom dia! Já saíram as guias?") is analysis


def test_cues_match_lemmas_gaps_exact_words_prefixes_and_sentence_starts() -> None:
    matcher = CueMatcher(
        {
            "progress": ["sair", "go through"],
            "noun": ["=update"],
            "gap": ["como ... andando"],
            "start": ["^ e o|a"],
            "prefix": ["resolv*"],
        }
    )
    hits = matcher.scan(analyze("Saíram? E a guia, como está andando? did the refund go through. resolvemos"))
    assert hits["progress"] == ["sairam", "go through"]
    assert hits["gap"] == ["como esta andando"]
    assert hits["start"] == ["e a"]
    assert hits["prefix"] == ["resolvemos"]
    assert "noun" not in matcher.scan(analyze("the updated price list"))
    assert matcher.scan(analyze("any update?"))["noun"] == ["update"]
    assert "start" not in matcher.scan(analyze("pão e o café"))


def test_a_negation_cancels_an_ask() -> None:
    matcher = CueMatcher({"ask": ["consegue|conseguem emitir"]})
    assert matcher.scan(analyze("conseguem emitir a nota?")) == {"ask": ["conseguem emitir"]}
    assert matcher.scan(analyze("não conseguem emitir a nota")) == {}


def test_a_cue_must_start_and_end_with_a_word() -> None:
    with pytest.raises(ValueError, match="start and end with a word"):
        parse_cue("ask", "... pode")


def test_a_cue_that_alternates_phrases_with_a_bar_is_refused() -> None:
    # read word by word it asks for "someone should to to": it would never match, silently
    with pytest.raises(ValueError, match="'to' in two neighbouring places"):
        parse_cue("ask", "someone|somebody should|needs to|has to")
    assert parse_cue("ask", "someone|somebody needs|has to").elements[1] is not None


def test_every_shipped_cue_list_parses() -> None:
    for data_file in ("client_speech.toml", "elsewhere.toml"):
        matcher_for(data_file)  # raises on a cue the grammar refuses
    hits = matcher_for("speech.toml").scan(analyze("someone should call them, the export is not loading"))
    assert hits["ask"] == ["someone should"]
    assert hits["problem"] == ["not loading"]


def test_clients_by_two_words_of_their_name_or_its_first_distinctive_word() -> None:
    matcher = ClientMatcher(["Condomínio Residencial Vila Verde", "Padaria Pão Quente", "Farmácia Vida Nova"])
    assert matcher.find("a rescisão da vila verde saiu?").client == "Condomínio Residencial Vila Verde"  # type: ignore[union-attr]
    assert matcher.find("a padaria ligou").score == 0.8  # type: ignore[union-attr]
    assert matcher.find("a vida é assim") is None
    assert matcher.find("farmacia vida nova").score == 1.0  # type: ignore[union-attr]


def test_a_word_of_the_name_followed_by_another_name_is_not_the_client() -> None:
    matcher = ClientMatcher(
        ["Paws Southern Mobile Vet", "Apex Orthodontics", "Canterbury Equine Practice", "O'Donnell & Sons"]
    )
    assert matcher.find("who's in for the quiz at the Southern Cross tonight?") is None
    assert matcher.find("the Southern team called").client == "Paws Southern Mobile Vet"  # type: ignore[union-attr]
    assert matcher.find("the Apex Ortho front desk can't print").client == "Apex Orthodontics"  # type: ignore[union-attr]
    assert matcher.find("anyone can do it from Settings > Practice > Holidays") is None
    assert matcher.find("the O'Donnells want the job number").client == "O'Donnell & Sons"  # type: ignore[union-attr]
    assert matcher.find("Cassowary Coast Rentals can't see") is None
    assert ClientMatcher(["Cassowary Coast Rentals Pty Ltd"]).find("Cassowary Coast Rentals can't").score == 1.0  # type: ignore[union-attr]


def test_a_person_called_seu_or_dona_names_the_one_client_whose_name_holds_theirs() -> None:
    matcher = ClientMatcher(["Auto Mecânica Zé Carlos Ltda", "Maria das Graças Conceição MEI", "Kim Modas Ltda"])
    assert matcher.find("o Seu Zé ligou").client == "Auto Mecânica Zé Carlos Ltda"  # type: ignore[union-attr]
    assert matcher.find("Dona Graça pagou os DAS?").client == "Maria das Graças Conceição MEI"  # type: ignore[union-attr]
    assert matcher.find("seu Kim perguntou").how == "a person of the client, by name"  # type: ignore[union-attr]
    assert ClientMatcher(["Auto Mecânica Zé Carlos", "Padaria Zé do Pão"]).find("o Seu Zé ligou") is None  # two Zés


def test_a_brazilian_short_name_with_an_honorific_or_a_trade_names_the_one_client_of_that_name() -> None:
    matcher = ClientMatcher(
        ["Josefa Bomfim dos Santos MEI", "Severino Alves da Silva MEI", "Marcos Vinícius Souza MEI"]
    )
    found = matcher.find("msg da Dona Zefa: minha filha, o banco não quer abrir conta")
    assert found is not None and found.client == "Josefa Bomfim dos Santos MEI"
    assert found.how == "a person of the client, by nickname"
    assert matcher.find("Biu da sanfona quer incluir professor").client == "Severino Alves da Silva MEI"  # type: ignore[union-attr]
    assert matcher.find("o Marquinhos MEI vai contratar").client == "Marcos Vinícius Souza MEI"  # type: ignore[union-attr]
    assert matcher.find("Biu disse que vem amanhã") is None  # a short name alone may be anyone's, a colleague's too
    assert matcher.find("o biu da sanfona") is None  # not written as a name
    two = ClientMatcher(["José Carlos Menezes MEI", "Auto Peças José Ribeiro"])
    assert two.find("o Zé barbeiro mandou print") is None  # two Josés: which one?


def test_the_kind_of_business_with_an_article_names_the_one_client_of_that_kind() -> None:
    matcher = ClientMatcher(
        ["Cooperativa Leiteira Vale do Piratini", "Associação Beneficente Hospital São Mateus", "Lavanderia Maresia"]
    )
    found = matcher.find("a Coop trocou o banco da folha")
    assert found is not None and found.client == "Cooperativa Leiteira Vale do Piratini"
    assert found.how == "the one client of its kind"
    assert matcher.find("o hospital mandou a escala").client == "Associação Beneficente Hospital São Mateus"  # type: ignore[union-attr]
    assert matcher.find("hospital de campanha") is None  # no article: the word, not the client
    two = ClientMatcher(["Cooperativa Leiteira Vale do Piratini", "Cooperativa dos Pescadores"])
    assert two.find("a cooperativa mandou o estatuto") is None  # two of that kind: which one?


def test_a_legal_suffix_in_parentheses_is_still_a_legal_suffix() -> None:
    found = ClientMatcher(["Grey Street Curry House (Pty) Ltd"]).find("Grey Street Curry House want to know")
    assert found is not None and found.score == 1.0


def test_clients_by_their_initials_in_capitals_unless_a_common_abbreviation() -> None:
    matcher = ClientMatcher(["Great Lakes Fulfillment Partners LLC", "Centro Nacional de Dança", "Kindred Denim LLC"])
    found = matcher.find("GLF says the scanner app freezes")
    assert found is not None and found.client == "Great Lakes Fulfillment Partners LLC"
    assert found.how == "initials of the name"
    assert matcher.find("glf says hi") is None  # lowercase: a word, not initials
    assert matcher.find("a CND saiu?") is None  # the certidão, though a client's initials spell it


def test_a_close_spelling_is_looked_for_only_among_clients_sharing_a_word() -> None:
    names = [f"Empresa Cliente Numero {i} Ltda" for i in range(3000)] + ["Transportadora Rapido Sul"]
    matcher = ClientMatcher(names)
    assert matcher.find("a transportadora rapdo sul mandou").client == "Transportadora Rapido Sul"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "act", "tickets"),
    [
        ("a rescisão da Vila Verde já foi pro cliente?", "status", ("700",)),
        ("conseguiram emitir a guia da vila verde", "status", ("700", "701")),
        ("me dá um retorno sobre o parcelamento do Mercado Sol pf", "status", ("702", "703")),
        ("did the Umbra refund ever go through", "status", ("704",)),
        ("nada a ver com o parcelamento, mas o Mercado Sol precisa da certidão negativa", "request", ("702", "703")),
        ("Unrelated to the refund, Umbra needs two more seats", "request", ("704",)),
        ("recebi no whats da Padaria Pão de Mel: vcs mandam o boleto?", "request", ()),
        ("Vortex Freight's exports cut off the last column since Monday", "request", ()),
        ("a rescisão do João já foi assinada?", "status", ("700",)),
        ("Emiti a guia do FGTS da Vila Verde e anexei no atendimento", "none", ()),
        ("Como está o trânsito aí?", "none", ()),
        # a name the message is addressed to, with no comma
        ("Ana como estamos com a rescisão da Vila Verde? eles precisam pra sexta", "status", ("700",)),
        ("Bia e o parcelamento do Simples do Mercado Sol?", "status", ("702", "703")),
        # what may or must be done is a new question, not progress
        ("o Mercado Sol quer saber se precisa de inscrição estadual nova pra filial", "request", ("702", "703")),
        ("a Vila Verde perguntou se pode pagar a rescisão em duas vezes", "request", ("700", "701")),
        ("a Vila Verde perguntou se já dá pra pagar a rescisão", "status", ("700",)),
        # a progress verb after a need asks for the work
        (
            "Mercado Sol: precisa transmitir a DCTFWeb de outubro, não tem nada aberto disso ainda",
            "request",
            ("702", "703"),
        ),
        # a question put far from its verb
        ("o síndico da Vila Verde perguntou na reunião de ontem (longa, aliás) se a rescisão saiu", "status", ("700",)),
        ("Umbra's CFO asked me at lunch yesterday whether the October refund went out", "status", ("704",)),
        # a client's business changing: work for the firm
        ("a Padaria Pão de Mel vai registrar a primeira funcionária segunda", "request", ()),
        # offered among colleagues, the shift covered, the client's thanks forwarded
        ("alguém quer café? to passando na Padaria Pão de Mel", "none", ()),
        ("alguém consegue me cobrir amanhã? só tem o fechamento da Padaria Pão de Mel pendente", "none", ()),
        ("olha o que a Padaria Pão de Mel mandou: 'obrigada pessoal, vocês são demais com a folha'", "none", ()),
        # "é" is not "e"
        ("dá pra juntar o 701 com o 700? é o mesmo assunto", "none", ()),
        # why a ticket is where it is is no progress question
        ("pq o 702 caiu na fila do fiscal?", "none", ()),
        # nor who holds it
        ("is 704 still assigned to Tom? I'm covering next week", "none", ()),
        # lunch at a client's shop is talk among colleagues; a client's café is client work
        ("lunch at Padaria Pão de Mel today was unreal, told them we're fans", "none", ()),
        ("Padaria Pão de Mel's café card reader keeps declining cards since the update", "request", ()),
        # "da" is "of" here, not "dá (pra)": the relayed question asks whether the work moved
        ("a Vila Verde ligou de novo querendo saber se a rescisão da filial saiu", "status", ("700",)),
        # asked again, but a new question on the subject of an open ticket, or whether the work moved
        (
            "Vila Verde de novo: querem dar cesta básica na folha e perguntaram se incide encargo",
            "request",
            ("700", "701"),
        ),
        ("Vila Verde de novo, perguntaram se a folha de novembro já saiu", "status", ("701",)),
    ],
)
def test_the_act_and_the_tickets_it_is_about(text: str, act: str, tickets: tuple[str, ...]) -> None:
    found_act, found_tickets, reason = judged(text)
    assert (found_act, found_tickets) == (act, tickets), reason


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("Vortex Freight: a return headed to their Reno warehouse printed with the Toronto address on it", "request"),
        ("Vortex again, different thing: bundle orders refund the whole bundle when one piece comes back", "request"),
        ("Padaria Pão de Mel de novo: chegou outra nota de fornecedor com ST, agora de SC", "request"),
        # done, good news, a ticket already, a question, or the name not first: no case laid out
        ("Padaria Pão de Mel: os 2 serventes com CPF divergente já foram corrigidos no eSocial", "none"),
        ("Vortex Freight: all 9 return labels reprinted and sent ✅", "none"),
        ("Vortex Freight on the beta: multi-box scanning works in v4.12, that was their ask", "none"),
        ("Vortex: still waiting on their vendor for the API creds, ticket's pending on them", "none"),
        ("pagamentos da Padaria Pão de Mel feitos hoje: 12 boletos, 3 Pix, total 86 mil", "none"),
        ("Vortex Freight: when they scan a parcel that isn't on the list, the app adds it twice", "request"),
        # fondness for a client is praise or social, not work
        ("great week team. Vortex Freight emailed to say we're 'the only vendor that answers the phone' 🥹", "none"),
    ],
)
def test_a_case_laid_out_after_the_clients_name_and_a_colon(text: str, act: str) -> None:
    found_act, _, reason = judged(text)
    assert found_act == act, reason


def test_helpdesk_keys_are_read_with_or_without_their_prefix() -> None:
    keyed = Ticket(
        id="CF-5120", number="CF-5120", subject="Fee schedule load", client="Bluewater Dental", status="open"
    )
    plain = Ticket(id="4633", number="4633", subject="POD signature box", client="Hollis Medical", status="open")
    snapshot = TicketSnapshot([keyed, plain])
    assert snapshot.known("CF-5120") is keyed and snapshot.known("cf-5120") is keyed and snapshot.known("5120") is keyed
    message = ChatMessage(
        channel="C1", channel_name="geral", id=TS, at=at_of(TS), text="x", plain="logged as SR-4633, on it", user="U1"
    )
    from rules.signals import thread_refs

    assert [ref.key for ref in thread_refs(message, WindowContext(NOW, [message], snapshot))] == ["4633"]


def test_an_audit_sees_the_tickets_open_when_the_message_was_written() -> None:
    said = at_of(TS)
    solved_later = ticket(
        "710",
        "Certidão negativa",
        "Mercado Sol Ltda",
        "solved",
        datetime(2026, 11, 1, 9, 0),
        datetime(2026, 12, 20, 9, 0),
    )
    solved_before = solved_later.model_copy(update={"id": "711", "number": "711", "updated_at": datetime(2026, 11, 2)})
    snapshot = TicketSnapshot([solved_later, solved_before])
    assert snapshot.open_for_client("Mercado Sol Ltda") == []
    assert snapshot.open_for_client("Mercado Sol Ltda", said, UTC) == [solved_later]
    assert snapshot.epoch(said, UTC) != snapshot.epoch(datetime(2026, 12, 21, tzinfo=UTC), UTC)


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("a Cida do salão quer saber se pode parcelar os honorários em 2x", True),
        ("a Márcia dos doces perguntou se precisa emitir nota pro iFood", True),
        ("a Cida do RH quer saber se pode trocar a folga de sexta", False),  # a colleague, by her team
    ],
)
def test_someone_named_by_their_business_is_a_client(text: str, fires: bool) -> None:
    (hy101,) = [rule for rule in build_rules({}) if rule.code == "HY101"]
    message = ChatMessage(channel="C1", channel_name="geral", id=TS, at=at_of(TS), text=text, plain=text, user="U1")
    verdict = hy101.verdict(message, WindowContext(NOW, [message], TicketSnapshot([])))  # type: ignore[arg-type]
    assert verdict.fired is fires, verdict.reason


def test_a_status_question_fitting_two_tickets_is_answered_with_both() -> None:
    (hy102,) = [rule for rule in build_rules({}) if rule.code == "HY102"]
    text = "alguma novidade do parcelamento do Mercado Sol?"
    message = ChatMessage(
        channel="C1",
        channel_name="geral",
        id="1795003000.000000",
        at=at_of("1795003000.000000"),
        text=text,
        plain=text,
        user="U1",
    )
    verdict = hy102.verdict(message, WindowContext(NOW, [message], TicketSnapshot(TICKETS)))  # type: ignore[arg-type]
    assert verdict.fired
    assert verdict.evidence["tickets"] == ["702", "703"]
    assert "#702 (Parcelamento do Simples)" in verdict.says and "#703 (Parcelamento de ICMS)" in verdict.says
    assert verdict.evidence["referent"]["kind"] == "client"


def test_cue_settings_are_checked_with_their_key_path() -> None:
    with pytest.raises(ConfigError, match=r"rules\.HY102\.cues: .*pt\.progress_noun\[0\]"):
        build_rules({"HY102": {"cues": {"pt": {"progress_noun": ["... x"]}}}})
    with pytest.raises(ConfigError, match="unknown cue list"):
        build_rules({"HY101": {"cues": {"en": {"nonsense": ["x"]}}}})


def test_extra_cues_from_the_config_reach_the_judgement() -> None:
    (hy102,) = [
        rule
        for rule in build_rules({"HY102": {"cues": {"pt": {"progress_noun": ["=desfecho"]}}}})
        if rule.code == "HY102"
    ]
    text = "qual o desfecho da rescisão da Vila Verde?"
    message = ChatMessage(
        channel="C1",
        channel_name="geral",
        id="1795003000.000000",
        at=at_of("1795003000.000000"),
        text=text,
        plain=text,
        user="U1",
    )
    assert hy102.verdict(message, WindowContext(NOW, [message], TicketSnapshot(TICKETS))).fired  # type: ignore[arg-type]


def test_client_directory_files(tmp_path: Path) -> None:
    lines = tmp_path / "clients.txt"
    lines.write_text("# the firm's clients\nPadaria Pão de Mel\n\nVortex Freight LLC\n", encoding="utf-8")
    assert read_client_names(lines) == ["Padaria Pão de Mel", "Vortex Freight LLC"]
    with_bom = tmp_path / "clients.csv"
    with_bom.write_bytes("\ufeffid,nome\n1,Ótica Visão\n2,Mercado Sol\n".encode())
    assert read_client_names(with_bom) == ["Ótica Visão", "Mercado Sol"]
    windows = tmp_path / "win.txt"
    windows.write_bytes("Ótica Visão\n".encode("cp1252"))
    assert read_client_names(windows) == ["Ótica Visão"]
    no_column = tmp_path / "bad.csv"
    no_column.write_text("id,phone\n1,55\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no name column"):
        read_client_names(no_column)


def test_audit_and_explain_take_the_client_directory(tmp_path: Path) -> None:
    clients = tmp_path / "clients.txt"
    clients.write_text("Ótica Visão Ltda\n", encoding="utf-8")
    text = "A Ótica Visão pediu a segunda via do boleto de honorários"
    without = CliRunner().invoke(cli, ["explain", text])
    with_directory = CliRunner().invoke(cli, ["explain", text, "--clients", str(clients)])
    assert "client: Ótica Visão Ltda" in with_directory.output
    assert "client: Ótica Visão Ltda" not in without.output
    line = tmp_path / "messages.jsonl"
    line.write_text(
        '{"channel": "geral", "user": "U1", "ts": "1795003000.000000", "text": "' + text + '", "labels": ["HY101"]}\n',
        encoding="utf-8",
    )
    audited = CliRunner().invoke(cli, ["audit", str(line), "--clients", str(clients), "--format", "jsonl"])
    assert '"client": "Ótica Visão Ltda"' in audited.output


def test_the_lemma_table_is_current_with_the_cue_lists() -> None:
    from rules.lemmas import DATA, SPEECH, build, render

    assert DATA.read_text(encoding="utf-8") == render(build(SPEECH)), (
        "run: python -c 'from rules.lemmas import write; write()'"
    )


def test_configured_cue_words_learn_their_inflections() -> None:
    from rules.lemmas import learn, lemma_of

    assert lemma_of("arquivaram") == "arquivaram"
    learn(["arquivar"])
    assert lemma_of("arquivaram") == "arquivar"


def test_a_question_about_work_closed_days_ago_is_answered_from_that_ticket() -> None:
    said = at_of(TS)
    renewal = ticket(
        "720",
        "Renovação do certificado digital A1",
        "Mercado Sol Ltda",
        "solved",
        datetime(2026, 11, 10, 9, 0),
        datetime(2026, 11, 16, 15, 0),
    )
    long_ago = renewal.model_copy(update={"id": "721", "number": "721", "updated_at": datetime(2026, 9, 1)})
    for known, expected in ((renewal, ("status", ("720",))), (long_ago, ("request", ()))):
        text = "o Mercado Sol ligou perguntando da renovação do certificado digital, saiu ou não?"
        message = ChatMessage(channel="C1", channel_name="geral", id=TS, at=said, text=text, plain=text, user="U1")
        context = WindowContext(NOW, [message], TicketSnapshot([known]))
        result = judge(message, context, speech_inputs(SpeechSettings()))
        assert (result.act, tuple(t.reference for t in result.tickets)) == expected, result.reason
