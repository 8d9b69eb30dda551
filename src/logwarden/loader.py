"""Store framed batches in the case database with the compiled format plan.

Writing rows is most of an ingest's work and DuckDB runs one insert on barely more than
one core, so two loaders, each on its own connection and thread, store batches side by
side. Each keeps its own transaction and commits every `ROWS_PER_COMMIT` rows; a file's
rows stay hidden until its ledger entry is finished, whatever the loaders committed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from queue import Empty, Queue
from typing import Any

from logwarden.formats.classify import BATCH_VIEW, PLAN, STAGE
from logwarden.formats.framing.base import Batch, rechunk
from logwarden.store.database import ROW_GROUP_ROWS, CaseDatabase, Session

# Rows stored between commits. DuckDB keeps every Arrow batch a transaction read until it
# commits, so commits bound the memory an ingest needs whatever the file's size; whole row
# groups per commit let DuckDB write them straight to the file. One row group (about 70 MB of
# records per loader) rather than two: 60 MB less at the peak, at no measurable cost.
ROWS_PER_COMMIT = ROW_GROUP_ROWS
# DuckDB's own memory while loading. The batches the loaders hold lie outside it, and storing
# rows needs little of it: 500 MB rather than the case's 700 keeps an ingest of 1M records
# (2.3 GB) at about 840 MB instead of 1 GB, at no measurable cost in speed.
INGEST_MEMORY_LIMIT = "500MB"
# A record this long (a whole export minified onto one line, say) gets more memory headroom.
HUGE_RECORD = 8 << 20
HUGE_RECORD_MEMORY_LIMIT = "4GB"
LOADERS = 2


@dataclass
class Stored:
    """What became of one batch: rows stored per (input file, format), and the records left over."""

    batch: Batch
    second_pass: bool
    seq: int = 0
    counts: dict[tuple[int, int], int] = field(default_factory=dict)
    leftovers: list[tuple[Any, ...]] = field(default_factory=list)


class Loader:
    """One connection storing batches in its own transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.expected: frozenset[int] = frozenset()
        self._uncommitted = 0
        self._open = False

    def store(self, batch: Batch, second_pass: bool = False, seq: int = 0) -> Stored:
        done = Stored(batch, second_pass, seq)
        room = ROWS_PER_COMMIT - self._uncommitted
        # Commits fall on row-group boundaries: a partial row group left by a commit would be
        # rewritten by the next checkpoint, merged with its neighbours.
        parts = batch.split(room) if 0 < room < len(batch) else (batch,)
        for part in parts:
            if not self._open:
                self.session.run("BEGIN TRANSACTION")
                self._open = True
            if part.longest > HUGE_RECORD:
                with self.session.memory_limit(HUGE_RECORD_MEMORY_LIMIT):
                    self._store(part, done)
            else:
                self._store(part, done)
            self._uncommitted += len(part)
            if self._uncommitted >= ROWS_PER_COMMIT:
                self.commit()
        return done

    def commit(self) -> None:
        if self._open:
            self.session.run("COMMIT")
            self._open = False
        self._uncommitted = 0

    def rollback(self) -> None:
        if self._open:
            self.session.run("ROLLBACK")
            self._open = False
        self._uncommitted = 0

    def _store(self, batch: Batch, done: Stored) -> None:
        self.session.register(BATCH_VIEW, batch.to_table())
        try:
            done.leftovers += self._insert(batch, done.counts)
        finally:
            self.session.unregister(BATCH_VIEW)
            self.session.unregister(STAGE)

    def _insert(self, batch: Batch, counts: dict[tuple[int, int], int]) -> list[tuple[Any, ...]]:
        # Records of a file mostly share one shape: expect the formats of the last batch.
        expected = self.expected
        stored = None
        if len(expected) == 1:
            # One statement classifies and stores; only if it leaves records out is a stage built.
            (stored,) = expected
            (n,) = self.session.run(PLAN.insert_sql(stored, expected, direct=True))[0]
            if n == len(batch):
                assert batch.files is not None
                for item in batch.files.value_counts().to_pylist():
                    key = (item["values"], stored)
                    counts[key] = counts.get(key, 0) + item["counts"]
                return []
        # The stage goes back through Arrow in small batches: DuckDB parallelises a scan per
        # row group of a table (far more rows than a batch) but per batch of Arrow. It also reads
        # the columns of the expected formats, which spares their inserts a second parse.
        self.session.register(STAGE, rechunk(self.session.arrow(PLAN.stage_sql(expected))))
        by_format: dict[int, int] = {}
        for fid, file_id, n in self.session.run(PLAN.present_sql):
            counts[(file_id, fid)] = counts.get((file_id, fid), 0) + n
            by_format[fid] = by_format.get(fid, 0) + n
        for fid in by_format:
            # The expected format's records went in with the direct insert already.
            if fid != stored:
                self.session.run(PLAN.insert_sql(fid, expected))
        if by_format:
            self.expected = frozenset({max(by_format, key=by_format.__getitem__)})
        return self.session.run(PLAN.leftovers_sql)


