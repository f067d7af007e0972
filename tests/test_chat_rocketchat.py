"""The chat contract for Rocket.Chat: the real connector, built as the product builds it, over HTTP
to the sandbox's Rocket.Chat REST API on loopback (requests, retries, budgets and all); then what is
Rocket.Chat's own: markdown, system messages, X-RateLimit-Reset, client-chosen ids, config errors,
and whole engine cycles on a ``[[chat]] kind = "rocketchat"`` config."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.chat.rocketchat import RocketChat, RocketChatSettings, build
from connectors.chat.rocketchat.messages import post_id
from hygiene.clock import FrozenClock
from hygiene.kinds import ChatBuild
from hygiene.models import Action
from hygiene.ports import ChannelInfo
from sandbox.rocketchat_api import RocketChatSandbox, RocketChatState
from tests.contracts.chat import NOW, ChatContract, Received

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
