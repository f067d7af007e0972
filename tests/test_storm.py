"""CI-sized harnesses: a fault storm and random kills end with what a calm run ends with.

The full-size versions are bench/bench_storm.py and bench/bench_kill.py (sandbox/storm.py
holds the scenario, the storm and the comparison).
"""

from __future__ import annotations

import random

import pytest

from hygiene.failpoints import POINTS
from sandbox.storm import Outcome, Storm, compare, difference, run_scenario

CYCLES = 6
SLEEP_CAPS = 30 + 30  # [slack] and [helpdesk] max_sleep_per_cycle_seconds in the scenario


@pytest.fixture(scope="module")
def calm() -> Outcome:
    outcome = run_scenario(CYCLES)
    assert not outcome.tracebacks and outcome.failed == 0 and outcome.tickets
    return outcome


def test_a_storm_on_every_endpoint_ends_like_a_calm_run(calm: Outcome) -> None:
    stormy = run_scenario(CYCLES, storm=Storm(0.3, random.Random(7)))
    result = compare(calm, stormy)
    assert result.clean, (result, difference(calm, stormy))
    assert result.max_cycle_seconds < SLEEP_CAPS + 15, "a long Retry-After defers, it never stalls a cycle"
    assert sum(stormy.faults.values()) >= 20 and any(k.startswith("gclick.") for k in stormy.faults)


def test_random_kills_end_like_a_calm_run(calm: Outcome) -> None:
    rng = random.Random(11)
    points = [(name, hit) for name in POINTS for hit in range(1, calm.hits.get(name, 0) + 1)]
    assert {name for name, _ in points} >= {"engine.before_commit", "outbox.after_send", "outbox.after_create"}
    killed = run_scenario(CYCLES, kills=rng.sample(points, 4))
    result = compare(calm, killed)
    assert killed.crashes >= 1
    assert result.clean, (result, difference(calm, killed))
