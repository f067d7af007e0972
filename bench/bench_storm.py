"""Full-size fault storm (not part of the test suite; tests/test_storm.py is the CI-sized one).

30% of every Slack and G Click call answered with a fault — 429 with Retry-After up to 120 s,
500, 503, answers after the client's timeout whose writes still happen, malformed bodies,
connection resets — for ``--cycles`` cycles (≥ 20) while client requests keep arriving, then
3 clean cycles; compared with a calm run of the same scenario. Prints one summary line.

    .venv/bin/python bench/bench_storm.py --cycles 20 --seeds 3
"""

from __future__ import annotations

import argparse
import random
import time

from hygiene.logs import configure
from sandbox.storm import Storm, compare, difference, run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, default=3, help="storms to run, one seed each")
    args = parser.parse_args()
    configure("error", True)
    started = time.monotonic()
    calm = run_scenario(args.cycles)
    totals = {"duplicates": 0, "missing": 0, "extra": 0, "reworded": 0, "failed": 0, "tracebacks": 0}
    worst, faults = 0.0, 0
    for seed in range(args.seeds):
        stormy = run_scenario(args.cycles, storm=Storm(args.rate, random.Random(seed), max_retry_after=120))
        result = compare(calm, stormy)
        for key in totals:
            totals[key] += getattr(result, key)
        worst = max(worst, result.max_cycle_seconds)
        faults += sum(stormy.faults.values())
        if not result.clean:
            print(f"seed {seed}: {difference(calm, stormy)}")
    print(
        f"bench_storm: rate={args.rate:.0%} cycles={args.cycles}+3 seeds={args.seeds} faults={faults} "
        + " ".join(f"{key}={value}" for key, value in totals.items())
        + f" max_cycle_s={worst:.1f} wall_s={time.monotonic() - started:.0f}"
    )


if __name__ == "__main__":
    main()
