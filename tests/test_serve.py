"""``hygiene serve`` over Socket Mode: slack-sdk's real client against the sandbox's WebSocket server.

Envelope shapes and acks, ack before work, grace timers, one nudge when an event and a poll see
the same message, a server disconnect that loses nothing, and the buttons on nudges.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.chat.slack.interactions import read_envelope
from hygiene.clock import FrozenClock
from hygiene.config import Config
from hygiene.ports.events import EventKind, Intent, PushEvent
from hygiene.serve import Server
from hygiene.store import Store
from hygiene.wiring import build_engine, build_events
from sandbox.slack_api import SlackSandbox, SlackState
from sandbox.socket_mode import SocketModeServer
from tests.conftest import make_config

REQUEST = "Preciso que vocês emitam a guia do DAS da Padaria Pão Quente até sexta"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Wait for something another thread does (fails after ``timeout``; never asserts on time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


@pytest.fixture
def socket(state: SlackState) -> Iterator[SocketModeServer]:
    with SocketModeServer(state) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, sandbox: SlackSandbox, tickets_file: Path) -> Config:
    return make_config(tmp_path, sandbox.base_url, tickets_file, rules={"HY101": {"grace_minutes": 0}})


@pytest.fixture
def serve(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, socket: SocketModeServer, state: SlackState
) -> Iterator[Server]:
    store = Store.open(config.store_path)
    engine = build_engine(config, store, clock, token=sandbox.token)
    server = Server(engine, build_events(config, engine, clock, app_token=state.app_token), poll_seconds=3600)
    server.start()
    server.step()  # the first safety-net cycle
    yield server
    server.close()
    store.close()


def bot_replies(state: SlackState) -> list[dict[str, object]]:
    return [p for p in state.bot_posts() if p["kind"] == "thread_reply"]


def queued(server: Server, wanted: Callable[[PushEvent], bool], count: int = 1) -> bool:
    """Whether ``count`` wanted events wait in serve's queue (the test drives the loop, so they stay)."""
    return sum(1 for event in list(server.inbox.queue) if wanted(event)) >= count


def post_and_judge(server: Server, state: SlackState, user: str, channel: str, text: str) -> str:
    ts = state.post_as(user, channel, text)
    wait_until(lambda: queued(server, lambda event: event.message_id == ts), "the event arrives")
    server.clock.advance(seconds=1)  # type: ignore[attr-defined]  # a moment passes (the frozen clock)
    server.drain()
    return ts


# the envelope protocol ----------------------------------------------------------------------------
def test_sandbox_hands_out_the_socket_url_only_for_the_app_token(
    sandbox: SlackSandbox, socket: SocketModeServer
) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    app = WebClient(token=socket.state.app_token, base_url=sandbox.base_url)
    assert app.apps_connections_open(app_token=socket.state.app_token)["url"].startswith("ws://127.0.0.1:")
    bot = WebClient(token=sandbox.token, base_url=sandbox.base_url)
    with pytest.raises(SlackApiError) as refused:
        bot.apps_connections_open(app_token=sandbox.token)
    assert refused.value.response["error"] == "not_allowed_token_type"


def test_a_message_arrives_as_an_event_and_its_envelope_is_acked(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, socket: SocketModeServer, state: SlackState
) -> None:
    store = Store.open(config.store_path)
    engine = build_engine(config, store, clock, token=sandbox.token)
    engine.syncs[0].channels()  # the channel directory, for names
    (events,) = build_events(config, engine, clock, app_token=state.app_token)
    got: list[PushEvent] = []
    events.start(got.append)
    try:
        socket.wait_connections(1)
        ts = state.post_as("U02MARINA", "fiscal", REQUEST)
        wait_until(lambda: bool(got), "an event")
        envelope = socket.wait_acked(next(iter(socket.log.envelopes)))
        assert envelope.ack == {"envelope_id": envelope.body["envelope_id"]}
        assert envelope.body["type"] == "events_api" and envelope.body["payload"]["type"] == "event_callback"
        (event,) = got
        assert event.kind == EventKind.MESSAGE and event.message is not None
        assert (event.message.id, event.message.channel_name, event.message.user) == (ts, "fiscal", "U02MARINA")
        assert event.message.plain == REQUEST and event.delivery == envelope.body["envelope_id"]
    finally:
        events.stop()
        store.close()


