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

from logwarden.formats.framing.base import BATCH_BYTES, Batch, BatchBuilder, FrameStream, Locator, Reject, excerpt

_NL = 10
_CR = 13


def frame_jsonl(stream: BinaryIO) -> FrameStream:
    chunk_bytes = BATCH_BYTES
    carry = b""
    first_line = 1
    while True:
        data, broken = _read(stream, chunk_bytes)
        buf = carry + data if carry else data
        if broken is not None:
            # Keep every complete line decompressed before the damage; the cut line is lost.
            end = buf.rfind(b"\n")
            if end >= 0:
                yield from _frame(buf[: end + 1], first_line)
                first_line += buf.count(b"\n", 0, end + 1)
            yield Reject(
                Locator(line=first_line),
                "truncated",
                f"the compressed stream is truncated or corrupt ({broken}); records from here on are lost",
                excerpt(buf[end + 1 :]),
            )
            return
        if not data:
            if buf:
                yield from _frame(buf + b"\n", first_line)
            return
        end = buf.rfind(b"\n")
        if end < 0:
            carry = buf  # one line longer than a chunk: keep reading until it ends
            continue
        body, carry = buf[: end + 1], buf[end + 1 :]
        yield from _frame(body, first_line)
        first_line += body.count(b"\n")


_READ_STEP = 1 << 20


def _read(stream: BinaryIO, size: int) -> tuple[bytes, Exception | None]:
    """Up to `size` bytes, and the error that stopped the stream early, if any.

    Read in steps so that a gzip stream cut short still yields what came before the cut.
    """
    parts = []
    got = 0
    while got < size:
        try:
            part = stream.read1(min(_READ_STEP, size - got))  # type: ignore[attr-defined]
        except (EOFError, zlib.error, OSError) as exc:
            return b"".join(parts), exc
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts), None


def _frame(body: bytes, first_line: int) -> FrameStream:
    """Frame `body`, a run of complete lines each ending in a newline.

    The line terminators are cut out with one vectorised copy so that every record is
    a contiguous slice of one Arrow buffer, with no per-line Python work.
    """
    raw = np.frombuffer(body, dtype=np.uint8)
    newline_at = np.flatnonzero(raw == _NL)
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
            yield Reject(where, "not-utf8", "the line is not UTF-8 text (binary data or another encoding)", excerpt(text))
        else:
            builder.add(text.decode("utf-8"), where)
    if len(builder):
        yield builder.take()


def _invalid_utf8_lines(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    if not (data >= 0x80).any():
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
