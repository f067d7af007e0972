"""The ``hygiene`` command line. Data goes to stdout; logs and summaries go to stderr.

Exit codes (CONTRACTS.md): 0 success (also when another run holds the lock, unless it is stuck past
the cycle limit), 1 the job ran but failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from connectors.audit_input import Block, Splitter, WorkReader
from connectors.chat.slack.blocks import render_messages
from connectors.chat.slack.export import MessageReader
from connectors.helpdesk import files as files_helpdesk
from connectors.helpdesk.files import read_tickets
from hygiene import __version__
from hygiene import config as config_module
from hygiene import serve_cli as serve_commands
from hygiene.audit import Auditor, AuditSummary
from hygiene.audit_jobs import run_in_workers
from hygiene.audit_output import FindingWriter, message_bar, print_scores, print_summary, progress_bar
from hygiene.charters import CharterBook
from hygiene.chat_history import HistoryRead, history_events
from hygiene.cli_guard import guarded
from hygiene.clients import ClientMatcher, read_client_names
from hygiene.clock import SystemClock
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.cycle import CycleReport, retry_rules
from hygiene.errors import BudgetExhausted, ConfigError, ExternalError, HygieneError, LockHeld
from hygiene.kinds import chat_kinds
from hygiene.lock import STALE_MARGIN_SECONDS, run_lock
from hygiene.logs import configure, mask_tokens, redact
from hygiene.models import Action, ActionKind, ChatMessage, Ticket
from hygiene.outbox import deliver
from hygiene.outbox_cli import outbox
from hygiene.policy import static_action
from hygiene.ports import ChannelInfo, Chat, ContactDirectory
from hygiene.refs import url_pattern
from hygiene.report import (
    DailyReport,
    build_rows,
    day_figures,
    remember,
    render_csv,
    render_html,
    render_markdown,
    report_day,
    report_document,
)
from hygiene.rulebase import Rule
from hygiene.sla import SlaBook
from hygiene.store import Store, database
from hygiene.store.migrations import MIGRATIONS
from hygiene.text import clip, guess_language, matchable
from hygiene.watchdog import CycleTimeout, cycle_deadline
from hygiene.wiring import (
    AnyRule,
    build_chat,
    build_chats,
    build_engine,
    build_helpdesk,
    channel_settings,
    message_rules,
    render_markup,
    rules_for,
    ticket_rules,
)

F = TypeVar("F", bound=Callable[..., Any])


def config_option(function: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: $HYGIENE_CONFIG or ./hygiene.toml).",
    )(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hygiene")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-json/--log-console", default=None, help="Log format (default: JSON unless stderr is a terminal).")
def cli(log_level: str, log_json: bool | None) -> None:
    """Keep client work in the helpdesk and chat in the chat."""
    configure(log_level, log_json)
    config_module.mask_env_secrets()


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
    database.prepare_state_dir(config.hygiene.state_dir)
    limit = config.hygiene.cycle_timeout_seconds
    with run_lock(config.lock_path, stale_after=limit + STALE_MARGIN_SECONDS) as broken:
        if broken:
            click.echo(f"error: {broken}", err=True)
        store = Store.open(config.store_path)
        try:
            if broken:
                _fail_abandoned_runs(store, clock, broken)
            with cycle_deadline(limit):
                report = build_engine(config, store, clock).run_cycle()
        except CycleTimeout:
            raise HygieneError(
                f"hygiene.cycle_timeout_seconds: the cycle ran past {limit:g} s and was ended (recorded as failed)"
            ) from None
        finally:
            store.close()
    if broken:
        report.errors.append("this run broke a stale lock (see above): the run before it hung")
    click.echo(summary_line(report), err=True)
    for error in report.errors:
        click.echo(f"error: {redact(error)}", err=True)
    return report


def _fail_abandoned_runs(store: Store, clock: SystemClock, note: str) -> None:
    """Runs still marked running when we hold the lock were ended from outside: record them as failed."""
    for row in store.runs.all():
        if row["status"] == "running":
            store.runs.finish(row["id"], clock.now(), "failed", {"errors": [note]})


def summary_line(report: CycleReport) -> str:
    findings = ", ".join(f"{code} {count}" for code, count in sorted(report.findings.items())) or "none"
    calls = sum(report.calls.values())
    return (
        f"cycle: {report.channels} channels, {report.messages_read} messages read "
        f"({report.new} new, {report.changed} changed, {report.deleted} deleted); findings: {findings}; "
        f"posted {report.sent}, recovered {report.recovered}, deferred {report.deferred}, failed {report.failed}; "
        f"{calls} API calls" + _outbox_notes(report)
    )


def _outbox_notes(report: CycleReport) -> str:
    """What only shows when it happened: retries waiting, writes of unknown outcome, escalations, a stale snapshot."""
    notes = [
        f"{count} {what}"
        for count, what in (
            (report.retrying, "to retry later"),
            (report.unknown, "of unknown outcome (looked for before any resend)"),
            (report.escalated, "escalated"),
        )
        if count
    ]
    if report.snapshot_from:
        notes.append(f"helpdesk sync failed: judged with the snapshot of {report.snapshot_from}")
    return "; " + "; ".join(notes) if notes else ""


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
    rules = rules_for(config)
    if not offline:
        database.prepare_state_dir(config.hygiene.state_dir)
        with run_lock(config.lock_path):
            store = Store.open(config.store_path)
            try:
                chats = build_chats(config, store, SystemClock())
                channels = _resolve_every_channel(chats, config, rules)
                helpdesk = build_helpdesk(config)
                clients = helpdesk.clients() if helpdesk else []
                unmapped = _unmapped_contacts(chats, config, clients)
            finally:
                store.close()
        listed = ", ".join("#" + c.name for c in channels)
        desk = f"; {helpdesk.display_name}: {len(clients)} clients" if helpdesk else ""
        click.echo(f"{path}: ok ({len(channels)} channels: {listed}{desk})")
        for line in unmapped:
            click.echo(line)
    else:
        click.echo(f"{path}: ok")
    for note in config.notes:
        click.echo(f"note: {note}", err=True)


def _unmapped_contacts(chats: list[Chat], config: config_module.Config, clients: list[str]) -> list[str]:
    """A warning per chat with clients whose contacts the mapping and the client directory leave
    without a client (shown by first name, never a phone number): someone should map them in the
    chat's ``[chat.contacts]``. Nothing when no client is known to match against."""
    known = [*config.clients.names, *clients]
    if not known:
        return []
    matcher = ClientMatcher(known, config.clients.aliases, config.clients.match_threshold)

    def find(text: str) -> str | None:
        match = matcher.find(text)
        return match.client if match else None

    lines: list[str] = []
    for chat, settings in zip(chats, config.chats, strict=True):
        if not isinstance(chat, ContactDirectory):
            continue
        try:
            unmapped = chat.unmapped_contacts(find)
        except (BudgetExhausted, ExternalError) as exc:
            lines.append(f"warning: {settings.key_path}: contacts unread, so none checked for a client: {exc}")
            continue
        if unmapped:
            lines.append(
                f"warning: {settings.key_path}: {len(unmapped)} contacts with no known client "
                f"(map them in {settings.key_path}.contacts): {', '.join(unmapped)}"
            )
    return lines


