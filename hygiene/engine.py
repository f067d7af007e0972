"""One cycle of hygiene: sync the helpdesk and chat, judge, decide, record, deliver.

Per channel, everything a fetch produced — messages, deletions, findings, outbox rows and the
cursor move — is written in one SQLite transaction, so a crash leaves either all of it or none.
The cursor moves only when the whole range was read; what did not fit this cycle's call budget
is read again next cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from hygiene.client_directory import ClientDirectory
from hygiene.clock import Clock
from hygiene.config import Config
from hygiene.context import LiveTickets, TicketSnapshot, WindowContext
from hygiene.errors import AuthError, ExternalError, TransientError
from hygiene.failpoints import failpoint
from hygiene.models import Action, ActionKind, ChatMessage, Finding
from hygiene.outbox import RetryRules, deliver, tell_leads
from hygiene.policy import Policy
from hygiene.ports import ChannelFetch, ChannelInfo, Chat, ClientRecord, Helpdesk, TicketDraft
from hygiene.recipients import Recipients
from hygiene.rulebase import Rule, TicketRule
from hygiene.sla import SlaBook
from hygiene.store import Store
from hygiene.ticket_links import OFFER, TICKET_EMOJI, create_action, link_references, thread_updates
from hygiene.ticket_watch import TicketWatch

log = structlog.get_logger("hygiene.engine")

WORKSPACE_CACHE = "slack:workspace"
NO_SNAPSHOT = "no helpdesk snapshot yet (its first sync failed): chat is judged once one is taken"
WORKSPACE_CACHE_TTL = timedelta(hours=1)


@dataclass
class CycleReport:
    channels: int = 0
    messages_read: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    enqueued: int = 0
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    failed: int = 0
    incomplete_channels: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tickets_synced: int = 0
    snapshot_from: str | None = None
    """When the helpdesk sync failed: the time of the last good snapshot judged with instead."""
    retrying: int = 0
    unknown: int = 0
    escalated: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Engine:
    def __init__(
        self,
        config: Config,
        store: Store,
        chat: Chat,
        rules: Sequence[Rule | TicketRule],
        clock: Clock,
        helpdesk: Helpdesk | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.chat = chat
        self.rules = [rule for rule in rules if isinstance(rule, Rule)]
        self.clock = clock
        self.helpdesk = helpdesk
        self.policy = Policy(config, store)
        self.retry_rules = retry_rules(config)
        self._tickets_snapshot: TicketSnapshot | None = None
        zone = ZoneInfo(config.hygiene.timezone)
        self.calendar = config.calendar.build(zone) if config.policy.working_hours_only else None
        self.tickets = TicketWatch(
            [rule for rule in rules if isinstance(rule, TicketRule)],
            SlaBook.from_config(config),
            store,
            self.policy,
            Recipients(config, store, chat),
            self.calendar,
        )

    def run_cycle(self) -> CycleReport:
        report = CycleReport()
        now = self.clock.now()
        run_id = self.store.runs.start(now)
        status = "failed"
        try:
            self._deliver(report)
            self._sync_helpdesk(report)
            if self._never_synced():
                report.errors.append(f"{self.helpdesk.name if self.helpdesk else 'helpdesk'}: {NO_SNAPSHOT}")
            else:
                self._read_and_judge(report)
            self._deliver(report)
            self._tell_leads(report)
            self._purge()
            status = "ok" if report.ok else "partial"
        except AuthError as exc:
            report.errors.append(str(exc))
            raise
        finally:
            report.calls = self.chat.calls() | report.calls
            if self.helpdesk is not None and self.helpdesk.api_calls():
                report.calls[f"{self.helpdesk.name}.calls"] = self.helpdesk.api_calls()
            for user_id, (name, is_bot) in self.chat.learned_users().items():
                self.store.people.cache_user(user_id, name, is_bot, self.clock.now())
            self.store.runs.finish(run_id, self.clock.now(), status, report.as_dict())
        return report

    def _read_and_judge(self, report: CycleReport) -> None:
        channels = self._connect()
        report.channels = len(channels)
        # Least recently read first: with a tight call budget every channel gets its turn.
        channels.sort(key=lambda c: self.store.cursors.get(f"slack:read:{c.id}") or "")
        for channel in channels:
            self._process_channel(channel, report)
        self._judge_tickets(report)

    # helpdesk --------------------------------------------------------------------------------
    def _sync_helpdesk(self, report: CycleReport) -> None:
        """Tickets changed since the last sync, then the whole client directory (at most once a
        cycle, and no more often than ``sync_every_minutes``). When either fails, the cycle
        judges with the last good snapshot the store keeps, and says so."""
        if self.helpdesk is None:
            return
        key = f"helpdesk:{self.helpdesk.name}"
        every = timedelta(minutes=self.config.helpdesk.sync_every_minutes)
        last = self.store.cursors.get(f"{key}:synced_at")
        if every and last and self.clock.now() - datetime.fromisoformat(last) < every:
            return
        try:
            batch = self.helpdesk.sync(self.store.cursors.get(key) or {})
            directory = self.helpdesk.client_directory()
        except ExternalError as exc:
            report.errors.append(str(exc))
            report.snapshot_from = self.store.cursors.get(f"{key}:good_at") or "none (never synced)"
            log.warning(
                "helpdesk.sync_failed_judging_with_last_snapshot",
                helpdesk=self.helpdesk.name,
                error=str(exc),
                snapshot_from=report.snapshot_from,
            )
            return
        now = self.clock.now()
        with self.store.atomic():
            not_before = self._not_before(now)
            for action in thread_updates(self.store, self.helpdesk.name, batch.tickets, now):
                report.enqueued += self.store.outbox.enqueue(action, now, not_before)
            self.store.tickets.save(self.helpdesk.name, batch.tickets, now)
            self.store.tickets.save_clients(self.helpdesk.name, directory, now)
            self.store.cursors.set(f"{key}:clients_at", now.isoformat(), now)
            if batch.complete:
                self.store.cursors.set(key, batch.state, now)
                self.store.cursors.set(f"{key}:synced_at", now.isoformat(), now)
                self.store.cursors.set(f"{key}:good_at", now.isoformat(), now)
        failpoint("engine.after_helpdesk_sync")
        report.tickets_synced = len(batch.tickets)
        self._tickets_snapshot = None
        report.calls[f"{self.helpdesk.name}.sync"] = batch.calls

    def _never_synced(self) -> bool:
        """No helpdesk snapshot was ever taken: judging now would lose every client and ticket."""
        return self.helpdesk is not None and self.store.cursors.get(f"helpdesk:{self.helpdesk.name}:good_at") is None

    def _judge_tickets(self, report: CycleReport) -> None:
        if self.helpdesk is None or not self.tickets.rules:
            return
        with self.store.atomic():
            findings, enqueued = self.tickets.judge(self.store.tickets.all(self.helpdesk.name), self.clock.now())
        for code, count in findings.items():
            report.findings[code] = report.findings.get(code, 0) + count
        report.enqueued += enqueued

    def _snapshot(self) -> TicketSnapshot:
        """The helpdesk as the store holds it after this cycle's sync (built once a cycle): its
        tickets and its whole client directory, names and aliases."""
        if self._tickets_snapshot is None:
            clients = self.config.clients
            tickets = self.store.tickets.all(self.helpdesk.name) if self.helpdesk else []
            directory = self._directory() or ClientDirectory([], clients.aliases)
            self._tickets_snapshot = TicketSnapshot(
                tickets, directory.aliases(), clients.match_threshold, [*clients.names, *directory.names()]
            )
        return self._tickets_snapshot

    def _directory(self) -> ClientDirectory | None:
        records = self.store.tickets.clients(self.helpdesk.name) if self.helpdesk else None
        return None if records is None else ClientDirectory(records, self.config.clients.aliases)

    def _resolve_client(self, action: Action, draft: TicketDraft) -> TicketDraft:
        """The helpdesk's own client record for a ticket to create: the draft's client, else one
        named in the thread (a lead's reply); client None when it is unknown or ambiguous."""
        directory = self._directory()
        if directory is None:
            name = self.helpdesk.name if self.helpdesk else "helpdesk"
            raise TransientError(name, "the client directory could not be read yet; the ticket waits for it")
        record = directory.lookup(draft.client) or self._client_in_thread(action, directory)
        if record is None:
            return replace(draft, client=None, client_id=None)
        return replace(draft, client=record.name, client_id=record.id)

    def _client_in_thread(self, action: Action, directory: ClientDirectory) -> ClientRecord | None:
        if not action.thread_ts:
            return None
        thread = [
            m
            for m in self.store.messages.since(action.channel, action.thread_ts)
            if m.root_ts == action.thread_ts and not m.is_bot
        ]
        replies = sorted((m for m in thread if m.is_reply), key=lambda m: m.ts, reverse=True)
        for message in [*replies, *(m for m in thread if not m.is_reply)]:
            match = self._snapshot().find_client(message.plain)
            record = directory.lookup(match.client) if match else None
            if record is not None:
                return record
        return None

    # chat ------------------------------------------------------------------------------------
    def _connect(self) -> list[ChannelInfo]:
        """The bot's identity and channels, from a cache younger than an hour when it fits the config."""
        now = self.clock.now()
        wanted = list(self.config.slack.channels)
        cached = self.store.cursors.get(WORKSPACE_CACHE)
        fresh = (
            cached is not None
            and cached.get("wanted") == wanted
            and now - datetime.fromisoformat(cached["at"]) < WORKSPACE_CACHE_TTL
        )
        identity = self.chat.connect(cached["identity"] if fresh and cached else None)
        if fresh and cached:
            return [ChannelInfo(id=c[0], name=c[1]) for c in cached["channels"]]
        channels = self.chat.resolve_channels(wanted)
        value = {
            "at": now.isoformat(),
            "wanted": wanted,
            "identity": identity,
            "channels": [[c.id, c.name] for c in channels],
        }
        self.store.cursors.set(WORKSPACE_CACHE, value, now)
        return channels

    def _oldest(self, channel: ChannelInfo, now: datetime) -> str:
        slack = self.config.slack
        rescan_start = (now - timedelta(hours=slack.rescan_hours)).timestamp()
        backfill_start = (now - timedelta(hours=slack.backfill_hours)).timestamp()
        cursor = self.store.cursors.get(f"slack:{channel.id}")
        start = min(float(cursor), rescan_start) if cursor else min(rescan_start, backfill_start)
        if cursor and float(cursor) < backfill_start:
            log.warning("slack.gap_skipped", channel=channel.name, hours=slack.backfill_hours)
        return f"{max(start, backfill_start):.6f}"

    def _known_threads(self, channel: ChannelInfo, oldest: str) -> dict[str, str | None]:
        """Threads whose replies we hold. Threads where hygiene replied are left out, so they are
        read again each cycle: a reaction on our reply (:ticket:, :-1:) never moves a thread."""
        answered = self.store.messages.threads_answered(channel.id, oldest)
        return {
            ts: latest
            for ts, latest in self.store.messages.thread_heads(channel.id, oldest).items()
            if ts not in answered
        }

    def _process_channel(self, channel: ChannelInfo, report: CycleReport) -> None:
        now = self.clock.now()
        oldest = self._oldest(channel, now)
        fetch = self.chat.fetch(channel, oldest, self._known_threads(channel, oldest))
        report.messages_read += len(fetch.messages)
        if not fetch.complete:
            report.incomplete_channels.append(channel.name)
            if fetch.error and not fetch.deferred:
                report.errors.append(f"#{channel.name}: {fetch.error}")
            if fetch.gone:
                self.store.cursors.set(WORKSPACE_CACHE, None, now)  # resolve the channels again next cycle
            log.warning("slack.fetch_incomplete", channel=channel.name, error=fetch.error)
        with self.store.atomic():
            self._apply(fetch, oldest, now, report)
            self._judge(channel, now, report)
            failpoint("engine.before_commit")
            if fetch.complete:
                self.store.cursors.set(f"slack:read:{channel.id}", now.isoformat(), now)
                newest = max((m.ts for m in fetch.messages if not m.is_reply), default=None)
                previous = self.store.cursors.get(f"slack:{channel.id}")
                if newest and (previous is None or newest > previous):
                    self.store.cursors.set(f"slack:{channel.id}", newest, now)
                elif previous is None:
                    self.store.cursors.set(f"slack:{channel.id}", oldest, now)

    def _apply(self, fetch: ChannelFetch, oldest: str, now: datetime, report: CycleReport) -> None:
        seen: set[str] = set()
        for message in fetch.messages:
            seen.add(message.ts)
            outcome = self.store.messages.upsert(message, now)
            if outcome == "new":
                report.new += 1
            elif outcome == "changed":
                report.changed += 1
        if not fetch.complete:
            return
        for ts, thread_ts in self.store.messages.stored_since(fetch.channel.id, oldest):
            is_top = thread_ts in (None, ts)
            if ts not in seen and (is_top or thread_ts in fetch.threads_read):
                report.deleted += self.store.messages.mark_deleted(fetch.channel.id, ts, now)

    # judging ---------------------------------------------------------------------------------
    def _judge(self, channel: ChannelInfo, now: datetime, report: CycleReport) -> None:
        window_start = f"{(now - timedelta(hours=self.config.slack.rescan_hours)).timestamp():.6f}"
        messages = self.store.messages.since(channel.id, window_start)
        snapshot = self._snapshot()
        tickets = LiveTickets(snapshot, self.helpdesk.get_ticket) if self.helpdesk else snapshot
        patterns = self.helpdesk.url_patterns() if self.helpdesk else []
        if self.helpdesk:
            link_references(self.store, self.helpdesk.name, messages, snapshot.by_ref, patterns, now)
        context = WindowContext(
            now,
            messages,
            tickets,
            patterns,
            self.store.links.of_thread,
            ZoneInfo(self.config.hygiene.timezone),
            self.tickets.book.overdue,
        )
        for message in messages:
            if not message.judged or message.ts < window_start:
                continue
            for rule in self.rules:
                self._judge_one(rule, message, context, now, report)
        if self.helpdesk:
            self._ticket_reactions(channel, messages, window_start, now, report)

    def _ticket_reactions(
        self, channel: ChannelInfo, messages: list[ChatMessage], since: str, now: datetime, report: CycleReport
    ) -> None:
        """A :ticket: reaction on a request or on its nudge creates the ticket (HY101 in nudge mode)."""
        by_ts = {m.ts: m for m in messages}
        for finding in self.store.findings.open_offers(channel.id, since):
            message = by_ts.get(finding.ts)
            if message is None or self.store.links.of_thread(channel.id, message.root_ts):
                continue
            nudges = [m for m in messages if m.thread_ts == message.ts and m.metadata_event == "hygiene_action"]
            asked = [
                user
                for item in (message, *nudges)
                for user in item.reacted_with(TICKET_EMOJI)
                if user != self.chat.bot_user_id
            ]
            if asked:
                action = create_action(message, finding, ZoneInfo(self.config.hygiene.timezone))
                report.enqueued += self.store.outbox.enqueue(action, now)

    def _judge_one(
        self, rule: Rule, message: ChatMessage, context: WindowContext, now: datetime, report: CycleReport
    ) -> None:
        settings = rule.settings_for(message)
        if settings.mode.value == "off" or not rule.ready(message, context):
            return
        finding = rule.check(message, context)
        if finding is None or self.store.findings.has(finding.fingerprint):
            return
        decision = self.policy.decide(finding, settings, message, now)
        self.store.findings.add(finding, decision, now)
        report.findings[finding.rule] = report.findings.get(finding.rule, 0) + 1
        report.decisions[decision] = report.decisions.get(decision, 0) + 1
        log.info("finding", rule=finding.rule, channel=channel_label(message), ts=message.ts, action=decision)
        not_before = self._not_before(now)
        zone = ZoneInfo(self.config.hygiene.timezone)
        for action in plan_actions(finding, decision, message, self.helpdesk is not None, zone):
            waits = not_before if action.kind != ActionKind.CREATE_TICKET else None
            report.enqueued += self.store.outbox.enqueue(action, now, waits)

    def _not_before(self, now: datetime) -> datetime | None:
        """When people may be nudged (None: now)."""
        moment = self.calendar.next_open(now) if self.calendar else None
        return moment if moment is not None and moment != now else None

    # outbox ----------------------------------------------------------------------------------
    def _deliver(self, report: CycleReport) -> None:
        resolve = self._resolve_client if self.helpdesk else None
        delivery = deliver(self.store, self.chat, self.clock, self.helpdesk, self.retry_rules, resolve)
        report.sent += delivery.sent
        report.recovered += delivery.recovered
        report.deferred += delivery.deferred
        report.failed += delivery.failed
        report.retrying += delivery.retrying
        report.unknown += delivery.unknown
        report.escalated += delivery.escalated
        report.errors.extend(delivery.errors)

    def _tell_leads(self, report: CycleReport) -> None:
        long_pending = timedelta(hours=self.config.outbox.long_pending_hours)
        with self.store.atomic():
            report.enqueued += tell_leads(self.store, self.clock.now(), self.retry_rules.leads, long_pending)

    def _purge(self) -> None:
        retention = timedelta(days=self.config.slack.message_retention_days)
        self.store.messages.purge_text(self.clock.now() - retention)


def plan_actions(
    finding: Finding, decision: str, message: ChatMessage, can_create: bool = False, zone: ZoneInfo | None = None
) -> list[Action]:
    """The side effects a decision asks for.

    A nudge is a reply in the message's thread; for a client request with a helpdesk to create
    in, the reply offers the ticket (:ticket:), and ``auto`` creates it (its reply follows).
    """
    if decision not in ("nudge", "auto") or not finding.message:
        return []
    creates = can_create and finding.rule == "HY101"
    if creates and decision == "auto":
        return [create_action(message, finding, zone or ZoneInfo("America/Sao_Paulo"))]
    text = finding.message
    if creates:
        text += OFFER.get(str(finding.evidence.get("language", "pt")), OFFER["pt"])
    return [
        Action(
            kind=ActionKind.THREAD_REPLY,
            key=f"{finding.fingerprint}:reply",
            channel=message.channel,
            thread_ts=message.root_ts,
            text=text,
            user=message.user,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
        )
    ]


def retry_rules(config: Config) -> RetryRules:
    outbox, report = config.outbox, config.report
    return RetryRules(
        backoff=timedelta(seconds=outbox.backoff_seconds),
        backoff_max=timedelta(seconds=outbox.backoff_max_seconds),
        settle=timedelta(seconds=outbox.settle_seconds),
        max_age=timedelta(hours=outbox.max_age_hours),
        leads=tuple(report.leads),
        channel_leads={channel: tuple(ids) for channel, ids in report.channel_leads.items()},
    )


def channel_label(message: ChatMessage) -> str:
    return message.channel_name or message.channel