def test_the_ack_goes_out_before_any_work(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, socket: SocketModeServer, state: SlackState
) -> None:
    """A sink that never returns (a helpdesk hanging) does not hold the ack back."""
    store = Store.open(config.store_path)
    engine = build_engine(config, store, clock, token=sandbox.token)
    (events,) = build_events(config, engine, clock, app_token=state.app_token)
    release = threading.Event()
    events.start(lambda event: release.wait(30))
    try:
        socket.wait_connections(1)
        state.post_as("U02MARINA", "fiscal", REQUEST)
        wait_until(lambda: bool(socket.log.envelopes), "an envelope")
        envelope = socket.wait_acked(next(iter(socket.log.envelopes)))
        assert envelope.acked_at is not None and not release.is_set()
    finally:
        release.set()
        events.stop()
        store.close()


def test_interactive_envelopes_read_as_intents() -> None:
    def no_message(raw: dict[str, object], channel: str) -> None:
        raise AssertionError("not a message")

    click = {
        "type": "interactive",
        "envelope_id": "e1",
        "payload": {
            "type": "block_actions",
            "user": {"id": "U1"},
            "trigger_id": "t1",
            "container": {"type": "message", "message_ts": "2.0", "channel_id": "C1"},
            "message": {"ts": "2.0", "thread_ts": "1.0"},
            "actions": [{"action_id": "hygiene:not_a_request", "value": "fp1"}],
        },
    }
    event = read_envelope(click, "slack", 0.0, no_message)
    assert event is not None
    assert (event.intent, event.fingerprint, event.channel, event.message_id, event.thread_id, event.user) == (
        Intent.NOT_A_REQUEST,
        "fp1",
        "C1",
        "2.0",
        "1.0",
        "U1",
    )
    assert event.extras == {"trigger_id": "t1"}
    other_app = {**click, "payload": {**click["payload"], "actions": [{"action_id": "their:thing", "value": "x"}]}}
    assert read_envelope(other_app, "slack", 0.0, no_message) is None
    assert read_envelope({"type": "slash_commands", "payload": {}}, "slack", 0.0, no_message) is None


# serve --------------------------------------------------------------------------------------------
def test_an_event_nudges_once_and_the_safety_net_poll_adds_nothing(serve: Server, state: SlackState) -> None:
    ts = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", REQUEST)
    replies = [p for p in bot_replies(state) if p["thread_ts"] == ts]
    assert len(replies) == 1
    assert serve.counts.nudges >= 1 and serve.counts.latencies_ms
    before = len(state.bot_posts())
    report = serve.cycle()
    assert report.sent == 0 and len(state.bot_posts()) == before


def test_a_message_the_events_missed_is_caught_by_the_poll(
    serve: Server, state: SlackState, socket: SocketModeServer
) -> None:
    socket.state.listeners.remove(socket.push_event)  # the push is lost, as during an outage
    ts = state.post_as("U02MARINA", "dia-a-dia", REQUEST)
    serve.clock.advance(seconds=1)  # type: ignore[attr-defined]
    serve.cycle()
    assert [p for p in bot_replies(state) if p["thread_ts"] == ts]


def test_grace_is_a_timer_not_a_sleep(
    tmp_path: Path,
    clock: FrozenClock,
    sandbox: SlackSandbox,
    socket: SocketModeServer,
    state: SlackState,
    tickets_file: Path,
) -> None:
    config = make_config(tmp_path, sandbox.base_url, tickets_file, rules={"HY101": {"grace_minutes": 5}})
    store = Store.open(config.store_path)
    engine = build_engine(config, store, clock, token=sandbox.token)
    server = Server(engine, build_events(config, engine, clock, app_token=state.app_token), poll_seconds=3600)
    server.start()
    try:
        server.step()
        ts = post_and_judge(server, state, "U02MARINA", "dia-a-dia", REQUEST)
        assert not [p for p in bot_replies(state) if p["thread_ts"] == ts]
        assert server.pending_timers() and clock.slept == []
        clock.advance(minutes=5)
        server.step()
        assert len([p for p in bot_replies(state) if p["thread_ts"] == ts]) == 1
    finally:
        server.close()
        store.close()