def _unknown_in_every_chat(chats: list[Chat], settings: list[tuple[str, str]]) -> list[str]:
    """Channel settings that no chat has: each named by its key path, as the first chat words it."""
    unknown: dict[str, str] = {}
    for index, chat in enumerate(chats):
        try:
            chat.resolve_channels([name for _, name in settings], [path for path, _ in settings], need_member=False)
            return []
        except ConfigError as exc:
            found = {problem.split(":", 1)[0]: problem for problem in exc.problems}
            unknown = found if index == 0 else {path: unknown[path] for path in found if path in unknown}
    return list(unknown.values())


def _resolve_every_channel(chats: list[Chat], config: config_module.Config, rules: list[AnyRule]) -> list[ChannelInfo]:
    """Every chat's watched channels, after checking every channel setting against one read of
    the chats' channel lists (a setting is fine when any chat has the channel)."""
    problems: list[str] = []
    channels: list[ChannelInfo] = []
    for chat, settings in zip(chats, config.chats, strict=True):
        chat.connect()
        paths = [f"{settings.key_path}.channels[{i}]" for i in range(len(settings.channels))]
        try:
            channels += chat.resolve_channels(settings.channels, paths)
        except ConfigError as exc:
            problems += exc.problems
    problems += _unknown_in_every_chat(chats, channel_settings(config, rules))
    if problems:
        raise ConfigError(problems)
    return channels


