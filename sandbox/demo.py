"""The scripted demo: the real engine against the sandbox, as a person would see it in Slack.

Slack and G Click are both sandboxes on loopback. Cycle 1 runs after the morning's chat
activity (a request in #fiscal becomes a G Click pre-task, others are offered a ticket); then
more messages arrive, a person confirms the pre-task and a linked task is concluded; cycle 2
answers a status question from the task, announces the changes in their threads and judges the
greetings whose wait ran out; cycle 3 re-runs with nothing new and must post nothing. Counts
come from what the sandboxes received, not from the engine.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.cycle import CycleReport
from hygiene.wiring import run_cycle
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

ZONE = ZoneInfo("America/Sao_Paulo")
DEMO_START = datetime(2026, 11, 18, 10, 0, tzinfo=ZONE)
Printer = Callable[[str], None]


SLACK_CHANNELS = ["dia-a-dia", "fiscal", "departamento-pessoal", "elogios", "support-team"]
"""The accounting workspace's channels hygiene reads."""


def accounting_workspace(state_dir: Path, base_url: str, gclick_url: str) -> dict[str, Any]:
    """The config sections every Slack-and-G Click demo shares: the store, the accounting
    workspace's Slack and G Click (pre-tasks in department 4), in São Paulo time."""
    return {
        "hygiene": {"state_dir": str(state_dir), "timezone": "America/Sao_Paulo"},
        "chat": [{"kind": "slack", "base_url": base_url, "channels": SLACK_CHANNELS, "retries": 2}],
        "helpdesk": {"kind": "gclick", "base_url": gclick_url, "create_department_id": 4, "retries": 2},
    }


def demo_config(state_dir: Path, base_url: str, gclick_url: str) -> Config:
    return parse(
        {
            **accounting_workspace(state_dir, base_url, gclick_url),
            "policy": {"cooldown_minutes": 0},
            "rules": {
                # #fiscal has asked hygiene to open tickets itself; elsewhere it offers them
                "HY101": {"channels": {"elogios": {"mode": "off"}, "fiscal": {"mode": "auto"}}},
                "HY201": {"channels": {"Support": {"language": "en"}}},
            },
        }
    )


def run_demo(scenario: str = "accounting", out: Printer = print) -> dict[str, int]:
    """The scripted demo of a scenario: ``rocketchat`` runs on Rocket.Chat and Zendesk, ``digisac`` on
    Slack, G Click and Digisac together, any other
    (a name in sandbox/scenarios or a file) on Slack and G Click."""
    if scenario == "rocketchat":
        from sandbox.demo_rocketchat import run_rocketchat_demo

        return run_rocketchat_demo(out)
    if scenario == "digisac":
        from sandbox.demo_digisac import run_digisac_demo

        return run_digisac_demo(out)
    path = Path(scenario) if Path(scenario).exists() else SCENARIOS / f"{scenario}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    clock = FrozenClock(DEMO_START)
    state = SlackState.from_scenario(path, clock)
    gclick = GClickState.from_tickets(data.get("tickets", []), clock)
    with (
        tempfile.TemporaryDirectory(prefix="hygiene-demo-") as tmp,
        SlackSandbox(state) as sandbox,
        gclick.server() as gclick_server,
        gclick.credentials_in_env(),
    ):
        config = demo_config(Path(tmp) / "state", sandbox.base_url, gclick_server.base_url)

        def cycle() -> CycleReport:
            return run_cycle(config, clock, sandbox.token)

        out(f"hygiene demo — {data.get('description', scenario)}")
        out(
            f"Sandbox Slack at {sandbox.base_url}, sandbox G Click at {gclick_server.base_url} · "
            f"{clock.now().astimezone(ZONE):%A %d %b %Y %H:%M} (São Paulo)\n"
        )
        first = cycle()
        out("== Cycle 1: after the morning's chat ==")
        print_channels(state, out)
        print_posts(state, [p for p in state.bot_posts() if p["kind"] == "dm"], out)
        out(describe(first))

        posted_before = len(state.bot_posts())
        for item in data.get("later", []):
            state.post_as(item["user"], item["channel"], item["text"])
        out("\n-- Meanwhile in G Click --")
        for task_id, task in sorted(gclick.tasks.items()):
            if task["status"] == "P":
                gclick.confirm(task_id)
                out(f"  a person confirms pre-task {task_id} ({task['nome']})")
        for task_id, status in data.get("helpdesk_changes", {}).items():
            gclick.set_status(task_id, status)
            out(f"  task {task_id} ({gclick.tasks[task_id]['nome']}) moves to status {status}")
        clock.advance(minutes=12)
        second = cycle()
        out("\n== Cycle 2: twelve minutes later: new messages, expired waits, tickets that changed ==")
        print_posts(state, state.bot_posts()[posted_before:], out)
        out(describe(second))

        rerun_posts = quiet_rerun(cycle, clock, lambda: len(state.bot_posts()), out)
        return count(state, gclick, rerun_posts)


