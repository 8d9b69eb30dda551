"""Tell JSON Lines, JSON documents and CSV apart by content, never by file name."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import orjson

from logwarden.formats.framing.avro import AVRO_MAGIC, frame_avro
from logwarden.formats.framing.base import FrameStream, excerpt
from logwarden.formats.framing.csvrows import CsvOptions, frame_csv
from logwarden.formats.framing.documents import frame_documents
from logwarden.formats.framing.jsonl import frame_jsonl

_PEEK = 1 << 20


class UnreadableFile(Exception):
    """The file as a whole is not one of the shapes logwarden reads."""


def sniff(head: bytes) -> str:
    """`jsonl`, `json`, `csv` or `avro` for a file starting with `head`; raises UnreadableFile."""
    if head.startswith(AVRO_MAGIC):
        return "avro"
    body = head.lstrip(b" \t\r\n")
    if not body:
        raise UnreadableFile("the file is empty")
    if b"\x00" in head[:4096]:
        raise UnreadableFile("binary content (NUL bytes), not a text export")
    if body[:1] in (b"{", b"["):
        return "jsonl" if _looks_like_json_lines(body) else "json"
    first_line = body.split(b"\n", 1)[0]
    try:
        first_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("not UTF-8 or UTF-16 text") from exc
    if b"," in first_line or b";" in first_line:
        return "csv"
    raise UnreadableFile(f"neither JSON nor a CSV export; it starts with {excerpt(first_line)!r}")


def _looks_like_json_lines(body: bytes) -> bool:
    """One JSON object per line, judged on the first lines.

    The first line alone decides, unless it is damaged: then the next two lines must each
    be whole objects, which the records of a pretty-printed document never both are
    (they end in commas, or the second is the closing bracket).
    """
    lines = [line.strip() for line in body[:_PEEK].split(b"\n")[:50] if line.strip()]
    if _is_object(lines[0]):
        return True
    return len(lines) >= 3 and _is_object(lines[1]) and _is_object(lines[2])


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def frame_file(open_stream: Callable[[], BinaryIO], csv_options: CsvOptions) -> tuple[str, FrameStream]:
    """The container kind and the framed records of one input."""
    with open_stream() as probe:
        head = probe.read(_PEEK)
    kind = sniff(head)
    if kind == "csv":
        return kind, frame_csv(open_stream, csv_options)
    return kind, _framed(open_stream, kind)


def _framed(open_stream: Callable[[], BinaryIO], kind: str) -> FrameStream:
    framer = {"jsonl": frame_jsonl, "json": frame_documents, "avro": frame_avro}[kind]
    with open_stream() as stream:
        yield from framer(stream)
