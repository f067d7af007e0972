"""Rocket.Chat: everything Rocket.Chat-shaped lives here — the REST client, message objects, markdown,
error bodies — behind the chat port.

Registered as the chat kind ``rocketchat`` (entry point ``hygiene.chat``). hygiene signs in as a bot
user with a personal access token (``X-User-Id`` + ``X-Auth-Token``, apps/meteor/app/api/server/
ApiClass.ts), both read from the environment variables the settings name.
"""

from __future__ import annotations

from connectors.budget import CallBudget
from connectors.chat.rocketchat.chat import ROOM_ID, RocketChat
from connectors.chat.rocketchat.client import RocketChatClient
from connectors.chat.rocketchat.markup import render
from connectors.chat.rocketchat.settings import RocketChatSettings
from hygiene.kinds import ChatBuild, ChatKind
from hygiene.logs import register_secrets
from hygiene.settings import secret_from_env


def build(settings: RocketChatSettings, context: ChatBuild) -> RocketChat:
    """A Rocket.Chat chat from its settings; the token is masked in logs and never in errors.

    ``context.token`` (the sandbox) is ``"<user id>:<token>"``, standing for both variables."""
    if context.token:
        user_id, _, token = context.token.partition(":")
    else:
        user_id = secret_from_env(settings.user_id_env, f"{settings.key_path}.user_id_env")
        token = secret_from_env(settings.token_env, f"{settings.key_path}.token_env")
    register_secrets([token])
    api = RocketChatClient(
        settings.base_url,
        user_id,
        token,
        context.clock,
        CallBudget(settings.call_budget()),
        retries=settings.retries,
        timeout=settings.timeout_seconds,
        max_retry_after=settings.max_retry_after_seconds,
        sleep_cap=settings.max_sleep_per_cycle_seconds,
    )
    return RocketChat(api, source=settings.source, page_size=settings.page_size, users=context.users)


KIND = ChatKind(
    name="rocketchat",
    settings=RocketChatSettings,
    build=build,
    channel_id=lambda channel: bool(ROOM_ID.match(channel)),
    render=render,
)

__all__ = ["KIND", "RocketChat", "RocketChatSettings", "build"]