def test_a_server_disconnect_loses_nothing(serve: Server, state: SlackState, socket: SocketModeServer) -> None:
    socket.wait_connections(1)
    socket.disconnect()
    socket.wait_connections(2)
    ts = post_and_judge(serve, state, "U03JOAO", "dia-a-dia", REQUEST)
    assert len([p for p in bot_replies(state) if p["thread_ts"] == ts]) == 1
    assert socket.log.disconnects == 1
    for envelope_id in list(socket.log.envelopes):  # every delivery, across both sockets, is acked
        socket.wait_acked(envelope_id)


def nudge_of(state: SlackState, root: str) -> dict[str, object]:
    (post,) = [p for p in bot_replies(state) if p["thread_ts"] == root]
    message = state.find(str(post["channel"]), str(post["ts"]))
    assert message is not None
    return {**message, "channel": post["channel"]}


def click(
    serve: Server, socket: SocketModeServer, user: str, nudge: dict[str, object], action: str, times: int = 1
) -> None:
    """``times`` presses of a button before hygiene handles any (a double click)."""
    channel = socket.state.channel_id("dia-a-dia")
    envelopes = [socket.click(user, channel, str(nudge["ts"]), f"hygiene:{action}") for _ in range(times)]
    for envelope in envelopes:
        socket.wait_acked(envelope)
    wait_until(lambda: queued(serve, lambda event: event.kind == EventKind.INTERACTION, times), "the clicks arrive")
    serve.drain()


def test_create_ticket_button_opens_one_ticket_and_links_the_nudge(
    serve: Server, state: SlackState, socket: SocketModeServer, tickets_file: Path
) -> None:
    root = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", REQUEST)
    nudge = nudge_of(state, root)
    actions = [e["action_id"] for b in nudge["blocks"] for e in b.get("elements", [])]  # type: ignore[union-attr, attr-defined]
    assert actions == ["hygiene:create_ticket", "hygiene:not_a_request", "hygiene:already_in"]
    click(serve, socket, "U03JOAO", nudge, "create_ticket", times=2)
    assert serve.counts.button_tickets == 1
    edited = state.find(str(nudge["channel"]), str(nudge["ts"]))
    assert edited is not None and edited["blocks"] == [] and "create_ticket" not in str(edited)
    labels = serve.store.feedback.since(serve.clock.now().replace(year=2000))
    assert [(row["label"], row["how"]) for row in labels] == [("confirmed", "button")]
    assert [row["intent"] for row in serve.store.feedback.interactions()] == ["create_ticket", "create_ticket"]


def test_not_a_request_is_labeled_and_replaces_the_nudge(
    serve: Server, state: SlackState, socket: SocketModeServer
) -> None:
    root = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", REQUEST)
    nudge = nudge_of(state, root)
    click(serve, socket, "U03JOAO", nudge, "not_a_request")
    edited = state.find(str(nudge["channel"]), str(nudge["ts"]))
    assert edited is not None and edited["text"].startswith("Ok, joao marcou") and edited["blocks"] == []
    labels = serve.store.feedback.since(serve.clock.now().replace(year=2000))
    assert [(row["label"], row["user"]) for row in labels] == [("rejected", "U03JOAO")]


def test_only_people_in_the_channel_can_act(serve: Server, state: SlackState, socket: SocketModeServer) -> None:
    root = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", REQUEST)
    nudge = nudge_of(state, root)
    channel = state.channel_id("dia-a-dia")
    state.channels[channel]["members"] = ["U02MARINA"]
    click(serve, socket, "U03JOAO", nudge, "not_a_request")
    assert serve.store.feedback.since(serve.clock.now().replace(year=2000)) == []
    (audit,) = serve.store.feedback.interactions()
    assert audit["outcome"].startswith("refused") and audit["user"] == "U03JOAO"
    assert [p for p in state.bot_posts() if p["kind"] == "ephemeral" and p["user"] == "U03JOAO"]


