"""Benchmark `hygiene audit` on a long synthetic history: speed against parsing, memory, cores.

Generates N message lines of a realistic mix (bench/chat_mix.py: mostly chatter; requests,
status questions, urgent and bare messages from the labeled corpus; threads, edits, deletions,
joins and bots; Portuguese and English; 40 channels of uneven activity) into a file, then:

- times ``json.loads`` over every line of the file (one process): the cost of parsing alone;
- runs ``hygiene audit FILE --format jsonl --jobs J`` for each J of ``--jobs`` (a separate
  process each, output to /dev/null) and prints its wall time, messages per second, the ratio
  ``audit_seconds / json_loads_seconds`` and its peak RSS (the largest process: with workers,
  the largest of them);
- with more than one J, the throughput each added core adds, as a share of one core's.

``--profile`` also profiles the one-process audit (cProfile) and prints the top entries.

``--chat FILE ...`` audits those message files instead of the generated mix (each file its own
channel, as ``hygiene audit`` reads them): real chat, whose texts rarely repeat, where the mix
cycles through about 8,000 texts and so every per-text cache hits.

    .venv/bin/python bench/bench_audit.py --messages 1000000 --jobs 1,2
    .venv/bin/python bench/bench_audit.py --messages 100000 --jobs 1 --profile
    .venv/bin/python bench/bench_audit.py --jobs 1 --chat ../shared/corpora/clojurians-2018-02/*.jsonl
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chat_mix import CORPUS, message_lines

from connectors.audit_input import Splitter
from connectors.chat.slack.export import MessageReader

HYGIENE = Path(sys.executable).parent / "hygiene"


def generate(path: Path, count: int, seed: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in message_lines(count, seed):
            out.write(line + "\n")


def json_loads_seconds(paths: list[Path]) -> tuple[float, float, int]:
    """(wall, CPU) seconds of json.loads over every line, and how many lines there are."""
    started, cpu, lines = time.perf_counter(), time.process_time(), 0
    for path in paths:
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    json.loads(line)
                    lines += 1
    return time.perf_counter() - started, time.process_time() - cpu, lines


def audit_run(paths: list[Path], jobs: int) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds of all its processes, peak RSS in MB, summary) of one `hygiene audit`."""
    command = [str(HYGIENE), "audit", *map(str, paths), "--tickets", str(CORPUS / "tickets.json"), "--format", "jsonl"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as out:
        process = subprocess.Popen([*command, "--jobs", str(jobs)], stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        err.seek(0)
        summary = err.read().decode().splitlines()[0]
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"hygiene audit failed: {summary}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, summary


def balance(paths: list[Path], jobs: int) -> float:
    """The largest worker's share of the lines, as `--jobs` splits this input (1/share bounds the speedup)."""
    splitter = Splitter(jobs, MessageReader())
    for path in paths:
        with path.open("rb") as handle:
            for _ in splitter.lines(handle, path.name):
                pass
    return max(splitter.shares())


def profile(paths: list[Path], top: int) -> None:
    """The one-process audit path of the CLI, under cProfile."""
    from hygiene.cli import audit

    profiler = cProfile.Profile()
    args = [*map(str, paths), "--tickets", str(CORPUS / "tickets.json"), "--format", "jsonl", "--jobs", "1"]
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115
    try:
        profiler.runcall(audit.main, args, standalone_mode=False)
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    print(text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", default=f"1,{os.cpu_count() or 1}", help="comma-separated job counts to run")
    parser.add_argument("--profile", action="store_true", help="also profile the one-process audit")
    parser.add_argument("--chat", nargs="+", type=Path, help="audit these message files instead of the mix")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = list(args.chat or [Path(tmp) / "messages.jsonl"])
        if not args.chat:
            generate(paths[0], args.messages, args.seed)
        size = sum(path.stat().st_size for path in paths) / 1e6
        parse, parse_cpu, args.messages = json_loads_seconds(paths)
        print(
            f"{args.messages:,} lines ({size:,.0f} MB), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"json.loads over the lines: {parse:.2f}s, {parse_cpu:.2f}s CPU ({args.messages / parse:,.0f} lines/s)")
        rates: dict[int, float] = {}
        for jobs in sorted({int(j) for j in args.jobs.split(",")}):
            seconds, cpu, rss, summary = audit_run(paths, jobs)
            rates[jobs] = args.messages / seconds
            share = f"  largest worker's share {balance(paths, jobs):.0%}" if jobs > 1 else ""
            print(
                f"--jobs {jobs}: {seconds:.2f}s ({cpu:.2f}s CPU)  {rates[jobs]:,.0f} messages/s  "
                f"ratio audit/json.loads {seconds / parse:.1f} (CPU {cpu / parse_cpu:.1f})  "
                f"peak RSS {rss:.0f} MB{share}"
            )
        print(summary)
        for jobs, rate in rates.items():
            if jobs > 1 and 1 in rates:
                added = (rate / rates[1] - 1) / (jobs - 1)
                print(f"--jobs {jobs}: each added core adds {added:.2f}× one core's throughput")
        if args.profile:
            profile(paths, 25)


if __name__ == "__main__":
    main()
