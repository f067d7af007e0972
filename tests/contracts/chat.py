"""The contract every chat platform passes, as a reusable suite.

A platform's test module defines a harness (how to build its chat, post, edit, delete and react as a
person, inject a fault, and read what the platform received from hygiene) and subclasses
:class:`ChatContract` naming it::

    class TestSlack(ChatContract):
        harness_class = SlackHarness

Every test starts from a fresh harness whose channel ``harness.channel`` is empty and whose clock
stands at :data:`NOW`. A test that needs a capability the platform does not declare is skipped,
saying which.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest

from hygiene.clock import FrozenClock
from hygiene.errors import ConfigError, OutcomeUnknown, TransientError
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import ChannelFetch, ChannelInfo, Chat, ReadWindow

NOW = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
FAULTS = ("transient", "gone", "rate_limited", "budget")
"""What :meth:`ChatHarness.fault` injects on the next reads: a failure that persists through the
connector's own retries, the channel deleted or hygiene removed, a long rate limit, a spent call budget."""


@dataclass(frozen=True)
class Received:
    """A write the platform received from hygiene: ``kind`` is ``thread_reply``, ``message``,
    ``dm``, ``ephemeral`` or ``reaction`` (``text`` is then the emoji, ``thread_id`` the message)."""

    kind: str
    channel: str
    thread_id: str | None
    text: str
    key: str | None = None


class ChatHarness(Protocol):
    """One chat platform under test, seeded with a person, an empty channel and one hygiene cannot read."""

    clock: FrozenClock
    channel: ChannelInfo
    """An empty channel hygiene is a member of."""
    outside: str
    """The name of a channel that exists but that hygiene was not invited to."""
    person: str
    """The user id of a person who posts."""
    email: str
    """That person's e-mail."""
    replies_method: str
    """The name :meth:`Chat.calls` counts reading one thread's replies under."""

    def chat(self) -> Chat:
        """The connector as the product builds it (not yet connected)."""
        ...

    def post(self, text: str, thread_id: str | None = None, at: datetime | None = None) -> str:
        """The person posts in :attr:`channel` (in a thread, at a moment); the new message's id."""
        ...

    def edit(self, message_id: str, text: str) -> None: ...

    def delete(self, message_id: str) -> None: ...

    def react(self, message_id: str, emoji: str) -> None:
        """The person reacts to a message of :attr:`channel`."""
        ...

    def fault(self, kind: str) -> None:
        """Make the next reads fail with one of :data:`FAULTS` (call before :meth:`chat`)."""
        ...

    def fail_write(self, lands: bool) -> None:
        """Make the next post fail with an unknown outcome; ``lands``: it was carried out all the same."""
        ...

    def received(self) -> list[Received]:
        """Every write the platform received from hygiene, in order."""
        ...

    def close(self) -> None: ...


class HarnessFactory(Protocol):
    """A harness class: built with a temporary folder it may use."""

    def __call__(self, tmp_path: Path, /) -> ChatHarness: ...


def thread_of(harness: ChatHarness, message_id: str) -> str:
    """The thread id hygiene's reads give a message's conversation: the message's own id where a
    thread hangs on its first message (Slack), the conversation's id where the whole conversation
    is the thread and has no root message (Digisac: the contact). A harness of the second kind
    says so with ``conversation_of(message_id)``."""
    conversation = getattr(harness, "conversation_of", None)
    return str(conversation(message_id)) if conversation else message_id


def window(clock: FrozenClock, rescan_hours: float = 24, backfill_hours: float = 24 * 7) -> ReadWindow:
    now = clock.now()
    return ReadWindow(now, now - timedelta(hours=rescan_hours), now - timedelta(hours=backfill_hours))


def stored(fetch: ChannelFetch) -> dict[str, Any]:
    """The bookmark as the store keeps it (JSON)."""
    return dict(json.loads(json.dumps(fetch.state)))


def by_id(fetch: ChannelFetch) -> dict[str, ChatMessage]:
    return {m.id: m for m in fetch.messages}


