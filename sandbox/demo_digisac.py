"""The scripted demo of the client side: Slack, G Click and Digisac sandboxes together.

The firm of the accounting scenario talks to itself in Slack and to its clients on WhatsApp
through Digisac (sandbox/scenarios/digisac.json: the same clients). Cycle 1 runs after the
morning: a client's request with no G Click task becomes a pre-task (HY301 in ``auto``), a
client left waiting past 40 minutes is escalated in the department's Slack channel (HY302), a
client's praise is shared in #elogios (HY304) and an agent's bare "oi, tudo bem?" gets an internal
note (HY303); the team's own chat is judged as in the main demo. Cycle 2 comes twelve minutes
later, after a new URGENTE message from a client and the team's Slack activity; cycle 3 re-runs
with nothing new and must post nothing. Counts come from what the sandboxes received; no write
may reach a client (``messages_to_clients`` is the Digisac sandbox's client-visible writes).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.cycle import CycleReport
from hygiene.wiring import run_cycle
from sandbox.demo import DEMO_START, SLACK_CHANNELS, describe, print_posts, quiet_rerun
from sandbox.digisac_api import DigisacSandbox, DigisacState, make_id
from sandbox.environment import variables
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

Printer = Callable[[str], None]
WHATSAPP = "WhatsApp Horizonte"
CLIENT_RULES = ("HY301", "HY302", "HY303", "HY304")


def demo_config(
    state_dir: Path, slack_url: str, gclick_url: str, digisac_url: str, request_mode: str = "auto"
) -> Config:
    """Slack first (the team is told there), Digisac second (read, and internal notes only);
    ``request_mode`` is HY301's (``auto`` opens the pre-task, ``nudge`` tells the department)."""
    return parse(
        {
            "hygiene": {"state_dir": str(state_dir), "timezone": "America/Sao_Paulo"},
            "chat": [
                {"kind": "slack", "base_url": slack_url, "channels": SLACK_CHANNELS, "retries": 2},
                {"kind": "digisac", "base_url": digisac_url, "channels": [WHATSAPP], "retries": 2},
            ],
            "helpdesk": {"kind": "gclick", "base_url": gclick_url, "create_department_id": 4, "retries": 2},
            "policy": {"cooldown_minutes": 0},
            "report": {
                "department_channels": {
                    "Fiscal": "fiscal",
                    "Departamento Pessoal": "departamento-pessoal",
                    "Contábil": "dia-a-dia",
                }
            },
            "rules": {
                "HY101": {"channels": {"elogios": {"mode": "off"}, "fiscal": {"mode": "auto"}}},
                "HY201": {"channels": {"Support": {"language": "en"}}},
                "HY301": {"mode": request_mode, "business_hours": 0.25},
                "HY303": {"mode": "nudge"},
            },
        }
    )


def tokens_in_env(slack: str, digisac: str) -> AbstractContextManager[None]:
    """The sandboxes' tokens in the variables the config names (two chats: one token each)."""
    return variables(SLACK_BOT_TOKEN=slack, DIGISAC_TOKEN=digisac)


def run_digisac_demo(out: Printer = print) -> dict[str, int]:
    data = json.loads((SCENARIOS / "accounting.json").read_text(encoding="utf-8"))
    clock = FrozenClock(DEMO_START)
    slack = SlackState.from_scenario(SCENARIOS / "accounting.json", clock)
    gclick = GClickState.from_tickets(data.get("tickets", []), clock)
    digisac = DigisacState.from_scenario(clock=clock)
    with serving(slack, gclick, digisac, "hygiene-demo-") as (config, (slack_url, gclick_url, digisac_url)):

        def cycle() -> CycleReport:
            return run_cycle(config, clock)

        out("hygiene demo — the client side: WhatsApp on Digisac beside Slack and G Click")
        out(f"Sandbox Slack at {slack_url}, G Click at {gclick_url}")
        out(f"Sandbox Digisac at {digisac_url}\n")
        first = cycle()
        out("== Cycle 1: after the morning (Slack and WhatsApp) ==")
        show(slack, digisac, 0, 0, out)
        out(describe(first))

        posts, notes = len(slack.bot_posts()), len(digisac.comments())
        for item in data.get("later", []):
            slack.post_as(item["user"], item["channel"], item["text"])
        digisac.client_writes(
            make_id("fernanda"), "URGENTE: o banco pediu o balanço de setembro hoje, conseguem mandar?"
        )
        out("\n-- Meanwhile: the team keeps talking in Slack; Fernanda (Brascont) writes URGENTE on WhatsApp --")
        clock.advance(minutes=12)
        second = cycle()
        out("\n== Cycle 2: twelve minutes later ==")
        show(slack, digisac, posts, notes, out)
        out(describe(second))

        rerun = quiet_rerun(
            cycle, clock, lambda: len(slack.bot_posts()) + len(digisac.comments()), out, "posts and notes"
        )
    return count(slack, gclick, digisac, rerun)


