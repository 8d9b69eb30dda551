"""CSV exports: Log Analytics portal exports, Purview and classic audit search exports.

Each row becomes one JSON object keyed by the header, so the store classifies CSV
rows by the same rules as JSON records. Portal exports write datetimes in the
browser's culture (`4/28/2021, 2:32:14.029 PM`) under a header ending in ` [UTC]`;
those are turned into ISO 8601 here, with the day/month order proven from the file
itself or given by the user, never guessed.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Literal, Protocol

import orjson
import re2

from logwarden.formats.framing.base import BATCH_BYTES, BatchBuilder, FrameStream, Locator, Reject, excerpt
from logwarden.formats.framing.envelopes import NotARecord, unwrap

DateOrder = Literal["mdy", "dmy"]

_UTC_SUFFIX = " [UTC]"
_CULTURE_DATE = re2.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)? ?([AaPp][Mm])?$"
)

csv.field_size_limit(sys.maxsize)


class AmbiguousDates(Exception):
    pass


@dataclass(frozen=True)
class CsvOptions:
    date_order: DateOrder | None = None


def frame_csv(open_stream: Callable[[], BinaryIO], options: CsvOptions) -> FrameStream:
    with open_stream() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, strict=True)
        header = next(reader)
        names = [h.strip().removesuffix(_UTC_SUFFIX).strip() for h in header]
        culture_cols = [i for i, h in enumerate(header) if h.strip().endswith(_UTC_SUFFIX)]
        order: DateOrder | None = options.date_order
        if culture_cols and order is None:
            order = _prove_date_order(open_stream, culture_cols)
        yield from _rows(reader, names, culture_cols, order)


class _Reader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


def _rows(reader: _Reader, names: list[str], culture_cols: list[int], order: DateOrder | None) -> FrameStream:
    builder = BatchBuilder()
    line = reader.line_num + 1
    index = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Reject(
                Locator(line=line),
                "csv-error",
                f"broken CSV from line {line} on ({exc}); the rest of the file cannot be split into rows",
            )
            break
        where = Locator(line=line)
        line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        index += 1
        if len(row) != len(names):
            yield Reject(
                where,
                "csv-error",
                f"{len(row)} fields where the header has {len(names)}",
                excerpt(",".join(row)),
            )
            continue
        record: dict[str, str] = {}
        problem = None
        for i, (name, cell) in enumerate(zip(names, row, strict=True)):
            if cell == "":
                continue
            if i in culture_cols and _CULTURE_DATE.match(cell.strip()):
                iso = _to_iso(cell.strip(), order)
                if iso is None:
                    problem = f"{name} = {cell!r} could be day/month or month/day; rerun with --date-order mdy or dmy"
                    break
                cell = iso
            record[name] = cell
        if problem:
            yield Reject(where, "ambiguous-date", problem, excerpt(",".join(row)))
            continue
        for item in unwrap(record):
            if isinstance(item, NotARecord):
                yield Reject(where, item.reason, item.message, excerpt(",".join(row)))
            else:
                builder.add(orjson.dumps(item.record).decode(), where, item.wrapper)
        if builder.size >= BATCH_BYTES:
            yield builder.take()
    if len(builder):
        yield builder.take()


def _prove_date_order(open_stream: Callable[[], BinaryIO], culture_cols: list[int]) -> DateOrder | None:
    """The order the file's own dates prove (a day above 12 settles it), or None."""
    month_first = day_first = False
    with open_stream() as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        try:
            next(reader)
            for row in reader:
                for i in culture_cols:
                    m = _CULTURE_DATE.match(row[i].strip()) if i < len(row) else None
                    if m:
                        first, second = int(m.group(1)), int(m.group(2))
                        month_first |= second > 12
                        day_first |= first > 12
        except (csv.Error, StopIteration):
            pass
    if month_first == day_first:
        return None
    return "mdy" if month_first else "dmy"


def _to_iso(value: str, order: DateOrder | None) -> str | None:
    m = _CULTURE_DATE.match(value)
    assert m is not None
    first, second, year, hour, minute = (int(m.group(i)) for i in range(1, 6))
    seconds = int(m.group(6) or 0)
    fraction = (m.group(7) or "0")[:6].ljust(6, "0")
    if order is None:
        if first > 12:
            order = "dmy"
        elif second > 12:
            order = "mdy"
        elif first != second:
            return None
        else:
            order = "mdy"
    month, day = (first, second) if order == "mdy" else (second, first)
    ampm = (m.group(8) or "").upper()
    if ampm == "PM" and hour < 12:
        hour += 12
    elif ampm == "AM" and hour == 12:
        hour = 0
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{seconds:02d}.{fraction}Z"
