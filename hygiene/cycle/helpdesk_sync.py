"""The helpdesk's side of the cycle: the incremental ticket sync, the client directory, the
snapshot rules judge with, and the client a ticket to be created belongs to.

When a sync fails the cycle judges with the last good snapshot the store keeps, and says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from hygiene.client_directory import ClientDirectory
from hygiene.clock import Clock
from hygiene.config import Config
from hygiene.context import TicketSnapshot
from hygiene.cycle.report import CycleReport
from hygiene.errors import ExternalError, TransientError
from hygiene.failpoints import failpoint
from hygiene.models import Action
from hygiene.ports import ClientRecord, Helpdesk, TicketDraft
from hygiene.store import Store
from hygiene.ticket_links import thread_updates

log = structlog.get_logger("hygiene.engine")

NO_SNAPSHOT = "no helpdesk snapshot yet (its first sync failed): chat is judged once one is taken"


class HelpdeskSync:
    def __init__(self, config: Config, store: Store, clock: Clock, helpdesk: Helpdesk | None) -> None:
        self.config, self.store, self.clock, self.helpdesk = config, store, clock, helpdesk
        self._snapshot: TicketSnapshot | None = None

    @property
    def name(self) -> str:
        return self.helpdesk.name if self.helpdesk else "helpdesk"

    def key(self, *parts: str) -> str:
        return ":".join(("helpdesk", self.name, *parts))

    def sync(self, report: CycleReport, not_before: datetime | None) -> None:
        """Tickets changed since the last sync, then the whole client directory (at most once a
        cycle, and no more often than ``sync_every_minutes``)."""
        if self.helpdesk is None:
            return
        every = timedelta(minutes=self.config.helpdesk.sync_every_minutes)
        last = self.store.cursors.get(self.key("synced_at"))
        if every and last and self.clock.now() - datetime.fromisoformat(last) < every:
            return
        try:
            batch = self.helpdesk.sync(self.store.cursors.get(self.key()) or {})
            directory = self.helpdesk.client_directory()
        except ExternalError as exc:
            report.errors.append(str(exc))
            report.snapshot_from = self.store.cursors.get(self.key("good_at")) or "none (never synced)"
            log.warning(
                "helpdesk.sync_failed_judging_with_last_snapshot",
                helpdesk=self.name,
                error=str(exc),
                snapshot_from=report.snapshot_from,
            )
            return
        now = self.clock.now()
        with self.store.atomic():
            for action in thread_updates(self.store, self.name, batch.tickets, now):
                report.enqueued += self.store.outbox.enqueue(action, now, not_before)
            self.store.tickets.save(self.name, batch.tickets, now)
            self.store.tickets.save_clients(self.name, directory, now)
            self.store.cursors.set(self.key("clients_at"), now.isoformat(), now)
            if batch.complete:
                self.store.cursors.set(self.key(), batch.state, now)
                self.store.cursors.set(self.key("synced_at"), now.isoformat(), now)
                self.store.cursors.set(self.key("good_at"), now.isoformat(), now)
        failpoint("engine.after_helpdesk_sync")
        report.tickets_synced = len(batch.tickets)
        self._snapshot = None
        report.calls[f"{self.name}.sync"] = batch.calls

    def never_synced(self) -> bool:
        """No helpdesk snapshot was ever taken: judging now would lose every client and ticket."""
        return self.helpdesk is not None and self.store.cursors.get(self.key("good_at")) is None

    def snapshot(self) -> TicketSnapshot:
        """The helpdesk as the store holds it after this cycle's sync (built once a cycle): its
        tickets and its whole client directory, names and aliases."""
        if self._snapshot is None:
            clients = self.config.clients
            tickets = self.store.tickets.all(self.name) if self.helpdesk else []
            directory = self.directory() or ClientDirectory([], clients.aliases)
            self._snapshot = TicketSnapshot(
                tickets, directory.aliases(), clients.match_threshold, [*clients.names, *directory.names()]
            )
        return self._snapshot

    def directory(self) -> ClientDirectory | None:
        records = self.store.tickets.clients(self.name) if self.helpdesk else None
        return None if records is None else ClientDirectory(records, self.config.clients.aliases)

    def resolve_client(self, action: Action, draft: TicketDraft) -> TicketDraft:
        """The helpdesk's own client record for a ticket to create: the draft's client, else one
        named in the thread (a lead's reply); client None when it is unknown or ambiguous."""
        directory = self.directory()
        if directory is None:
            raise TransientError(self.name, "the client directory could not be read yet; the ticket waits for it")
        record = directory.lookup(draft.client) or self._client_in_thread(action, directory)
        if record is None:
            return replace(draft, client=None, client_id=None)
        return replace(draft, client=record.name, client_id=record.id)

    def _client_in_thread(self, action: Action, directory: ClientDirectory) -> ClientRecord | None:
        if not action.thread_id:
            return None
        thread = [
            m for m in self.store.messages.thread(action.source, action.channel, action.thread_id) if not m.is_bot
        ]
        replies = sorted((m for m in thread if m.is_reply), key=lambda m: (m.at, m.id), reverse=True)
        for message in [*replies, *(m for m in thread if not m.is_reply)]:
            match = self.snapshot().find_client(message.plain)
            record = directory.lookup(match.client) if match else None
            if record is not None:
                return record
        return None