def quiet_rerun(
    cycle: Callable[[], CycleReport],
    clock: FrozenClock,
    written: Callable[[], int],
    out: Printer,
    what: str = "bot posts",
) -> int:
    """Every demo's last cycle: two minutes on with nothing new, it must write nothing; how many
    writes it made (``written`` counts what the sandboxes hold), printed as ``what``."""
    clock.advance(minutes=2)
    before = written()
    report = cycle()
    rerun = written() - before
    out("\n== Cycle 3: quiet rerun with nothing new ==")
    out(f"  {what}: {rerun}")
    out(describe(report))
    return rerun


def count(state: SlackState, gclick: GClickState, rerun_posts: int) -> dict[str, int]:
    posts = state.bot_posts()

    def rule_of(post: dict[str, Any]) -> str:
        return str(((post.get("metadata") or {}).get("event_payload") or {}).get("rule", ""))

    return {
        "nudges": sum(1 for p in posts if p["kind"] in ("thread_reply", "dm") and rule_of(p).startswith("HY")),
        "tickets_created": len(gclick.created()),
        "status_answers": sum(1 for p in posts if rule_of(p) == "HY102"),
        "thread_updates": sum(1 for p in posts if rule_of(p) == "update"),
        "duplicates_on_rerun": rerun_posts,
    }


def describe(report: CycleReport) -> str:
    findings = ", ".join(f"{code}×{n}" for code, n in sorted(report.findings.items())) or "none"
    return (
        f"  [{report.messages_read} messages read, {report.new} new; findings: {findings}; "
        f"{report.sent} posted; {sum(report.calls.values())} API calls]"
    )


def _clock_time(ts: str) -> str:
    return f"{datetime.fromtimestamp(float(ts), ZONE):%H:%M}"


def _line(state: SlackState, message: dict[str, Any], indent: str) -> str:
    user = state.users.get(message.get("user", ""), {}).get("name", message.get("user", "?"))
    text = message.get("text", "").replace("\n", " ")
    for user_id, info in state.users.items():
        text = text.replace(f"<@{user_id}>", f"@{info['name']}")
    marker = "🤖 " if message.get("bot_id") else ""
    return f"{indent}{_clock_time(message['ts'])} {marker}{user}: {text}"


def print_channels(state: SlackState, out: Printer) -> None:
    for channel in state.channels.values():
        if not channel.get("is_member") or channel["id"].startswith("D"):
            continue
        out(f"#{channel['name']}")
        messages = state.messages[channel["id"]]
        for message in messages:
            if message.get("thread_ts") not in (None, message["ts"]):
                continue
            out(_line(state, message, "  "))
            for reply in messages:
                if reply.get("thread_ts") == message["ts"] and reply["ts"] != message["ts"]:
                    out(_line(state, reply, "      ↳ "))
        out("")


def print_posts(state: SlackState, posts: list[dict[str, Any]], out: Printer) -> None:
    for post in posts:
        channel = state.channels[post["channel"]]
        if channel.get("is_im"):
            person = state.users.get(channel.get("user", ""), {}).get("name", "?")
            out(f"DM to @{person}")
            out(f"  🤖 hygiene: {post['text']}")
            continue
        parent = state.find(post["channel"], post["thread_ts"]) if post.get("thread_ts") else None
        out(f"#{channel['name']}")
        if parent:
            out(_line(state, parent, "  "))
        message = state.find(post["channel"], post["ts"])
        if message:
            out(_line(state, message, "      ↳ "))
