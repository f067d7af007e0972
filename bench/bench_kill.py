"""Kill sweep (not part of the test suite; tests/test_storm.py has the CI-sized one).

Crashes runs of the scenario until ``--points`` kills have struck at failpoint hits (HYGIENE_FAILPOINTS' points, each
hit a moment: after the helpdesk sync, before a channel's commit, between "sending" and the
send, between the send and "done", after a ticket is created), several per run, each run then
carrying on as cron would; compared with a calm run. Prints one summary line.

    .venv/bin/python bench/bench_kill.py --points 1000
"""

from __future__ import annotations

import argparse
import random
import time

from hygiene.failpoints import POINTS
from hygiene.logs import configure
from sandbox.storm import compare, difference, run_scenario

CYCLES = 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--per-run", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    configure("error", True)
    rng = random.Random(args.seed)
    started = time.monotonic()
    calm = run_scenario(CYCLES)
    points = [(name, hit) for name in POINTS for hit in range(1, calm.hits.get(name, 0) + 1)]
    totals = {"crashes": 0, "duplicates": 0, "missing": 0, "extra": 0, "reworded": 0, "failed": 0, "tracebacks": 0}
    worst, done, runs = 0.0, 0, 0
    while totals["crashes"] < args.points:  # a kill armed after an earlier one may never be reached: count strikes
        kills = rng.sample(points, min(args.per_run, args.points - totals["crashes"]))
        outcome = run_scenario(CYCLES, kills=kills)
        result = compare(calm, outcome)
        for key in totals:
            totals[key] += getattr(result, key)
        worst = max(worst, result.max_cycle_seconds)
        done, runs = done + len(kills), runs + 1
        if not result.clean:
            print(f"kills {kills}: {difference(calm, outcome)}")
    print(
        f"bench_kill: kills_struck={totals['crashes']} armed={done} runs={runs} distinct_points={len(points)} "
        + " ".join(f"{key}={value}" for key, value in totals.items() if key != "crashes")
        + f" max_cycle_s={worst:.1f} wall_s={time.monotonic() - started:.0f}"
    )


if __name__ == "__main__":
    main()
