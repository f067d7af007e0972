"""The Slack connector through the real slack-sdk WebClient, over HTTP, against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from connectors.budget import CallBudget
from connectors.chat.slack.chat import SlackChat
from connectors.chat.slack.client import SlackClient
from connectors.chat.slack.settings import DEFAULT_BUDGET
from hygiene.clock import FrozenClock
from hygiene.errors import AuthError, ConfigError, ExternalError, OutcomeUnknown
from hygiene.models import Action, ActionKind
from hygiene.ports import ChannelInfo, ReadWindow
from sandbox.slack_api import SlackSandbox, SlackState

SUPPORT = ChannelInfo("C05SUPPORT", "support-team")
EPOCH = datetime.fromtimestamp(0, UTC)


def make_chat(sandbox: SlackSandbox, clock: FrozenClock, token: str | None = None, **options: object) -> SlackChat:
    client = WebClient(token=token or sandbox.token, base_url=sandbox.base_url, timeout=1, retry_handlers=[])
    budget = CallBudget(dict(DEFAULT_BUDGET) | dict(options.pop("budget", {})))  # type: ignore[call-overload]
    transport = {k: options.pop(k) for k in ("retries", "max_retry_after", "sleep_cap") if k in options}
    api = SlackClient(client, clock, budget, **transport)  # type: ignore[arg-type]
    chat = SlackChat(api, **options)  # type: ignore[arg-type]
    chat.connect()
    return chat


def everything(clock: FrozenClock) -> ReadWindow:
    """A read window reaching back to the epoch: every message the sandbox holds."""
    start = datetime.fromtimestamp(0, UTC)
    return ReadWindow(now=clock.now(), rescan_from=start, backfill_from=start)


def seed(state: SlackState, count: int) -> list[str]:
    return [state.post_as("U07SARAH", "support-team", f"message number {i}") for i in range(count)]


def test_history_is_read_across_pages(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    seed(state, 10)
    chat = make_chat(sandbox, clock, page_size=3)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    top_level = [m for m in fetch.messages if not m.is_reply]
    assert fetch.complete
    assert len(top_level) == len(state.messages["C05SUPPORT"])
    assert chat.calls()["conversations.history"] == 5  # 15 messages, 3 a page


def test_429_waits_retry_after_then_succeeds(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    state.inject("conversations.history", "ratelimited", retry_after=2)
    chat = make_chat(sandbox, clock)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert fetch.complete
    assert 2 in clock.slept
    assert state.calls["conversations.history"] == 2


def test_long_retry_after_is_left_for_the_next_cycle(
    sandbox: SlackSandbox, state: SlackState, clock: FrozenClock
) -> None:
    state.inject("conversations.history", "ratelimited", retry_after=120)
    chat = make_chat(sandbox, clock, max_retry_after=10)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert not fetch.complete
    assert "rate limited for 120s" in str(fetch.error or "")
    assert 120 not in clock.slept
    again = chat.fetch(ChannelInfo("C02FISCAL", "fiscal"), {}, everything(clock))
    assert not again.complete, "a method closed by a long Retry-After stays closed for the cycle"
    assert state.calls["conversations.history"] == 1


def test_5xx_is_retried_with_backoff(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    state.inject("conversations.history", "server_error", times=2)
    chat = make_chat(sandbox, clock, retries=3)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert fetch.complete
    assert state.calls["conversations.history"] == 3
    assert len(clock.slept) == 2


def test_persistent_5xx_is_reported_not_swallowed(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    state.inject("conversations.history", "server_error", times=10)
    chat = make_chat(sandbox, clock, retries=2)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert not fetch.complete
    assert str(fetch.error) == "slack: conversations.history: HTTP 500 (gave up after 3 attempts)"


def test_malformed_json_is_retried(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    state.inject("conversations.history", "malformed")
    chat = make_chat(sandbox, clock)
    assert chat.fetch(SUPPORT, {}, everything(clock)).complete


def test_timeout_is_retried(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    state.inject("conversations.history", "timeout", delay=1.5)
    chat = make_chat(sandbox, clock)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert fetch.complete
    assert state.calls["conversations.history"] == 2


def test_bad_token_is_an_auth_error_that_hides_the_token(sandbox: SlackSandbox, clock: FrozenClock) -> None:
    secret = "xoxb-this-is-a-wrong-token"
    client = WebClient(token=secret, base_url=sandbox.base_url, timeout=1, retry_handlers=[])
    chat = SlackChat(SlackClient(client, clock, CallBudget(DEFAULT_BUDGET)))
    with pytest.raises(AuthError) as caught:
        chat.connect()
    assert "invalid_auth" in str(caught.value)
    assert secret not in str(caught.value)


def test_bot_messages_and_our_own_are_marked(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    chat = make_chat(sandbox, clock)
    chat.send(
        Action(ActionKind.THREAD_REPLY, "k1", "C05SUPPORT", "hello", thread_id=state.messages["C05SUPPORT"][0]["ts"])
    )
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    bots = [m for m in fetch.messages if m.is_bot]
    assert {m.user for m in bots} == {"U09DEPLOY", "U0HYGIENE"}
    assert all(not m.judged for m in bots)
    humans = [m for m in fetch.messages if not m.is_bot]
    assert humans and all(m.judged for m in humans)


def test_thread_replies_are_read_only_when_the_thread_moved(
    sandbox: SlackSandbox, state: SlackState, clock: FrozenClock
) -> None:
    fiscal = ChannelInfo("C02FISCAL", "fiscal")
    chat = make_chat(sandbox, clock)
    first = chat.fetch(fiscal, {}, everything(clock))
    replies = [m for m in first.messages if m.is_reply]
    assert [m.plain for m in replies] == ["Já abri o chamado #4540 pra isso, estou vendo com eles."]
    assert first.state["threads"] == {m.id: m.latest_reply for m in first.messages if m.reply_count}
    before = chat.calls()["conversations.replies"]
    chat.fetch(fiscal, first.state, everything(clock))
    assert chat.calls()["conversations.replies"] == before, "the bookmark knows the thread did not move"


def test_markup_is_rendered_with_user_names(sandbox: SlackSandbox, clock: FrozenClock) -> None:
    chat = make_chat(sandbox, clock)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert "hey @sarah, got a sec?" in [m.plain for m in fetch.messages]


def test_channels_resolve_by_name_and_id_with_key_paths(sandbox: SlackSandbox, clock: FrozenClock) -> None:
    chat = make_chat(sandbox, clock)
    assert chat.resolve_channels(["fiscal", "C05SUPPORT"]) == [
        ChannelInfo("C02FISCAL", "fiscal"),
        SUPPORT,
    ]
    with pytest.raises(ConfigError) as caught:
        chat.resolve_channels(["fiscal", "fiscall", "random"])
    assert caught.value.problems == [
        'slack.channels[1]: unknown channel name "fiscall"',
        "slack.channels[2]: the bot is not a member of #random (invite it with /invite @hygiene)",
    ]


def test_posted_messages_are_found_again_by_metadata(
    sandbox: SlackSandbox, state: SlackState, clock: FrozenClock
) -> None:
    chat = make_chat(sandbox, clock)
    parent = state.messages["C05SUPPORT"][0]["ts"]
    action = Action(ActionKind.THREAD_REPLY, "fp123:reply", "C05SUPPORT", "a nudge", thread_id=parent, rule="HY101")
    assert chat.find_posted(action, EPOCH) is None
    ts = chat.send(action)
    assert chat.find_posted(action, EPOCH) == ts
    dm = Action(ActionKind.DM, "fp456:dm", "", "a direct message", user="U08MIKE")
    dm_ts = chat.send(dm)
    assert chat.find_posted(dm, EPOCH) == dm_ts


def test_call_budget_stops_a_method_for_the_cycle(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    seed(state, 10)
    chat = make_chat(sandbox, clock, page_size=3, budget={"conversations.history": 2})
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert not fetch.complete
    assert "budget" in str(fetch.error or "")
    assert state.calls["conversations.history"] == 2


def test_an_unknown_slack_error_is_not_retried(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    state.inject("chat.postMessage", "error:channel_not_found")
    chat = make_chat(sandbox, clock)
    with pytest.raises(ExternalError) as caught:
        chat.send(Action(ActionKind.THREAD_REPLY, "k", "C05SUPPORT", "x", thread_id=None))
    assert not caught.value.transient
    assert state.calls["chat.postMessage"] == 1


def test_ephemerals_reactions_and_permalinks(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    chat = make_chat(sandbox, clock)
    parent = state.messages["C05SUPPORT"][0]["ts"]
    ephemeral = Action(ActionKind.EPHEMERAL, "e1", "C05SUPPORT", "only you see this", user="U08MIKE")
    assert chat.send(ephemeral) is None
    assert chat.find_posted(ephemeral, EPOCH) is None, "ephemerals cannot be read back: at most once"
    reaction = Action(ActionKind.REACTION, "r1", "C05SUPPORT", thread_id=parent, emoji="eyes")
    chat.send(reaction)
    chat.send(reaction)  # already_reacted is success, not an error
    assert [p["kind"] for p in state.bot_posts()] == ["ephemeral", "reaction"]
    assert (
        chat.permalink("C05SUPPORT", parent)
        == f"https://sandbox.slack.local/archives/C05SUPPORT/p{parent.replace('.', '')}"
    )


def test_a_post_that_timed_out_is_not_resent_inside_the_call(
    sandbox: SlackSandbox, state: SlackState, clock: FrozenClock
) -> None:
    state.inject("chat.postMessage", "late", delay=1.5)  # carried out, answered after the 1 s timeout
    chat = make_chat(sandbox, clock)
    parent = state.messages["C05SUPPORT"][0]["ts"]
    action = Action(ActionKind.THREAD_REPLY, "late:reply", "C05SUPPORT", "a nudge", thread_id=parent, rule="HY101")
    with pytest.raises(OutcomeUnknown):
        chat.send(action)
    assert state.calls["chat.postMessage"] == 1
    assert chat.find_posted(action, EPOCH) is not None, "found by its key instead"


def test_a_reset_connection_on_a_read_is_retried(sandbox: SlackSandbox, state: SlackState, clock: FrozenClock) -> None:
    seed(state, 2)
    state.inject("conversations.history", "reset")
    chat = make_chat(sandbox, clock)
    assert chat.fetch(SUPPORT, {}, everything(clock)).complete


def test_retry_afters_stop_at_the_cycles_sleep_cap(
    sandbox: SlackSandbox, state: SlackState, clock: FrozenClock
) -> None:
    state.inject("conversations.history", "ratelimited", times=10, retry_after=8)
    chat = make_chat(sandbox, clock, retries=6, sleep_cap=20)
    fetch = chat.fetch(SUPPORT, {}, everything(clock))
    assert not fetch.complete and fetch.deferred
    assert sum(clock.slept) <= 20


def test_an_unreachable_slack_names_the_cause_not_the_budget(clock: FrozenClock) -> None:
    client = WebClient(token="xoxb-x", base_url="http://no-such-host.invalid/api/", timeout=1, retry_handlers=[])
    chat = SlackChat(SlackClient(client, clock, CallBudget(dict(DEFAULT_BUDGET)), retries=3))
    with pytest.raises(ExternalError) as caught:
        chat.connect()
    assert "DNS lookup failed" in str(caught.value) and "budget" not in str(caught.value)
