"""The real-time demo: ``hygiene serve`` against the sandbox over Socket Mode, as people see it.

Slack (Web API and Socket Mode) and G Click are sandboxes on loopback; serve runs in its own
thread on the system clock, exactly as ``hygiene serve`` runs it. After its first safety-net
cycle (the morning's backlog), people post requests that arrive as events and are nudged within
a moment; one person presses "Create ticket" (a G Click pre-task opens and the nudge is edited to
link it), another presses "Not a request" (recorded as feedback, the nudge becomes a one-line
acknowledgement); Slack asks the client to reconnect and a request posted right then is still
nudged once; a last safety-net poll re-reads everything and must post nothing. The counts come
from what the sandboxes received, except latency (event received → nudge posted, measured by
serve) and feedback (labels in the store).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hygiene.clock import SystemClock
from hygiene.config import Config, parse
from hygiene.errors import HygieneError
from hygiene.serve import Server
from hygiene.serve_cli import serve_until_stopped
from sandbox.demo import Printer, accounting_workspace
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState
from sandbox.socket_mode import SocketModeServer

WAIT_SECONDS = 20.0
SCRIPT = [
    ("U02MARINA", "dia-a-dia", "Preciso que vocês emitam a guia do DAS da Padaria Pão Quente até sexta"),
    ("U07SARAH", "support-team", "Can someone reset the SSO config for Acme? They can't log in since this morning"),
]
DURING_RECONNECT = ("U05PEDRO", "departamento-pessoal", "Preciso que calculem as férias do João da Vila Verde")


def realtime_config(state_dir: Path, base_url: str, gclick_url: str) -> Config:
    """The demo's config: requests are nudged at once (no grace), so latency is the event path's."""
    return parse(
        {
            **accounting_workspace(state_dir, base_url, gclick_url),
            "policy": {"cooldown_minutes": 0, "working_hours_only": False},
            "serve": {"poll_seconds": 600},
            "rules": {
                "HY101": {"grace_minutes": 0, "channels": {"elogios": {"mode": "off"}}},
                "HY201": {"channels": {"Support": {"language": "en"}}},
            },
        }
    )


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """The condition's value once truthy; a HygieneError after :data:`WAIT_SECONDS`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise HygieneError(f"realtime demo: {what} did not happen within {WAIT_SECONDS:g} s")
        time.sleep(0.01)
    return value


class Session:
    """The scripted session's view of the sandboxes (what people see)."""

    def __init__(self, state: SlackState, socket: SocketModeServer, out: Printer) -> None:
        self.state, self.socket, self.out = state, socket, out

    def post(self, user: str, channel: str, text: str) -> dict[str, Any]:
        """A person posts; the nudge hygiene answers with."""
        ts = self.state.post_as(user, channel, text)
        self.out(f"#{channel} · {self.state.users[user]['name']}: {text}")
        nudge = wait_for(lambda: self.reply_to(ts), f"a nudge on {ts}")
        self.out(f"    ↳ 🤖 hygiene: {nudge['text']}")
        return dict(nudge)

    def reply_to(self, ts: str) -> dict[str, Any] | None:
        return next((p for p in self.state.bot_posts() if p["kind"] == "thread_reply" and p["thread_ts"] == ts), None)

    def press(self, user: str, nudge: dict[str, Any], intent: str) -> None:
        envelope = self.socket.click(user, nudge["channel"], nudge["ts"], f"hygiene:{intent}")
        self.socket.wait_acked(envelope)
        self.out(f"    {self.state.users[user]['name']} presses “{intent.replace('_', ' ')}”")

    def edited(self, nudge: dict[str, Any]) -> str:
        message = self.state.find(nudge["channel"], nudge["ts"])
        return str(message["text"]) if message and message["text"] != nudge["text"] else ""


def run_realtime_demo(scenario: str = "accounting", out: Printer = print) -> dict[str, Any]:
    path = Path(scenario) if Path(scenario).exists() else SCENARIOS / f"{scenario}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    clock = SystemClock()
    state = SlackState.from_scenario(path, clock)
    gclick = GClickState.from_tickets(data.get("tickets", []), clock)
    with (
        tempfile.TemporaryDirectory(prefix="hygiene-realtime-") as tmp,
        SlackSandbox(state) as sandbox,
        SocketModeServer(state) as socket,
        gclick.server() as gclick_server,
        gclick.credentials_in_env(),
    ):
        config = realtime_config(Path(tmp) / "state", sandbox.base_url, gclick_server.base_url)
        started: list[Server] = []
        stop = threading.Event()
        runner = threading.Thread(
            target=serve_until_stopped,
            args=(config, clock, stop),
            kwargs={"token": sandbox.token, "app_token": state.app_token, "on_start": started.append},
            name="hygiene-serve",
            daemon=True,
        )
        runner.start()
        try:
            server = wait_for(lambda: started and started[0].counts.cycles >= 1 and started[0], "serve's first cycle")
            return _script(Session(state, socket, out), server, gclick, out)
        finally:
            stop.set()
            runner.join(timeout=WAIT_SECONDS)


def _script(session: Session, server: Server, gclick: GClickState, out: Printer) -> dict[str, Any]:
    state, socket = session.state, session.socket
    out(f"hygiene serve — connected over Socket Mode; first safety-net cycle posted {server.counts.nudges} nudge(s)\n")
    nudges = [session.post(*line) for line in SCRIPT]
    session.press("U03JOAO", nudges[0], "create_ticket")
    wait_for(lambda: gclick.created(), "the ticket")
    out(f"    ↳ ✏️  nudge now: {wait_for(lambda: session.edited(nudges[0]), 'the nudge linking the ticket')}")
    session.press("U06ANA", nudges[1], "not_a_request")
    out(f"    ↳ ✏️  nudge now: {wait_for(lambda: session.edited(nudges[1]), 'the acknowledgement')}")
    out("\n-- Slack asks the client to reconnect (disconnect: refresh_requested) --")
    socket.disconnect()
    session.post(*DURING_RECONNECT)
    wait_for(lambda: socket.log.connections >= 2, "the reconnection")
    before = len(state.bot_posts())
    server.poll_now()
    cycles = server.counts.cycles
    wait_for(lambda: server.counts.cycles > cycles and server.inbox.empty(), "the safety-net poll")
    rerun = len(state.bot_posts()) - before
    out(f"\n-- safety-net poll: {rerun} post(s) --")
    return counts(state, socket, server, gclick, rerun)


def counts(
    state: SlackState, socket: SocketModeServer, server: Server, gclick: GClickState, rerun: int
) -> dict[str, Any]:
    posts = state.bot_posts()
    keys = Counter(
        str(((p.get("metadata") or {}).get("event_payload") or {}).get("key")) for p in posts if p.get("metadata")
    )
    return {
        "events": server.counts.events,
        "nudges": sum(1 for p in posts if p["kind"] == "thread_reply" and _rule(p).startswith("HY")),
        "button_tickets": min(server.counts.button_tickets, len(gclick.created())),
        "feedback": server.counts.feedback,
        "duplicates": sum(n - 1 for n in keys.values()) + rerun,
        "reconnects": max(0, socket.log.connections - 1),
        "median_latency_ms": server.counts.median_latency_ms(),
    }


def _rule(post: dict[str, Any]) -> str:
    return str(((post.get("metadata") or {}).get("event_payload") or {}).get("rule", ""))
