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
    example a Purview CSV row around a Management Activity API record).
    """

    texts: pa.Array
    lines: pa.Array
    records: pa.Array
    wrappers: pa.Array
    longest: int

    def __len__(self) -> int:
        return len(self.texts)

    def split(self, at: int) -> tuple[Batch, Batch]:
        """The first `at` records and the rest (`longest` stays an upper bound for both)."""
        head = Batch(
            self.texts.slice(0, at),
            self.lines.slice(0, at),
            self.records.slice(0, at),
            self.wrappers.slice(0, at),
            longest=self.longest,
        )
        tail = Batch(
            self.texts.slice(at),
            self.lines.slice(at),
            self.records.slice(at),
            self.wrappers.slice(at),
            longest=self.longest,
        )
        return head, tail

    def to_table(self) -> pa.Table:
        return rechunk(
            pa.table({"text": self.texts, "line": self.lines, "rec": self.records, "wrapper": self.wrappers})
        )


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
    size: int = 0
    longest: int = 0

    def add(self, text: str, where: Locator, wrapper: str | None = None) -> None:
        self.texts.append(text)
        self.lines.append(where.line)
        self.records.append(where.record)
        self.wrappers.append(wrapper)
        self.size += len(text)
        self.longest = max(self.longest, len(text))

    def __len__(self) -> int:
        return len(self.texts)

    def take(self) -> Batch:
        batch = Batch(
            texts=pa.array(self.texts, type=pa.large_string()),
            lines=pa.array(self.lines, type=pa.int64()),
            records=pa.array(self.records, type=pa.int64()),
            wrappers=pa.array(self.wrappers, type=pa.string()),
            longest=self.longest,
        )
        self.texts, self.lines, self.records, self.wrappers = [], [], [], []
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
