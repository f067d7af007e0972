"""``hygiene serve``: judging as things happen, over a chat's push connection, with the polling
cycle kept as the safety net.

The connector acks each delivery and hands over a neutral event, which only goes into a queue;
one worker thread — the one that opened the store — takes events from it and judges through the
same :class:`~hygiene.cycle.judge.Judge`, policy and outbox as ``hygiene run``. A message is
stored and its channel judged at once; a rule's grace period is a timer (a heap of due moments),
never a sleep, and the channel is judged again when it runs out. Every ``poll_seconds`` the whole
cycle runs as in ``run``: it reads what a disconnect lost. An event and a poll that see the same
message produce one nudge: findings are keyed by fingerprint, outbox rows by key.

Each unit of work holds the run lock, so a ``hygiene run`` from cron never works at the same time
(it sees the lock and exits 0). ``stop()`` (SIGTERM) lets the current unit finish and closes the
connections and judges what was acked and queued (what could not be is read again by the next
start's first cycle).
"""

from __future__ import annotations

import heapq
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

import structlog

from hygiene.cycle.engine import Engine
from hygiene.cycle.report import CycleReport
from hygiene.errors import AuthError, ConfigError, HygieneError, LockHeld
from hygiene.interact import Interactions
from hygiene.lock import STALE_MARGIN_SECONDS, run_lock
from hygiene.models import ActionKind
from hygiene.outbox import deliver
from hygiene.ports import ChannelInfo
from hygiene.ports.events import ChatEvents, EventKind, Intent, PushEvent

log = structlog.get_logger("hygiene.serve")

LOCK_RETRY_SECONDS = 1.0
HEALTH_EVERY_SECONDS = 5.0


@dataclass
class ServeCounts:
    """What serve did so far (the health file and the realtime demo read it)."""

    events: int = 0
    nudges: int = 0
    button_tickets: int = 0
    feedback: int = 0
    cycles: int = 0
    interactions: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median_latency_ms(self) -> float | None:
        return round(median(self.latencies_ms), 1) if self.latencies_ms else None


@dataclass(order=True)
class _Timer:
    due: datetime
    seq: int
    source: str = field(compare=False)
    channel: str = field(compare=False)


