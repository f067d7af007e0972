"""Reading one chat into the store: its channels, each channel's new and changed messages, and
the bookmark the connector hands back.

The connector owns the bookmark's contents; this module only keeps it (``chat:{source}:{channel}``)
and moves it when a read was complete and its messages are stored, in the same transaction.
A complete read also tells which stored messages are gone: those of the range it covered that it
did not return.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from hygiene.clock import Clock
from hygiene.cycle.report import CycleReport
from hygiene.ports import ChannelFetch, ChannelInfo, ChatSource, ReadWindow
from hygiene.settings import ChatSettings
from hygiene.store import Store

log = structlog.get_logger("hygiene.engine")

WORKSPACE_CACHE_TTL = timedelta(hours=1)


class ChatSync:
    """One chat's side of the cycle."""

    def __init__(self, chat: ChatSource, settings: ChatSettings, store: Store, clock: Clock) -> None:
        self.chat, self.settings, self.store, self.clock = chat, settings, store, clock
        self.source = chat.source

    def key(self, *parts: str) -> str:
        return ":".join(("chat", self.source, *parts))

    def channels(self) -> list[ChannelInfo]:
        """Who hygiene is and which channels it reads, from a cache younger than an hour when it
        still fits the config; least recently read first, so a tight call budget serves everyone."""
        now = self.clock.now()
        wanted = list(self.settings.channels)
        cached = self.store.cursors.get(self.key("workspace"))
        fresh = (
            cached is not None
            and cached.get("wanted") == wanted
            and now - datetime.fromisoformat(cached["at"]) < WORKSPACE_CACHE_TTL
        )
        identity = self.chat.connect(cached["identity"] if fresh and cached else None)
        if fresh and cached:
            channels = [ChannelInfo(id=c[0], name=c[1]) for c in cached["channels"]]
        else:
            paths = [f"{self.settings.key_path}.channels[{i}]" for i in range(len(wanted))]
            channels = self.chat.resolve_channels(wanted, paths)
            value = {
                "at": now.isoformat(),
                "wanted": wanted,
                "identity": identity,
                "channels": [[c.id, c.name] for c in channels],
            }
            self.store.cursors.set(self.key("workspace"), value, now)
        return sorted(channels, key=lambda c: self.store.cursors.get(self.key("read", c.id)) or "")

    def window(self, now: datetime) -> ReadWindow:
        return ReadWindow(
            now=now,
            rescan_from=now - timedelta(hours=self.settings.rescan_hours),
            backfill_from=now - timedelta(hours=self.settings.backfill_hours),
        )

    def judging_from(self, now: datetime) -> datetime:
        """Messages older than this are context, never judged again."""
        return now - timedelta(hours=self.settings.rescan_hours)

    def read(self, channel: ChannelInfo, report: CycleReport) -> ChannelFetch:
        now = self.clock.now()
        state = self.store.cursors.get(self.key(channel.id)) or {}
        fetch = self.chat.fetch(channel, state, self.window(now))
        report.messages_read += len(fetch.messages)
        if not fetch.complete:
            report.incomplete_channels.append(channel.name)
            if fetch.error is not None and not fetch.deferred:
                report.errors.append(f"#{channel.name}: {fetch.error}")
            if fetch.gone:
                self.store.cursors.set(self.key("workspace"), None, now)  # resolve the channels again next cycle
            log.warning("chat.fetch_incomplete", chat=self.source, channel=channel.name, error=str(fetch.error or ""))
        return fetch

    def apply(self, fetch: ChannelFetch, now: datetime, report: CycleReport) -> None:
        """Store what the read returned; after a complete read, mark what it no longer finds as deleted."""
        seen: set[str] = set()
        for message in fetch.messages:
            seen.add(message.id)
            outcome = self.store.messages.upsert(message, now)
            if outcome == "new":
                report.new += 1
            elif outcome == "changed":
                report.changed += 1
        if not fetch.complete or fetch.covered_from is None:
            return
        for message_id, thread_id in self.store.messages.stored_since(
            self.source, fetch.channel.id, fetch.covered_from
        ):
            is_top = thread_id in (None, message_id)
            if message_id not in seen and (is_top or thread_id in fetch.threads_read):
                report.deleted += self.store.messages.mark_deleted(self.source, fetch.channel.id, message_id, now)

    def keep_bookmark(self, fetch: ChannelFetch, now: datetime) -> None:
        """Move the channel's bookmark past a complete read (call inside the read's transaction)."""
        if fetch.complete:
            self.store.cursors.set(self.key("read", fetch.channel.id), now.isoformat(), now)
            self.store.cursors.set(self.key(fetch.channel.id), fetch.state, now)
