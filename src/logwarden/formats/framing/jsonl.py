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
        # Uninitialised: zeroing 16 MB would cost a small file more than framing it does.
        buf = np.empty(len(carry) + BATCH_BYTES, dtype=np.uint8)
        buf[: len(carry)] = np.frombuffer(carry, dtype=np.uint8)
        filled, broken = _fill(stream, buf.data, len(carry))
        if filled < len(buf) // 2:
            # A small file's records would keep all 16 MB alive (in memory, in huge pages) as
            # long as the store holds them: give them a buffer of their own size.
            buf = buf[:filled].copy()
        view = buf.data[:filled]
        raw = buf[:filled]
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


def _fill(stream: BinaryIO, view: memoryview, start: int) -> tuple[int, Exception | None]:
    """Fill `view` from `start`; how far it got, and the error that stopped the stream early.

    Read in steps so that a gzip stream cut short still yields what came before the cut.
    """
    pos = start
    while pos < len(view):
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

    The records become an Arrow `string_view` array: 16-byte views (length, first bytes,
    offset) built with numpy over the unchanged buffer, so no record is copied and the
    line terminators simply fall outside the views.
    """
    n = len(newline_at)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = newline_at[:-1] + 1
    ends = newline_at.astype(np.int64)
    has_cr = (ends > starts) & (raw[np.maximum(ends - 1, 0)] == _CR)
    ends[has_cr] -= 1
    lengths = ends - starts
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    bad = _invalid_utf8_lines(raw, starts, ends)
    if bad.size:
        yield from _frame_slowly(raw.tobytes(), starts, ends, lines, set(bad.tolist()))
        return
    yield Batch(
        texts=_string_views(raw, starts, lengths),
        lines=pa.array(lines),
        records=pa.nulls(n, type=pa.int64()),
        wrappers=pa.nulls(n, type=pa.string()),
        longest=int(lengths.max()),
    )


_INLINE = 12  # Arrow keeps strings this short inside the view itself


def _string_views(raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    n = len(starts)
    views = np.zeros((n, 16), dtype=np.uint8)
    views[:, 0:4] = lengths.astype("<i4").view(np.uint8).reshape(n, 4)
    # Long strings: a 4-byte prefix, buffer 0, then the offset (each row of `views` is one view).
    last = len(raw) - 1
    for i in range(4):
        views[:, 4 + i] = raw[np.minimum(starts + i, last)]
    views[:, 12:16] = starts.astype("<i4").view(np.uint8).reshape(n, 4)
    short = np.flatnonzero(lengths <= _INLINE)
    if short.size:
        # Short strings live whole in bytes 4..15, zero-padded.
        gathered = raw[np.minimum(starts[short, None] + np.arange(_INLINE), last)]
        gathered[np.arange(_INLINE) >= lengths[short, None]] = 0
        views[short, 4:16] = gathered
    return pa.Array.from_buffers(pa.string_view(), n, [None, pa.py_buffer(views), pa.py_buffer(raw)])


def _frame_slowly(body: bytes, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, bad: set[int]) -> FrameStream:
    """A chunk with lines that are not UTF-8: reject those, frame the rest line by line."""
    builder = BatchBuilder()
    for i in range(len(lines)):
        text = body[starts[i] : ends[i]]
        where = Locator(line=int(lines[i]))
        if i in bad:
            yield Reject(
                where, "not-utf8", "the line is not UTF-8 text (binary data or another encoding)", excerpt(text)
            )
        else:
            builder.add(text.decode("utf-8"), where)
    if len(builder):
        yield builder.take()


def _invalid_utf8_lines(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if not raw.size or raw.max() < 0x80:
        return np.empty(0, dtype=np.int64)
    body = raw.tobytes()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return np.empty(0, dtype=np.int64)
    bad = []
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        try:
            body[start:end].decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return np.array(bad, dtype=np.int64)
