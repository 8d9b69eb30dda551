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

from logwarden.formats.framing.base import BATCH_BYTES, Batch, FrameStream, Locator, Reject, excerpt

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
    """Frame `body`, a run of complete lines each ending in a newline."""
    raw = np.frombuffer(body, dtype=np.uint8)
    newline_at = np.flatnonzero(raw == _NL)
    starts = np.empty_like(newline_at)
    starts[0] = 0
    starts[1:] = newline_at[:-1] + 1
    ends = newline_at.copy()
    has_cr = (ends > starts) & (raw[np.maximum(ends - 1, 0)] == _CR)
    ends[has_cr] -= 1
    line_numbers = np.arange(first_line, first_line + len(newline_at), dtype=np.int64)

    bad = _invalid_utf8_lines(body, raw, starts, ends)
    keep = ends > starts
    if bad.size:
        keep[bad] = False
        for i in bad:
            yield Reject(
                Locator(line=int(line_numbers[i])),
                "not-utf8",
                "the line is not UTF-8 text (binary data or another encoding)",
                excerpt(body[starts[i] : ends[i]]),
            )

    # Drop the line terminators so every record is one contiguous slice of `data`.
    drop = np.zeros(len(raw), dtype=bool)
    drop[newline_at] = True
    drop[ends[has_cr]] = True
    removed_before = np.cumsum(drop, dtype=np.int64)
    data = raw[~drop]
    new_starts = starts - np.concatenate(([0], removed_before[starts[1:] - 1])) if len(starts) else starts
    lengths = ends - starts
    kept_starts = new_starts[keep]
    kept_lengths = lengths[keep]
    if not len(kept_starts):
        return
    offsets = np.empty(len(kept_starts) + 1, dtype=np.int64)
    offsets[:-1] = kept_starts
    offsets[-1] = kept_starts[-1] + kept_lengths[-1]
    # Only lines of zero length were skipped, so consecutive kept slices are contiguous
    # except across invalid lines; compact those away too.
    if bad.size:
        pieces = [data[s : s + n] for s, n in zip(kept_starts, kept_lengths, strict=True)]
        data = np.concatenate(pieces) if pieces else data[:0]
        offsets = np.concatenate(([0], np.cumsum(kept_lengths))).astype(np.int64)
    texts = pa.LargeStringArray.from_buffers(len(kept_starts), pa.py_buffer(offsets), pa.py_buffer(data))
    n = len(kept_starts)
    yield Batch(
        texts=texts,
        lines=pa.array(line_numbers[keep]),
        records=pa.nulls(n, type=pa.int64()),
        wrappers=pa.nulls(n, type=pa.string()),
    )


def _invalid_utf8_lines(body: bytes, raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if not (raw >= 0x80).any():
        return np.empty(0, dtype=np.int64)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return np.empty(0, dtype=np.int64)
    bad = []
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        try:
            body[s:e].decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return np.array(bad, dtype=np.int64)
