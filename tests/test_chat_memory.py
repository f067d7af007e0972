"""The chat contract for the in-memory chat the engine tests run on (sandbox/memory_chat.py), and
the check that every registered chat kind has a contract module of its own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hygiene.clock import FrozenClock
from hygiene.errors import BudgetExhausted, ChannelGone, OutcomeUnknown, RateLimited, TransientError
from hygiene.kinds import chat_kinds
from sandbox.memory_chat import MemoryChat
from tests.contracts.chat import NOW, ChatContract, Received

TESTS = Path(__file__).parent


class MemoryHarness:
    """A MemoryChat with a person, an empty channel #contract and a channel hygiene is not in."""

    outside = "random"
    person = "U07SARAH"
    email = "sarah@horizonte.example"
    replies_method = "replies"

    def __init__(self, _: Path) -> None:
        self.clock = FrozenClock(NOW)
        self.memory = MemoryChat(self.clock, source="memory")
        self.channel = self.memory.add_channel("C0CONTRACT", "contract")
        self.memory.add_channel("C0RANDOM", self.outside, member=False)
        self.memory.add_user(self.person, "sarah", email=self.email)

    def chat(self) -> MemoryChat:
        """The chat itself: in memory the platform and the connector are one object."""
        return self.memory

    def post(self, text: str, thread_id: str | None = None, at: datetime | None = None) -> str:
        return self.memory.post(self.person, self.channel.id, text, thread_id, at)

    def edit(self, message_id: str, text: str) -> None:
        self.memory.edit(self.channel.id, message_id, text)

    def delete(self, message_id: str) -> None:
        self.memory.delete(self.channel.id, message_id)

    def react(self, message_id: str, emoji: str) -> None:
        self.memory.react(self.channel.id, message_id, self.person, emoji)

    def fault(self, kind: str) -> None:
        errors = {
            "transient": TransientError("memory", "history: HTTP 500 (gave up after 3 attempts)"),
            "gone": ChannelGone("memory", "history: channel_not_found"),
            "rate_limited": RateLimited("memory", "history: rate limited", retry_after=120),
            "budget": BudgetExhausted("history", "call budget of 0 per cycle spent"),
        }
        self.memory.fail("history", errors[kind])

    def fail_write(self, lands: bool) -> None:
        self.memory.fail("send", OutcomeUnknown("memory", "send: connection reset"), lands=lands)

    def received(self) -> list[Received]:
        return [Received(r.kind, r.channel, r.thread_id, r.text, r.key) for r in self.memory.received]

    def close(self) -> None:
        """Nothing runs in the background."""


class TestMemory(ChatContract):
    harness_class = MemoryHarness


def test_every_registered_chat_kind_has_a_contract_module() -> None:
    kinds = chat_kinds()
    assert "slack" in kinds
    missing = [kind for kind in kinds if not (TESTS / f"test_chat_{kind}.py").is_file()]
    assert missing == [], f"chat kinds without tests/test_chat_<kind>.py running ChatContract: {missing}"