class ChatContract:
    """What every chat does: identity, channels, incremental reads, writes found again by key, faults."""

    harness_class: ClassVar[HarnessFactory]

    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[Any]:
        made = type(self).harness_class(tmp_path)
        yield made
        made.close()

    @pytest.fixture
    def chat(self, harness: ChatHarness) -> Chat:
        made = harness.chat()
        made.connect()
        return made

    # identity and channels ---------------------------------------------------------------------
    def test_connect_names_hygiene_and_a_cached_identity_saves_the_call(self, harness: ChatHarness) -> None:
        chat = harness.chat()
        identity = chat.connect()
        assert identity["user_id"] and chat.bot_user_id == identity["user_id"]
        before = sum(chat.calls().values())
        assert chat.connect(identity) == identity
        assert chat.bot_user_id == identity["user_id"]
        assert sum(chat.calls().values()) == before, "a cached identity makes no call"

    def test_channels_resolve_by_name_and_id(self, harness: ChatHarness, chat: Chat) -> None:
        channel = harness.channel
        assert chat.resolve_channels([channel.name, channel.id]) == [channel, channel]
        assert chat.channel_id(channel.name) == channel.id
        assert chat.channel_id(f"#{channel.name}") == channel.id
        assert chat.channel_id("no-such-channel") is None

    def test_unknown_channels_are_config_errors_named_by_key_path(self, harness: ChatHarness, chat: Chat) -> None:
        paths = ["chat[1].channels[0]", "chat[1].channels[1]", "chat[1].channels[2]"]
        with pytest.raises(ConfigError) as caught:
            chat.resolve_channels([harness.channel.name, "no-such-channel", harness.outside], paths)
        problems = caught.value.problems
        assert len(problems) == 2
        assert problems[0].startswith("chat[1].channels[1]: ") and "no-such-channel" in problems[0]
        assert problems[1].startswith("chat[1].channels[2]: ") and harness.outside in problems[1]

    # reading -----------------------------------------------------------------------------------
    def test_a_first_read_returns_every_human_message_in_the_window(self, harness: ChatHarness, chat: Chat) -> None:
        now = harness.clock.now()
        old = harness.post("older than the rescan window", at=now - timedelta(hours=25))
        first = harness.post("O cliente Brascont pediu o balancete", at=now - timedelta(hours=2))
        second = harness.post("Can someone check the Globex invoice?", at=now - timedelta(hours=1))
        reply = harness.post("estou vendo", thread_id=first, at=now - timedelta(minutes=30))
        fetch = chat.fetch(harness.channel, {}, window(harness.clock))
        assert fetch.complete and fetch.error is None
        found = by_id(fetch)
        assert old not in found
        assert {first, second, reply} <= set(found)
        assert found[first].plain == "O cliente Brascont pediu o balancete"
        assert found[second].plain == "Can someone check the Globex invoice?"
        assert abs(found[first].at - (now - timedelta(hours=2))) < timedelta(seconds=1)
        assert found[first].user == harness.person and found[first].user_name
        assert found[first].channel == harness.channel.id and found[first].channel_name == harness.channel.name
        thread = thread_of(harness, first)
        assert found[reply].thread_id == thread and found[reply].is_reply
        assert thread_of(harness, second) != thread, "an unthreaded post starts a conversation of its own"
        if thread == first:  # threads hang on their root message
            assert found[first].thread_id == first and found[first].reply_count == 1 and found[first].latest_reply
            assert found[second].thread_id is None and not found[second].is_reply
        else:  # the conversation is the thread: every message of it carries the conversation's id
            assert found[first].thread_id == thread and found[second].thread_id == thread_of(harness, second)
        assert all(m.judged and not m.ours for m in found.values())
        assert fetch.covered_from is not None and fetch.covered_from <= now - timedelta(hours=2)
        assert thread in fetch.threads_read

    def test_people_read_are_learned(self, harness: ChatHarness, chat: Chat) -> None:
        harness.post("oi")
        chat.fetch(harness.channel, {}, window(harness.clock))
        assert harness.person in chat.learned_users()
        assert chat.learned_users()[harness.person][1] is False, "a person, not a bot"

    def test_the_bookmark_round_trip(self, harness: ChatHarness, chat: Chat) -> None:
        now = harness.clock.now()
        early = harness.post("bom dia", at=now - timedelta(hours=30))
        recent = harness.post("alguém viu o boleto?", at=now - timedelta(hours=2))
        first = chat.fetch(harness.channel, {}, window(harness.clock, rescan_hours=48))
        assert {early, recent} <= set(by_id(first))
        harness.clock.advance(minutes=10)
        again = chat.fetch(harness.channel, stored(first), window(harness.clock))
        assert again.complete
        assert set(by_id(again)) <= set(by_id(first)), "nothing new"
        assert recent in by_id(again), "the rescan window is read again"
        assert (
            early not in by_id(again) and again.covered_from is not None and again.covered_from > by_id(first)[early].at
        ), "the bookmark is newer than the rescan window: older messages are not read again"
        late = harness.post("e o balancete?")
        third = chat.fetch(harness.channel, stored(again), window(harness.clock))
        assert late in by_id(third)

    def test_a_bookmark_older_than_the_rescan_window_misses_nothing_it_covers(
        self, harness: ChatHarness, chat: Chat
    ) -> None:
        """The read starts at the bookmark when it is older than the rescan window: every stored
        message from ``covered_from`` on must come back, or the engine marks it deleted."""
        now = harness.clock.now()
        quiet = harness.post("the last message before a quiet afternoon", at=now - timedelta(hours=3))
        first = chat.fetch(harness.channel, {}, window(harness.clock, rescan_hours=4, backfill_hours=48))
        assert quiet in by_id(first)
        harness.clock.advance(minutes=5)
        again = chat.fetch(harness.channel, stored(first), window(harness.clock, rescan_hours=1, backfill_hours=48))
        assert again.complete and again.covered_from is not None
        covered = [m.id for m in first.messages if not m.is_reply and m.at >= again.covered_from]
        assert set(covered) <= set(by_id(again)), "a covered message that is not returned reads as deleted"

    def test_an_edit_is_returned_with_its_new_text(self, harness: ChatHarness, chat: Chat) -> None:
        message = harness.post("Reunião às 15h")
        first = chat.fetch(harness.channel, {}, window(harness.clock))
        harness.clock.advance(minutes=5)
        harness.edit(message, "O cliente Brascont pediu o envio do balancete.")
        again = chat.fetch(harness.channel, stored(first), window(harness.clock))
        edited = by_id(again)[message]
        assert edited.plain == "O cliente Brascont pediu o envio do balancete."
        assert edited.edited_at is not None and by_id(first)[message].edited_at is None

    def test_a_deletion_is_detectable(self, harness: ChatHarness, chat: Chat) -> None:
        keep = harness.post("fica")
        gone = harness.post("vai sumir")
        first = chat.fetch(harness.channel, {}, window(harness.clock))
        harness.delete(gone)
        again = chat.fetch(harness.channel, stored(first), window(harness.clock))
        assert again.complete and again.covered_from is not None
        assert by_id(first)[gone].at >= again.covered_from, "the deleted message is in the covered range"
        assert gone not in by_id(again) and keep in by_id(again)

    def test_a_thread_is_read_again_only_when_its_newest_reply_changed(self, harness: ChatHarness, chat: Chat) -> None:
        root = harness.post("O cliente Globex pediu a guia do DAS")
        if thread_of(harness, root) != root:
            pytest.skip("conversations are read whole in the channel's own stream: no per-thread read to save")
        harness.post("vou ver", thread_id=root)
        first = chat.fetch(harness.channel, {}, window(harness.clock))
        assert [m.plain for m in first.messages if m.is_reply] == ["vou ver"]
        read = chat.calls().get(harness.replies_method, 0)
        assert read >= 1
        again = chat.fetch(harness.channel, stored(first), window(harness.clock))
        assert chat.calls().get(harness.replies_method, 0) == read, "the bookmark knows the thread did not move"
        assert root not in again.threads_read
        harness.clock.advance(minutes=1)
        late = harness.post("feito, enviei", thread_id=root)
        third = chat.fetch(harness.channel, stored(again), window(harness.clock))
        assert chat.calls()[harness.replies_method] == read + 1
        assert late in by_id(third) and root in third.threads_read
        assert by_id(third)[root].reply_count == 2

    def test_hygienes_own_posts_are_ours_and_never_judged(self, harness: ChatHarness, chat: Chat) -> None:
        root = harness.post("O cliente Brascont pediu a segunda via")
        thread = thread_of(harness, root)
        chat.send(Action(ActionKind.THREAD_REPLY, "fp1:reply", harness.channel.id, "abra um chamado", thread_id=thread))
        expected = ["abra um chamado"]
        if not chat.capabilities.internal_notes_only:  # a note-only chat has no channel posts
            chat.send(Action(ActionKind.CHANNEL_POST, "report:1", harness.channel.id, "relatório do dia"))
            expected.append("relatório do dia")
        fetch = chat.fetch(harness.channel, {}, window(harness.clock))
        ours = [m for m in fetch.messages if m.ours]
        assert sorted(m.plain for m in ours) == expected
        assert all(not m.judged and m.user == chat.bot_user_id for m in ours)
        assert by_id(fetch)[root].judged

    # writing -----------------------------------------------------------------------------------
    def test_send_returns_ids_that_find_posted_finds_again(self, harness: ChatHarness, chat: Chat) -> None:
        if not chat.capabilities.finds_own_posts:
            pytest.skip("this chat cannot find its own posts by key (capabilities.finds_own_posts)")
        since = harness.clock.now() - timedelta(minutes=1)
        root = thread_of(harness, harness.post("O cliente Brascont pediu a segunda via"))
        actions = [Action(ActionKind.THREAD_REPLY, "fp2:reply", harness.channel.id, "uma resposta", thread_id=root)]
        if not chat.capabilities.internal_notes_only:
            actions.append(Action(ActionKind.CHANNEL_POST, "report:2", harness.channel.id, "um aviso no canal"))
        if chat.capabilities.direct_messages:
            actions.append(
                Action(ActionKind.DM, "lead:x", harness.channel.id, "uma mensagem direta", user=harness.person)
            )
        for action in actions:
            assert chat.find_posted(action, since) is None
            posted = chat.send(action)
            assert posted
            assert chat.find_posted(action, since) == posted
        other = Action(ActionKind.THREAD_REPLY, "fp3:reply", harness.channel.id, "outra", thread_id=root)
        assert chat.find_posted(other, since) is None
        assert [(r.kind, r.text, r.key) for r in harness.received()] == [
            ({"thread_reply": "thread_reply", "channel_post": "message", "dm": "dm"}[a.kind.value], a.text, a.key)
            for a in actions
        ]

    def test_a_thread_reply_lands_in_its_thread(self, harness: ChatHarness, chat: Chat) -> None:
        if not chat.capabilities.threads:
            pytest.skip("this chat has no threads (capabilities.threads)")
        root = thread_of(harness, harness.post("pedido"))
        chat.send(Action(ActionKind.THREAD_REPLY, "fp4:reply", harness.channel.id, "na thread", thread_id=root))
        [received] = harness.received()
        assert received.thread_id == root and received.channel == harness.channel.id

    def test_reactions_are_read_and_added_once(self, harness: ChatHarness, chat: Chat) -> None:
        if not chat.capabilities.reactions:
            pytest.skip("this chat has no reactions (capabilities.reactions)")
        message = harness.post("O cliente Brascont pediu a segunda via")
        harness.react(message, "ticket")
        fetch = chat.fetch(harness.channel, {}, window(harness.clock))
        assert by_id(fetch)[message].reacted_with("ticket") == (harness.person,)
        reaction = Action(ActionKind.REACTION, "r1", harness.channel.id, thread_id=message, emoji="eyes")
        assert chat.send(reaction) is None
        assert chat.send(reaction) is None, "a reaction already there is success"
        assert [(r.kind, r.text) for r in harness.received()] == [("reaction", "eyes")]
        assert chat.find_posted(reaction, NOW - timedelta(days=1)) is None

    def test_an_ephemeral_is_sent_once_and_never_read_back(self, harness: ChatHarness, chat: Chat) -> None:
        if not chat.capabilities.ephemeral:
            pytest.skip("this chat has no ephemeral messages (capabilities.ephemeral)")
        action = Action(ActionKind.EPHEMERAL, "e1", harness.channel.id, "só você vê isto", user=harness.person)
        assert chat.send(action) is None
        assert [(r.kind, r.text) for r in harness.received()] == [("ephemeral", "só você vê isto")]
        assert chat.find_posted(action, NOW - timedelta(days=1)) is None
        fetch = chat.fetch(harness.channel, {}, window(harness.clock))
        assert "só você vê isto" not in [m.plain for m in fetch.messages]

    def test_people_are_found_by_email(self, harness: ChatHarness, chat: Chat) -> None:
        assert chat.user_by_email(harness.email) == harness.person
        assert chat.user_by_email(harness.email.upper()) == harness.person
        assert chat.user_by_email("nobody@nowhere.example") is None

    def test_messages_have_permalinks(self, harness: ChatHarness, chat: Chat) -> None:
        if reason := getattr(harness, "no_permalinks", None):
            assert chat.permalink(harness.channel.id, harness.post("oi")) is None, "no link is made up"
            pytest.skip(reason)
        message = harness.post("oi")
        link = chat.permalink(harness.channel.id, message)
        assert link and link != chat.permalink(harness.channel.id, harness.post("tchau"))

    # failures ----------------------------------------------------------------------------------
    def test_a_failed_read_is_incomplete_typed_and_keeps_the_bookmark_usable(self, harness: ChatHarness) -> None:
        harness.post("antes")
        chat = harness.chat()
        chat.connect()
        first = chat.fetch(harness.channel, {}, window(harness.clock))
        harness.clock.advance(minutes=1)
        late = harness.post("O cliente Brascont pediu a segunda via")
        harness.fault("transient")
        failed = chat.fetch(harness.channel, stored(first), window(harness.clock))
        assert not failed.complete
        assert isinstance(failed.error, TransientError)
        assert not failed.deferred and not failed.gone
        retry = harness.chat()
        retry.connect()
        again = retry.fetch(harness.channel, stored(first), window(harness.clock))
        assert again.complete and late in by_id(again), "the old bookmark still reaches the message"

    def test_a_channel_gone_says_so(self, harness: ChatHarness) -> None:
        harness.fault("gone")
        chat = harness.chat()
        chat.connect()
        fetch = chat.fetch(harness.channel, {}, window(harness.clock))
        assert not fetch.complete and fetch.gone and not fetch.deferred

    @pytest.mark.parametrize("fault", ["rate_limited", "budget"])
    def test_a_rate_limit_or_a_spent_budget_defers_the_read(self, harness: ChatHarness, fault: str) -> None:
        harness.post("O cliente Brascont pediu a segunda via")
        harness.fault(fault)
        chat = harness.chat()
        chat.connect()
        fetch = chat.fetch(harness.channel, {}, window(harness.clock))
        assert not fetch.complete and fetch.deferred and not fetch.gone
        assert fetch.state == {}, "no bookmark to store"

    @pytest.mark.parametrize("lands", [True, False], ids=["landed", "lost"])
    def test_a_write_of_unknown_outcome_is_found_if_it_landed(
        self, harness: ChatHarness, chat: Chat, lands: bool
    ) -> None:
        root = thread_of(harness, harness.post("O cliente Brascont pediu a segunda via"))
        since = harness.clock.now() - timedelta(minutes=1)
        action = Action(ActionKind.THREAD_REPLY, "fp5:reply", harness.channel.id, "um lembrete", thread_id=root)
        harness.fail_write(lands)
        with pytest.raises(OutcomeUnknown):
            chat.send(action)
        assert len(harness.received()) == int(lands)
        if not chat.capabilities.finds_own_posts:
            return
        found = chat.find_posted(action, since)
        assert (found is not None) == lands
        if found is None:
            found = chat.send(action)
        assert found and [r.key for r in harness.received()] == ["fp5:reply"], "posted exactly once"
