"""The chat contract for Rocket.Chat: the real connector, built as the product builds it, over HTTP
to the sandbox's Rocket.Chat REST API on loopback (requests, retries, budgets and all); then what is
Rocket.Chat's own: markdown, system messages, X-RateLimit-Reset, client-chosen ids, config errors,
and whole engine cycles on a ``[[chat]] kind = "rocketchat"`` config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.chat.rocketchat import KIND, RocketChat, RocketChatSettings, build
from connectors.chat.rocketchat.markup import render
from connectors.chat.rocketchat.messages import post_id
from connectors.chat.slack.markup import render as render_slack
from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.document import Document, Section
from hygiene.errors import (
    AuthError,
    BudgetExhausted,
    ChannelGone,
    ConfigError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
)
from hygiene.kinds import ChatBuild
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.store import Store
from hygiene.wiring import build_chats, run_cycle
from sandbox.rocketchat_api import RocketChatSandbox, RocketChatState
from tests.contracts.chat import NOW, ChatContract, Received, stored, window

RETRIES = 2
FAULTS = {
    "transient": ("channels.history", "server_error", RETRIES + 1, {}),
    "gone": ("channels.history", "error:error-room-not-found", 1, {}),
    "rate_limited": ("channels.history", "ratelimited", 1, {"retry_after": 120}),
}


class RocketChatHarness:
    """The rocketchat scenario's server, plus an empty channel #contract the suite posts in."""

    channel = ChannelInfo("C0ntractR00mXyz23", "contract")
    outside = "random"
    person = "Sr2YwK9bTnF6gHcMd"
    email = "sarah@horizonte.example"
    replies_method = "chat.getThreadMessages"

    def __init__(self, _: Path) -> None:
        self.clock = FrozenClock(NOW)
        self.state = RocketChatState.from_scenario("rocketchat", self.clock)
        self.state.add_room(self.channel.id, self.channel.name)
        self.server = RocketChatSandbox(self.state).start()
        self.budget_spent = False
        self.keys: dict[str, str] = {}
        """Message id → outbox key: the key is not on the wire, only the id derived from it."""

    def settings(self, **values: Any) -> RocketChatSettings:
        options = {"channels": [self.channel.name], "base_url": self.server.base_url, "retries": RETRIES}
        return RocketChatSettings(**{**options, "timeout_seconds": 1, **values})

    def chat(self) -> RocketChat:
        chat = build(self.settings(), ChatBuild(clock=self.clock, token=self.server.token))
        if self.budget_spent:
            chat.api.budget.limits["channels.history"] = 0
        send = chat.send

        def recording(action: Action) -> str | None:
            self.keys[post_id(action.key)] = action.key
            return send(action)

        chat.send = recording  # type: ignore[method-assign]
        return chat

    def post(self, text: str, thread_id: str | None = None, at: datetime | None = None) -> str:
        return self.state.post_as(self.person, self.channel.id, text, tmid=thread_id, at=at)

    def edit(self, message_id: str, text: str) -> None:
        self.state.edit(self.channel.id, message_id, text)

    def delete(self, message_id: str) -> None:
        self.state.delete(self.channel.id, message_id)

    def react(self, message_id: str, emoji: str) -> None:
        self.state.react(self.channel.id, message_id, self.person, emoji)

    def fault(self, kind: str) -> None:
        if kind == "budget":
            self.budget_spent = True
            return
        endpoint, fault, times, options = FAULTS[kind]
        self.state.inject(endpoint, fault, times, **options)

    def fail_write(self, lands: bool) -> None:
        """A reset after the post was carried out, or a 500 before it was."""
        self.state.inject("chat.sendMessage", "reset_after" if lands else "server_error")

    def received(self) -> list[Received]:
        found = []
        for post in self.state.bot_posts():
            if post["kind"] == "reaction":
                found.append(Received("reaction", post["rid"], post["_id"], str(post["msg"])))
            else:
                key = self.keys.get(post["_id"])
                found.append(Received(post["kind"], post["rid"], post["tmid"], str(post["msg"]), key))
        return found

    def close(self) -> None:
        self.server.stop()