def wait_and_drain(serve: Server, what: str, kind: EventKind = EventKind.INTERACTION) -> None:
    wait_until(lambda: queued(serve, lambda event: event.kind == kind), what)
    serve.drain()


def labels_of(serve: Server) -> list[tuple[str, str, str]]:
    rows = serve.store.feedback.since(serve.clock.now().replace(year=2000))
    return [(row["label"], row["how"], row["user"]) for row in rows]


def test_already_in_asks_for_the_number_checks_it_and_links_the_thread(
    serve: Server, state: SlackState, socket: SocketModeServer
) -> None:
    root = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", REQUEST)
    nudge = nudge_of(state, root)
    click(serve, socket, "U03JOAO", nudge, "already_in")
    (form,) = state.views
    assert form["callback_id"] == "hygiene:already_in"
    socket.wait_acked(socket.submit("U03JOAO", form, "#99999"))  # no such ticket
    wait_and_drain(serve, "the first answer")
    assert labels_of(serve) == []
    assert [p for p in state.bot_posts() if p["kind"] == "ephemeral" and "99999" in str(p["text"])]
    socket.wait_acked(socket.submit("U03JOAO", form, "4521"))
    wait_and_drain(serve, "the second answer")
    assert labels_of(serve) == [("confirmed", "already_in", "U03JOAO")]
    channel = state.channel_id("dia-a-dia")
    assert serve.store.links.of_thread("slack", channel, root) == ["4521"]
    edited = state.find(channel, str(nudge["ts"]))
    assert edited is not None and "4521" in edited["text"] and edited["blocks"] == []
    outcomes = [row["outcome"] for row in serve.store.feedback.interactions()]
    assert outcomes == ["asked for the ticket number", "refused: ticket 99999 not found", "linked to 4521"]


def test_the_shortcut_makes_a_ticket_of_a_missed_request(
    serve: Server, state: SlackState, socket: SocketModeServer, tickets_file: Path
) -> None:
    ts = post_and_judge(serve, state, "U04CARLA", "dia-a-dia", "A Vila Verde mandou os extratos de outubro.")
    assert not [p for p in bot_replies(state) if p["thread_ts"] == ts]
    socket.wait_acked(socket.shortcut("U04CARLA", "dia-a-dia", ts, "hygiene:shortcut_ticket"))
    wait_and_drain(serve, "the shortcut")
    assert labels_of(serve) == [("missed", "shortcut", "U04CARLA")]
    assert [p for p in bot_replies(state) if p["thread_ts"] == ts], "the ticket's reply in the thread"


def test_thumbs_down_on_a_nudge_is_a_rejection(serve: Server, state: SlackState) -> None:
    root = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", REQUEST)
    nudge = nudge_of(state, root)
    state.react(str(nudge["channel"]), str(nudge["ts"]), "U03JOAO", "-1")
    wait_and_drain(serve, "the reaction", EventKind.REACTION)
    state.react(str(nudge["channel"]), root, "U03JOAO", "-1")  # on the request itself: not a verdict on a nudge
    wait_and_drain(serve, "the other reaction", EventKind.REACTION)
    assert labels_of(serve) == [("rejected", "reaction", "U03JOAO")]


def test_a_status_answer_offers_to_ask_the_owner_who_gets_a_dm_once(
    serve: Server, state: SlackState, socket: SocketModeServer
) -> None:
    root = post_and_judge(serve, state, "U02MARINA", "dia-a-dia", "E o atendimento 4521, andou? Alguma novidade?")
    nudge = nudge_of(state, root)
    actions = [e["action_id"] for b in nudge["blocks"] for e in b.get("elements", [])]  # type: ignore[union-attr, attr-defined]
    assert "hygiene:ask_owner" in actions
    click(serve, socket, "U03JOAO", nudge, "ask_owner", times=2)
    dms = [p for p in state.bot_posts() if p["kind"] == "dm" and "4521" in str(p["text"])]
    assert len(dms) == 1 and state.channels[dms[0]["channel"]]["user"] == "U05PEDRO"
    outcomes = [row["outcome"] for row in serve.store.feedback.interactions()]
    assert outcomes[0].startswith("owner asked") and outcomes[1] == "owner already asked"


