"""Fuzz every reader of outside input with the bench profile (10,000 examples a target by default).

Prints one line per target: examples run (shrinking included) and failures (distinct errors
Hypothesis reported; each also printed with its smallest input). Not part of the test suite.

    .venv/bin/python bench/bench_fuzz.py                  # every target, 10,000 examples each
    .venv/bin/python bench/bench_fuzz.py --examples 500 --jobs 4 "gclick pages"
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def use_profile(examples: int) -> None:
    """The bench profile with ``examples`` a target; loaded before the targets are imported."""
    os.environ["HYPOTHESIS_PROFILE"] = "bench"
    from hypothesis import settings

    import tests.conftest  # noqa: F401 - registers the profiles

    settings.register_profile("bench-run", settings.get_profile("bench"), max_examples=examples)
    settings.load_profile("bench-run")


def run_target(name: str) -> tuple[str, int, int, float, str]:
    """One target in a worker: (name, examples run, failures, seconds, first failure)."""
    from tests import test_fuzz

    started = time.monotonic()
    failures, first = 0, ""
    try:
        test_fuzz.TARGETS[name]()
    except BaseException as exc:
        found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
        failures = len(found)
        first = "".join(traceback.format_exception_only(found[0])).strip()
    return name, test_fuzz.EXAMPLES[name], failures, time.monotonic() - started, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="Target names (default: all).")
    parser.add_argument("--examples", type=int, default=10_000, help="Examples per target.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Targets run in parallel.")
    args = parser.parse_args()
    use_profile(args.examples)
    from tests.test_fuzz import TARGETS

    names = args.targets or list(TARGETS)
    total_failures = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, run, failures, seconds, first in pool.map(run_target, names):
            total_failures += failures
            print(f"{name:<18} examples {run:>7}  failures {failures}  ({seconds:.0f} s)", flush=True)
            if first:
                print(f"    {first}", flush=True)
    sys.exit(1 if total_failures else 0)


if __name__ == "__main__":
    main()