@contextmanager
def serving(
    slack: SlackState,
    gclick: GClickState,
    digisac: DigisacState,
    prefix: str,
    state_dir: Path | None = None,
    request_mode: str = "auto",
) -> Iterator[tuple[Config, tuple[str, str, str]]]:
    """The three sandboxes served on loopback with their credentials in the environment, and the
    demo's config pointing at them (its store in ``state_dir``, else in a temporary directory named
    ``prefix``…; HY301 in ``request_mode``); beside it the Slack, G Click and Digisac base URLs."""
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        SlackSandbox(slack) as slack_server,
        gclick.server() as gclick_server,
        gclick.credentials_in_env(),
        running(digisac) as digisac_server,
        tokens_in_env(slack_server.token, digisac_server.token),
    ):
        urls = (slack_server.base_url, gclick_server.base_url, digisac_server.base_url)
        yield demo_config(state_dir or Path(tmp) / "state", *urls, request_mode=request_mode), urls


@contextmanager
def running(state: DigisacState) -> Iterator[DigisacSandbox]:
    server = DigisacSandbox(state).start()
    try:
        yield server
    finally:
        server.stop()


def show(slack: SlackState, digisac: DigisacState, posts: int, notes: int, out: Printer) -> None:
    """What hygiene posted in Slack and noted in Digisac since the given counts."""
    for post in slack.bot_posts()[posts:]:
        if post.get("thread_ts") or slack.channels[post["channel"]].get("is_im"):
            print_posts(slack, [post], out)
        else:
            out(f"#{slack.channels[post['channel']]['name']}")
            out(f"  🤖 hygiene: {post['text']}")
    for note in digisac.comments()[notes:]:
        contact = digisac.contacts.get(str(note.get("contactId")), {})
        name = contact.get("name") or contact.get("alternativeName") or "a contact"
        out(f"Digisac internal note in the conversation with {name}")
        out(f"  📝 hygiene: {str(note.get('text', '')).splitlines()[0]}")


def count(slack: SlackState, gclick: GClickState, digisac: DigisacState, rerun: int) -> dict[str, int]:
    """The demo's figures, from what the sandboxes received."""
    posts = slack.bot_posts()

    def rule_of(post: dict[str, Any]) -> str:
        return str(((post.get("metadata") or {}).get("event_payload") or {}).get("rule", ""))

    from_whatsapp = [t for t in gclick.created() if "Digisac" in json.dumps(t, ensure_ascii=False)]
    return {
        "client_requests": sum(1 for p in posts if rule_of(p) == "HY301") + len(from_whatsapp),
        "tickets_created": len(gclick.created()),
        "client_waiting": sum(1 for p in posts if rule_of(p) == "HY302"),
        "praise_shared": sum(1 for p in posts if rule_of(p) == "HY304"),
        "agent_coaching": len(digisac.comments()) - len(from_whatsapp),
        "team_nudges": sum(1 for p in posts if p["kind"] in ("thread_reply", "dm") and rule_of(p).startswith("HY1")),
        "messages_to_clients": len(digisac.client_visible()),
        "duplicates_on_rerun": rerun,
    }
