"""Splitting an audit's input by channel for worker processes (``hygiene audit --jobs N``).

The main process reads the input in blocks and sends each worker the part of every block that
belongs to its channels: message lines as they were read (bytes, parsed again by the worker),
export day files by name (the worker opens the export itself). Every worker receives every
block, possibly empty, so that all of them move through the input together and their findings
can be merged block by block. Units are numbered as :class:`MessageReader` numbers them when it
reads the same input alone, so every event gets the same ``seq`` either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from connectors.slack_export import Archive, MessageReader
from hygiene.models import ChatEvent

BLOCK_LINES = 4096
BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class Line:
    source: str
    seq: tuple[int, int]
    raw: bytes | dict[str, Any]
    """The line as read, for a worker process; already parsed when it is judged in this one."""


@dataclass(frozen=True)
class Day:
    export: Path
    channel: str
    day: str
    unit: int


Work = Line | Day
Block = list[list[Work]]
"""One list of work per worker."""


@dataclass
class Splitter:
    """Assigns channels to workers in the order they first appear (round robin)."""

    jobs: int
    reader: MessageReader
    progress: Callable[[int], object] = lambda _: None
    _owner: dict[str, int] = field(default_factory=dict)

    def owner(self, channel: str) -> int:
        worker = self._owner.get(channel)
        if worker is None:
            worker = self._owner[channel] = len(self._owner) % self.jobs
        return worker

    def _empty(self) -> Block:
        return [[] for _ in range(self.jobs)]

    def lines(self, handle: BinaryIO, source: str) -> Iterator[Block]:
        unit = self.reader.next_unit()
        block, size = self._empty(), 0
        for number, line in enumerate(handle, start=1):
            raw = self.reader.parse_line(line, source, (unit, number))
            if raw is not None:
                keep = raw if self.jobs == 1 else line
                block[self.owner(str(raw["channel"]))].append(Line(source, (unit, number), keep))
            size += len(line)
            if number % BLOCK_LINES == 0:
                yield block
                self.progress(size)
                block, size = self._empty(), 0
        yield block
        self.progress(size)

    def export(self, path: Path) -> Iterator[Block]:
        archive = self.reader.open_export(path)
        block, size = self._empty(), 0
        for channel, day in archive.days():
            block[self.owner(channel)].append(Day(path, channel, day, self.reader.next_unit()))
            size += archive.size(day)
            if size >= BLOCK_BYTES:
                yield block
                self.progress(size)
                block, size = self._empty(), 0
        yield block
        self.progress(size)


@dataclass
class WorkReader:
    """A worker's reader: events for its part of each block."""

    reader: MessageReader = field(default_factory=MessageReader)
    _archives: dict[Path, Archive] = field(default_factory=dict)

    @property
    def skips(self) -> list[tuple[tuple[int, int], str]]:
        return self.reader.skips

    def __call__(self, work: list[Work]) -> Iterator[ChatEvent]:
        for item in work:
            if isinstance(item, Line):
                raw = item.raw if isinstance(item.raw, dict) else self._parse(item)
                if raw is not None:
                    yield from self.reader.events(raw, str(raw["channel"]), f"{item.source}:{item.seq[1]}", item.seq)
            else:
                yield from self.reader.from_day(self._archive(item.export), item.channel, item.day, item.unit)

    def _parse(self, line: Line) -> dict[str, Any] | None:
        assert isinstance(line.raw, bytes)
        return self.reader.parse_line(line.raw, line.source, line.seq)

    def _archive(self, path: Path) -> Archive:
        if path not in self._archives:
            self._archives[path] = self.reader.open_export(path)
        return self._archives[path]
