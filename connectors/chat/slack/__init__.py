"""Slack: everything Slack-shaped lives here — the Web API client, message objects and ts,
markup, Block Kit, the export reader, error codes — behind the chat port.

Registered as the chat kind ``slack`` (entry point ``hygiene.chat``).
"""

from __future__ import annotations

from slack_sdk import WebClient

from connectors.budget import CallBudget
from connectors.chat.slack.chat import CHANNEL_ID, SlackChat
from connectors.chat.slack.client import SlackClient
from connectors.chat.slack.markup import render
from connectors.chat.slack.settings import SlackSettings
from connectors.chat.slack.socket import SlackEvents
from hygiene.kinds import ChatBuild, ChatKind
from hygiene.logs import register_secrets
from hygiene.settings import secret_from_env


def build(settings: SlackSettings, context: ChatBuild) -> SlackChat:
    """A Slack chat from its settings; the bot token comes from the environment and is masked in logs."""
    token = context.token or secret_from_env(settings.token_env, f"{settings.key_path}.token_env")
    register_secrets([token])
    client = WebClient(
        token=token,
        base_url=settings.base_url,
        timeout=settings.timeout_seconds,  # type: ignore[arg-type]  # urllib takes fractions of a second
        retry_handlers=[],
    )
    api = SlackClient(
        client,
        context.clock,
        CallBudget(settings.call_budget()),
        retries=settings.retries,
        max_retry_after=settings.max_retry_after_seconds,
        sleep_cap=settings.max_sleep_per_cycle_seconds,
    )
    return SlackChat(api, source=settings.source, page_size=settings.history_page_size(), users=context.users)


def events(settings: SlackSettings, chat: SlackChat, context: ChatBuild) -> SlackEvents:
    """Socket Mode for ``hygiene serve``; the app-level token comes from the environment (or the sandbox)."""
    token = context.app_token or secret_from_env(settings.app_token_env, f"{settings.key_path}.app_token_env")
    register_secrets([token])
    app_client = WebClient(token=token, base_url=settings.base_url, timeout=settings.timeout_seconds)  # type: ignore[arg-type]
    return SlackEvents(chat, app_client)


KIND = ChatKind(
    name="slack",
    settings=SlackSettings,
    build=build,
    channel_id=lambda channel: bool(CHANNEL_ID.match(channel)),
    render=render,
    events=events,
)

__all__ = ["KIND", "SlackChat", "SlackEvents", "SlackSettings", "build", "events"]
