"""Kill sweeps over the real engine on the Rocket.Chat path: the Rocket.Chat demo's workspace and
Zendesk, the same charters, crashes at failpoints in the first cycles, then calm cycles.

A post that landed before the crash must be found again by its client-chosen ``_id`` (derived
from the outbox key) instead of being sent twice; a ticket, by its Zendesk ``external_id``. The
outcome is compared with a calm run of the same script (``sandbox.storm.compare``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter

from hygiene import failpoints
from hygiene.config import Config
from sandbox.demo import DEMO_START
from sandbox.demo_rocketchat import seeded_zendesk, serving
from sandbox.rocketchat_api import SCENARIOS, RocketChatState
from sandbox.storm import Outcome, Quiet, run_cycle_into
from sandbox.zendesk_api import ZendeskState

CYCLE_MINUTES = 5
LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")
"""Each run serves its sandboxes on a port of its own: links in posts are compared without it."""
LATER = [
    ("support-backroom", "Jx9TeH6mSdZ2vNbCr", "Como está o chamado 4533? A Acme perguntou de novo."),
    ("sales-alerts", "Am3KsW8pLgE4yRtBf", "Pessoal, alguém viu se o lead da Globex respondeu o e-mail?"),
    (
        "support-backroom",
        "Sr2YwK9bTnF6gHcMd",
        "The client Initech asked us to resend the onboarding checklist, can someone do it?",
    ),
]


def run_rocketchat_scenario(cycles: int, clean: int = 2, kills: list[tuple[str, int]] | None = None) -> Outcome:
    """``cycles`` cycles (killable at ``kills``: failpoint name and hit) and then ``clean`` calm ones."""
    data = json.loads((SCENARIOS / "rocketchat.json").read_text(encoding="utf-8"))
    clock = Quiet(DEMO_START)
    chat = RocketChatState.from_scenario(SCENARIOS / "rocketchat.json", clock)
    zendesk = seeded_zendesk(data.get("tickets", []), clock)
    outcome = Outcome(Counter(), Counter())
    failpoints.disarm_all()
    for name, hit in kills or []:
        failpoints.arm(name, hit)
    with serving(chat, zendesk, "hygiene-rc-storm-") as (config, token, _):
        for index in range(cycles + clean):
            if index == cycles:
                outcome.hits = failpoints.hits()
                failpoints.disarm_all()
            if 0 < index <= len(LATER):
                room, user, text = LATER[index - 1]
                chat.post_as(user, room, text)
            run_cycle_into(outcome, config, clock, token)
            clock.advance(minutes=CYCLE_MINUTES)
        failpoints.disarm_all()
        _collect(config, chat, zendesk, outcome)
    return outcome


def _collect(config: Config, chat: RocketChatState, zendesk: ZendeskState, outcome: Outcome) -> None:
    """Posts keyed by their ``_id`` (one per outbox key), tickets by subject and organization."""
    ids: Counter[str] = Counter()
    for post in chat.bot_posts():
        if post.get("kind") == "reaction" or not post.get("_id"):
            continue
        root = chat.find(post["rid"], post["tmid"]) if post.get("tmid") else None
        text = LOOPBACK.sub("<sandbox>", str(post["msg"]))
        outcome.posts[(post["rid"], root["msg"] if root else None, text)] += 1
        outcome.keyed[str(post["_id"])] = text
        ids[str(post["_id"])] += 1
    threads = Counter((post["rid"], post.get("tmid"), post["msg"]) for post in chat.bot_posts() if post.get("_id"))
    externals = Counter(str(ticket.get("external_id")) for ticket in zendesk.created)
    for ticket in zendesk.created:
        outcome.tickets[(str(ticket.get("subject")), str(ticket.get("organization_id")))] += 1
    outcome.duplicates = (
        sum(n - 1 for n in ids.values() if n > 1)
        + sum(n - 1 for n in threads.values() if n > 1)
        + sum(n - 1 for n in externals.values() if n > 1)
    )
    with sqlite3.connect(config.store_path) as db:
        outcome.failed = db.execute("select count(*) from outbox where status = 'failed'").fetchone()[0]