class TestRocketChat(ChatContract):
    harness_class = RocketChatHarness


# Rocket.Chat's own behaviour -------------------------------------------------------------------


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[RocketChatHarness]:
    made = RocketChatHarness(tmp_path)
    yield made
    made.close()


def connected(harness: RocketChatHarness, **settings: Any) -> RocketChat:
    chat = build(harness.settings(**settings), ChatBuild(clock=harness.clock, token=harness.server.token))
    chat.connect()
    return chat


def read(chat: RocketChat, name: str, hours: float = 6) -> dict[str, ChatMessage]:
    [channel] = chat.resolve_channels([name])
    fetch = chat.fetch(channel, {}, window(chat.api.clock, rescan_hours=hours))  # type: ignore[arg-type]
    assert fetch.complete, fetch.error
    return {m.plain: m for m in fetch.messages}


@pytest.mark.parametrize(
    ("markdown", "slack", "plain"),
    [
        ("oi @marina, veja #fiscal", "oi <@U1|marina>, veja <#C1|fiscal>", "oi @marina, veja #fiscal"),
        ("veja [o painel](https://x.io/a)", "veja <https://x.io/a|o painel>", "veja o painel (https://x.io/a)"),
        ("<https://x.io|x> e <mailto:a@b.c>", "<https://x.io|x> e <mailto:a@b.c>", "x (https://x.io) e a@b.c"),
        ("[https://x.io](https://x.io)", "<https://x.io|https://x.io>", "https://x.io"),
        ("*urgente* _hoje_ ~ontem~ `NF-e`", "*urgente* _hoje_ ~ontem~ `NF-e`", "*urgente* _hoje_ ~ontem~ `NF-e`"),
        ("A & B <3 :tada:", "A &amp; B &lt;3 :tada:", "A & B <3 :tada:"),
        ("@all reunião às 15h", "<!channel> reunião às 15h", "@all reunião às 15h"),
    ],
)
def test_markdown_reads_as_slacks_markup_does(markdown: str, slack: str, plain: str) -> None:
    assert render(markdown) == plain
    if not markdown.startswith("@all"):  # Slack's broadcast is @channel, Rocket.Chat's @all
        assert render_slack(slack) == plain


def test_the_kind_renders_and_recognises_room_ids() -> None:
    assert KIND.render("[NF](https://nf.example)") == "NF (https://nf.example)"
    assert KIND.channel_id("SuPBackR00mGr6pZz") is False, "0 is not in Meteor's id alphabet"
    assert KIND.channel_id("GENERAL") and KIND.channel_id("PsRevenueChanN8xK")
    assert not KIND.channel_id("support-backroom")


