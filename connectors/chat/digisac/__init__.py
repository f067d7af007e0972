"""Digisac: everything Digisac-shaped lives here — its REST client, message objects, contacts and
tickets — behind the chat port. hygiene reads client conversations and writes nothing a client
can see: its only write is an internal comment.

Registered as the chat kind ``digisac`` (entry point ``hygiene.chat``).
"""

from __future__ import annotations

from datetime import timedelta

from connectors.budget import CallBudget
from connectors.chat.digisac.chat import UUID, DigisacChat
from connectors.chat.digisac.client import SYSTEM, DigisacClient
from connectors.chat.digisac.settings import DigisacSettings
from connectors.http import HttpClient
from hygiene.kinds import ChatBuild, ChatKind
from hygiene.logs import register_secrets
from hygiene.settings import secret_from_env


def build(settings: DigisacSettings, context: ChatBuild) -> DigisacChat:
    """A Digisac chat from its settings; the token comes from the environment and is masked in logs."""
    token_path = f"{settings.key_path}.token_env"
    token = context.token or secret_from_env(settings.token_env, token_path)
    register_secrets([token])
    http = HttpClient(
        SYSTEM,
        settings.base_url,
        sleep=context.clock.sleep,
        retries=settings.retries,
        max_retry_after=settings.max_retry_after_seconds,
        timeout=settings.timeout_seconds,
        sleep_cap=settings.max_sleep_per_cycle_seconds,
    )
    api = DigisacClient(http, CallBudget(settings.call_budget()), token=token, token_path=token_path)
    return DigisacChat(
        api,
        source=settings.source,
        page_size=settings.page_size,
        overlap=timedelta(seconds=settings.overlap_seconds),
        users=context.users,
        client_from=settings.client_from,
        contact_clients=settings.contacts,
    )


KIND = ChatKind(
    name="digisac",
    settings=DigisacSettings,
    build=build,
    channel_id=lambda channel: bool(UUID.match(channel)),
    with_clients=True,
)

__all__ = ["KIND", "DigisacChat", "DigisacSettings", "build"]
