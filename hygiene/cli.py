"""The ``hygiene`` command line. Data goes to stdout; logs and summaries go to stderr.

Exit codes (CONTRACTS.md): 0 success (also when another run holds the lock), 1 the job ran but
failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from hygiene import __version__
from hygiene import config as config_module
from hygiene.clock import SystemClock
from hygiene.engine import CycleReport
from hygiene.errors import ConfigError, HygieneError, LockHeld
from hygiene.lock import run_lock
from hygiene.logs import configure, redact
from hygiene.store import Store
from hygiene.wiring import build_chat, build_engine, build_rules
from rules import REGISTRY

F = TypeVar("F", bound=Callable[..., Any])


def config_option(function: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: $HYGIENE_CONFIG or ./hygiene.toml).",
    )(function)


def guarded(function: F) -> F:
    """Turn hygiene's errors into the exit codes of CONTRACTS.md, with a message and no traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except LockHeld as exc:
            click.echo(f"hygiene: {exc}", err=True)
            sys.exit(0)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {redact(problem)}", err=True)
            sys.exit(2)
        except HygieneError as exc:
            click.echo(f"error: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hygiene")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-json/--log-console", default=None, help="Log format (default: JSON unless stderr is a terminal).")
def cli(log_level: str, log_json: bool | None) -> None:
    """Keep client work in the helpdesk and chat in the chat."""
    configure(log_level, log_json)


@cli.command()
@config_option
@click.option("--dry-run", is_flag=True, help="Judge and record, but post nothing.")
@guarded
def run(config_path: Path | None, dry_run: bool) -> None:
    """Run one cycle: sync, judge, nudge. For cron or a systemd timer.

    Example:

        SLACK_BOT_TOKEN=xoxb-… hygiene run --config /etc/hygiene/hygiene.toml
    """
    config = config_module.load(config_path)
    if dry_run:
        config.hygiene.dry_run = True
    report = run_once(config)
    sys.exit(0 if report.ok else 1)


def run_once(config: config_module.Config) -> CycleReport:
    """One locked cycle; prints its summary to stderr."""
    clock = SystemClock()
    with run_lock(config.lock_path):
        store = Store.open(config.store_path)
        try:
            report = build_engine(config, store, clock).run_cycle()
        finally:
            store.close()
    click.echo(summary_line(report), err=True)
    for error in report.errors:
        click.echo(f"error: {redact(error)}", err=True)
    return report


def summary_line(report: CycleReport) -> str:
    findings = ", ".join(f"{code} {count}" for code, count in sorted(report.findings.items())) or "none"
    calls = sum(report.calls.values())
    return (
        f"cycle: {report.channels} channels, {report.messages_read} messages read "
        f"({report.new} new, {report.changed} changed, {report.deleted} deleted); findings: {findings}; "
        f"posted {report.sent}, recovered {report.recovered}, deferred {report.deferred}, failed {report.failed}; "
        f"{calls} API calls"
    )


@cli.command()
@config_option
@click.option(
    "--interval", type=click.FloatRange(min=5), default=120, show_default=True, help="Seconds between cycles."
)
@click.option("--cycles", type=click.IntRange(min=1), default=None, help="Stop after N cycles (default: never).")
@guarded
def watch(config_path: Path | None, interval: float, cycles: int | None) -> None:
    """Run cycles forever, one every INTERVAL seconds (Ctrl-C stops).

    Example:

        hygiene watch --interval 120
    """
    config = config_module.load(config_path)
    done = 0
    while True:
        started = time.monotonic()
        try:
            run_once(config)
        except LockHeld as exc:
            click.echo(f"hygiene: {exc}", err=True)
        except HygieneError as exc:
            if isinstance(exc, ConfigError):
                raise
            click.echo(f"error: {redact(str(exc))}", err=True)
        done += 1
        if cycles is not None and done >= cycles:
            return
        try:
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
        except KeyboardInterrupt:
            return


@cli.command("check-config")
@config_option
@click.option("--offline", is_flag=True, help="Only validate the file; do not ask Slack about channels.")
@guarded
def check_config(config_path: Path | None, offline: bool) -> None:
    """Validate the config file (and, with a token, that every channel exists and has the bot).

    Example:

        hygiene check-config --config hygiene.toml --offline
    """
    path = config_module.resolve_path(config_path)
    config = config_module.load(path)
    build_rules(config.rules)
    if not offline:
        with run_lock(config.lock_path):
            store = Store.open(config.store_path)
            try:
                chat = build_chat(config, store, SystemClock())
                chat.connect()
                channels = chat.resolve_channels(config.slack.channels)
            finally:
                store.close()
        click.echo(f"{path}: ok ({len(channels)} channels: {', '.join('#' + c.name for c in channels)})")
    else:
        click.echo(f"{path}: ok")


@cli.command("rules")
@click.argument("code", required=False)
@guarded
def rules_command(code: str | None) -> None:
    """List the rules, or print one rule's documentation.

    Example:

        hygiene rules HY101
    """
    if code is None:
        for rule in REGISTRY.values():
            click.echo(f"{rule.code}  {rule.name:<22} {rule.default_mode.value:<7} {rule.summary}")
        return
    rule_class = REGISTRY.get(code.upper())
    if rule_class is None:
        raise ConfigError(f"unknown rule {code!r} (known: {', '.join(REGISTRY)})")
    click.echo(rule_class.documentation())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line of counts (CONTRACTS.md).")
@click.option("--scenario", default="accounting", show_default=True, help="Sandbox scenario to seed.")
@guarded
def demo(as_json: bool, scenario: str) -> None:
    """Run the scripted demo against the built-in sandbox (no token, no network beyond loopback).

    Example:

        hygiene demo --json
    """
    from hygiene.demo import run_demo

    configure("warning")  # the demo's own output is the transcript; logs only for problems
    counts = run_demo(scenario, out=click.echo)
    if as_json:
        click.echo(json.dumps(counts, sort_keys=False))


def main() -> None:
    cli(prog_name="hygiene")
