"""Read input files into the case database: formats → store.

An input's rows are committed in slices and become visible only when its ledger entry
is finished, so an interrupted ingest leaves no half file behind and a rerun completes
it. Every record read is either stored or counted as rejected with a reason:
read = stored + rejected.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import BinaryIO, TypeVar

from logwarden.formats.classify import PLAN
from logwarden.formats.files import InputError, InputFile, iter_inputs
from logwarden.formats.framing.base import BATCH_BYTES, Batch, BatchBuilder, Locator, Reject, excerpt
from logwarden.formats.framing.csvrows import CsvOptions, DateOrder
from logwarden.formats.framing.sniff import UnreadableFile, frame_file
from logwarden.formats.records import MACROS
from logwarden.formats.repair import Failed, Repaired, repair, unknown_shape
from logwarden.loader import LOADERS, ROWS_PER_COMMIT, LoaderPool, Stored
from logwarden.store.database import (
    INGESTING,
    ROW_GROUP_ROWS,
    CaseDatabase,
    FinishedFile,
    LedgerEntry,
    RejectRow,
)

# Rejects kept per file in the ledger; the counts by reason are always complete.
MAX_REJECTS_KEPT = 1000
# Inputs up to this size (an hour of a quiet subscription's Activity Log, say) are read
# into a group and stored together: each store statement and commit costs milliseconds
# whatever its size, which on a tree of thousands of hourly blobs would be most of the work.
SMALL_FILE_BYTES = 4 << 20
GROUP_ROWS = ROW_GROUP_ROWS
GROUP_BYTES = BATCH_BYTES
GROUP_FILES = 1000
# A small compressed input can hold far more (a gzip bomb, thousands of times more): past
# this much text it leaves the group and is streamed on its own like a large input.
MAX_GROUPED_BYTES = 2 * BATCH_BYTES
# Groups are finished when the loaders have about this many rows to commit: whole row groups.
SETTLE_ROWS = LOADERS * ROWS_PER_COMMIT


class StrictStop(Exception):
    """`--strict`: the first problem ends the ingest."""


class _Duplicate(Exception):
    def __init__(self, entry: LedgerEntry) -> None:
        self.entry = entry


def _skipped(result: FileResult, known: LedgerEntry) -> FileResult:
    result.status = "skipped"
    result.message = f"already ingested as file {known.file_id} ({known.path})"
    result.file_id = known.file_id
    return result


@dataclass
class FileResult:
    path: str
    status: str = "stored"
    container: str = ""
    message: str = ""
    stored: int = 0
    rejected: int = 0
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    first_rejects: list[tuple[Locator, str, str]] = field(default_factory=list)
    file_id: int | None = None
    size: int = 0
    seconds: float = 0.0

    @property
    def read(self) -> int:
        return self.stored + self.rejected

    @property
    def problem(self) -> bool:
        return self.rejected > 0 or self.status in ("unreadable", "empty")


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def ok(self) -> bool:
        return not any(f.problem for f in self.files)


@dataclass(frozen=True)
class IngestOptions:
    date_order: DateOrder | None = None
    strict: bool = False


class Progress:
    """What a progress display needs to hear; the default hears nothing."""

    def start(self, total_files: int, total_bytes: int) -> None: ...
    def file_started(self, name: str, size: int) -> None: ...
    def bytes_read(self, n: int) -> None: ...
    def records(self, n: int) -> None: ...
    def file_done(self, result: FileResult) -> None: ...


def open_case(db_path: Path | str, read_only: bool = False) -> CaseDatabase:
    return CaseDatabase(db_path, read_only=read_only, macros=MACROS)


class Ingestor:
    def __init__(self, db: CaseDatabase, options: IngestOptions | None = None, progress: Progress | None = None):
        self.db = db
        self.options = options or IngestOptions()
        self.progress = progress or Progress()
        self.loaders = LoaderPool(db)
        self._known = _Known([])
        self._file_ids: list[int] = []
        # Results of the inputs whose records the loaders hold, by file id.
        self._in_flight: dict[int, FileResult] = {}

    def close(self) -> None:
        self.loaders.close()

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ingest(self, paths: list[Path]) -> IngestReport:
        started = time.perf_counter()
        inputs = list(iter_inputs(paths, exclude={self.db.path, self.db.path.with_name(self.db.path.name + ".wal")}))
        sizes = [_size(i) for i in inputs]
        self.progress.start(len(inputs), sum(sizes))
        report = IngestReport()
        self._known = _Known(self.db.ledger())
        for result in self._ingest_all(inputs, sizes):
            report.files.append(result)
            self.progress.file_done(result)
            if self.options.strict and result.problem:
                break
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_all(self, inputs: list[InputFile], sizes: list[int]) -> Iterator[FileResult]:
        """Each input's result, in input order.

        Small inputs are read into a group, handed to the loaders a group at a time and
        finished a few groups at a time: a loader commit every group would leave row groups
        part full, which DuckDB then rewrites at every checkpoint.
        """
        reading, storing = _Group(), list[_Group]()
        try:
            for inp, size in zip(inputs, sizes, strict=True):
                self.progress.file_started(inp.name, size)
                # `--strict` stops at the first problem, keeping the files before it: one at a time.
                one_at_a_time = size > SMALL_FILE_BYTES or self.options.strict
                if not one_at_a_time:
                    one_at_a_time = not self._read_small(inp, size, reading)
                if one_at_a_time:
                    self._submit(reading, storing)
                    reading = _Group()
                    yield from self._settle(storing)
                    result = self.ingest_file(inp)
                    result.size = size
                    yield result
                    continue
                if reading.rows >= GROUP_ROWS or reading.bytes >= GROUP_BYTES or len(reading.members) >= GROUP_FILES:
                    self._submit(reading, storing)
                    reading = _Group()
                    if sum(g.rows for g in storing) >= SETTLE_ROWS:
                        yield from self._settle(storing)
            self._submit(reading, storing)
            yield from self._settle(storing)
        except BaseException:
            # What `reading` read is not in the case yet; what `storing` stored goes.
            self.loaders.rollback()
            self.db.abandon_files([file_id for g in storing for file_id, _ in g.read()])
            raise

    def _read_small(self, inp: InputFile, size: int, group: _Group) -> bool:
        """Frame a small input into `group`; nothing of it is in the case until the group is stored.

        False if it turns out not to be small (a compressed file holding much more than its
        size): it is left out of the group, to be read again on its own.
        """
        result = FileResult(inp.name, size=size)
        size, mtime_ns = inp.stat_key()
        member = _Member(inp, result, "", size, mtime_ns)
        group.members.append(member)
        known = self._known.unchanged(inp.name, size, mtime_ns)
        if known is None:
            member.sha = inp.sha256()
            known = self._known.same_bytes(member.sha)
        if known is not None:
            _skipped(result, known)
            return True
        started = time.perf_counter()
        if not self._file_ids:
            self._file_ids = self.db.reserve_file_ids(64)
        result.file_id = file_id = self._file_ids.pop(0)
        held = group.held[file_id] = []
        batches_before, rows_before, bytes_before = len(group.batches), group.rows, group.bytes
        try:
            result.container, frames = frame_file(lambda: inp.open(self.progress.bytes_read), self._csv)
            stream = _guarded(frames)
            for item in stream:
                if isinstance(item, Reject):
                    self._reject(file_id, result, item.where, item.reason, item.message, item.excerpt, held)
                    continue
                group.batches.append(item.tagged(file_id))
                group.rows += len(item)
                group.bytes += item.texts.nbytes
                if group.bytes - bytes_before > MAX_GROUPED_BYTES:
                    stream.close()
                    del group.batches[batches_before:], group.held[file_id], group.members[-1]
                    group.rows, group.bytes = rows_before, bytes_before
                    return False
        except (UnreadableFile, InputError) as exc:
            _unreadable(result, exc)
        # Held rejects weigh on the group too: a folder of garbage stores no rows at all.
        group.bytes += sum(len(row[4]) + len(row[5]) for row in held)
        # A later input of the group with the same bytes is skipped as this one's copy.
        self._known.add(LedgerEntry(file_id, inp.name, INGESTING), size, mtime_ns, member.sha)
        result.seconds = time.perf_counter() - started
        return True

    def _submit(self, group: _Group, storing: list[_Group]) -> None:
        """Put a group's inputs in the ledger and its records in the loaders' hands."""
        if not group.members:
            return
        started = time.perf_counter()
        # The rows a loader commits must already belong to a file marked `ingesting`.
        self.db.begin_files(
            [(file_id, m.inp.name) for file_id, m in group.read()],
            [row for rows in group.held.values() for row in rows],
        )
        storing.append(group)
        self._in_flight.update((file_id, m.result) for file_id, m in group.read())
        if group.batches:
            batch = Batch.concat(group.batches)
            group.batches = []
            half = len(batch) // 2
            # Both loaders take a share.
            for part in batch.split(half) if half else (batch,):
                self.loaders.submit(part)
        # Absorbing as results come lets their batches go.
        for stored in self.loaders.finished():
            self._absorb(stored, self._in_flight)
        group.seconds = time.perf_counter() - started

    def _settle(self, storing: list[_Group]) -> Iterator[FileResult]:
        """Wait for the loaders to store the submitted groups, then finish and yield their results."""
        if not storing:
            return
        started = time.perf_counter()
        for stored in self.loaders.drain():
            self._absorb(stored, self._in_flight)
        self.loaders.commit()
        elapsed = sum(g.seconds for g in storing) + time.perf_counter() - started
        share = elapsed / max(len(self._in_flight), 1)
        finished = []
        for group in storing:
            for _, member in group.read():
                member.result.seconds += share
                finished.append(self._finished(member.sha, member.size, member.mtime_ns, member.result))
        self.db.finish_files(finished)
        results = [member.result for group in storing for member in group.members]
        storing.clear()
        self._in_flight.clear()
        yield from results

    @property
    def _csv(self) -> CsvOptions:
        return CsvOptions(self.options.date_order)

    def ingest_file(self, inp: InputFile) -> FileResult:
        result = FileResult(inp.name)
        size, mtime_ns = inp.stat_key()
        known = self._known.unchanged(inp.name, size, mtime_ns)
        if known is not None:
            return _skipped(result, known)
        # The hash (for "same bytes under another name") is computed while the file is read.
        with ThreadPoolExecutor(1) as hasher:
            sha = hasher.submit(inp.sha256)
            started = time.perf_counter()
            result.file_id = file_id = self.db.begin_file(inp.name)
            try:
                self._read(inp, file_id, result, sha)
                self.loaders.commit()
                known = self._known.same_bytes(sha.result())
                if known is not None:
                    raise _Duplicate(known)
            except BaseException as exc:
                self.loaders.rollback()
                self.db.abandon_files([file_id])
                if isinstance(exc, _Duplicate):
                    return _skipped(FileResult(inp.name), exc.entry)
                raise
        result.seconds = time.perf_counter() - started
        self.db.finish_files([self._finished(sha.result(), size, mtime_ns, result)])
        self._known.add(LedgerEntry(file_id, inp.name, result.status), size, mtime_ns, sha.result())
        return result

    def _read(self, inp: InputFile, file_id: int, result: FileResult, sha: Future[str]) -> None:
        def opener() -> BinaryIO:
            return inp.open(self.progress.bytes_read)

        results = {file_id: result}
        try:
            result.container, frames = frame_file(opener, self._csv)
            checked = False
            # Framing (numpy, file reads) runs ahead in a thread; loaders store on two more.
            for item in read_ahead(_guarded(frames)):
                if isinstance(item, Reject):
                    self._reject(file_id, result, item.where, item.reason, item.message, item.excerpt)
                else:
                    self.loaders.submit(item.tagged(file_id))
                for stored in self.loaders.finished():
                    self._absorb(stored, results)
                if not checked and sha.done():
                    checked = True
                    known = self._known.same_bytes(sha.result())
                    if known is not None:
                        raise _Duplicate(known)
            # Draining also takes the second-pass batches that absorbing submits meanwhile.
            for stored in self.loaders.drain():
                self._absorb(stored, results)
        except (UnreadableFile, InputError) as exc:
            _unreadable(result, exc)
            if self.options.strict:
                raise StrictStop(f"{inp.name}: {exc}") from exc

    def _absorb(self, stored: Stored, results: dict[int, FileResult]) -> None:
        """Count what a loader stored; give its leftovers a second chance or a reason."""
        for (file_id, fid), n in stored.counts.items():
            fmt = PLAN.formats[fid]
            results[file_id].counts[(fmt.table, fmt.code)] += n
            results[file_id].stored += n
        if not stored.second_pass:
            self.progress.records(len(stored.batch))
        retry = BatchBuilder()
        for text, line, rec, wrapper, file_id, fid, t_raw in stored.leftovers:
            if not text.strip():
                continue  # a blank line is no record
            result = results[file_id]
            where = Locator(line, rec)
            if fid is not None:
                fmt = PLAN.formats[fid]
                field_name = fmt.time.split('"')[1]
                if t_raw is None:
                    reason, message = "missing-time", f"{fmt.title} record without its event time ({field_name})"
                else:
                    reason, message = "bad-time", f"unreadable event time {field_name} = {excerpt(t_raw)!r}"
                self._reject(file_id, result, where, reason, message, excerpt(text))
                continue
            outcome: list[Repaired | Failed] = [unknown_shape(text)] if stored.second_pass else repair(text, wrapper)
            for k, item in enumerate(outcome, start=1):
                if isinstance(item, Failed):
                    self._reject(file_id, result, where, item.reason, item.message, excerpt(text))
                else:
                    sub = Locator(line, rec if rec is not None else (k if len(outcome) > 1 else None))
                    retry.add(item.text, sub, item.wrapper, file_id)
        if len(retry):
            self.loaders.submit(retry.take(), second_pass=True)

    def _reject(
        self,
        file_id: int,
        result: FileResult,
        where: Locator,
        reason: str,
        message: str,
        text: str = "",
        held: list[RejectRow] | None = None,
    ) -> None:
        """Count a reject; keep the first ones in the ledger, or in `held` while the input is not in it yet."""
        result.rejected += 1
        result.reasons[reason] += 1
        if len(result.first_rejects) < MAX_REJECTS_KEPT:
            result.first_rejects.append((where, reason, message))
            row = (file_id, where.line, where.record, reason, message, text)
            if held is not None:
                held.append(row)
            else:
                self.db.add_rejects([row])
        if self.options.strict:
            raise StrictStop(f"{result.path}, {where}: {message}")

    def _finished(self, sha: str, size: int, mtime_ns: int, result: FileResult) -> FinishedFile:
        """The ledger rows of an input read to its end (a stored one with rejects is partial)."""
        assert result.file_id is not None
        if result.status == "stored" and result.rejected:
            result.status = "partial"
        entry = {
            "sha256": sha,
            "size": size,
            "mtime_ns": mtime_ns,
            "container": result.container,
            "read": result.read,
            "stored": result.stored,
            "rejected": result.rejected,
            "status": result.status,
            "message": result.message,
            "seconds": result.seconds,
        }
        counts = [(table, fmt, n) for (table, fmt), n in sorted(result.counts.items())]
        return FinishedFile(result.file_id, entry, counts, sorted(result.reasons.items()))


class _Known:
    """The inputs the case holds, looked up in memory: a query per input would cost a
    small input more than storing its records does."""

    def __init__(self, entries: Iterable[tuple[LedgerEntry, int | None, int | None, str | None]]) -> None:
        self._by_stat: dict[tuple[str, int | None, int | None], LedgerEntry] = {}
        self._by_sha: dict[str, LedgerEntry] = {}
        for entry, size, mtime_ns, sha in entries:
            self.add(entry, size, mtime_ns, sha)

    def add(self, entry: LedgerEntry, size: int | None, mtime_ns: int | None, sha: str | None) -> None:
        self._by_stat.setdefault((entry.path, size, mtime_ns), entry)
        if sha:
            self._by_sha.setdefault(sha, entry)

    def unchanged(self, path: str, size: int, mtime_ns: int) -> LedgerEntry | None:
        return self._by_stat.get((path, size, mtime_ns))

    def same_bytes(self, sha: str) -> LedgerEntry | None:
        return self._by_sha.get(sha)


@dataclass
class _Member:
    inp: InputFile
    result: FileResult
    sha: str
    size: int
    mtime_ns: int


@dataclass
class _Group:
    """Small inputs framed and waiting to be stored together."""

    members: list[_Member] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    # Rejects of each input not yet in the ledger, held until the group is stored.
    held: dict[int, list[RejectRow]] = field(default_factory=dict)
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def read(self) -> Iterator[tuple[int, _Member]]:
        """The members read into the group (not skipped), with their file ids."""
        for member in self.members:
            # A skipped member carries the file id of the input it repeats.
            if member.result.status != "skipped" and (file_id := member.result.file_id) is not None:
                yield file_id, member


def _unreadable(result: FileResult, exc: Exception) -> None:
    result.status = "empty" if "empty" in str(exc) else "unreadable"
    result.message = str(exc)


T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, produced by a background thread up to `depth` ahead of the consumer.

    An exception in the producer is raised in the consumer; a consumer that stops early
    stops the producer, which closes `items`.
    """
    queue: Queue[object] = Queue(depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:
            put(_Raised(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="logwarden-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


@dataclass(frozen=True)
class _Raised:
    exc: BaseException


def _guarded(frames: Iterator[Batch | Reject]) -> Generator[Batch | Reject, None, None]:
    """Framed items until the stream itself breaks; a broken compressed stream becomes a reject."""
    try:
        yield from frames
    except (EOFError, zlib.error, OSError) as exc:
        yield Reject(
            Locator(),
            "truncated",
            f"the compressed stream is truncated or corrupt ({exc}); records after this point are lost",
        )


def _size(inp: InputFile) -> int:
    try:
        return inp.stat_key()[0]
    except OSError:
        return 0