@cli.command("rules")
@click.argument("code", required=False)
@config_option
@guarded
def rules_command(code: str | None, config_path: Path | None) -> None:
    """List the rules (with the config's custom HY9xx ones and modes), or print one rule's documentation.

    Example:

        hygiene rules HY101
    """
    config = optional_config(config_path)
    rules = {rule.code: rule for rule in rules_for(config)}
    if code is None:
        for rule in rules.values():
            mode = rule.settings.mode.value
            click.echo(f"{rule.code}  {rule.name:<22} {mode:<7} {rule.summary}")
        return
    chosen = rules.get(code.upper())
    if chosen is None:
        raise ConfigError(f"unknown rule {code!r} (known: {', '.join(rules)})")
    click.echo(type(chosen).documentation())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line of counts (CONTRACTS.md).")
@click.option("--scenario", default="accounting", show_default=True, help="Sandbox scenario to seed.")
@click.option("--realtime", is_flag=True, help="The Socket Mode session of `hygiene serve` instead of polling cycles.")
@guarded
def demo(as_json: bool, scenario: str, realtime: bool) -> None:
    """Run the scripted demo against the built-in sandbox (no token, no network beyond loopback).

    Example:

        hygiene demo --json
        hygiene demo --scenario rocketchat --json
    """
    from sandbox.demo import run_demo

    configure("warning")  # the demo's own output is the transcript; logs only for problems
    if realtime:
        from sandbox.demo_realtime import run_realtime_demo

        live = run_realtime_demo(scenario, out=click.echo)
        click.echo(json.dumps(live) if as_json else f"\nSummary: {json.dumps(live)}")
        return
    counts = run_demo(scenario, out=click.echo)
    if as_json:
        click.echo(json.dumps(counts, sort_keys=False))
    else:
        desk = "Zendesk" if scenario == "rocketchat" else "G Click"
        click.echo(
            f"\nSummary: {counts['nudges']} nudges, {counts['tickets_created']} ticket(s) created in {desk}, "
            f"{counts['status_answers']} status question(s) answered from the ticket, "
            f"{counts['thread_updates']} thread update(s), {counts['duplicates_on_rerun']} posts on the quiet rerun."
        )


@cli.command()
@click.option("--scenario", default="accounting", show_default=True, help="Sandbox scenario to seed.")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hygiene-sandbox"),
    show_default=True,
    help="Where to write hygiene.toml and sandbox.env.",
)
@click.option("--for", "seconds", type=click.FloatRange(min=1), default=None, help="Stop after SECONDS.")
@guarded
def sandbox(scenario: str, folder: Path, seconds: float | None) -> None:
    """Serve the sandbox Slack and G Click and write a config for them, to try hygiene by hand.

    Example:

        hygiene sandbox --dir /tmp/try   # then, in another shell: hygiene run --config /tmp/try/hygiene.toml
    """
    from sandbox.serve import serve

    configure("warning")
    serve(scenario, folder, seconds, lambda line: click.echo(line, err=False))


@cli.group("db")
def db_group() -> None:
    """Look after the store (state_dir/hygiene.db).

    Example:

        hygiene db check --config /etc/hygiene/hygiene.toml
    """


@db_group.command("check")
@config_option
@guarded
def db_check(config_path: Path | None) -> None:
    """Check the store: integrity, schema version and rows per table (read-only; exit 1 if damaged).

    Example:

        hygiene db check --config /etc/hygiene/hygiene.toml
    """
    config = config_module.load(config_path, offline=True)
    result = database.check(config.store_path)
    if not result.ok:
        raise database.StoreError(
            f"{result.path}: damaged ({result.problem}); stop hygiene, move it aside "
            f"(mv {result.path} {result.path}.broken) and run again — a new store re-reads recent history"
        )
    latest = len(MIGRATIONS)
    state = "current" if result.schema_version == latest else f"this hygiene expects {latest}"
    click.echo(f"{result.path}: ok (integrity ok; schema version {result.schema_version}, {state})")
    for name, count in sorted(result.counts.items()):
        click.echo(f"  {name:<18} {count:>8}")
    if result.schema_version > latest:
        raise database.StoreError(f"{result.path}: schema version {result.schema_version} is newer than this hygiene")


def optional_config(path: Path | None) -> config_module.Config | None:
    """The config when one is given or found; audits and explain also work without one."""
    if path is None and not os.environ.get("HYGIENE_CONFIG") and not Path(config_module.DEFAULT_PATH).exists():
        return None
    return config_module.load(path, offline=True)


