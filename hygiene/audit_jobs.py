"""Judging an audit's channels in worker processes and merging their findings in order.

The input is cut into blocks; every worker gets its channels' part of every block, judges it
with its own :class:`~hygiene.audit.Auditor` (channels never see each other, so a worker sees
everything its channels need) and answers with that block's findings, rendered and keyed. The
main process takes one answer per worker per block and writes them merged by key: the order a
single process judges them in, byte for byte. Queues hold a few blocks each, so memory stays
flat whatever the length of the input.
"""

from __future__ import annotations

import heapq
import multiprocessing
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from queue import Empty
from typing import Any, Protocol, TypeVar

from hygiene.audit import Auditor, AuditSummary, Key, Score
from hygiene.errors import HygieneError
from hygiene.models import ChatEvent, Finding

QUEUED_BLOCKS = 4
POLL_SECONDS = 1.0
W = TypeVar("W")
W_in = TypeVar("W_in", contravariant=True)
Render = Callable[[Finding, str], str]
Keyed = list[tuple[Key, str]]


class WorkerInput(Protocol[W_in]):
    """What a worker reads its part of a block with, and the input it left out."""

    @property
    def skips(self) -> list[tuple[tuple[int, int], str]]: ...

    def __call__(self, work: W_in) -> Iterable[ChatEvent]: ...


class AuditFailed(HygieneError):
    exit_code = 1


@dataclass
class _End:
    lines: Keyed
    summary: AuditSummary
    skips: list[tuple[tuple[int, int], str]]


@dataclass
class _Failed:
    error: str


@dataclass
class Merged:
    summary: AuditSummary
    skips: list[tuple[tuple[int, int], str]]


def run_in_workers(
    blocks: Iterator[list[W]],
    make_input: Callable[[], WorkerInput[W]],
    auditor: Auditor,
    render: Render,
    jobs: int,
    write: Callable[[str], None],
) -> Merged:
    """Judge ``blocks`` (one part per worker) in ``jobs`` processes; write the merged lines."""
    context = multiprocessing.get_context("fork")  # workers inherit the rules and tickets already built
    inboxes: list[Queue[Any]] = [context.Queue(QUEUED_BLOCKS) for _ in range(jobs)]
    outboxes: list[Queue[Any]] = [context.Queue(QUEUED_BLOCKS) for _ in range(jobs)]
    workers = [
        context.Process(target=_work, args=(inboxes[i], outboxes[i], auditor, make_input, render), daemon=True)
        for i in range(jobs)
    ]
    for worker in workers:
        worker.start()
    feeder = _Feeder(blocks, inboxes)
    feeder.start()
    try:
        return _merge(
            [_Outbox(outbox, worker) for outbox, worker in zip(outboxes, workers, strict=True)], auditor, write
        )
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        for inbox in inboxes:
            inbox.cancel_join_thread()  # what a stopped worker left unread must not hold up the exit
        feeder.join(timeout=1)
        if feeder.error is not None:
            raise feeder.error


class _Feeder(threading.Thread):
    """Reads the input and hands each worker its part of every block (blocking when they lag)."""

    def __init__(self, blocks: Iterator[list[Any]], inboxes: list[Queue[Any]]) -> None:
        super().__init__(daemon=True)
        self.blocks, self.inboxes = blocks, inboxes
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for block in self.blocks:
                for inbox, part in zip(self.inboxes, block, strict=True):
                    inbox.put(part)
        except BaseException as exc:  # the main thread raises it once the workers have stopped
            self.error = exc
        for inbox in self.inboxes:
            inbox.put(None)


def _work(
    inbox: Queue[Any], outbox: Queue[Any], auditor: Auditor, make_input: Callable[[], Any], render: Render
) -> None:
    try:
        read = make_input()
        while (work := inbox.get()) is not None:
            outbox.put([(key, render(f, a)) for event in read(work) for key, f, a in auditor.feed(event)])
        lines = [(key, render(finding, action)) for key, finding, action in auditor.finish()]
        outbox.put(_End(lines, auditor.summary, read.skips))
    except BaseException:
        outbox.put(_Failed(traceback.format_exc()))


@dataclass
class _Outbox:
    queue: Queue[Any]
    worker: BaseProcess

    def get(self) -> Any:
        """The worker's next answer; a failure when the worker died without one (killed, out of memory)."""
        while True:
            try:
                return self.queue.get(timeout=POLL_SECONDS)
            except Empty:
                if not self.worker.is_alive():
                    try:
                        return self.queue.get(timeout=POLL_SECONDS)
                    except Empty:
                        return _Failed(f"worker {self.worker.pid} died (exit code {self.worker.exitcode})")


def _merge(outboxes: list[_Outbox], auditor: Auditor, write: Callable[[str], None]) -> Merged:
    while True:
        answers = [outbox.get() for outbox in outboxes]
        failed = [answer for answer in answers if isinstance(answer, _Failed)]
        if failed:
            raise AuditFailed(f"audit: a worker failed:\n{failed[0].error}")
        ends = [answer for answer in answers if isinstance(answer, _End)]
        parts: list[Keyed] = [answer.lines if isinstance(answer, _End) else answer for answer in answers]
        for _, line in heapq.merge(*parts):
            write(line)
        if ends:
            return _merged(ends, auditor)


def _merged(ends: list[_End], auditor: Auditor) -> Merged:
    summary = AuditSummary(scores={rule.code: Score() for rule in auditor.rules})
    for end in ends:
        summary.merge(end.summary)
    skips = sorted((skip for end in ends for skip in end.skips), key=lambda skip: skip[0])
    return Merged(summary, skips)