def test_block_kit_buttons_follow_the_language_and_link_the_ticket() -> None:
    from connectors.chat.slack.interactions import nudge_blocks
    from hygiene.models import Action, ActionKind

    text = "O atendimento 4521 está aberto: https://helpdesk.example/t/4521 (Pedro)."
    status = Action(ActionKind.THREAD_REPLY, "k", "C1", text, fingerprint="fp", buttons=("open_ticket", "ask_owner"))
    blocks = nudge_blocks(status)
    assert blocks is not None
    link, ask = blocks[1]["elements"]
    assert link["url"] == "https://helpdesk.example/t/4521" and "value" not in link
    assert (ask["action_id"], ask["value"], ask["text"]["text"]) == (
        "hygiene:ask_owner",
        "fp",
        "Pedir atualização ao responsável",
    )
    english = nudge_blocks(
        Action(
            ActionKind.THREAD_REPLY,
            "k",
            "C1",
            "no link",
            fingerprint="fp",
            buttons=("open_ticket", "create_ticket"),
            language="en",
        )
    )
    assert english is not None
    assert [e["text"]["text"] for e in english[1]["elements"]] == ["Create ticket"], "no link: no link button"
    assert nudge_blocks(Action(ActionKind.THREAD_REPLY, "k", "C1", "plain")) is None


def test_a_dropped_socket_is_reopened_with_backoff(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, socket: SocketModeServer, state: SlackState
) -> None:
    from slack_sdk import WebClient

    from connectors.chat.slack.socket import SlackEvents

    store = Store.open(config.store_path)
    engine = build_engine(config, store, clock, token=sandbox.token)
    engine.syncs[0].channels()
    app = WebClient(token=state.app_token, base_url=sandbox.base_url)
    events = SlackEvents(engine.chats[0], app, backoff=(0.01, 0.04), check_every=0.01)  # type: ignore[arg-type]
    got: list[PushEvent] = []
    events.start(got.append)
    try:
        socket.wait_connections(1)
        state.inject("apps.connections.open", "server_error", times=3)
        socket.drop()
        socket.wait_connections(2)
        assert events.waits == [0.01, 0.02, 0.04]
        ts = state.post_as("U02MARINA", "fiscal", REQUEST)
        wait_until(lambda: any(e.message_id == ts for e in got), "the event on the new socket")
    finally:
        events.stop()
        store.close()


def test_stopping_judges_what_was_acked_and_queued(serve: Server, state: SlackState) -> None:
    ts = state.post_as("U02MARINA", "dia-a-dia", REQUEST)
    wait_until(lambda: queued(serve, lambda event: event.message_id == ts), "the event")
    serve.clock.advance(seconds=1)  # type: ignore[attr-defined]
    serve.stop()
    serve.close()
    assert len([p for p in bot_replies(state) if p["thread_ts"] == ts]) == 1


def test_what_arrives_while_stopping_is_not_acked_and_comes_back_to_the_next_start(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, socket: SocketModeServer, state: SlackState
) -> None:
    store = Store.open(config.store_path)
    engine = build_engine(config, store, clock, token=sandbox.token)
    engine.syncs[0].channels()
    (first,) = build_events(config, engine, clock, app_token=state.app_token)
    first.start(lambda event: None)
    socket.wait_connections(1)
    first.stop()
    ts = state.post_as("U02MARINA", "fiscal", REQUEST)
    (second,) = build_events(config, engine, clock, app_token=state.app_token)
    got: list[PushEvent] = []
    second.start(got.append)
    try:
        wait_until(lambda: any(event.message_id == ts for event in got), "the event, re-sent to the new socket")
        envelope_id = next(
            e for e, envelope in socket.log.envelopes.items() if envelope.body["payload"]["event"].get("ts") == ts
        )
        socket.wait_acked(envelope_id)
    finally:
        second.stop()
        store.close()