class Server:
    """The long-running loop over one engine and its chats' push connections."""

    def __init__(
        self,
        engine: Engine,
        connections: Sequence[ChatEvents],
        *,
        poll_seconds: float = 600.0,
        health_file: Path | None = None,
        lock_path: Path | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.store, self.clock = engine, engine.store, engine.clock
        self.connections = {events.source: events for events in connections}
        self.poll_seconds, self.health_file, self.lock_path = poll_seconds, health_file, lock_path
        self.monotonic = monotonic
        self.inbox: queue.Queue[PushEvent] = queue.Queue()
        self.timers: list[_Timer] = []
        self.counts = ServeCounts()
        self.stopping = threading.Event()
        self.syncs = {sync.source: sync for sync in engine.syncs}
        self.channels: dict[tuple[str, str], ChannelInfo] = {}
        judge = engine.judge
        self.interactions = Interactions(
            self.store, judge.by_code, engine.helpdesk, judge.zone, engine.tickets.recipients
        )
        self._next_cycle = 0.0
        self._health_at = 0.0
        self._seq = 0
        self._pending_links: set[str] = set()
        engine.judge.buttons = True

    # life cycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Open every push connection; events queue up from now on."""
        for events in self.connections.values():
            events.start(self.inbox.put)

    def stop(self) -> None:
        """Ask the loop to end after the current unit of work (a signal handler may call this)."""
        self.stopping.set()

    def close(self) -> None:
        """Close the push connections (no more acks), then judge what was already acked and queued."""
        for events in self.connections.values():
            events.stop()
        self._finish()
        self._write_health("stopped")

    def _finish(self) -> None:
        batch: list[PushEvent] = []
        while not self.inbox.empty():
            batch.append(self.inbox.get_nowait())
        if not batch:
            return
        try:
            with self._lock():
                self._events(batch)
        except HygieneError as exc:  # the lock held, a chat down: the next start's first cycle reads them
            log.warning("serve.left_queued", events=len(batch), error=str(exc))

    def run(self) -> ServeCounts:
        """Work until :meth:`stop`: the first cycle at once, then events, timers and later cycles."""
        try:
            while not self.stopping.is_set():
                self.step(timeout=1.0)
        finally:
            self.close()
        return self.counts

    def step(self, timeout: float = 0.0) -> None:
        """One turn: a due cycle, due timers, then the events waiting (at most ``timeout`` s for one)."""
        if self.monotonic() >= self._next_cycle:
            self._locked(self.cycle)
            self._next_cycle = self.monotonic() + self.poll_seconds
        self._locked(self._due_timers)
        wait = max(0.0, min(timeout, self._next_cycle - self.monotonic(), self._timer_wait()))
        try:
            first = self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait()
        except queue.Empty:
            self._maybe_health()
            return
        batch = [first]
        while len(batch) < 100:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        self._locked(lambda: self._events(batch))
        self._maybe_health()

    def poll_now(self) -> None:
        """Run the safety-net cycle on the next turn instead of waiting for its time."""
        self._next_cycle = 0.0

    def drain(self) -> None:
        """Handle everything queued now, without waiting (tests and the demo)."""
        while not self.inbox.empty():
            self.step(0.0)

    # the safety net ------------------------------------------------------------------------------
    def cycle(self) -> CycleReport:
        """The polling cycle, as ``hygiene run`` does it: reads what events missed."""
        for events in self.connections.values():
            events.new_cycle()
        before = self._nudges_done()
        report = self.engine.run_cycle()
        self.counts.cycles += 1
        self.counts.nudges += len(self._nudges_done() - before)
        self._learn_channels()
        log.info("serve.cycle", sent=report.sent, findings=report.findings, errors=report.errors)
        return report

    def _learn_channels(self) -> None:
        for sync in self.engine.syncs:
            for channel in sync.channels():
                self.channels[(sync.source, channel.id)] = channel

    # events --------------------------------------------------------------------------------------
    def _events(self, batch: list[PushEvent]) -> None:
        report = CycleReport()
        now = self.clock.now()
        touched: set[tuple[str, str]] = set()
        received: dict[tuple[str, str, str], float] = {}
        for event in batch:
            self.counts.events += 1
            key = (event.source, event.channel)
            if key not in self.channels or event.source not in self.syncs:
                continue
            if self._one(event, now, report):
                touched.add(key)
                if event.message is not None:
                    received.setdefault((*key, event.message.root_id), event.received)
        with self.store.atomic():
            for source, channel_id in sorted(touched):
                self._judge(source, channel_id, now, report)
        self._deliver(report, lambda nudge: received.get(nudge))

    def _one(self, event: PushEvent, now: datetime, report: CycleReport) -> bool:
        """Store what one event says; True when its channel should be judged now."""
        if event.kind in (EventKind.MESSAGE, EventKind.CHANGED) and event.message is not None:
            with self.store.atomic():
                self.store.messages.upsert(event.message, now)
            self._schedule_grace(event, now)
            return True
        if event.kind == EventKind.DELETED:
            with self.store.atomic():
                self.store.messages.mark_deleted(event.source, event.channel, event.message_id, now)
            return False
        if event.kind == EventKind.REACTION:
            return self._reaction(event, now, report)
        if event.kind == EventKind.INTERACTION:
            self._interaction(event, now)
        return False

    def _reaction(self, event: PushEvent, now: datetime, report: CycleReport) -> bool:
        with self.store.atomic():
            if self.interactions.thumbs_down(event, now):
                self.counts.feedback += 1
        if event.emoji == "ticket":
            sync = self.syncs[event.source]
            channel = self.channels[(event.source, event.channel)]
            fetch = sync.read(channel, report)
            with self.store.atomic():
                sync.apply(fetch, now, report)
                sync.keep_bookmark(fetch, now)
            return True
        return False

    def _interaction(self, event: PushEvent, now: datetime) -> None:
        chat = self.engine.sinks[event.source]
        with self.store.atomic():
            outcome = self.interactions.handle(event, chat, self.connections[event.source], now)
        self.counts.interactions += 1
        self.counts.feedback += 1 if outcome.label else 0
        if outcome.ticket:
            self.counts.button_tickets += 1 if event.intent == Intent.CREATE_TICKET else 0
            if event.fingerprint:
                self._pending_links.add(event.fingerprint)

    def _judge(self, source: str, channel_id: str, now: datetime, report: CycleReport) -> None:
        sync = self.syncs[source]
        channel = self.channels[(source, channel_id)]
        desk, overdue = self.engine.desk, self.engine.tickets.book.overdue
        self.engine.judge.channel(sync.chat, channel, sync.judging_from(now), desk.snapshot(), now, report, overdue)

    def _deliver(self, report: CycleReport, started: Callable[[tuple[str, str, str]], float | None]) -> None:
        """Deliver the outbox; each nudge posted now adds its latency, from ``started(nudge's thread)``
        (when its event was received, or its grace check ran) to now."""
        before = self._nudges_done()
        resolve = self.engine.desk.resolve_client if self.engine.helpdesk else None
        engine = self.engine
        report.add_delivery(deliver(self.store, engine.sinks, self.clock, engine.helpdesk, engine.retry_rules, resolve))
        self._link_created()
        posted = self._nudges_done() - before
        self.counts.nudges += len(posted)
        done = self.monotonic()
        for thread in posted:
            if (moment := started(thread)) is not None:
                self.counts.latencies_ms.append((done - moment) * 1000)
        self.counts.errors.extend(report.errors)

    def _link_created(self) -> None:
        """Edit the nudges whose button-made ticket now exists, so they link it."""
        helpdesk = self.engine.helpdesk
        for fingerprint in sorted(self._pending_links):
            with self.store.atomic():
                edited = helpdesk is not None and self.interactions.link_created(
                    fingerprint, helpdesk.display_name, self.clock.now()
                )
            if edited:
                self._pending_links.discard(fingerprint)
        if self._pending_links:
            engine = self.engine
            deliver(self.store, engine.sinks, self.clock, engine.helpdesk, engine.retry_rules)

    def _nudges_done(self) -> set[tuple[str, str, str]]:
        """(source, channel, thread) of every nudge posted so far."""
        rows = self.store.db.execute(
            "select source, channel, thread_id from outbox where status = 'done' and kind = ? and key like '%:reply'",
            [ActionKind.THREAD_REPLY.value],
        ).fetchall()
        return {(row[0], row[1], row[2]) for row in rows}

    # grace timers --------------------------------------------------------------------------------
    def _schedule_grace(self, event: PushEvent, now: datetime) -> None:
        """A timer for each grace period of the message that has not run out yet."""
        message = event.message
        assert message is not None
        for rule in self.engine.judge.rules:
            due = message.at + rule.grace(rule.settings_for(message))
            if due > now:
                self._seq += 1
                heapq.heappush(self.timers, _Timer(due, self._seq, event.source, event.channel))

    def _timer_wait(self) -> float:
        if not self.timers:
            return float("inf")
        return max(0.0, (self.timers[0].due - self.clock.now()).total_seconds())

    def _due_timers(self) -> None:
        now = self.clock.now()
        due: set[tuple[str, str]] = set()
        while self.timers and self.timers[0].due <= now:
            timer = heapq.heappop(self.timers)
            due.add((timer.source, timer.channel))
        if not due:
            return
        fired = self.monotonic()
        report = CycleReport()
        with self.store.atomic():
            for source, channel in sorted(due):
                self._judge(source, channel, now, report)
        self._deliver(report, lambda nudge: fired if (nudge[0], nudge[1]) in due else None)

    def pending_timers(self) -> list[datetime]:
        """When the scheduled grace checks are due (health, tests)."""
        return sorted(timer.due for timer in self.timers)

    # lock and health -----------------------------------------------------------------------------
    def _locked(self, work: Callable[[], Any]) -> None:
        """Run ``work`` under the run lock (waiting while a ``hygiene run`` holds it)."""
        while not self.stopping.is_set():
            try:
                with self._lock():
                    work()
                return
            except LockHeld as exc:
                log.info("serve.lock_busy", holder=str(exc))
                self.stopping.wait(LOCK_RETRY_SECONDS)
            except (AuthError, ConfigError):
                raise  # refused credentials or a bad config: serving on cannot help
            except HygieneError as exc:
                # a chat or helpdesk failing now: the outbox retries writes and the next cycle rereads
                log.error("serve.unit_failed", error=str(exc))
                self.counts.errors.append(str(exc))
                return

    @contextmanager
    def _lock(self) -> Iterator[None]:
        if self.lock_path is None:
            yield
            return
        stale = self.engine.config.hygiene.cycle_timeout_seconds + STALE_MARGIN_SECONDS
        with run_lock(self.lock_path, stale_after=stale):
            yield

    def _maybe_health(self) -> None:
        if self.monotonic() - self._health_at >= HEALTH_EVERY_SECONDS:
            self._write_health("serving")

    def health(self, status: str) -> dict[str, Any]:
        """What the health file says: up or not, connections, counts, the queue, the next checks."""
        return {
            "status": status,
            "at": self.clock.now().isoformat(),
            "connected": {source: events.connected() for source, events in self.connections.items()},
            "connections": {source: events.connections() for source, events in self.connections.items()},
            "queued": self.inbox.qsize(),
            "timers": len(self.timers),
            "events": self.counts.events,
            "nudges": self.counts.nudges,
            "cycles": self.counts.cycles,
            "median_latency_ms": self.counts.median_latency_ms(),
        }

    def _write_health(self, status: str) -> None:
        self._health_at = self.monotonic()
        health = self.health(status)
        log.info("serve.health", **{k: v for k, v in health.items() if k != "at"})
        if self.health_file is not None:
            partial = self.health_file.with_suffix(".tmp")
            partial.write_text(json.dumps(health) + "\n", encoding="utf-8")
            partial.replace(self.health_file)