def ticket_snapshot(
    config: config_module.Config | None, tickets: Path | None, clients_file: Path | None = None
) -> TicketSnapshot:
    """What offline judging knows of the helpdesk: --tickets and --clients when given, else the
    configured helpdesk's tickets (as `hygiene run` last stored them, or read now) and its client
    directory, read-only — so that `explain` and `audit` judge as `run` does."""
    section = config.clients if config else config_module.ClientsSection()
    names = list(section.names) + (read_client_names(clients_file) if clients_file else [])
    helpdesk = build_helpdesk(config) if config and not (tickets and clients_file) else None
    if tickets:
        found = read_tickets(tickets)
    elif config is not None and isinstance(config.helpdesk, files_helpdesk.Settings) and config.helpdesk.path:
        found = read_tickets(config.helpdesk.path)
    elif helpdesk is not None:
        found = _stored_tickets(config, helpdesk.name) or helpdesk.sync({}).tickets
    else:
        found = []
    if clients_file is None and helpdesk is not None:
        names += helpdesk.clients()
    return TicketSnapshot(found, section.aliases, section.match_threshold, names)


def _stored_tickets(config: config_module.Config | None, helpdesk: str) -> list[Ticket]:
    if config is None or not config.store_path.exists():
        return []
    store = Store.open(config.store_path)
    try:
        return store.tickets.all(helpdesk)
    finally:
        store.close()


def clients_option(function: F) -> F:
    return click.option(
        "--clients",
        "clients_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="The client directory: one name per line, or a CSV with a name column (default: the helpdesk's).",
    )(function)


def tickets_option(function: F) -> F:
    return click.option(
        "--tickets",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="A ticket export (.json, .jsonl, .csv) for ticket numbers and client names (default: the helpdesk's).",
    )(function)


@cli.command()
@config_option
@click.option("--slack-export", type=click.Path(exists=True, path_type=Path), help="A Slack export folder or zip.")
@click.option(
    "--messages",
    multiple=True,
    type=click.Path(allow_dash=True, dir_okay=False),
    help="Message lines (JSONL, one Slack message with a channel key per line); repeatable; - for stdin.",
)
@tickets_option
@clients_option
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True)
@click.option("--labels", is_flag=True, help="Print precision and recall per rule for messages with a labels key.")
@click.option("--mistakes", is_flag=True, help="With --labels: list every false positive and every miss.")
@click.option(
    "--window-minutes",
    type=click.FloatRange(min=1),
    default=60,
    show_default=True,
    help="How far past a message the audit looks (replies, follow-ups, edits) before judging it.",
)
@click.option("--rules", "only", default=None, help="Comma-separated rule codes to run (default: every rule).")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes, each judging some of the channels (default: the number of cores; 1: in this process).",
)
@click.option(
    "--from-chat",
    is_flag=True,
    help="Read the history from the configured chats themselves (within their call budgets), not from files.",
)
@click.option(
    "--days",
    type=click.FloatRange(min=0.01, max=90),
    default=7,
    show_default=True,
    help="With --from-chat: how far back.",
)
@click.argument("message_files", nargs=-1, type=click.Path(allow_dash=True, dir_okay=False))
@guarded
def audit(
    message_files: tuple[str, ...],
    config_path: Path | None,
    slack_export: Path | None,
    messages: tuple[str, ...],
    tickets: Path | None,
    clients_file: Path | None,
    fmt: str,
    labels: bool,
    mistakes: bool,
    window_minutes: float,
    only: str | None,
    jobs: int | None,
    from_chat: bool,
    days: float,
) -> None:
    """Run the chat rules over history and print what they find; posts nothing.

    Findings go to stdout (table, jsonl or csv); a summary per rule goes to stderr. Message files
    can also be given as arguments (the same as --messages).

    Example:

        hygiene audit --slack-export export.zip --tickets tickets.csv --format jsonl > findings.jsonl
        hygiene audit --from-chat --days 30 --config hygiene.toml --rules HY101,HY102
    """
    messages = messages + message_files
    if from_chat and (slack_export or messages):
        raise ConfigError("audit: --from-chat reads the chats themselves; give it without --slack-export or --messages")
    if not from_chat and not slack_export and not messages:
        raise ConfigError("audit: give --slack-export DIR_OR_ZIP, --messages FILE, or --from-chat")
    config = config_module.load(config_path) if from_chat else optional_config(config_path)
    rules = message_rules(rules_for(config))
    if only:
        wanted = {code.strip().upper() for code in only.split(",")}
        unknown = wanted - {rule.code for rule in rules}
        if unknown:
            raise ConfigError(f"--rules: unknown rule(s) {', '.join(sorted(unknown))}")
        rules = [rule for rule in rules if rule.code in wanted]
    book = sla_book(config)
    auditor = Auditor(
        rules,
        ticket_snapshot(config, tickets, clients_file),
        config.policy if config else None,
        timedelta(minutes=window_minutes),
        ZoneInfo(config.hygiene.timezone) if config else None,
        build_url_patterns(config),
        book.overdue,
        charters(config),
        book.default_calendar,
    )
    writer = FindingWriter(sys.stdout, fmt)
    echo = partial(click.echo, err=True)
    if from_chat and config is not None:
        summary, unread = _judge_from_chat(config, auditor, writer, days)
        print_summary(summary, {rule.code: rule.name for rule in rules}, echo, [])
        for where in unread:
            echo(f"incomplete: {where} (only what was read is judged; raise the chat's budget or use an export)")
        if labels:
            print_scores(summary, echo, mistakes)
        if unread:
            sys.exit(1)
        return
    jobs = (jobs or available_cores()) if can_fork() else 1
    with progress_bar(_input_bytes(slack_export, messages)) as bar:
        splitter = Splitter(jobs, MessageReader(), bar.update)
        summary, skipped = _judge(_blocks(splitter, slack_export, messages), splitter, auditor, writer)
    print_summary(summary, {rule.code: rule.name for rule in rules}, echo, skipped)
    if labels:
        print_scores(summary, echo, mistakes)
    if skipped:
        sys.exit(1)