@dataclass(frozen=True)
class _Job:
    batch: Batch
    second_pass: bool
    seq: int


@dataclass(frozen=True)
class _Control:
    """Run `method` on every loader once: the barrier keeps one loader from taking two."""

    method: Callable[[Loader], None]
    barrier: threading.Barrier


_DONE = object()


class LoaderPool:
    """`LOADERS` loaders on threads of their own, fed batches in order, results in the same order.

    The order makes an ingest's rejects and repairs come out the same on every run.
    """

    def __init__(self, db: CaseDatabase, size: int | None = None) -> None:
        size = size or LOADERS
        # The loaders are the parallelism: one DuckDB thread each, or they fight for the cores.
        self._db = db
        (self._threads_before,) = db.run("SELECT current_setting('threads')")[0]
        db.run("SET threads = 1")
        self._memory = contextlib.ExitStack()
        self._memory.enter_context(db.memory_limit(INGEST_MEMORY_LIMIT))
        self._loaders = [Loader(db.session()) for _ in range(size)]
        self._todo: Queue[_Job | _Control | None] = Queue(size)
        self._done: Queue[object] = Queue()
        self._pending = 0
        self._submitted = 0
        self._released = 0
        self._held: dict[int, Stored] = {}
        self._workers = [
            threading.Thread(target=self._work, args=(loader,), name=f"logwarden-loader-{i}", daemon=True)
            for i, loader in enumerate(self._loaders)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, batch: Batch, second_pass: bool = False) -> None:
        self._put(_Job(batch, second_pass, self._submitted))
        self._submitted += 1

    def finished(self) -> Iterator[Stored]:
        """Results ready now, without waiting."""
        while True:
            try:
                item = self._done.get_nowait()
            except Empty:
                return
            yield from self._release(self._take(item))

    def drain(self) -> Iterator[Stored]:
        """Every result still to come."""
        while self._pending:
            yield from self._release(self._take(self._done.get()))

    def _release(self, stored: Stored | None) -> Iterator[Stored]:
        if stored is not None:
            self._held[stored.seq] = stored
        while self._released in self._held:
            self._released += 1
            yield self._held.pop(self._released - 1)

    def commit(self) -> None:
        """Commit every loader's transaction (after `drain`)."""
        self._everywhere(Loader.commit)

    def rollback(self) -> None:
        """Roll every loader's transaction back, whatever is still queued or running."""
        while self._pending:  # what is in flight finishes first; its results and errors are moot
            self._done.get()
            self._pending -= 1
        self._held.clear()
        self._released = self._submitted
        self._everywhere(Loader.rollback)

    def close(self) -> None:
        for _ in self._workers:
            self._todo.put(None)
        for worker in self._workers:
            worker.join()
        for loader in self._loaders:
            loader.session.close()
        self._db.run("SET threads = ?", [self._threads_before])
        self._memory.close()

    def _everywhere(self, method: Callable[[Loader], None]) -> None:
        barrier = threading.Barrier(len(self._loaders))
        for _ in self._loaders:
            self._put(_Control(method, barrier))
        for _ in self.drain():
            pass

    def _put(self, job: _Job | _Control) -> None:
        self._pending += 1
        self._todo.put(job)

    def _take(self, item: object) -> Stored | None:
        self._pending -= 1
        if isinstance(item, BaseException):
            raise item
        return item if isinstance(item, Stored) else None

    def _work(self, loader: Loader) -> None:
        while (job := self._todo.get()) is not None:
            try:
                if isinstance(job, _Control):
                    job.method(loader)
                    job.barrier.wait()
                    self._done.put(_DONE)
                else:
                    self._done.put(loader.store(job.batch, job.second_pass, job.seq))
            except BaseException as exc:  # handed to the thread that reads the results
                if isinstance(job, _Control):
                    job.barrier.abort()
                self._done.put(exc)
