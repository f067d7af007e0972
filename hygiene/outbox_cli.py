"""``hygiene outbox``: the side effects not done yet (or failed), and re-queueing them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from hygiene import config as config_module
from hygiene.cli_guard import guarded
from hygiene.clock import SystemClock
from hygiene.errors import ConfigError
from hygiene.store import OutboxEntry, Store

STATUSES = ("pending", "unknown", "sending", "failed")


def entry_record(entry: OutboxEntry) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "key": entry.action.key,
        "kind": entry.action.kind.value,
        "status": entry.status,
        "rule": entry.action.rule,
        "channel": entry.action.channel,
        "attempts": entry.attempts,
        "error": entry.error,
        "created_at": iso(entry.created_at),
        "next_attempt_at": iso(entry.next_attempt_at),
        "unknown_since": iso(entry.unknown_since),
    }


def table(entries: list[OutboxEntry]) -> str:
    lines = [f"{'STATUS':<8} {'ATTEMPTS':>8}  {'KIND':<14} {'KEY':<34} LAST ERROR"]
    for entry in entries:
        error = (entry.error or "-").replace("\n", " ")
        lines.append(
            f"{entry.status:<8} {entry.attempts:>8}  {entry.action.kind.value:<14} {entry.action.key:<34} {error[:100]}"
        )
    return "\n".join(lines)


@click.group(invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "all"]),
    default="all",
    show_default=True,
    help="Only entries in this status (all: every one not done).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
@guarded
def outbox(ctx: click.Context, config_path: Path | None, status: str, fmt: str) -> None:
    """Side effects (nudges, DMs, tickets) not done yet or failed, with attempts and last error.

    `hygiene outbox retry ID` (or `--all`) queues failed ones again.

    Example:

        hygiene outbox --status failed --format jsonl
    """
    ctx.obj = config_path
    if ctx.invoked_subcommand is not None:
        return
    store = _store(config_path)
    try:
        entries = store.outbox.unsettled(STATUSES if status == "all" else (status,))
    finally:
        store.close()
    if fmt == "jsonl":
        for entry in entries:
            click.echo(json.dumps(entry_record(entry), ensure_ascii=False))
        return
    click.echo(table(entries))
    click.echo(f"outbox: {len(entries)} not done", err=True)


@outbox.command("retry")
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="Every failed or waiting entry.")
@click.pass_obj
@guarded
def retry(config_path: Path | None, key: str | None, every: bool) -> None:
    """Queue a failed entry (by its key) or all of them again, due at once; the next run tries them.

    Example:

        hygiene outbox retry 39285d88cb7f06781467:create
    """
    if bool(key) == every:
        raise click.UsageError("give one KEY or --all")
    store = _store(config_path)
    try:
        count = store.outbox.retry(None if every else key, SystemClock().now())
    finally:
        store.close()
    if key and not count:
        raise click.UsageError(f"no entry {key!r} waiting or failed in the outbox")
    click.echo(f"outbox: {count} entr{'y' if count == 1 else 'ies'} queued again", err=True)


def _store(config_path: Path | None) -> Store:
    config = config_module.load(config_path)
    if not config.store_path.exists():
        raise ConfigError(f"hygiene.state_dir: no store at {config.store_path} yet (run `hygiene run` first)")
    return Store.open(config.store_path)
