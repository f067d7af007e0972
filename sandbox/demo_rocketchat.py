"""The scripted demo on Rocket.Chat: the same engine against a Rocket.Chat and a Zendesk sandbox,
with the team's channel charters.

Cycle 1 runs after the morning: a question asked in the automated-only alert channels, a revenue
alert its owner never answered, a roadmap suggestion among technical questions, client requests in
the support backroom (hygiene opens the ticket there itself); then someone asks how a ticket is
going and Zendesk solves another; cycle 2 answers from the live ticket and judges what came in;
cycle 3 re-runs with nothing new and must post nothing. Counts come from what the Rocket.Chat and
Zendesk sandboxes received; each post's rule is read from the outbox row that sent it.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.cycle import CycleReport
from hygiene.wiring import run_cycle
from sandbox.demo import DEMO_START, ZONE, describe, quiet_rerun
from sandbox.environment import variables
from sandbox.rocketchat_api import SCENARIOS, RocketChatSandbox, RocketChatState
from sandbox.zendesk_api import ZendeskState, _iso

Printer = Callable[[str], None]
CHANNELS = [
    "sales-alerts",
    "won-deals",
    "potential-sales-revenue",
    "support-backroom",
    "very-technical-questions",
    "product-bad-behavior-critical",
]
LEAD = "Sr2YwK9bTnF6gHcMd"  # sarah, the sales lead
CHARTER_RULES = ("HY401", "HY402", "HY403")


def charters() -> dict[str, Any]:
    """The communication plan's charters, as a team would write them in its TOML."""
    alerts = "alertas automáticos do CRM: perguntas vão no #very-technical-questions ou no CRM"
    return {
        "sales-alerts": {"purpose": "alertas automáticos de vendas", "automated_only": True, "ask_instead": alerts},
        "won-deals": {
            "purpose": "negócios ganhos, anunciados pelo CRM",
            "automated_only": True,
            "ask_instead": "o canal do time de implantação",
        },
        "potential-sales-revenue": {
            "purpose": "receita em risco: o responsável responde cada alerta com o status",
            "automated_only": True,
            "status": {"from": "mentioned", "within_hours": 1, "escalate_to": [LEAD]},
        },
        "very-technical-questions": {
            "purpose": "dúvidas técnicas",
            "elsewhere": [
                {
                    "name": "sugestão de roadmap",
                    "pt": ["sugestão para o roadmap", "pro roadmap", "fica a sugestão"],
                    "en": ["feature request", "for the roadmap"],
                    "goes_to": "o portal de sugestões de produto",
                }
            ],
        },
    }


def demo_config(state_dir: Path, rocketchat_url: str, zendesk_url: str) -> Config:
    return parse(
        {
            "hygiene": {"state_dir": str(state_dir), "timezone": "America/Sao_Paulo"},
            "chat": [{"kind": "rocketchat", "base_url": rocketchat_url, "channels": CHANNELS, "retries": 2}],
            "helpdesk": {
                "kind": "zendesk",
                "base_url": zendesk_url,
                "email": "hygiene@horizonte.example",
                "retries": 2,
            },
            "policy": {"cooldown_minutes": 0},
            "charters": charters(),
            "rules": {"HY101": {"channels": {"support-backroom": {"mode": "auto"}}}},
        }
    )


def seeded_zendesk(tickets: list[dict[str, Any]], clock: FrozenClock) -> ZendeskState:
    """A Zendesk holding the scenario's tickets, their clients as organizations and owners as agents."""
    state = ZendeskState(clock=clock)
    statuses = {"open": "open", "pending": "pending", "solved": "solved", "closed": "closed"}
    clients = sorted({t["client"] for t in tickets if t.get("client")})
    for index, name in enumerate(clients):
        state.add_organization(500 + index, name)
    owners = sorted({(t["assignee"], t["assignee_email"]) for t in tickets if t.get("assignee")})
    for index, (name, email) in enumerate(owners):
        state.add_user(700 + index, name, email)
    by_email = {email: 700 + index for index, (_, email) in enumerate(owners)}
    for ticket in tickets:
        state.add_ticket(
            int(ticket["id"]),
            ticket["subject"],
            statuses[ticket["status"]],
            at=_local(ticket.get("created_at")),
            priority=ticket.get("priority", "normal"),
            organization_id=500 + clients.index(ticket["client"]) if ticket.get("client") else None,
            assignee_id=by_email.get(ticket.get("assignee_email")),
        )
        # opened when the scenario says (before the chat asks about it); an open ticket was last
        # touched as the demo starts, a closed one when the scenario closed it
        closed = ticket["status"] in ("solved", "closed") and ticket.get("updated_at")
        touched = _iso(_local(ticket["updated_at"])) if closed else _iso(clock.now())  # type: ignore[arg-type]
        state.tickets[int(ticket["id"])]["updated_at"] = touched
        state.metrics[int(ticket["id"])]["assignee_updated_at"] = touched
    return state