def test_scenario_messages_read_as_the_plan_expects(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    backroom = read(chat, "support-backroom")
    joined = next(m for m in backroom.values() if m.system)
    assert joined.system == "uj" and not joined.judged, "a join is never judged"
    status = backroom["Qual o status do chamado #4533? O cliente Acme ligou de novo."]
    assert status.judged and status.user_name == "marina"
    revenue = read(chat, "potential-sales-revenue")
    alert = next(m for m in revenue.values() if "Umbrella" in m.plain)
    assert alert.is_bot and not alert.judged and not alert.ours
    assert alert.mentions == ("Pd7XcB3nRfY5wLkQa",), "the responsible rep, by user id"
    answered = next(m for m in revenue.values() if "Hooli" in m.plain)
    assert answered.reply_count == 1 and answered.thread_id == answered.id
    critical = read(chat, "product-bad-behavior-critical")
    [bug] = critical.values()
    assert bug.reacted_with("eyes") == ("Pd7XcB3nRfY5wLkQa",), "reactions name people by id, not username"
    assert chat.learned_users()["Bt8CrM4eWqZ7nJsLk"] == ("alertas.crm", True), "a bot user (type bot)"


def test_system_messages_are_never_judged(harness: RocketChatHarness) -> None:
    harness.state.post_as(harness.person, harness.channel.id, "sarah", t="ul")
    harness.state.post_as(harness.person, harness.channel.id, "O cliente pediu o boleto", t="rm")
    chat = connected(harness)
    messages = chat.fetch(harness.channel, {}, window(harness.clock)).messages
    assert sorted(m.system or "" for m in messages) == ["rm", "ul"]
    assert not any(m.judged for m in messages)


def test_a_short_rate_limit_is_waited_out_until_x_ratelimit_reset(harness: RocketChatHarness) -> None:
    harness.post("O cliente Brascont pediu a segunda via")
    harness.state.inject("channels.history", "ratelimited", retry_after=4)
    chat = connected(harness)
    fetch = chat.fetch(harness.channel, {}, window(harness.clock))
    assert fetch.complete and len(fetch.messages) == 1
    assert harness.clock.slept and abs(harness.clock.slept[0] - 4) < 0.01, "slept until the reset, not a guess"


def test_a_long_rate_limit_closes_the_endpoint_for_the_cycle(harness: RocketChatHarness) -> None:
    harness.state.inject("channels.history", "ratelimited", retry_after=300)
    chat = connected(harness)
    first = chat.fetch(harness.channel, {}, window(harness.clock))
    assert first.deferred and isinstance(first.error, RateLimited) and first.error.retry_after == pytest.approx(300)
    calls = harness.state.calls["channels.history"]
    second = chat.fetch(harness.channel, {}, window(harness.clock))
    assert second.deferred and isinstance(second.error, BudgetExhausted)
    assert harness.state.calls["channels.history"] == calls, "a closed endpoint is not called again this cycle"
    assert harness.clock.slept == []


def test_the_rate_limiter_switched_on_answers_429_with_reset_headers(harness: RocketChatHarness) -> None:
    harness.state.rate_limit = True
    chat = connected(harness)
    for _ in range(10):
        assert chat.api.get("users.info", userId=harness.person)["user"]["username"] == "sarah"
    with pytest.raises(RateLimited) as caught:
        chat.api.get("users.info", userId=harness.person)
    assert 50 < caught.value.retry_after <= 60, "the fixed window's reset, from X-RateLimit-Reset"
    with pytest.raises(BudgetExhausted):
        chat.api.get("users.info", userId=harness.person)


def test_a_resent_post_with_the_same_id_is_never_doubled(harness: RocketChatHarness) -> None:
    chat = harness.chat()
    chat.connect()
    root = harness.post("O cliente Brascont pediu a segunda via")
    action = Action(ActionKind.THREAD_REPLY, "fp9:reply", harness.channel.id, "abra um chamado", thread_id=root)
    harness.state.inject("chat.sendMessage", "reset_after")
    with pytest.raises(OutcomeUnknown):
        chat.send(action)
    assert chat.send(action) == post_id("fp9:reply"), "the duplicate _id is the post already there"
    assert [r.key for r in harness.received()] == ["fp9:reply"]
    assert len([m for m in harness.state.messages[harness.channel.id] if m.get("tmid") == root]) == 1
    assert chat.calls()["chat.getMessage"] == 1, "the refused duplicate was checked, not assumed"


def test_a_document_is_posted_as_rocket_chat_markdown(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    document = Document(
        "Relatório do dia",
        (Section(("**3** pedidos no chat", "[#4521](https://help.example/4521) parado há 2 dias")),),
    )
    action = Action(ActionKind.CHANNEL_POST, "report:7", harness.channel.id, "fallback", document=document.to_json())
    chat.send(action)
    [post] = harness.received()
    assert post.text == "*Relatório do dia*\n\n*3* pedidos no chat\n[#4521](https://help.example/4521) parado há 2 dias"
    assert render(post.text).endswith("#4521 (https://help.example/4521) parado há 2 dias")


def test_a_refused_post_that_is_not_there_stays_an_error(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    action = Action(ActionKind.CHANNEL_POST, "report:9", harness.channel.id, "x" * 5001)
    harness.state.inject("chat.sendMessage", "error:error-message-size-exceeded")
    with pytest.raises(PermanentError):
        chat.send(action)
    assert harness.received() == []


def test_refused_credentials_are_an_auth_error_without_the_token(harness: RocketChatHarness) -> None:
    chat = build(harness.settings(), ChatBuild(clock=harness.clock, token=f"{harness.person}:wrong-token-value"))
    with pytest.raises(AuthError) as caught:
        chat.connect()
    assert "wrong-token-value" not in str(caught.value) and "401" in str(caught.value)


def test_an_unknown_emoji_is_refused_but_the_channel_is_not_gone(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    message = harness.post("O cliente Brascont pediu a segunda via")
    reaction = Action(ActionKind.REACTION, "r9", harness.channel.id, thread_id=message, emoji="not an emoji")
    with pytest.raises(PermanentError) as caught:
        chat.send(reaction)
    assert not isinstance(caught.value, ChannelGone) and "Invalid emoji" in str(caught.value)


def test_a_403_on_a_room_is_a_channel_gone(harness: RocketChatHarness) -> None:
    harness.state.inject("channels.history", "forbidden")
    chat = connected(harness)
    assert chat.fetch(harness.channel, {}, window(harness.clock)).gone


def test_a_malformed_body_is_retried_for_reads(harness: RocketChatHarness) -> None:
    harness.post("oi")
    harness.state.inject("channels.history", "malformed")
    chat = connected(harness)
    assert chat.fetch(harness.channel, {}, window(harness.clock)).complete


def test_history_pages_never_lose_a_message_to_a_deletion_between_pages(harness: RocketChatHarness) -> None:
    now = harness.clock.now()
    ids = [harness.post(f"mensagem {i}", at=now - timedelta(minutes=30 - i)) for i in range(7)]
    chat = connected(harness, page_size=3)
    pages = chat._history("channels.history", harness.channel.id, now - timedelta(hours=1))
    first = [next(pages)["_id"] for _ in range(3)]
    harness.delete(first[0])
    rest = [m["_id"] for m in pages]
    assert set(first) | set(rest) == set(ids), "the oldest messages are still read"


def test_a_deleted_reply_has_its_thread_read_again(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    root = harness.post("O cliente Globex pediu a guia do DAS")
    early = harness.post("vou ver", thread_id=root)
    harness.clock.advance(minutes=1)
    harness.post("feito", thread_id=root)
    first = chat.fetch(harness.channel, {}, window(harness.clock))
    harness.delete(early)
    again = chat.fetch(harness.channel, stored(first), window(harness.clock))
    assert root in again.threads_read, "the newest reply did not change, the count did"
    assert early not in {m.id for m in again.messages}


def test_a_channel_made_private_is_read_as_a_group(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    harness.post("oi")
    first = chat.fetch(harness.channel, {}, window(harness.clock))
    harness.state.rooms[harness.channel.id]["t"] = "p"
    again = connected(harness).fetch(harness.channel, stored(first), window(harness.clock))
    assert again.complete and len(again.messages) == 1 and again.state["t"] == "p"


def test_private_groups_and_direct_links(harness: RocketChatHarness) -> None:
    chat = connected(harness)
    [group] = chat.resolve_channels(["support-backroom"])
    assert chat.permalink(group.id, "abc") == f"{harness.server.base_url}/group/support-backroom?msg=abc"
    public = chat.permalink(harness.channel.id, "abc")
    assert public == f"{harness.server.base_url}/channel/contract?msg=abc"
    [outside] = chat.resolve_channels([harness.outside], need_member=False)
    assert outside.name == "random", "an existing channel the bot is not in, when membership is not needed"


def test_people_are_not_found_by_email_without_the_permission(harness: RocketChatHarness) -> None:
    harness.state.users[harness.state.bot["_id"]]["permissions"] = []
    chat = connected(harness)
    assert chat.user_by_email(harness.email) is None


@pytest.mark.parametrize("missing", ["ROCKETCHAT_TOKEN", "ROCKETCHAT_USER_ID"])
def test_missing_credentials_name_their_key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-a-slack-token")
    monkeypatch.setenv("ROCKETCHAT_TOKEN", "a-token-value")
    monkeypatch.setenv("ROCKETCHAT_USER_ID", "Sr2YwK9bTnF6gHcMd")
    monkeypatch.delenv(missing)
    config = parse(
        {
            "hygiene": {"state_dir": str(tmp_path / "state")},
            "chat": [
                {"kind": "slack", "channels": ["dia-a-dia"]},
                {"kind": "rocketchat", "name": "rc", "channels": ["sales-alerts"], "base_url": "https://rc.example"},
            ],
        }
    )
    store = Store.memory()
    try:
        with pytest.raises(ConfigError) as caught:
            build_chats(config, store, FrozenClock(NOW))
    finally:
        store.close()
    key = "token_env" if missing == "ROCKETCHAT_TOKEN" else "user_id_env"
    assert caught.value.problems == [f"chat[1].{key}: environment variable {missing} is not set"]


def test_settings_refuse_what_rocket_chat_cannot_take() -> None:
    with pytest.raises(ValueError, match="page_size"):
        RocketChatSettings(page_size=500)
    with pytest.raises(ValueError, match=r"unknown Rocket\.Chat endpoint"):
        RocketChatSettings(base_url="https://rc.example", budget={"conversations.history": 3})
    with pytest.raises(ValueError, match="base_url"):
        RocketChatSettings()  # type: ignore[call-arg]  # every workspace has its own server
    assert RocketChatSettings(base_url="https://rc.example/api/v1/").base_url == "https://rc.example"


# whole cycles ----------------------------------------------------------------------------------

WATCHED = ["sales-alerts", "won-deals", "potential-sales-revenue", "support-backroom", "very-technical-questions"]


@pytest.fixture
def engine_config(tmp_path: Path, harness: RocketChatHarness) -> Config:
    tickets = tmp_path / "tickets.json"
    tickets.write_text(json.dumps(harness.state.tickets, ensure_ascii=False), encoding="utf-8")
    return parse(
        {
            "hygiene": {"state_dir": str(tmp_path / "state")},
            "chat": [
                {"kind": "rocketchat", "channels": WATCHED, "base_url": harness.server.base_url, "retries": 2,
                 "timeout_seconds": 1},
            ],
            "helpdesk": {"kind": "files", "path": str(tickets)},
            "policy": {"cooldown_minutes": 0},
            "rules": {code: {"mode": "off"} for code in ("HY201", "HY202", "HY203")},
        }
    )  # fmt: skip


def test_two_engine_cycles_post_each_nudge_exactly_once(engine_config: Config, harness: RocketChatHarness) -> None:
    first = run_cycle(engine_config, harness.clock, harness.server.token)
    assert first.ok, first
    posts = [p for p in harness.state.bot_posts() if p["kind"] != "reaction"]
    assert first.sent >= 1 and posts, first.findings
    assert all(p["_id"].startswith("hy") and len(p["_id"]) == 17 for p in posts), "ids derived from outbox keys"
    after_first = harness.state.bot_posts()
    harness.clock.advance(minutes=1)
    second = run_cycle(engine_config, harness.clock, harness.server.token)
    assert second.ok and second.sent == 0 and second.findings == {}
    assert harness.state.bot_posts() == after_first, "the second cycle sends nothing"
    ids = [p["_id"] for p in after_first if p["kind"] != "reaction"]
    assert len(ids) == len(set(ids)) == first.sent


def test_hygiene_mentions_are_written_as_rocket_chat_usernames() -> None:
    from hygiene.mentions import mention, replace_mentions

    people = f"{mention('Pd7XcB3nRfY5wLkQa')}, {mention('Sr2YwK9bTnF6gHcMd')}"  # a Rocket.Chat id may start with S
    text = f"Escalando para {people} e {mention('S0VENDAS12')}; veja {mention('#tech-leads')}."
    names = {"Pd7XcB3nRfY5wLkQa": "pedro", "Sr2YwK9bTnF6gHcMd": "sarah"}
    shown = replace_mentions(text, lambda user: "@" + names[user], lambda group: "@" + group)
    assert shown == "Escalando para @pedro, @sarah e @S0VENDAS12; veja #tech-leads."
