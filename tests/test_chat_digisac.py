"""The chat contract for Digisac, and what Digisac adds: the real connector, built as the product
builds it, over HTTP to the sandbox's Digisac API on loopback (sandbox/digisac_api.py).

hygiene must never write anything a client can see there: every action kind, on every path
(success, refusal, failures of unknown outcome), leaves at most an internal comment; and the
connector's source names no endpoint or field that sends to a client outside an allow-list.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors.chat.digisac as package
from connectors.chat.digisac import DigisacChat, DigisacSettings, build
from connectors.chat.digisac.client import envelope
from connectors.chat.digisac.contacts import client_label, to_contact, to_ticket
from connectors.chat.digisac.messages import MalformedMessage, Names, to_chat_message
from hygiene.clock import FrozenClock
from hygiene.errors import AuthError, ConfigError, OutcomeUnknown, PermanentError, TransientError
from hygiene.kinds import ChatBuild, chat_kinds
from hygiene.models import Action, ActionKind
from hygiene.ports import ChannelInfo
from sandbox.digisac_api import DigisacSandbox, DigisacState, make_id
from tests.contracts.chat import NOW, ChatContract, Received, by_id, stored, window

RETRIES = 2
SERVICE = make_id("contract-service")
WHATSAPP = make_id("whatsapp")


class DigisacHarness:
    """The scenario's account plus an empty service "Contrato" the suite writes in, as agent Marina.

    Each unthreaded post starts a conversation with a new client contact (whose Digisac ticket
    was opened long before the suite's window); a post "in the thread of" a message goes to that
    message's conversation.
    """

    channel = ChannelInfo(SERVICE, "Contrato")
    outside = "WhatsApp antigo"
    person = make_id("marina")
    email = "marina@horizonte.example"
    replies_method = "messages.list"
    no_permalinks = "Digisac documents no link to one conversation or message (permalink is None)"

    def __init__(self, _: Path) -> None:
        self.clock = FrozenClock(NOW)
        self.state = DigisacState.from_scenario(clock=self.clock)
        self.state.add_service("contract-service", "Contrato")
        self.server = DigisacSandbox(self.state).start()
        self.budget_spent = False
        self._contacts = 0

    def settings(self, **overrides: Any) -> DigisacSettings:
        values: dict[str, Any] = {
            "channels": [self.channel.name], "base_url": self.server.base_url, "retries": RETRIES,
            "timeout_seconds": 1, "max_sleep_per_cycle_seconds": 5, **overrides,
        }  # fmt: skip
        return DigisacSettings(**values)

    def chat(self, **overrides: Any) -> DigisacChat:
        chat = build(self.settings(**overrides), ChatBuild(clock=self.clock, token=self.server.token))
        if self.budget_spent:
            chat.api.budget.limits["messages.list"] = 0
        return chat

    def new_contact(self, name: str = "", number: str = "5511900000000") -> str:
        self._contacts += 1
        key = f"contract-contact-{self._contacts}"
        spec = {
            "key": key,
            "service": "contract-service",
            "name": name or f"Cliente {self._contacts}",
            "number": number,
        }
        contact = self.state.add_contact(spec)
        self.state.open_ticket(contact, NOW - timedelta(days=30))
        return contact

    def conversation_of(self, message_id: str) -> str:
        return str(next(m["contactId"] for m in self.state.messages if m["id"] == message_id))

    def post(self, text: str, thread_id: str | None = None, at: datetime | None = None) -> str:
        contact = self.conversation_of(thread_id) if thread_id else self.new_contact()
        return self.state.agent_writes(self.person, contact, text, at=at)

    def edit(self, message_id: str, text: str) -> None:
        self.state.edit(message_id, text)

    def delete(self, message_id: str) -> None:
        self.state.delete(message_id)

    def react(self, message_id: str, emoji: str) -> None:
        raise AssertionError("Digisac declares no reactions: the suite never asks for one")

    def fault(self, kind: str) -> None:
        if kind == "budget":
            self.budget_spent = True
        elif kind == "gone":
            self.state.archive_service(SERVICE)
        elif kind == "transient":
            self.state.faults.inject("messages.list", "server_error", RETRIES + 1)
        else:
            self.state.faults.inject("messages.list", "ratelimited", 1, retry_after=120)

    def fail_write(self, lands: bool) -> None:
        """A reset after the comment was stored, or a 500 before it was."""
        self.state.faults.inject("messages.create", "reset_after" if lands else "server_error")

    def received(self) -> list[Received]:
        found = []
        for write in self.state.api_writes:
            message = write.get("message") or {}
            text, key = str(message.get("text") or ""), None
            if write["kind"] == "comment" and (marker := re.search(r"\n\[hygiene:([^\]]+)\]$", text)):
                text, key = text[: marker.start()], marker.group(1)
            kind = "thread_reply" if write["kind"] == "comment" else f"client:{write['kind']}"
            found.append(Received(kind, str(message.get("serviceId")), message.get("contactId"), text, key))
        return found

    def close(self) -> None:
        self.server.stop()


class TestDigisac(ChatContract):
    harness_class = DigisacHarness


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    made = DigisacHarness(tmp_path)
    yield made
    made.close()


def connected(harness: DigisacHarness, **overrides: Any) -> DigisacChat:
    chat = harness.chat(**overrides)
    chat.connect()
    return chat


WHATSAPP_CHANNEL = ChannelInfo(WHATSAPP, "WhatsApp Horizonte")


# reading --------------------------------------------------------------------------------------
def test_pages_are_followed_to_the_last_one(harness: DigisacHarness) -> None:
    contact = harness.new_contact()
    now = harness.clock.now()
    posted = [
        harness.state.client_writes(contact, f"mensagem {i}", at=now - timedelta(minutes=9 - i)) for i in range(5)
    ]
    chat = connected(harness, page_size=2)
    fetch = chat.fetch(harness.channel, {}, window(harness.clock))
    assert fetch.complete and [m.id for m in fetch.messages] == posted
    assert chat.calls()["messages.list"] == 4, "5 rows at 2 a page, paged by key: each page starts at the last row read"


def test_the_sandbox_answers_digisacs_envelope_and_ignores_limit(harness: DigisacHarness) -> None:
    import requests

    headers = {"Authorization": f"Bearer {harness.server.token}"}
    body = requests.get(f"{harness.server.base_url}/messages", params={"limit": 2}, headers=headers, timeout=5).json()
    assert set(body) == {"data", "total", "limit", "skip", "currentPage", "lastPage", "from", "to"}
    assert body["limit"] == 15 and len(body["data"]) == min(15, body["total"]) and body["currentPage"] == 1
    refused = requests.get(f"{harness.server.base_url}/messages", timeout=5)
    assert refused.status_code == 401 and refused.json()["message"] == "Invalid token: access token is invalid"


def test_history_synced_late_is_read_by_createdat_not_lost(harness: DigisacHarness) -> None:
    chat = connected(harness)
    first = chat.fetch(WHATSAPP_CHANNEL, {}, window(harness.clock, rescan_hours=1))
    harness.clock.advance(minutes=10)
    contact = make_id("jorge")
    late = harness.state.sync_history(contact, "o recibo de agosto", harness.clock.now() - timedelta(days=5))
    again = connected(harness).fetch(WHATSAPP_CHANNEL, stored(first), window(harness.clock, rescan_hours=1))
    message = by_id(again)[late]
    assert message.at == harness.clock.now(), "at is when Digisac stored it"
    assert message.extras["late_sync"] is True
    assert datetime.fromisoformat(message.extras["sent_at"]) < harness.clock.now() - timedelta(days=4)
    assert message.thread_id == contact and message.extras["ticket"] is None


@pytest.mark.parametrize("change", ["deleted", "stored"])
def test_a_change_while_paging_loses_and_doubles_nothing(harness: DigisacHarness, change: str) -> None:
    """Offset pages shift when a row goes or comes while hygiene pages: paging by key does not."""
    contact = harness.new_contact()
    now = harness.clock.now()
    posted = [harness.state.client_writes(contact, f"parte {i}", at=now - timedelta(minutes=10 - i)) for i in range(6)]
    if change == "deleted":
        harness.state.while_paging = lambda: harness.state.delete(posted[0])
    else:
        harness.state.while_paging = lambda: posted.append(harness.state.client_writes(contact, "chegou agora"))
    fetch = connected(harness, page_size=2).fetch(harness.channel, {}, window(harness.clock))
    ids = [m.id for m in fetch.messages]
    assert len(ids) == len(set(ids))
    assert set(posted[1:]) <= set(ids), "no row shifted out of the read"


def test_the_overlap_is_read_again_and_each_message_returned_once(harness: DigisacHarness) -> None:
    contact = harness.new_contact()
    now = harness.clock.now()
    for i in range(6):
        harness.state.client_writes(contact, f"parte {i}", at=now - timedelta(minutes=6 - i))
    first = connected(harness, page_size=2).fetch(harness.channel, {}, window(harness.clock))
    newest = max(m.at for m in first.messages)
    assert first.state["ids"] == sorted(m.id for m in first.messages if m.at == newest)
    harness.clock.advance(minutes=1)
    late = harness.state.client_writes(contact, "mais uma")
    chat = connected(harness, page_size=2, overlap_seconds=180)
    again = chat.fetch(harness.channel, stored(first), window(harness.clock, rescan_hours=0.001))
    ids = [m.id for m in again.messages]
    assert len(ids) == len(set(ids))
    assert ids == [m.id for m in first.messages if m.at >= newest - timedelta(minutes=3)] + [late]
    assert again.covered_from == newest - timedelta(minutes=3)


def test_who_wrote_is_explicit_and_phone_numbers_are_masked(harness: DigisacHarness) -> None:
    chat = connected(harness)
    fetch = chat.fetch(WHATSAPP_CHANNEL, {}, window(harness.clock))
    texts = {m.plain: m for m in fetch.messages if not m.system}
    request = texts[
        "Oi, preciso da segunda via do boleto de honorários de outubro, pode me mandar? Meu celular é [telefone …34]."
    ]
    assert request.user == make_id("fernanda") and request.extras["side"] == "client"
    assert request.user_name == "Fernanda (Brascont)" and request.thread_id == make_id("fernanda")
    bare = texts["oi, tudo bem?"]
    assert bare.extras["side"] == "agent" and bare.user == make_id("ana") and bare.user_name == "Ana Ribeiro"
    assert bare.thread_id == make_id("lucia")
    lucia = chat.learned_users()[make_id("lucia")][0]
    assert "5511955554444" not in lucia and lucia == "[telefone …44]"
    assert all("99876" not in (m.text + (m.user_name or "")) for m in fetch.messages)
    events = [m for m in fetch.messages if m.system]
    assert events and all(m.system == "digisac_ticketOpen" and not m.judged for m in events)


def test_the_scenario_lines_up_with_the_accounting_firm(harness: DigisacHarness) -> None:
    fetch = connected(harness).fetch(WHATSAPP_CHANNEL, {}, window(harness.clock))
    client = [m for m in fetch.messages if m.extras["side"] == "client"]
    by_text = {m.plain.split(",")[0]: m for m in client}
    assert "Recebi a nota" in " ".join(m.plain for m in client) and "Vocês são ótimos" in " ".join(
        m.plain for m in client
    )
    waiting = by_text["Boa tarde"]
    answers = [m for m in fetch.messages if m.thread_id == waiting.thread_id and m.extras["side"] == "agent"]
    assert answers == [] and harness.clock.now() - waiting.at > timedelta(minutes=40)
    assert [m for m in client if m.extras["late_sync"]], "history synced late is in the scenario"
    assert harness.state.client_visible() == []


def test_contacts_tickets_and_departments_are_read(harness: DigisacHarness) -> None:
    chat = connected(harness)
    contacts = {c.id: c for c in chat.contacts()}
    antonio = contacts[make_id("antonio")]
    assert antonio.person == "Padaria Pão Quente" and antonio.organizations == ("Padaria Pão Quente",)
    assert antonio.tags == ("cliente", "fiscal") and "12.345.678/0001-90" in antonio.custom_fields.values()
    assert contacts[make_id("lucia")].name == "[telefone …44]"
    tickets = chat.tickets()
    assert tickets and all(t.is_open for t in tickets)
    assert {t.department for t in tickets if t.contact == make_id("antonio")} == {make_id("fiscal")}
    assert chat.departments()[make_id("dp")] == "Departamento Pessoal"


def test_each_contacts_messages_carry_its_client_by_the_mapping(harness: DigisacHarness) -> None:
    chat = connected(harness, client_from=["tag:cliente:", "organization"], contacts={"[telefone …44]": "Lúcia ME"})
    fetch = chat.fetch(WHATSAPP_CHANNEL, {}, window(harness.clock))
    hints = {m.thread_id: m.client_hint for m in fetch.messages}
    assert hints[make_id("fernanda")] == "Brascont" and hints[make_id("jorge")] == "Mercearia Dois Irmãos Ltda"
    assert hints[make_id("lucia")] == "Lúcia ME"


def test_the_client_label_follows_the_sources_in_order() -> None:
    raw = {
        "id": "c1",
        "name": "Rita",
        "data": {"number": "5511912345678"},
        "tags": [{"label": "cliente"}, {"label": "Cliente: Acme Corp"}],
        "customFieldValues": [{"customFieldId": "f1", "value": "Beta SA", "customField": {"name": "empresa"}}],
        "person": {"name": "Rita Souza", "organizations": [{"name": "Gama Ltda"}]},
    }
    contact = to_contact(raw)
    assert contact is not None and contact.shown() == "Rita (…78)"
    assert client_label(contact, ["tag:cliente", "organization"], {}) == "Acme Corp"
    assert client_label(contact, ["custom_field:empresa"], {}) == client_label(contact, ["custom_field:f1"], {})
    assert client_label(contact, ["custom_field:outro", "organization"], {}) == "Gama Ltda"
    assert client_label(contact, ["name"], {}) == "Rita"
    assert client_label(contact, ["tag:fiscal"], {}) is None
    assert client_label(contact, ["organization"], {"rita": "Delta"}) == "Delta"
    assert client_label(contact, ["organization"], {"c1": "Épsilon"}) == "Épsilon"


@pytest.mark.parametrize(
    ("client_from", "contacts", "problem"),
    [
        (["organisation"], {}, "unknown client source 'organisation'"),
        (["tag:"], {}, "name the tag after the colon"),
        (["organization"], {"Rita": " "}, "both the contact and the client need a name"),
    ],
)
def test_a_wrong_contact_mapping_is_a_config_error(
    client_from: list[str], contacts: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        DigisacSettings(channels=["WhatsApp"], client_from=client_from, contacts=contacts)


def test_the_default_mapping_reads_the_organization_then_the_name() -> None:
    assert DigisacSettings(channels=["WhatsApp"]).client_from == ["organization", "name"]


def test_unmapped_contacts_are_shown_without_their_number(harness: DigisacHarness) -> None:
    chat = connected(harness)
    clients = ["Brascont", "Padaria Pão Quente"]
    unmapped = chat.unmapped_contacts(lambda text: next((c for c in clients if c in text), None))
    assert unmapped == ["contato (…44)", "Jorge (…78)"]
    assert all("5511" not in shown for shown in unmapped)


# errors ---------------------------------------------------------------------------------------
def test_a_refused_token_is_an_auth_error_naming_the_key(harness: DigisacHarness) -> None:
    settings = harness.settings()
    settings.key_path = "chat[1]"
    chat = build(settings, ChatBuild(clock=harness.clock, token="wrong-token-value"))
    with pytest.raises(AuthError) as caught:
        chat.connect()
    assert "chat[1].token_env" in str(caught.value) and "wrong-token-value" not in str(caught.value)


def test_an_unset_token_is_a_config_error_naming_the_key(harness: DigisacHarness, monkeypatch: Any) -> None:
    monkeypatch.delenv("DIGISAC_TOKEN", raising=False)
    settings = harness.settings()
    settings.key_path = "chat[2]"
    with pytest.raises(ConfigError, match=r"chat\[2\]\.token_env: environment variable DIGISAC_TOKEN is not set"):
        build(settings, ChatBuild(clock=harness.clock))


def test_a_short_429_and_a_5xx_on_a_read_are_retried(harness: DigisacHarness) -> None:
    harness.state.faults.inject("messages.list", "ratelimited", 1, retry_after=1)
    harness.state.faults.inject("services", "unavailable", 1)
    fetch = connected(harness).fetch(WHATSAPP_CHANNEL, {}, window(harness.clock))
    assert fetch.complete and fetch.messages
    assert sum(harness.clock.slept) >= 1


class SleepingClock(FrozenClock):
    """A frozen clock whose sleeps take real time (the sandbox's rate limit counts real seconds)."""

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        time.sleep(seconds)


def test_the_servers_rate_limit_is_waited_out(harness: DigisacHarness) -> None:
    harness.state.rate_per_second = 2
    clock = SleepingClock(NOW)
    settings = harness.settings(page_size=3, retries=5, max_sleep_per_cycle_seconds=60)
    chat = build(settings, ChatBuild(clock=clock, token=harness.server.token))
    chat.connect()
    fetch = chat.fetch(WHATSAPP_CHANNEL, {}, window(clock))
    assert fetch.complete and len(fetch.messages) > 6
    assert clock.slept and all(wait >= 1 for wait in clock.slept if wait >= 1)


def test_a_long_rate_limit_defers_the_read(harness: DigisacHarness) -> None:
    chat = connected(harness)
    harness.state.faults.inject("messages.list", "ratelimited", 1, retry_after=300)
    fetch = chat.fetch(WHATSAPP_CHANNEL, {}, window(harness.clock))
    assert not fetch.complete and fetch.deferred and fetch.state == {}


def test_a_5xx_on_the_comment_is_an_unknown_outcome_never_resent(harness: DigisacHarness) -> None:
    chat = connected(harness)
    harness.state.faults.inject("messages.create", "server_error", 5)
    action = Action(ActionKind.THREAD_REPLY, "k:reply", WHATSAPP, "nota interna", thread_id=make_id("jorge"))
    with pytest.raises(OutcomeUnknown):
        chat.send(action)
    assert harness.state.faults.calls["messages.create"] == 1


# never to a client ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(ActionKind))
@pytest.mark.parametrize("fault", [None, "server_error", "reset_after", "timeout"])
def test_no_action_kind_on_any_path_reaches_a_client(
    harness: DigisacHarness, kind: ActionKind, fault: str | None
) -> None:
    chat = connected(harness, timeout_seconds=0.5)
    contact = make_id("antonio")
    message = next(m["id"] for m in harness.state.messages if m["contactId"] == contact)
    if fault:
        harness.state.faults.inject("messages.create", fault, 1, delay=1.0)
    for thread in (contact, message, None):
        action = Action(
            kind, f"{kind.value}:{thread}", WHATSAPP, "texto", thread_id=thread, user=make_id("marina"), emoji="eyes"
        )
        try:
            chat.send(action)
        except PermanentError as exc:
            assert kind != ActionKind.THREAD_REPLY or thread != contact, exc
            if kind != ActionKind.THREAD_REPLY:
                assert "hygiene never writes to clients" in str(exc)
        except (OutcomeUnknown, TransientError):
            assert fault is not None
        chat.find_posted(action, NOW - timedelta(days=1))
    time.sleep(1.1 if fault == "timeout" else 0)  # a late write lands after the client gave up
    assert harness.state.client_visible() == []
    assert all(m["type"] == "comment" and m["isComment"] for m in harness.state.comments())
    assert all(w["body"]["type"] == "comment" for w in harness.state.api_writes)


CLIENT_SENDS = {
    "send-reaction": "reacts on the client's WhatsApp",
    "/ticket/transfer": "moves the client's ticket (and may message them)",
    "/ticket/close": "closes the client's ticket (and may send the closing message)",
    "bulk-transfer": "moves tickets",
    "/forward": "forwards a message to a client",
    "/revoke": "deletes a message on the client's phone",
    "hsmId": "sends a WhatsApp template",
    '"number"': "sends to a phone number",
    '"file"': "sends media",
    '"chat"': "a client-visible message type",
    "PATCH": "edits a message on the client's phone",
    "DELETE": "deletes a message",
    '"/messages"': "POST /messages sends to a client unless its type is comment",
    ".post(": "every write",
}
ALLOWED = {
    ("chat.py", '"/messages"'): "listed (GET) for reads and posted only with type comment in send()",
    ("chat.py", ".post("): "send(): the one write, an internal comment (type comment, dontOpenTicket)",
    ("client.py", ".post("): "the client's POST helper, used only by send()",
    ("contacts.py", '"number"'): "reads a contact's data.number, keeping its last two digits only",
}


def test_the_connector_source_names_nothing_that_writes_to_a_client() -> None:
    found = []
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle, why in CLIENT_SENDS.items():
            if needle in text and (path.name, needle) not in ALLOWED:
                found.append(f"{path.name}: {needle} ({why})")
    assert found == []
    send = Path(package.__file__).parent.joinpath("chat.py").read_text(encoding="utf-8")
    assert send.count('.post("messages.comment", "/messages"') == 1 and '"type": "comment"' in send


def test_digisac_is_registered() -> None:
    assert chat_kinds()["digisac"].channel_id(WHATSAPP) and not chat_kinds()["digisac"].channel_id("WhatsApp")


# any JSON where Digisac's objects are expected -------------------------------------------------
DIGISAC_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.sampled_from(["2026-11-18T12:00:00.000Z", "comment", "ticket", make_id("x"), "(21) 99876-1234"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip
MESSAGE_KEYS = ["id", "contactId", "createdAt", "timestamp", "text", "type", "isFromMe", "isComment", "userId", "data"]


@given(st.fixed_dictionaries({}, optional={key: DIGISAC_VALUES for key in MESSAGE_KEYS}) | DIGISAC_VALUES)
def test_any_json_is_a_message_or_a_skipped_malformed_one(raw: Any) -> None:
    names = Names(make_id("me"), {}, {})
    try:
        message = to_chat_message(raw, WHATSAPP_CHANNEL, names, "digisac")
    except MalformedMessage:
        return
    assert message.id and message.thread_id and message.at.tzinfo is not None
    assert "99876-1234" not in message.text


@given(DIGISAC_VALUES)
def test_any_json_is_a_list_page_or_a_transient_error(body: Any) -> None:
    try:
        rows, current, last = envelope(body, "GET /messages")
    except TransientError:
        return
    assert all(isinstance(row, dict) for row in rows) and isinstance(current, int) and isinstance(last, int)


@given(DIGISAC_VALUES)
def test_any_json_is_a_contact_or_a_ticket_or_nothing(raw: Any) -> None:
    if isinstance(raw, dict):
        contact, ticket = to_contact(raw), to_ticket(raw)
        assert contact is None or "99876-1234" not in contact.name
        assert ticket is None or isinstance(ticket.is_open, bool)


def test_the_neutral_fields_say_who_speaks_when_and_in_which_department() -> None:
    """The core reads ``author_side``, ``sent_at`` and ``department``, never Digisac's extras."""
    names = Names("me", {"u1": "Marina"}, {"c1": "Antônio"}, {"d1": "Fiscal"})
    channel = ChannelInfo("s1", "WhatsApp")
    base = {"id": "m1", "contactId": "c1", "createdAt": "2026-11-18T13:00:00.000Z", "text": "oi"}
    client = to_chat_message(
        base | {"isFromMe": False, "timestamp": "2026-11-15T13:00:00.000Z", "ticketDepartmentId": "d1"},
        channel,
        names,
        "digisac",
    )
    agent = to_chat_message(base | {"isFromMe": True, "userId": "u1", "ticketDepartmentId": "d9"}, channel, names, "d")
    note = to_chat_message(base | {"type": "comment", "userId": "u1"}, channel, names, "digisac")
    assert (client.author_side, agent.author_side, note.author_side) == ("client", "agent", "note")
    assert client.department == "Fiscal" and agent.department == "d9" and note.department is None
    assert client.sent_at == datetime.fromisoformat("2026-11-15T13:00:00+00:00")
    assert all(m.in_client_channel for m in (client, agent, note))
