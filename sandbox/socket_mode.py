"""Slack's Socket Mode, served on loopback: the envelope protocol over a real WebSocket.

``apps.connections.open`` (in :mod:`sandbox.slack_api`) hands out this server's URL. On each
connection the server says ``hello``; every Events API event the workspace makes (a person posts,
edits, deletes, reacts) is pushed as an ``events_api`` envelope, and a person clicking a button,
submitting a form or using a message shortcut as an ``interactive`` one, shaped as Slack shapes
them. Clients ack with ``{"envelope_id": …}``; an envelope not acked is sent again on the next
connection with ``retry_attempt`` + 1, as Slack does. ``disconnect()`` sends Slack's
``disconnect`` message (``refresh_requested``), after which a client opens a new connection.
Served by the ``websockets`` package's threaded server.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from sandbox.slack_api import SlackState


@dataclass
class Envelope:
    """One envelope sent, and when (monotonic) it was sent and acked."""

    body: dict[str, Any]
    sent_at: float
    acked_at: float | None = None
    ack: dict[str, Any] | None = None


@dataclass
class SocketLog:
    envelopes: dict[str, Envelope] = field(default_factory=dict)
    connections: int = 0
    disconnects: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)


class SocketModeServer:
    """Socket Mode for a :class:`SlackState` (a context manager)."""

    def __init__(self, state: SlackState) -> None:
        self.state = state
        self.log = SocketLog()
        self._ids = itertools.count(1)
        self._current: ServerConnection | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # serving -------------------------------------------------------------------------------
    def start(self) -> SocketModeServer:
        self._server = serve(self._serve_one, "127.0.0.1", 0)
        port = self._server.socket.getsockname()[1]
        self.state.socket_url = f"ws://127.0.0.1:{port}/link/?ticket=sandbox"
        self.state.listeners.append(self.push_event)
        self._thread = threading.Thread(target=self._server.serve_forever, name="socket-mode", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.push_event in self.state.listeners:
            self.state.listeners.remove(self.push_event)
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve_one(self, connection: ServerConnection) -> None:
        """One client connection: hello, the envelopes it missed, then acks until it closes."""
        with self.log.lock:
            self.log.connections += 1
            self._current = connection
            missed = [e for e in self.log.envelopes.values() if e.acked_at is None]
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0SANDBOX"}}
        connection.send(json.dumps(hello))
        for envelope in missed:
            envelope.body["retry_attempt"] = envelope.body.get("retry_attempt", 0) + 1
            envelope.body["retry_reason"] = "timeout"
            self._send(connection, envelope)
        try:
            for raw in connection:
                self._ack(json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            with self.log.lock:
                if self._current is connection:
                    self._current = None

    def _ack(self, message: dict[str, Any]) -> None:
        envelope = self.log.envelopes.get(str(message.get("envelope_id") or ""))
        with self.log.lock:
            if envelope is not None and envelope.acked_at is None:
                envelope.acked_at, envelope.ack = time.monotonic(), message
                self.log.lock.notify_all()

    def _send(self, connection: ServerConnection | None, envelope: Envelope) -> None:
        envelope.sent_at = time.monotonic()
        if connection is None:
            return
        try:
            connection.send(json.dumps(envelope.body))
        except ConnectionClosed:
            return  # sent again when the client is back

    # what Slack pushes ---------------------------------------------------------------------
    def envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Send one envelope (``events_api`` or ``interactive``); its id."""
        envelope_id = f"env-{next(self._ids):06d}"
        body = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind == "interactive",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        envelope = Envelope(body, time.monotonic())
        with self.log.lock:
            self.log.envelopes[envelope_id] = envelope
            current = self._current
        self._send(current, envelope)
        return envelope_id

    def push_event(self, event: dict[str, Any]) -> str:
        """An Events API ``event_callback`` around ``event``."""
        payload = {
            "token": "sandbox",
            "team_id": self.state.team_id,
            "api_app_id": "A0SANDBOX",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
        }
        return self.envelope("events_api", payload)

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the connected client to reconnect, as Slack does every few hours."""
        with self.log.lock:
            current = self._current
            self.log.disconnects += 1
        if current is not None:
            current.send(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "sandbox"}}))

    def drop(self) -> None:
        """Close the client's socket from the server's side, without a word (a network cut)."""
        with self.log.lock:
            current = self._current
        if current is not None:
            current.close()

    # people acting on hygiene's posts --------------------------------------------------------
    def click(self, user: str, channel: str, ts: str, action_id: str) -> str:
        """A person presses a button on message ``ts`` (a ``block_actions`` payload)."""
        channel = self.state.channel_id(channel)
        message = self.state.find(channel, ts)
        if message is None:
            raise KeyError(ts)
        button = next(
            element
            for block in message.get("blocks") or []
            if block.get("type") == "actions"
            for element in block.get("elements") or []
            if element.get("action_id") == action_id
        )
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": self.state.users[user]["name"], "team_id": self.state.team_id},
            "api_app_id": "A0SANDBOX",
            "team": {"id": self.state.team_id},
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": f"trigger-{next(self._ids)}",
            "channel": {"id": channel, "name": self.state.channels[channel]["name"]},
            "message": dict(message),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "hygiene_nudge",
                    "text": button["text"],
                    "value": button.get("value"),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.envelope("interactive", payload)

    def submit(self, user: str, view: dict[str, Any], typed: str) -> str:
        """A person fills the form's one text input with ``typed`` and submits it (``view_submission``)."""
        block = view["blocks"][0]
        values = {block["block_id"]: {block["element"]["action_id"]: {"type": "plain_text_input", "value": typed}}}
        payload = {
            "type": "view_submission",
            "user": {"id": user, "team_id": self.state.team_id},
            "team": {"id": self.state.team_id},
            "view": {**view, "state": {"values": values}},
        }
        return self.envelope("interactive", payload)

    def shortcut(self, user: str, channel: str, ts: str, callback_id: str) -> str:
        """A person uses a message shortcut on message ``ts`` (``message_action``)."""
        channel = self.state.channel_id(channel)
        message = self.state.find(channel, ts)
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": f"trigger-{next(self._ids)}",
            "user": {"id": user},
            "team": {"id": self.state.team_id},
            "channel": {"id": channel, "name": self.state.channels[channel]["name"]},
            "message": dict(message or {"ts": ts}),
            "message_ts": ts,
        }
        return self.envelope("interactive", payload)

    # what tests look at ----------------------------------------------------------------------
    def wait_acked(self, envelope_id: str, timeout: float = 10.0) -> Envelope:
        """The envelope once acked (AssertionError if not acked within ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        with self.log.lock:
            envelope = self.log.envelopes[envelope_id]
            while envelope.acked_at is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {envelope_id} was not acked within {timeout:g} s")
                self.log.lock.wait(left)
            return envelope

    def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        """Until ``count`` connections were opened (AssertionError otherwise)."""
        deadline = time.monotonic() + timeout
        while self.log.connections < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.log.connections} connection(s), wanted {count}")
            time.sleep(0.01)
