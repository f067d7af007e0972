"""Splitting an audit's input by channel for worker processes (``hygiene audit --jobs N``).

The main process reads the input in blocks and sends each worker the part of every block that
belongs to its channels: message lines as they were read (bytes, parsed again by the worker),
export day files by name (the worker opens the export itself). Every worker receives every
block, possibly empty, so that all of them move through the input together and their findings
can be merged block by block. Units are numbered as :class:`MessageReader` numbers them when it
reads the same input alone, so every event gets the same ``seq`` either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from connectors.chat.slack.export import Archive, MessageReader
from hygiene.models import ChatEvent

BLOCK_LINES = 4096
BLOCK_BYTES = 1 << 20


@dataclass
class Lines:
    """A worker's lines of one block of a message file: as read, or already parsed in-process."""

    source: str
    unit: int
    numbers: list[int] = field(default_factory=list)
    raws: list[bytes | dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Day:
    export: Path
    channel: str
    day: str
    unit: int


Work = Lines | Day
Block = list[list[Work]]
"""One list of work per worker."""


@dataclass
class Splitter:
    """Cuts the input into blocks and gives each channel to a worker.

    A channel goes to the worker with the least input so far, busiest channels first (counted
    in the block where they first appear, or over the whole export), so that busy and quiet
    channels spread evenly. One process (``jobs`` 1) gets lines already parsed.
    """

    jobs: int
    reader: MessageReader
    progress: Callable[[int], object] = lambda _: None
    _owner: dict[str, int] = field(default_factory=dict)
    _load: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._load = [0] * self.jobs

    def lines(self, handle: BinaryIO, source: str) -> Iterator[Block]:
        unit = self.reader.next_unit()
        pending: list[tuple[int, bytes | dict[str, Any], str]] = []
        size = 0
        for number, line in enumerate(handle, start=1):
            raw = self.reader.parse_line(line, source, (unit, number))
            if raw is not None:
                pending.append((number, raw if self.jobs == 1 else line, str(raw["channel"])))
            size += len(line)
            if number % BLOCK_LINES == 0:
                yield self._lines_block(source, unit, pending)
                self.progress(size)
                pending, size = [], 0
        yield self._lines_block(source, unit, pending)
        self.progress(size)

    def _lines_block(self, source: str, unit: int, pending: list[tuple[int, bytes | dict[str, Any], str]]) -> Block:
        self._assign(Counter(channel for _, _, channel in pending))
        parts = [Lines(source, unit) for _ in range(self.jobs)]
        for number, raw, channel in pending:
            part = parts[self._owner[channel]]
            part.numbers.append(number)
            part.raws.append(raw)
        return [[part] for part in parts]

    def _assign(self, counts: Counter[str]) -> None:
        for channel, count in counts.items():
            if channel in self._owner:
                self._load[self._owner[channel]] += count
        for channel, count in counts.most_common():
            if channel not in self._owner:
                worker = min(range(self.jobs), key=lambda w: (self._load[w], w))
                self._owner[channel] = worker
                self._load[worker] += count

    def export(self, path: Path) -> Iterator[Block]:
        archive = self.reader.open_export(path)
        days = [(channel, day, archive.size(day)) for channel, day in archive.days()]
        sizes: Counter[str] = Counter()
        for channel, _, size in days:
            sizes[channel] += size
        self._assign(sizes)
        block, total = self._empty(), 0
        for channel, day, size in days:
            block[self._owner[channel]].append(Day(path, channel, day, self.reader.next_unit()))
            total += size
            if total >= BLOCK_BYTES:
                yield block
                self.progress(total)
                block, total = self._empty(), 0
        yield block
        self.progress(total)

    def shares(self) -> list[float]:
        """Each worker's share of the input split so far (lines, or bytes of an export)."""
        total = sum(self._load) or 1
        return [load / total for load in self._load]

    def _empty(self) -> Block:
        return [[] for _ in range(self.jobs)]


@dataclass
class WorkReader:
    """A worker's reader: events for its part of each block."""

    reader: MessageReader = field(default_factory=MessageReader)
    _archives: dict[Path, Archive] = field(default_factory=dict)

    @property
    def skips(self) -> list[tuple[tuple[int, int], str]]:
        return self.reader.skips

    def __call__(self, work: list[Work]) -> Iterator[ChatEvent]:
        reader = self.reader
        for item in work:
            if isinstance(item, Day):
                yield from reader.from_day(self._archive(item.export), item.channel, item.day, item.unit)
                continue
            source, unit = item.source, item.unit
            for number, line in zip(item.numbers, item.raws, strict=True):
                raw = line if isinstance(line, dict) else reader.parse_line(line, source, (unit, number))
                if raw is not None:
                    yield from reader.events(raw, str(raw["channel"]), f"{source}:{number}", (unit, number))

    def _archive(self, path: Path) -> Archive:
        if path not in self._archives:
            self._archives[path] = self.reader.open_export(path)
        return self._archives[path]
