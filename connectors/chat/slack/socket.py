"""Slack's push connection: Socket Mode through slack-sdk's own client, behind the push port.

slack-sdk's builtin :class:`~slack_sdk.socket_mode.builtin.SocketModeClient` (no extra dependency)
opens the WebSocket with ``apps.connections.open`` and the app-level token (``xapp-…``), pings it,
and on Slack's ``disconnect`` (or a dropped socket) opens a new one. Each envelope is acknowledged
first — Slack wants the ack within 3 s and re-sends what is not acked — and only then read into a
neutral :class:`~hygiene.ports.events.PushEvent` and handed to the core, which only queues it:
no judging, no helpdesk call, ever happens before the ack. Slack's ``disconnect`` is answered by
the client itself (a new URL, a new socket, then the old one closed); a socket that dropped, or a
connection that cannot be opened, is retried here with exponential backoff (the client's own
fixed-interval reconnect is off).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from connectors.chat.slack.chat import SlackChat
from connectors.chat.slack.interactions import form_view, read_envelope
from connectors.chat.slack.messages import MalformedMessage
from hygiene.errors import BudgetExhausted, ExternalError
from hygiene.models import ChatMessage
from hygiene.ports import ChannelInfo
from hygiene.ports.events import EventSink, PushEvent

log = structlog.get_logger("hygiene.slack")

MEMBERS_TTL_SECONDS = 300.0


class SlackEvents:
    """Socket Mode events of one Slack workspace, as neutral push events."""

    def __init__(
        self,
        chat: SlackChat,
        app_client: WebClient,
        *,
        ping_interval: float = 10.0,
        backoff: tuple[float, float] = (1.0, 60.0),
        check_every: float = 1.0,
    ) -> None:
        self.chat, self.app_client, self.source = chat, app_client, chat.source
        self.ping_interval, self.backoff, self.check_every = ping_interval, backoff, check_every
        self.waits: list[float] = []
        """Every backoff wait so far, in seconds (health and tests)."""
        self.client: SocketModeClient | None = None
        self.sink: EventSink | None = None
        self.opened = 0
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._stopping = threading.Event()

    # the connection ----------------------------------------------------------------------------
    def start(self, sink: EventSink) -> None:
        """Connect (retrying with backoff until connected or stopped), deliver events to ``sink``,
        and keep the connection up from a watcher thread."""
        self.sink = sink
        client = SocketModeClient(
            app_token=str(self.app_client.token),
            web_client=self.app_client,
            auto_reconnect_enabled=False,
            ping_interval=self.ping_interval,
            on_message_listeners=[self._on_raw],
        )
        client.socket_mode_request_listeners.append(self._on_request)
        self.client = client
        self._connect(client)
        threading.Thread(target=self._watch, args=(client,), name="slack-socket-watch", daemon=True).start()

    def _connect(self, client: SocketModeClient) -> None:
        """A new URL and socket, retried with exponential backoff until it works or serve stops."""
        wait = self.backoff[0]
        while not self._stopping.is_set():
            try:
                client.connect_to_new_endpoint(force=True)
                return
            except Exception as exc:  # the SDK raises its own, HTTP and socket errors alike
                log.warning("slack.socket_connect_failed", error=str(exc), retry_in=wait)
                self.waits.append(wait)
                self._stopping.wait(wait)
                wait = min(wait * 2, self.backoff[1])

    def _watch(self, client: SocketModeClient) -> None:
        """Reopen a socket found down twice in a row while the client is not itself reconnecting
        (it briefly is, after Slack's ``disconnect``)."""
        down = 0
        while not self._stopping.wait(self.check_every):
            reconnecting = client.connect_operation_lock.locked()
            down = down + 1 if not client.is_connected() and not reconnecting else 0
            if down >= 2:
                log.warning("slack.socket_lost", connections=self.opened)
                self._connect(client)
                down = 0

    def stop(self) -> None:
        """Stop acking at once (Slack re-sends what is not acked, to the next connection) and close
        the socket in the background: the SDK's threads take seconds to wind down."""
        self._stopping.set()
        self.sink = None
        client = self.client
        if client is not None:
            threading.Thread(target=self._close, args=(client,), name="slack-socket-close", daemon=True).start()

    def _close(self, client: SocketModeClient) -> None:
        self._quietly(client.disconnect)
        self._quietly(client.close)

    @staticmethod
    def _quietly(close: Callable[[], None]) -> None:
        try:
            close()
        except Exception as exc:  # the SDK's threads may race to close the same socket
            log.info("slack.socket_close", error=str(exc))

    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected()

    def connections(self) -> int:
        return self.opened

    def new_cycle(self) -> None:
        """Slack's per-cycle call budgets start again for this chat."""
        self.chat.api.budget.used.clear()
        self.chat.api.budget.closed.clear()

    def _on_raw(self, raw: str) -> None:
        if raw.startswith('{"type":"hello"') or raw.startswith('{"type": "hello"'):
            self.opened += 1
            log.info("slack.socket_hello", connections=self.opened)

    def _on_request(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        """Ack at once, then read and hand over (the core only queues); once stopping, ack nothing."""
        if self._stopping.is_set():
            return
        received = time.monotonic()
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        envelope = {"type": request.type, "envelope_id": request.envelope_id, "payload": request.payload}
        event = read_envelope(envelope, self.source, received, self._message)
        sink = self.sink
        if event is not None and sink is not None:
            sink(event)

    def _message(self, raw: dict[str, Any], channel_id: str) -> ChatMessage | None:
        try:
            return self.chat.from_event(raw, ChannelInfo(id=channel_id, name=self.chat.channel_name(channel_id)))
        except MalformedMessage as exc:
            log.warning("slack.event_malformed", channel=channel_id, error=str(exc))
            return None

    # what the core asks of the connection ------------------------------------------------------
    def is_member(self, channel: str, user: str) -> bool:
        """Whether ``user`` is in ``channel`` (``conversations.members``, cached five minutes)."""
        cached = self._members.get(channel)
        if cached is None or time.monotonic() - cached[0] > MEMBERS_TTL_SECONDS:
            members: set[str] = set()
            try:
                for page in self.chat.api.pages("conversations.members", "members", channel=channel, limit=1000):
                    members.update(str(member) for member in page)
            except (BudgetExhausted, ExternalError) as exc:
                log.warning("slack.members_unknown", channel=channel, error=str(exc))
                return False
            cached = (time.monotonic(), frozenset(members))
            self._members[channel] = cached
        return user in cached[1]

    def ask_ticket_number(self, event: PushEvent, language: str) -> None:
        """Open the "Already in #N" form for the person who pressed the button."""
        trigger = event.extras.get("trigger_id")
        if trigger:
            self.chat.api.call("views.open", trigger_id=trigger, view=form_view(event, language))
