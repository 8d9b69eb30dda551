"""Whole JSON documents: envelopes, arrays, bare objects, several documents in a row.

Documents up to `STREAM_ABOVE` bytes are parsed at once with orjson. Larger ones
(old `{"records": [...]}` hourly blobs of a busy subscription, big REST dumps) are
streamed item by item with ijson so memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
import orjson

from logwarden.formats.framing.base import BATCH_BYTES, BatchBuilder, FrameStream, Locator, Reject, excerpt
from logwarden.formats.framing.envelopes import NotARecord, unwrap

STREAM_ABOVE = 256 << 20

_HEAD = 64 << 10


def frame_documents(stream: BinaryIO) -> FrameStream:
    head = stream.read(STREAM_ABOVE + 1)
    if len(head) > STREAM_ABOVE:
        yield from _frame_streaming(head, stream)
    else:
        yield from _frame_parsed(head)


def _frame_parsed(data: bytes) -> FrameStream:
    builder = BatchBuilder()
    counter = _Counter()
    for doc_or_error in _documents(data):
        if isinstance(doc_or_error, Reject):
            yield doc_or_error
            continue
        yield from _emit(unwrap(doc_or_error), builder, counter)
        if builder.size >= BATCH_BYTES:
            yield builder.take()
    if len(builder):
        yield builder.take()


def _documents(data: bytes) -> Iterator[Any]:
    """Each top-level JSON value in `data` (PowerShell appends one array per page)."""
    pos = 0
    view = memoryview(data)
    while pos < len(data):
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if pos >= len(data):
            return
        try:
            yield orjson.loads(view[pos:])
            return
        except orjson.JSONDecodeError as exc:
            if exc.msg.startswith("unexpected content after document"):
                end = pos + exc.pos
                yield orjson.loads(view[pos:end])
                pos = end
                continue
            # At the end of the data the parser stands past the last newline: name the line it read last.
            at = len(data[: pos + exc.pos].rstrip())
            line = data.count(b"\n", 0, at) + 1
            yield Reject(
                Locator(line=line),
                "invalid-json",
                f"invalid JSON at line {line}: {exc.msg}; the rest of the file from here is not read",
                excerpt(data[max(at - 100, 0) : at + 100]),
            )
            return


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def _emit(items: Iterator[Any], builder: BatchBuilder, counter: _Counter) -> FrameStream:
    for item in items:
        where = Locator(record=counter.next())
        if isinstance(item, NotARecord):
            yield Reject(where, item.reason, item.message)
        else:
            builder.add(orjson.dumps(item.record).decode(), where, item.wrapper)


_ENVELOPE = re.compile(rb'^\s*\{\s*"(records|value)"\s*:\s*\[', re.IGNORECASE)


def _stream_prefix(head: bytes) -> str | None:
    stripped = head.lstrip()
    if stripped.startswith(b"["):
        return "item"
    match = _ENVELOPE.match(head[:_HEAD])
    if match:
        return f"{match.group(1).decode()}.item"
    return None


def _frame_streaming(head: bytes, rest: BinaryIO) -> FrameStream:
    prefix = _stream_prefix(head)
    if prefix is None:
        yield Reject(
            Locator(),
            "too-large",
            "a JSON document over 256 MB that is neither an array nor a records/value envelope",
        )
        return
    builder = BatchBuilder()
    counter = _Counter()
    source = _Chain(head, rest)
    try:
        for item in ijson.items(source, prefix, multiple_values=True, use_float=True):
            yield from _emit(unwrap(item), builder, counter)
            if builder.size >= BATCH_BYTES:
                yield builder.take()
    except ijson.JSONError as exc:
        yield Reject(
            Locator(record=counter.n + 1),
            "invalid-json",
            f"invalid JSON after record {counter.n}: {exc}; the rest of the file is not read",
        )
    if len(builder):
        yield builder.take()


class _Chain:
    """`head` then the rest of the stream, as one readable object for ijson."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._rest.read(n)
