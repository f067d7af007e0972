"""Random kills on the Rocket.Chat path: a crash mid-post, then a rerun, never doubles a message,
because every post carries a client-chosen ``_id`` derived from its outbox key (and a ticket its
Zendesk ``external_id``). Compared with a calm run of the same script (sandbox/storm_rocketchat.py)."""

from __future__ import annotations

import random

import pytest

from hygiene.failpoints import POINTS
from sandbox.storm import Outcome, compare, difference
from sandbox.storm_rocketchat import run_rocketchat_scenario

CYCLES = 4


@pytest.fixture(scope="module")
def calm() -> Outcome:
    outcome = run_rocketchat_scenario(CYCLES)
    assert not outcome.tracebacks and outcome.failed == 0 and outcome.tickets and outcome.keyed
    return outcome


def test_a_kill_after_every_post_never_doubles_one(calm: Outcome) -> None:
    posts = calm.hits.get("outbox.after_send", 0)
    assert posts >= 8
    for hit in range(1, posts + 1, 3):
        killed = run_rocketchat_scenario(CYCLES, kills=[("outbox.after_send", hit)])
        result = compare(calm, killed)
        assert killed.crashes == 1
        assert result.clean, (hit, result, difference(calm, killed))


def test_random_kills_end_like_a_calm_run(calm: Outcome) -> None:
    rng = random.Random(5)
    points = [(name, hit) for name in POINTS for hit in range(1, calm.hits.get(name, 0) + 1)]
    assert {name for name, _ in points} >= {"engine.before_commit", "outbox.after_send", "outbox.after_create"}
    for _ in range(3):
        killed = run_rocketchat_scenario(CYCLES, kills=rng.sample(points, 3))
        result = compare(calm, killed)
        assert killed.crashes >= 1
        assert result.clean, (result, difference(calm, killed))
