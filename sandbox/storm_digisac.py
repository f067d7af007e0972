"""Kill sweeps over the real engine with Digisac beside Slack and G Click (the client-side demo's
workspace): crashes at failpoints in the first cycles, then calm cycles.

What must hold: no Slack post, internal note or G Click pre-task is doubled or lost against a
calm run of the same script, and nothing ever reaches a client (the Digisac sandbox's
client-visible writes stay empty). Notes are told apart by the ``[hygiene:<key>]`` line the
connector writes; posts by their Slack metadata key; pre-tasks by their ``[hy:…]`` marker.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter

from hygiene import failpoints
from hygiene.config import Config
from sandbox.demo import DEMO_START
from sandbox.demo_digisac import serving
from sandbox.digisac_api import DigisacState, make_id
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackState
from sandbox.storm import TICKET_ID, Outcome, Quiet, Storm, run_cycle_into

CYCLE_MINUTES = 5
NOTE_KEY = re.compile(r"\[hygiene:([^\]]+)\]")
LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")


def _plain(text: str) -> str:
    """A post's words without what differs from run to run: the sandboxes' ports, pre-task ids."""
    return TICKET_ID.sub("<id>", LOOPBACK.sub("<sandbox>", text))


def run_digisac_scenario(
    cycles: int, clean: int = 2, kills: list[tuple[str, int]] | None = None, storm: Storm | None = None
) -> Outcome:
    """``cycles`` cycles (killable at ``kills``, stormy on every endpoint of the three sandboxes when
    ``storm``) and then ``clean`` calm ones; ``faults`` on the outcome counts the writes a client
    could see (always 0) and the faults injected."""
    data = json.loads((SCENARIOS / "accounting.json").read_text(encoding="utf-8"))
    clock = Quiet(DEMO_START)
    slack = SlackState.from_scenario(SCENARIOS / "accounting.json", clock)
    gclick = GClickState.from_tickets(data.get("tickets", []), clock)
    digisac = DigisacState.from_scenario(clock=clock)
    outcome = Outcome(Counter(), Counter())
    if storm is not None:
        slack.faults.chaos = gclick.faults.chaos = digisac.faults.chaos = storm
    failpoints.disarm_all()
    for name, hit in kills or []:
        failpoints.arm(name, hit)
    with serving(slack, gclick, digisac, "hygiene-digisac-storm-") as (config, _):
        for index in range(cycles + clean):
            if storm is not None:
                storm.on = index < cycles
            if index == cycles:
                outcome.hits = failpoints.hits()
                failpoints.disarm_all()
            if index == 1:
                for item in data.get("later", []):
                    slack.post_as(item["user"], item["channel"], item["text"])
                digisac.client_writes(make_id("fernanda"), "URGENTE: o banco pediu o balanço de setembro hoje?")
            run_cycle_into(outcome, config, clock)
            _let_late_writes_land(slack, gclick, digisac)
            clock.advance(minutes=CYCLE_MINUTES)
        failpoints.disarm_all()
        _collect(config, slack, gclick, digisac, outcome)
        outcome.faults = {"client_visible": len(digisac.client_visible())}
        if storm is not None:
            outcome.faults["injected"] = sum(sum(state.faults.injected.values()) for state in (slack, gclick, digisac))
    return outcome


def _let_late_writes_land(slack: SlackState, gclick: GClickState, digisac: DigisacState) -> None:
    wait = max(slack.faults.busy_until, gclick.faults.busy_until, digisac.faults.busy_until) - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def _collect(config: Config, slack: SlackState, gclick: GClickState, digisac: DigisacState, outcome: Outcome) -> None:
    keys: Counter[str] = Counter()
    for post in slack.bot_posts():
        if post["kind"] in ("reaction", "ephemeral"):
            continue
        key = ((post.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        text = _plain(post["text"])
        outcome.posts[(post["channel"], "thread" if post.get("thread_ts") else None, text)] += 1
        outcome.keyed[f"slack:{key}"] = text
        keys[f"slack:{key}"] += 1
    for note in digisac.comments():
        text = str(note.get("text", ""))
        found = NOTE_KEY.search(text)
        key = f"digisac:{found.group(1) if found else text}"
        outcome.posts[(str(note.get("contactId")), "note", _plain(text))] += 1
        outcome.keyed[key] = _plain(text)
        keys[key] += 1
    markers: Counter[str] = Counter()
    for task in gclick.tasks.values():
        if "[hy:" in task["nome"]:
            subject, marker = task["nome"].rsplit(" [hy:", 1)
            outcome.tickets[(subject, task["clienteApelido"])] += 1
            markers[marker] += 1
    outcome.duplicates = sum(n - 1 for n in keys.values() if n > 1) + sum(n - 1 for n in markers.values() if n > 1)
    with sqlite3.connect(config.store_path) as db:
        outcome.failed = db.execute("select count(*) from outbox where status = 'failed'").fetchone()[0]
