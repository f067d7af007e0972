"""``hygiene serve``, ``hygiene stats`` and ``hygiene feedback export``: the real-time side and
what people's feedback says."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click

from hygiene import config as config_module
from hygiene.cli_guard import guarded
from hygiene.clock import Clock, SystemClock
from hygiene.errors import ConfigError
from hygiene.serve import ServeCounts, Server
from hygiene.stats import export_lines, stats
from hygiene.store import Store, database
from hygiene.wiring import build_engine, build_events

CONFIG_HELP = "Config file (default: $HYGIENE_CONFIG or ./hygiene.toml)."


def config_option(function: Callable[..., Any]) -> Callable[..., Any]:
    option = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help=CONFIG_HELP)
    return option(function)


def serve_until_stopped(
    config: config_module.Config,
    clock: Clock,
    stop: threading.Event,
    *,
    token: str | None = None,
    app_token: str | None = None,
    on_start: Callable[[Server], None] | None = None,
) -> ServeCounts:
    """Open the store and the connections in this thread, and serve until ``stop`` is set."""
    database.prepare_state_dir(config.hygiene.state_dir)
    store = Store.open(config.store_path)
    try:
        engine = build_engine(config, store, clock, token=token)
        connections = build_events(config, engine, clock, app_token=app_token)
        server = Server(
            engine,
            connections,
            poll_seconds=config.serve.poll_seconds,
            health_file=config.serve.health_file,
            lock_path=config.lock_path,
        )

        def relay() -> None:
            stop.wait()
            server.stop()

        threading.Thread(target=relay, name="serve-stop", daemon=True).start()
        server.start()
        if on_start is not None:
            on_start(server)
        return server.run()
    finally:
        store.close()


@click.command()
@config_option
@click.option("--health-file", type=click.Path(dir_okay=False, path_type=Path), help="Write health (JSON) here.")
@click.option("--poll-seconds", type=click.FloatRange(min=30), help="Safety-net cycle interval (default: config).")
@guarded
def serve(config_path: Path | None, health_file: Path | None, poll_seconds: float | None) -> None:
    """Serve in real time over the chat's push connection (Slack Socket Mode); SIGTERM stops it.

    Needs the app-level token (SLACK_APP_TOKEN, xapp-…) besides the bot token. The polling cycle
    keeps running inside, every [serve] poll_seconds, as the safety net.

    Example:

        SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… hygiene serve --health-file /run/hygiene/health.json
    """
    config = config_module.load(config_path)
    if health_file is not None:
        config.serve.health_file = health_file
    if poll_seconds is not None:
        config.serve.poll_seconds = poll_seconds
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        click.echo(f"hygiene serve: {signal.Signals(number).name}: finishing the current work, then stopping", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    counts = serve_until_stopped(config, SystemClock(), stop)
    click.echo(
        f"serve: {counts.events} events, {counts.nudges} nudges, {counts.cycles} safety-net cycles, "
        f"{counts.interactions} interactions",
        err=True,
    )


def _store(config_path: Path | None) -> Store:
    config = config_module.load(config_path)
    if not config.store_path.exists():
        raise ConfigError(f"hygiene.state_dir: no store at {config.store_path} yet (run `hygiene run` first)")
    return Store.open(config.store_path)


@click.command("stats")
@config_option
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True, help="Look back this many days.")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@guarded
def stats_command(config_path: Path | None, days: int, fmt: str) -> None:
    """Per rule and channel: findings, nudges, confirmed, rejected, missed and precision, from feedback.

    Suggests mode = "report" where precision is under [feedback] min_precision.

    Example:

        hygiene stats --days 30
    """
    config = config_module.load(config_path)
    store = _store(config_path)
    try:
        rows = stats(store, SystemClock().now() - timedelta(days=days))
    finally:
        store.close()
    floor, enough = config.feedback.min_precision, config.feedback.min_labels
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row.as_dict(floor, enough), ensure_ascii=False))
        return
    click.echo(f"{'RULE':<6} {'CHANNEL':<24} {'FIND':>5} {'NUDGE':>5} {'CONF':>5} {'REJ':>5} {'MISS':>5} PRECISION")
    for row in rows:
        shown = "-" if row.precision is None else f"{row.precision:.2f}"
        click.echo(
            f"{row.rule:<6} {row.channel[:24]:<24} {row.findings:>5} {row.nudges:>5} {row.confirmed:>5} "
            f"{row.rejected:>5} {row.missed:>5} {shown}"
        )
    for row in rows:
        if suggestion := row.suggestion(floor, enough):
            click.echo(f"suggestion: precision {row.precision:.2f} for {row.rule} in #{row.channel}: {suggestion}")


@click.group("feedback")
def feedback() -> None:
    """What people said about the nudges (labels): 👎, "Not a request", tickets from buttons and the shortcut.

    Example:

        hygiene feedback export --days 30 --out labeled.jsonl
    """


@feedback.command("export")
@config_option
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True, help="Look back this many days.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout).")
@guarded
def feedback_export(config_path: Path | None, days: int, out: Path | None) -> None:
    """Write the labeled messages as message lines with a `labels` key, for `hygiene audit --labels`.

    Example:

        hygiene feedback export --out labeled.jsonl && hygiene audit --labels labeled.jsonl
    """
    store = _store(config_path)
    try:
        lines = list(export_lines(store, SystemClock().now() - timedelta(days=days)))
    finally:
        store.close()
    text = "".join(line + "\n" for line in lines)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
    click.echo(f"feedback: {len(lines)} labeled message(s)", err=True)
