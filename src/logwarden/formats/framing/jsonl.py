"""JSON Lines: one record per line, framed in bulk without a per-line Python loop.

This is the shape of Activity Log blobs since 2018 and of most forwarders, so it is
the hot path: newlines are found with numpy and the lines handed to the store as
one Arrow string array over the same bytes. Whether each line is valid JSON is
decided in the store; a line that is not gets its exact parser message later.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from logwarden.formats.framing.base import (
    BATCH_BYTES,
    Batch,
    BatchBuilder,
    FrameStream,
    Locator,
    Reject,
    excerpt,
)

_NL = 10
_CR = 13


def frame_jsonl(stream: BinaryIO) -> FrameStream:
    carry = b""
    first_line = 1
    while True:
        buf = bytearray(len(carry) + BATCH_BYTES)
        buf[: len(carry)] = carry
        filled, broken = _fill(stream, buf, len(carry))
        view = memoryview(buf)[:filled]
        raw = np.frombuffer(view, dtype=np.uint8)
        newline_at = np.flatnonzero(raw == _NL)
        if broken is not None:
            # Keep every complete line decompressed before the damage; the cut line is lost.
            cut = int(newline_at[-1]) + 1 if len(newline_at) else 0
            if len(newline_at):
                yield from _frame(raw[:cut], newline_at, first_line)
                first_line += len(newline_at)
            yield Reject(
                Locator(line=first_line),
                "truncated",
                f"the compressed stream is truncated or corrupt ({broken}); records from here on are lost",
                excerpt(bytes(view[cut:])),
            )
            return
        if filled == len(carry):  # end of stream
            if carry:
                last = np.frombuffer(carry + b"\n", dtype=np.uint8)
                yield from _frame(last, np.array([len(carry)]), first_line)
            return
        if not len(newline_at):
            carry = bytes(view)  # one line longer than a chunk: keep reading until it ends
            continue
        cut = int(newline_at[-1]) + 1
        carry = bytes(view[cut:])
        yield from _frame(raw[:cut], newline_at, first_line)
        first_line += len(newline_at)


_READ_STEP = 1 << 20


def _fill(stream: BinaryIO, buf: bytearray, start: int) -> tuple[int, Exception | None]:
    """Fill `buf` from `start`; how far it got, and the error that stopped the stream early.

    Read in steps so that a gzip stream cut short still yields what came before the cut.
    """
    view = memoryview(buf)
    pos = start
    while pos < len(buf):
        try:
            n = stream.readinto1(view[pos : pos + _READ_STEP])  # type: ignore[attr-defined]
        except (EOFError, zlib.error, OSError) as exc:
            return pos, exc
        if not n:
            break
        pos += n
    return pos, None


def _frame(raw: np.ndarray, newline_at: np.ndarray, first_line: int) -> FrameStream:
    """Frame `raw`, a run of complete lines each ending in a newline at `newline_at`.

    The line terminators are cut out with one vectorised copy so that every record is
    a contiguous slice of one Arrow buffer, with no per-line Python work.
    """
    n = len(newline_at)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = newline_at[:-1] + 1
    has_cr = (newline_at > starts) & (raw[np.maximum(newline_at - 1, 0)] == _CR)
    # Bytes removed before line i: one newline per earlier line plus the earlier CRs.
    removed = np.arange(n, dtype=np.int64)
    removed[1:] += np.cumsum(has_cr[:-1], dtype=np.int64)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[:-1] = starts - removed
    offsets[-1] = len(raw) - n - int(has_cr.sum())
    keep = np.ones(len(raw), dtype=bool)
    keep[newline_at] = False
    keep[newline_at[has_cr] - 1] = False
    data = raw[keep]
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    bad = _invalid_utf8_lines(data, offsets)
    if bad.size:
        yield from _frame_slowly(data.tobytes(), offsets, lines, set(bad.tolist()))
        return
    yield Batch(
        texts=pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data)),
        lines=pa.array(lines),
        records=pa.nulls(n, type=pa.int64()),
        wrappers=pa.nulls(n, type=pa.string()),
    )


def _frame_slowly(body: bytes, offsets: np.ndarray, lines: np.ndarray, bad: set[int]) -> FrameStream:
    """A chunk with lines that are not UTF-8: reject those, frame the rest line by line."""
    builder = BatchBuilder()
    for i in range(len(lines)):
        text = body[offsets[i] : offsets[i + 1]]
        where = Locator(line=int(lines[i]))
        if i in bad:
            yield Reject(
                where,
                "not-utf8",
                "the line is not UTF-8 text (binary data or another encoding)",
                excerpt(text),
            )
        else:
            builder.add(text.decode("utf-8"), where)
    if len(builder):
        yield builder.take()


def _invalid_utf8_lines(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    if not data.size or data.max() < 0x80:
        return np.empty(0, dtype=np.int64)
    body = data.tobytes()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return np.empty(0, dtype=np.int64)
    bad = []
    for i in range(len(offsets) - 1):
        try:
            body[offsets[i] : offsets[i + 1]].decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return np.array(bad, dtype=np.int64)
