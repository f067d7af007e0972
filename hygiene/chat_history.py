"""History read from a live chat for a backtest (``hygiene audit --from-chat --days N``).

The audit judges what the chat's own connector reads: the same port, messages and bookmarks as a
cycle, but a read window reaching back ``days`` and no state kept, so leads can backtest a rule
change on Slack and Rocket.Chat alike without an export. Reads stay within the connector's call
budget and rate limits; a channel whose read stopped early is reported, never silently cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hygiene.models import ChatEvent
from hygiene.ports import ChannelInfo, ChatSource, ReadWindow


@dataclass
class HistoryRead:
    """What a backtest read: messages per channel, and the channels it could not read whole."""

    messages: int = 0
    channels: int = 0
    incomplete: list[str] = field(default_factory=list)


def history_events(
    chats: Sequence[tuple[ChatSource, Sequence[str]]],
    now: datetime,
    days: float,
    read: HistoryRead,
    progress: Callable[[int], object] = lambda _: None,
) -> Iterator[ChatEvent]:
    """Every message of every watched channel posted in the last ``days``, one channel after the
    other, each in time order (an audit keeps a window per channel, so the order across channels
    does not change its findings)."""
    since = now - timedelta(days=days)
    window = ReadWindow(now=now, rescan_from=since, backfill_from=since)
    index = 0
    for chat, wanted in chats:
        chat.connect()
        for channel in chat.resolve_channels(wanted):
            yield from _channel_events(chat, channel, window, index, read, progress)
            index += 1


def _channel_events(
    chat: ChatSource,
    channel: ChannelInfo,
    window: ReadWindow,
    index: int,
    read: HistoryRead,
    progress: Callable[[int], object],
) -> Iterator[ChatEvent]:
    fetch = chat.fetch(channel, {}, window)
    read.channels += 1
    if not fetch.complete:
        read.incomplete.append(f"{chat.source} #{channel.name}: {fetch.error or 'stopped early'}")
    messages = sorted(fetch.messages, key=lambda m: (m.at, m.id))
    read.messages += len(messages)
    progress(len(messages))
    where = f"{chat.source}:#{channel.name}"
    for position, message in enumerate(messages):
        yield ChatEvent("message", message.channel, message.id, message, None, where, (index, position))
