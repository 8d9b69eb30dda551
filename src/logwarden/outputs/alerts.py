"""Alerts as a terminal table, JSON Lines or CSV.

Every field of an alert may come from a log, so it is printed as plain text (never Rich
markup), and in CSV a cell that a spreadsheet would run as a formula (starting with = + - @,
tab or carriage return) is prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from logwarden.detectors.sigma.hunt import Alert

COLUMNS = (
    "time",
    "level",
    "title",
    "actor",
    "ip",
    "target",
    "operation",
    "outcome",
    "detail",
    "rule_id",
    "tags",
    "table",
    "file",
    "line",
    "record",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with the UTC offset written as Z."""
    return moment.isoformat().replace("+00:00", "Z")


def _cells(alert: Alert) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(alert, name) for name in COLUMNS if name != "time"}
    row["time"] = iso_utc(alert.time) if isinstance(alert.time, datetime) else alert.time
    row["tags"] = list(alert.tags)
    return {name: row[name] for name in COLUMNS}


def write_jsonl(out: IO[str], alerts: Iterable[Alert]) -> int:
    n = 0
    for alert in alerts:
        out.write(orjson.dumps(_cells(alert)).decode() + "\n")
        n += 1
    return n


def neutralise(cell: Any) -> Any:
    """A CSV cell a spreadsheet will show as text, never evaluate."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def write_csv(out: IO[str], alerts: Iterable[Alert]) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for alert in alerts:
        cells = _cells(alert)
        cells["tags"] = " ".join(cells["tags"])
        writer.writerow([neutralise(cells[name]) for name in COLUMNS])
        n += 1
    return n


def write_table(console: Console, alerts: Iterable[Alert]) -> int:
    table = Table(title="Alerts", title_justify="left")
    for name in ("time", "level", "title", "actor", "ip", "target", "where"):
        table.add_column(name)
    n = 0
    for alert in alerts:
        cells = _cells(alert)
        where = f"{alert.file}, line {alert.line}" if alert.line else f"{alert.file}, record {alert.record}"
        table.add_row(
            *(Text(str(cells[c] or "")) for c in ("time", "level", "title", "actor", "ip", "target")), Text(where)
        )
        n += 1
    console.print(table)
    return n
