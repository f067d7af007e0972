"""The chat contract for Slack: the real connector, built as the product builds it, over HTTP to
the sandbox's Slack Web API on loopback (slack-sdk's WebClient, retries, budgets and all)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from connectors.chat.slack import SlackChat, SlackSettings, build
from hygiene.clock import FrozenClock
from hygiene.kinds import ChatBuild
from hygiene.ports import ChannelInfo
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState
from tests.contracts.chat import NOW, ChatContract, Received

RETRIES = 2
FAULTS = {
    "transient": ("conversations.history", "server_error", RETRIES + 1, {}),
    "gone": ("conversations.history", "error:channel_not_found", 1, {}),
    "rate_limited": ("conversations.history", "ratelimited", 1, {"retry_after": 120}),
}
POST_KINDS = {"message": "message", "thread_reply": "thread_reply", "dm": "dm", "ephemeral": "ephemeral"}


class SlackHarness:
    """The accounting scenario's workspace, plus an empty channel #contract the suite posts in."""

    channel = ChannelInfo("C0CONTRACT", "contract")
    outside = "random"
    person = "U07SARAH"
    email = "sarah@horizonte.example"
    replies_method = "conversations.replies"

    def __init__(self, _: Path) -> None:
        self.clock = FrozenClock(NOW)
        self.state = SlackState.from_scenario(SCENARIOS / "accounting.json", self.clock)
        self.state.add_channel(self.channel.id, self.channel.name)
        self.server = SlackSandbox(self.state).start()
        self.budget_spent = False

    def chat(self) -> SlackChat:
        settings = SlackSettings(
            channels=[self.channel.name], base_url=self.server.base_url, retries=RETRIES, timeout_seconds=1
        )
        chat = build(settings, ChatBuild(clock=self.clock, token=self.server.token))
        if self.budget_spent:
            chat.api.budget.limits["conversations.history"] = 0
        return chat

    def post(self, text: str, thread_id: str | None = None, at: datetime | None = None) -> str:
        return self.state.post_as(self.person, self.channel.id, text, thread_ts=thread_id, at=at)

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
        method, fault, times, options = FAULTS[kind]
        self.state.inject(method, fault, times, **options)

    def fail_write(self, lands: bool) -> None:
        """A reset after the post was carried out, or a 500 before it was."""
        self.state.inject("chat.postMessage", "reset_after" if lands else "server_error")

    def received(self) -> list[Received]:
        found = []
        for post in self.state.bot_posts():
            if post["kind"] == "reaction":
                found.append(Received("reaction", post["channel"], post["ts"], str(post["text"])))
                continue
            payload = (post.get("metadata") or {}).get("event_payload") or {}
            kind = POST_KINDS[post["kind"]]
            found.append(Received(kind, post["channel"], post.get("thread_ts"), str(post["text"]), payload.get("key")))
        return found

    def close(self) -> None:
        self.server.stop()


class TestSlack(ChatContract):
    harness_class = SlackHarness
