"""What framing produces: record texts with their place in the file, and rejects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Locator:
    """Where a record starts: a 1-based line, and/or a 1-based record index."""

    line: int | None = None
    record: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.record is not None:
            parts.append(f"record {self.record}")
        return ", ".join(parts) or "whole file"


@dataclass(frozen=True)
class Reject:
    """A record (or the rest of a file) that cannot be stored, and why."""

    where: Locator
    reason: str
    message: str
    excerpt: str = ""


@dataclass
class Batch:
    """Record texts (one JSON object each) ready for classification in the store.

    `wrapper` names an outer export format the record was unwrapped from (for
    example a Purview CSV row around a Management Activity API record). `files` holds
    each record's input file id once the ingest has `tagged` the batch: small inputs
    share one batch, because a store statement costs milliseconds whatever its size.
    """

    texts: pa.Array
    lines: pa.Array
    records: pa.Array
    wrappers: pa.Array
    longest: int
    files: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def tagged(self, file_id: int) -> Batch:
        """This batch with every record marked as coming from input `file_id`."""
        files = pa.repeat(pa.scalar(file_id, pa.int32()), len(self))
        return Batch(self.texts, self.lines, self.records, self.wrappers, self.longest, files)

    @staticmethod
    def concat(batches: list[Batch]) -> Batch:
        """One batch of several (tagged) batches' records, in order."""
        if len(batches) == 1:
            return batches[0]
        kinds = {b.texts.type for b in batches}
        texts = [b.texts if len(kinds) == 1 else b.texts.cast(pa.large_string()) for b in batches]
        files = [b.files for b in batches]
        return Batch(
            pa.concat_arrays(texts),
            pa.concat_arrays([b.lines for b in batches]),
            pa.concat_arrays([b.records for b in batches]),
            pa.concat_arrays([b.wrappers for b in batches]),
            max(b.longest for b in batches),
            None if any(f is None for f in files) else pa.concat_arrays(files),
        )

    def split(self, at: int) -> tuple[Batch, Batch]:
        """The first `at` records and the rest (`longest` stays an upper bound for both)."""
        head, tail = (
            Batch(
                self.texts.slice(start, length),
                self.lines.slice(start, length),
                self.records.slice(start, length),
                self.wrappers.slice(start, length),
                longest=self.longest,
                files=None if self.files is None else self.files.slice(start, length),
            )
            for start, length in ((0, at), (at, None))
        )
        return head, tail

    def to_table(self) -> pa.Table:
        if self.files is None:
            raise ValueError("a batch is tagged with its input file before it is stored")
        columns = {"text": self.texts, "line": self.lines, "rec": self.records, "wrapper": self.wrappers}
        return rechunk(pa.table({**columns, "fileid": self.files}))


def rechunk(table: pa.Table) -> pa.Table:
    """Several record batches let DuckDB scan (and so parse) with every thread."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=ROWS_PER_SCAN_BATCH))


@dataclass
class BatchBuilder:
    """Collects record texts built in Python (documents, CSV rows, repaired records)."""

    texts: list[str] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    records: list[int | None] = field(default_factory=list)
    wrappers: list[str | None] = field(default_factory=list)
    files: list[int] = field(default_factory=list)
    size: int = 0
    longest: int = 0

    def add(self, text: str, where: Locator, wrapper: str | None = None, file_id: int | None = None) -> None:
        self.texts.append(text)
        self.lines.append(where.line)
        self.records.append(where.record)
        self.wrappers.append(wrapper)
        if file_id is not None:
            self.files.append(file_id)
        self.size += len(text)
        self.longest = max(self.longest, len(text))

    def __len__(self) -> int:
        return len(self.texts)

    def take(self) -> Batch:
        if self.files and len(self.files) != len(self.texts):
            raise ValueError("records added with and without their input file")
        batch = Batch(
            texts=pa.array(self.texts, type=pa.large_string()),
            lines=pa.array(self.lines, type=pa.int64()),
            records=pa.array(self.records, type=pa.int64()),
            wrappers=pa.array(self.wrappers, type=pa.string()),
            longest=self.longest,
            files=pa.array(self.files, type=pa.int32()) if self.files else None,
        )
        self.texts, self.lines, self.records, self.wrappers, self.files = [], [], [], [], []
        self.size = self.longest = 0
        return batch


def excerpt(text: str | bytes) -> str:
    """A short, printable start of a record for messages; never the whole 50 MB."""
    if isinstance(text, bytes):
        text = text[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    short = text[:EXCERPT_CHARS]
    return short + ("…" if len(text) > EXCERPT_CHARS else "")


Framed = Batch | Reject
FrameStream = Iterator[Framed]

BATCH_BYTES = 16 << 20
ROWS_PER_SCAN_BATCH = 1024