def _judge_from_chat(
    config: config_module.Config, auditor: Auditor, writer: FindingWriter, days: float
) -> tuple[AuditSummary, list[str]]:
    """Judge the last ``days`` of every watched channel, read through each chat's connector."""
    clock = SystemClock()
    store = Store.open(config.store_path) if config.store_path.exists() else Store.memory()
    read = HistoryRead()
    try:
        chats = build_chats(config, store, clock)
        wanted = [(chat, settings.channels) for chat, settings in zip(chats, config.chats, strict=True)]
        with message_bar() as bar:
            for event in history_events(wanted, clock.now(), days, read, bar.update):
                for _, finding, action in auditor.feed(event):
                    writer.write(finding, action)
        for _, finding, action in auditor.finish():
            writer.write(finding, action)
        writer.flush()
    finally:
        store.close()
    click.echo(f"history: {read.messages:,} messages from {read.channels} channels, last {days:g} days", err=True)
    return auditor.summary, read.incomplete


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Audit workers are forked (they inherit the rules and tickets already built); elsewhere --jobs is 1."""
    return "fork" in multiprocessing.get_all_start_methods()


def _judge(
    blocks: Iterator[Block], splitter: Splitter, auditor: Auditor, writer: FindingWriter
) -> tuple[AuditSummary, list[str]]:
    """Judge in this process or in ``splitter.jobs`` workers; the summary and the skipped input."""
    if splitter.jobs == 1:
        summary, skips = _audit_here(blocks, WorkReader(splitter.reader), auditor, writer), splitter.reader.skips
    else:
        merged = run_in_workers(blocks, WorkReader, auditor, writer.format.line, splitter.jobs, writer.write_line)
        summary, skips = merged.summary, splitter.reader.skips + merged.skips
    writer.flush()
    return summary, [why for _, why in sorted(skips, key=lambda skip: skip[0])]


def _audit_here(blocks: Iterator[Block], read: WorkReader, auditor: Auditor, writer: FindingWriter) -> AuditSummary:
    for block in blocks:
        for event in read(block[0]):
            for _, finding, action in auditor.feed(event):
                writer.write(finding, action)
    for _, finding, action in auditor.finish():
        writer.write(finding, action)
    return auditor.summary


def _blocks(splitter: Splitter, export: Path | None, files: tuple[str, ...]) -> Iterator[Block]:
    if export is not None:
        yield from splitter.export(export)
    for name in files:
        if name == "-":
            yield from splitter.lines(sys.stdin.buffer, "<stdin>")
            continue
        try:
            handle = open(name, "rb")  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            raise ConfigError(f"--messages: {name}: cannot be read ({exc.strerror})") from None
        with handle:
            yield from splitter.lines(handle, name)


def _input_bytes(export: Path | None, files: tuple[str, ...]) -> int | None:
    """The size of the input, for the progress bar (None when part of it is stdin or an export)."""
    if "-" in files or export is not None:
        return None
    return sum(os.path.getsize(path) for path in files if os.path.exists(path))


@cli.command()
@click.argument("text")
@click.option("--channel", default="dia-a-dia", show_default=True, help="Channel name (per-channel settings apply).")
@tickets_option
@clients_option
@config_option
@guarded
def explain(text: str, channel: str, tickets: Path | None, clients_file: Path | None, config_path: Path | None) -> None:
    """Show which rules fire on a message and which don't, with evidence and scores.

    Timed rules judge the message as if their wait had passed with nothing else said.

    Example:

        hygiene explain "O cliente Brascont pediu a segunda via do boleto" --tickets tickets.json
    """
    config = optional_config(config_path)
    rules = message_rules(rules_for(config))
    snapshot = ticket_snapshot(config, tickets, clients_file)
    zone = ZoneInfo(config.hygiene.timezone) if config else ZoneInfo("America/Sao_Paulo")
    now = SystemClock().now()
    markup = mask_tokens(clip(text))
    message = ChatMessage(
        channel=channel,
        channel_name=channel,
        id="explain",
        at=now - timedelta(hours=1),
        source=config.chats[0].source if config and config.chats else "explain",
        text=markup,
        plain=render_markup(config)(markup),
        user="U0EXPLAIN",
        user_name="you",
    )
    book = sla_book(config)
    context = WindowContext(
        now,
        [message],
        snapshot,
        build_url_patterns(config),
        zone=zone,
        staleness=book.overdue,
        charters=charters(config),
        calendar=book.default_calendar,
    )
    click.echo(f"text:     {message.plain}")
    click.echo(
        f"language: {guess_language(matchable(message.plain))} · channel: #{channel} · "
        f"{len(snapshot)} tickets, {len(snapshot.clients())} clients known"
    )
    click.echo("")
    policy = config.policy if config else config_module.PolicySection()
    for rule in rules:
        verdict = rule.verdict(message, context)
        if verdict.fired:
            action = static_action(policy, rule.settings_for(message), message)
            click.echo(f"{rule.code} {rule.name:<20} FIRES  score {verdict.score:.2f}  → {action}")
            for key, value in verdict.evidence.items():
                if value not in (None, [], ""):
                    click.echo(f"      {key}: {value}")
            click.echo(f"      says: {verdict.says}")
        else:
            score = f" (score {verdict.score:.2f})" if verdict.score else ""
            click.echo(f"{rule.code} {rule.name:<20} -      {verdict.reason}{score}")


@cli.command("report")
@config_option
@tickets_option
@click.option("--now", "now_text", default=None, help="Report as of this moment (ISO-8601; naive = team time zone).")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "slack", "html", "csv"]), default="markdown", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE.")
@click.option("--post", is_flag=True, help="Post it to [report] channel as Block Kit (split to Slack's limits).")
@guarded
def report_command(
    config_path: Path | None, tickets: Path | None, now_text: str | None, fmt: str, out: Path | None, post: bool
) -> None:
    """The daily report of tickets that break their SLA, grouped by owner and department.

    With --tickets and --now the output depends on nothing else; against the store it adds the
    totals of the previous report and the day's hygiene figures.

    Example:

        hygiene report --tickets tickets.csv --now 2026-11-18T08:30 --format html --out report.html
    """
    config = optional_config(config_path)
    zone = ZoneInfo(config.hygiene.timezone) if config else ZoneInfo("America/Sao_Paulo")
    now = _moment(now_text, zone) if now_text else SystemClock().now()
    book = sla_book(config)
    every_rule = rules_for(config)
    rules = ticket_rules(every_rule)
    url_template = config.helpdesk.ticket_url_template() if config else None
    store = None if (tickets and now_text) or config is None else Store.open(config.store_path)
    try:
        daily = DailyReport(now, build_rows(_report_tickets(config, tickets, store), rules, book, now, url_template))
        if store is not None:
            daily.previous = store.reports.previous(report_day(now, zone))
            answering = [rule.code for rule in every_rule if rule.answers_status]
            hours = config.outbox.long_pending_hours if config else 4
            has_charters = config is not None and bool(config.charters)
            charter_rules = [rule.code for rule in every_rule if rule.enforces_charter and has_charters]
            client_rules = _client_rules(config, every_rule)
            daily.figures = day_figures(store, now, zone, hours, answering, charter_rules, client_rules)
            remember(store, daily, zone)
        text = _render(daily, fmt, zone)
        if out:
            write_output(out, text)
            click.echo(f"report: {len(daily.rows)} tickets → {out}", err=True)
        elif not post or fmt != "slack":
            click.echo(text, nl=not text.endswith("\n"))
        if post:
            _post_report(config, store, daily, zone)
    finally:
        if store is not None:
            store.close()


def write_output(out: Path, text: str) -> None:
    """``--out``: a missing folder or a path that cannot be written is a usage error naming it."""
    if not out.parent.is_dir():
        raise ConfigError(f"--out: {out.parent}: no such folder; create it first (mkdir -p {out.parent})")
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out: {out}: cannot be written ({exc.strerror})") from None


def _moment(text: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--now: {text!r} is not an ISO-8601 date and time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _client_rules(config: config_module.Config | None, rules: list[AnyRule]) -> dict[str, str]:
    """The client-side rules and their report figures, when a chat with clients is configured."""
    kinds = chat_kinds()
    if config is None or not any(kinds[c.kind].with_clients for c in config.chats if c.kind in kinds):
        return {}
    return {rule.code: rule.client_figure for rule in rules if isinstance(rule, Rule) and rule.client_figure}


def _report_tickets(config: config_module.Config | None, tickets: Path | None, store: Store | None) -> list[Ticket]:
    """From --tickets, else the snapshot `hygiene run` keeps in the store, else the helpdesk itself."""
    if tickets:
        return read_tickets(tickets)
    helpdesk = build_helpdesk(config) if config else None
    if helpdesk is None:
        raise ConfigError("report: give --tickets FILE, or configure [helpdesk]")
    kept = store.tickets.all(helpdesk.name) if store is not None else []
    return kept or helpdesk.sync({}).tickets


def _render(daily: DailyReport, fmt: str, zone: ZoneInfo) -> str:
    if fmt == "csv":
        return render_csv(daily)
    if fmt == "html":
        return render_html(daily, zone)
    if fmt == "slack":
        return json.dumps(render_messages(report_document(daily, zone)), ensure_ascii=False, indent=2) + "\n"
    return render_markdown(daily, zone)


def _post_report(config: config_module.Config | None, store: Store | None, daily: DailyReport, zone: ZoneInfo) -> None:
    if config is None or store is None or not config.report.channel:
        raise ConfigError("report.channel: --post needs a config with [report] channel (and the store)")
    chat = build_chat(config, store, SystemClock())
    chat.connect()
    channel = chat.channel_id(config.report.channel)
    if channel is None:
        raise ConfigError(f'report.channel: unknown channel "{config.report.channel}"')
    day = report_day(daily.now, zone)
    for index, part in enumerate(report_document(daily, zone).parts()):
        action = Action(
            ActionKind.CHANNEL_POST,
            key=f"report:{day}:{index}",
            channel=channel,
            text=f"Atendimentos parados: {len(daily.rows)}" + (f" ({index + 1})" if index else ""),
            rule="report",
            document=part.to_json(),
            source=chat.source,
        )
        store.outbox.enqueue(action, daily.now)
    delivery = deliver(store, chat, SystemClock(), None, retry_rules(config))
    click.echo(f"report: posted {delivery.sent} message(s) to #{config.report.channel}", err=True)
    if delivery.errors:
        raise HygieneError("; ".join(delivery.errors))


def sla_book(config: config_module.Config | None) -> SlaBook:
    """The config's SLA policies and calendars, or the rulebook's defaults (Brazil, São Paulo time)."""
    if config is not None:
        return SlaBook.from_config(config)
    return SlaBook([], config_module.CalendarSection().build(ZoneInfo("America/Sao_Paulo")))


def charters(config: config_module.Config | None) -> CharterBook | None:
    """The config's channel charters (none without a config)."""
    return config.charter_book if config is not None else None


def build_url_patterns(config: config_module.Config | None) -> list[re.Pattern[str]]:
    template = config.helpdesk.ticket_url_template() if config else None
    return [url_pattern(template)] if template else []


cli.add_command(outbox)
cli.add_command(serve_commands.serve)
cli.add_command(serve_commands.stats_command)
cli.add_command(serve_commands.feedback)


def main() -> None:
    cli(prog_name="hygiene")