def _local(moment: str | None) -> datetime | None:
    """A scenario's time, written in the demo's zone."""
    return datetime.fromisoformat(moment).replace(tzinfo=ZONE) if moment else None


def zendesk_token(state: ZendeskState) -> AbstractContextManager[None]:
    """The sandbox Zendesk's API token in the environment variable the config names, for the demo only."""
    return variables(ZENDESK_API_TOKEN=state.token)


@contextmanager
def serving(chat: RocketChatState, zendesk: ZendeskState, prefix: str) -> Iterator[tuple[Config, str, tuple[str, str]]]:
    """Rocket.Chat and Zendesk served on loopback, Zendesk's token in the environment, and the
    demo's config pointing at them (its store in a temporary directory named ``prefix``…); beside
    it the Rocket.Chat token to run cycles with and the two base URLs."""
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        RocketChatSandbox(chat) as sandbox,
        zendesk.server() as zendesk_server,
        zendesk_token(zendesk),
    ):
        urls = (sandbox.base_url, zendesk_server.base_url)
        yield demo_config(Path(tmp) / "state", *urls), sandbox.token, urls


def run_rocketchat_demo(out: Printer = print) -> dict[str, int]:
    path = SCENARIOS / "rocketchat.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    clock = FrozenClock(DEMO_START)
    chat = RocketChatState.from_scenario(path, clock)
    zendesk = seeded_zendesk(data.get("tickets", []), clock)
    with serving(chat, zendesk, "hygiene-demo-") as (config, token, (rocketchat_url, zendesk_url)):

        def cycle() -> CycleReport:
            return run_cycle(config, clock, token)

        out(f"hygiene demo — {data.get('description', 'rocketchat')}")
        out(f"Sandbox Rocket.Chat at {rocketchat_url}, sandbox Zendesk at {zendesk_url}\n")
        first = cycle()
        out("== Cycle 1: after the morning ==")
        print_posts(chat, chat.bot_posts(), out)
        out(describe(first))

        before = len(chat.bot_posts())
        chat.post_as("Jx9TeH6mSdZ2vNbCr", "support-backroom", "Como está o chamado 4533? A Acme perguntou de novo.")
        zendesk.update(4521, status="solved")
        out("\n-- Meanwhile: joão asks how ticket 4533 is going; Zendesk solves 4521 --")
        clock.advance(minutes=12)
        second = cycle()
        out("\n== Cycle 2: twelve minutes later ==")
        print_posts(chat, chat.bot_posts()[before:], out)
        out(describe(second))

        rerun = quiet_rerun(cycle, clock, lambda: len(chat.bot_posts()), out)
        rules = rules_of_posts(config.store_path)
    return count(chat, zendesk, rules, rerun)


def rules_of_posts(store_path: Path) -> dict[str, str]:
    """Which rule sent each posted message: the outbox row whose result is that message's id."""
    with sqlite3.connect(store_path) as db:
        rows = db.execute("select result_id, rule from outbox where result_id is not null").fetchall()
    return {str(result): str(rule or "") for result, rule in rows}


def count(chat: RocketChatState, zendesk: ZendeskState, rules: dict[str, str], rerun: int) -> dict[str, int]:
    posts = [post for post in chat.bot_posts() if post.get("_id")]

    def rule_of(post: dict[str, Any]) -> str:
        return rules.get(str(post["_id"]), "")

    return {
        "nudges": sum(1 for p in posts if p["kind"] in ("thread_reply", "dm") and rule_of(p).startswith("HY")),
        "tickets_created": len(zendesk.created),
        "status_answers": sum(1 for p in posts if rule_of(p) == "HY102"),
        "thread_updates": sum(1 for p in posts if rule_of(p) == "update"),
        "charter_findings": sum(1 for p in posts if rule_of(p) in CHARTER_RULES),
        "duplicates_on_rerun": rerun,
    }


def print_posts(state: RocketChatState, posts: list[dict[str, Any]], out: Printer) -> None:
    for post in posts:
        room = state.rooms[post["rid"]]
        if room.get("t") == "d":
            out(f"DM to @{' / @'.join(room.get('usernames', []))}")
            out(f"  🤖 hygiene: {post['msg']}")
            continue
        out(f"#{room['name']}")
        parent = state.find(post["rid"], post["tmid"]) if post.get("tmid") else None
        if parent:
            out(f"  {_clock(parent)} {parent['u']['username']}: {parent['msg']}")
        out(f"      ↳ 🤖 hygiene: {post['msg']}")


def _clock(message: dict[str, Any]) -> str:

    return f"{datetime.fromisoformat(str(message['ts']).replace('Z', '+00:00')).astimezone(ZONE):%H:%M}"
