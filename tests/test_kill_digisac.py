"""Random kills and a fault storm with Digisac beside Slack and G Click: a crash (mid-read, mid-post,
mid-note) or a storm, then calm cycles, never doubles a post, a note or a pre-task, loses none, and nothing
ever reaches a client (sandbox/storm_digisac.py runs the script; each run is compared with a calm one).

A killed run makes other calls than the calm one, so the Digisac sandbox numbers the messages
written during the run differently and a wait may be reported five minutes later: posts are
compared by count and pre-tasks by subject, not post by post."""

from __future__ import annotations

import random

import pytest

from hygiene.failpoints import POINTS
from sandbox.storm import Outcome, Storm, compare, difference
from sandbox.storm_digisac import run_digisac_scenario

CYCLES = 4


@pytest.fixture(scope="module")
def calm() -> Outcome:
    outcome = run_digisac_scenario(CYCLES)
    assert not outcome.tracebacks and outcome.failed == 0 and outcome.keyed
    assert any(key.startswith("digisac:") for key in outcome.keyed), "the client side wrote its notes"
    assert outcome.faults == {"client_visible": 0}
    return outcome


def test_random_kills_end_like_a_calm_run_and_reach_no_client(calm: Outcome) -> None:
    rng = random.Random(3)
    points = [(name, hit) for name in POINTS for hit in range(1, calm.hits.get(name, 0) + 1)]
    assert {name for name, _ in points} >= {"engine.before_commit", "outbox.after_send"}
    for _ in range(3):
        killed = run_digisac_scenario(CYCLES, kills=rng.sample(points, 3))
        result = compare(calm, killed)
        assert killed.crashes >= 1
        assert (killed.duplicates, killed.failed, killed.tracebacks) == (0, 0, []), difference(calm, killed)
        assert len(killed.keyed) == len(calm.keyed), ("a post or note lost or added", difference(calm, killed))
        assert killed.tickets == calm.tickets, difference(calm, killed)
        assert result.extra == result.missing, result
        assert killed.faults == {"client_visible": 0}


def test_a_fault_storm_on_every_endpoint_ends_like_a_calm_run_and_reaches_no_client(calm: Outcome) -> None:
    stormy = run_digisac_scenario(CYCLES, storm=Storm(0.3, random.Random(9), max_retry_after=20))
    result = compare(calm, stormy)
    assert stormy.faults["injected"] >= 10
    assert (stormy.duplicates, stormy.failed, stormy.tracebacks) == (0, 0, []), difference(calm, stormy)
    assert len(stormy.keyed) == len(calm.keyed), ("a post or note lost or added", difference(calm, stormy))
    assert stormy.tickets == calm.tickets, difference(calm, stormy)
    assert result.extra == result.missing, result
    assert stormy.faults["client_visible"] == 0
