"""One cycle of hygiene: deliver what waits → sync the helpdesk → read and judge each chat →
judge the tickets → deliver → tell leads → purge old text.

Per channel, everything a read produced — messages, deletions, findings, outbox rows and the
bookmark move — is written in one SQLite transaction, so a crash leaves either all of it or none.
The bookmark moves only when the whole range was read; what did not fit this cycle's call budget
is read again next cycle. Several chats (two Slack workspaces, Slack and Rocket.Chat) are read
in one cycle, each keyed in the store by its own source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hygiene.clock import Clock
from hygiene.config import Config
from hygiene.cycle.chat_sync import ChatSync
from hygiene.cycle.helpdesk_sync import NO_SNAPSHOT, HelpdeskSync
from hygiene.cycle.judge import Judge
from hygiene.cycle.report import CycleReport
from hygiene.errors import AuthError
from hygiene.failpoints import failpoint
from hygiene.outbox import RetryRules, deliver, tell_leads
from hygiene.policy import Policy
from hygiene.ports import ChannelInfo, Chat, Helpdesk
from hygiene.recipients import Recipients
from hygiene.rulebase import Rule, TicketRule
from hygiene.settings import ChatSettings
from hygiene.sla import SlaBook
from hygiene.store import Store
from hygiene.ticket_watch import TicketWatch


class Engine:
    def __init__(
        self,
        config: Config,
        store: Store,
        chats: Chat | Sequence[Chat],
        rules: Sequence[Rule | TicketRule],
        clock: Clock,
        helpdesk: Helpdesk | None = None,
    ) -> None:
        self.config, self.store, self.clock, self.helpdesk = config, store, clock, helpdesk
        self.chats: list[Chat] = [chats] if not isinstance(chats, Sequence) else list(chats)
        self.policy = Policy(config, store)
        self.retry_rules = retry_rules(config)
        zone = ZoneInfo(config.hygiene.timezone)
        self.calendar = config.calendar.build(zone) if config.policy.working_hours_only else None
        self.desk = HelpdeskSync(config, store, clock, helpdesk)
        recipients = Recipients(config, store, self.people_chat)
        self.judge = Judge(
            [r for r in rules if isinstance(r, Rule)],
            store,
            self.policy,
            zone,
            helpdesk,
            self.not_before,
            config.charter_book,
            config.calendar.build(zone),
            recipients,
        )
        self.syncs = [ChatSync(chat, _settings_of(config, chat.source), store, clock) for chat in self.chats]
        self.tickets = TicketWatch(
            [rule for rule in rules if isinstance(rule, TicketRule)],
            SlaBook.from_config(config),
            store,
            self.policy,
            recipients,
            self.calendar,
        )

    @property
    def people_chat(self) -> Chat:
        """The chat the team is told in about tickets and failures (DMs to owners, department
        channels): the first that can write to people — never a client-facing one whose only
        write is an internal note."""
        for chat in self.chats:
            if chat.capabilities.direct_messages and not chat.capabilities.internal_notes_only:
                return chat
        return self.chats[0]

    @property
    def sinks(self) -> Mapping[str, Chat]:
        return {chat.source: chat for chat in self.chats}

    def run_cycle(self) -> CycleReport:
        report = CycleReport()
        run_id = self.store.runs.start(self.clock.now())
        status = "failed"
        try:
            self._deliver(report)
            self.desk.sync(report, self.not_before(self.clock.now()))
            if self.desk.never_synced():
                report.errors.append(f"{self.desk.name}: {NO_SNAPSHOT}")
            else:
                for sync in self.syncs:
                    self._read_and_judge(sync, report)
                self._judge_tickets(report)
            self._deliver(report)
            self._tell_leads(report)
            self._purge()
            status = "ok" if report.ok else "partial"
        except AuthError as exc:
            report.errors.append(str(exc))
            raise
        finally:
            self._record(run_id, status, report)
        return report

    def _record(self, run_id: int, status: str, report: CycleReport) -> None:
        for chat in self.chats:
            report.calls = chat.calls() | report.calls
            for user_id, (name, is_bot) in chat.learned_users().items():
                self.store.people.cache_user(chat.source, user_id, name, is_bot, self.clock.now())
        if self.helpdesk is not None and self.helpdesk.api_calls():
            report.calls[f"{self.helpdesk.name}.calls"] = self.helpdesk.api_calls()
        self.store.runs.finish(run_id, self.clock.now(), status, report.as_dict())

    def _read_and_judge(self, sync: ChatSync, report: CycleReport) -> None:
        channels = sync.channels()
        report.channels += len(channels)
        for channel in channels:
            self._channel(sync, channel, report)

    def _channel(self, sync: ChatSync, channel: ChannelInfo, report: CycleReport) -> None:
        fetch = sync.read(channel, report)
        now = self.clock.now()
        with self.store.atomic():
            sync.apply(fetch, now, report)
            self.judge.channel(
                sync.chat, channel, sync.judging_from(now), self.desk.snapshot(), now, report, self.tickets.book.overdue
            )
            failpoint("engine.before_commit")
            sync.keep_bookmark(fetch, now)

    def _judge_tickets(self, report: CycleReport) -> None:
        if self.helpdesk is None or not self.tickets.rules:
            return
        with self.store.atomic():
            findings, enqueued = self.tickets.judge(self.store.tickets.all(self.helpdesk.name), self.clock.now())
        for code, count in findings.items():
            report.findings[code] = report.findings.get(code, 0) + count
        report.enqueued += enqueued

    def not_before(self, now: datetime) -> datetime | None:
        """When people may be nudged (None: now)."""
        moment = self.calendar.next_open(now) if self.calendar else None
        return moment if moment is not None and moment != now else None

    def _deliver(self, report: CycleReport) -> None:
        resolve = self.desk.resolve_client if self.helpdesk else None
        report.add_delivery(deliver(self.store, self.sinks, self.clock, self.helpdesk, self.retry_rules, resolve))

    def _tell_leads(self, report: CycleReport) -> None:
        long_pending = timedelta(hours=self.config.outbox.long_pending_hours)
        with self.store.atomic():
            report.enqueued += tell_leads(
                self.store, self.clock.now(), self.retry_rules.leads, long_pending, self.people_chat.source
            )

    def _purge(self) -> None:
        for sync in self.syncs:
            retention = timedelta(days=sync.settings.message_retention_days)
            self.store.messages.purge_text(sync.source, self.clock.now() - retention)


def _settings_of(config: Config, source: str) -> ChatSettings:
    return config.chat_named(source)


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
