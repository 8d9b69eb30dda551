"""Silence alerts and the source inventory as a terminal table, JSON Lines or CSV.

Source keys come from logs (a subscription id, a workload name), so they are printed as
plain text and neutralised in CSV like every alert field.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from logwarden.detectors.silence.config import Maintenance
from logwarden.detectors.silence.judge import SilenceAlert, SourceState
from logwarden.outputs.alerts import iso_utc, neutralise

ALERT_COLUMNS = (
    "state",
    "level",
    "source",
    "start",
    "end",
    "detected",
    "expected",
    "observed",
    "probability",
    "threshold",
    "budget",
    "backfilled",
    "evidence",
    "causes",
    "covers",
    "note",
    "suppressed",
)
SOURCE_COLUMNS = (
    "id",
    "kind",
    "title",
    "state",
    "first",
    "last",
    "events",
    "per_day",
    "arrivals_per_day",
    "rhythm",
    "burst",
    "needed",
    "typical_delay_h",
    "worst_delay_h",
)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _alert_cells(alert: SilenceAlert) -> dict[str, Any]:
    cells = {name: _value(getattr(alert, name)) for name in ALERT_COLUMNS if name not in ("causes", "covers")}
    cells["causes"] = [
        {
            "rule_id": c.rule_id,
            "title": c.title,
            "level": c.level,
            "time": _value(c.time),
            "actor": c.actor,
            "target": c.target,
            "catalogue": list(c.catalogue),
        }
        for c in alert.causes
    ]
    cells["covers"] = list(alert.covers)
    return {name: cells[name] for name in ALERT_COLUMNS}


def _source_cells(state: SourceState) -> dict[str, Any]:
    return {name: _value(getattr(state, name)) for name in SOURCE_COLUMNS}


def write_jsonl(out: IO[str], rows: Iterable[SilenceAlert | SourceState]) -> int:
    n = 0
    for row in rows:
        cells = _alert_cells(row) if isinstance(row, SilenceAlert) else _source_cells(row)
        out.write(orjson.dumps(cells).decode() + "\n")
        n += 1
    return n


def write_csv(out: IO[str], rows: Iterable[SilenceAlert | SourceState], sources: bool = False) -> int:
    writer = csv.writer(out)
    columns = SOURCE_COLUMNS if sources else ALERT_COLUMNS
    writer.writerow(columns)
    n = 0
    for row in rows:
        cells = _alert_cells(row) if isinstance(row, SilenceAlert) else _source_cells(row)
        if "causes" in cells:
            cells["causes"] = "; ".join(f"{c['time']} {c['title']} ({c['actor'] or '?'})" for c in cells["causes"])
            cells["covers"] = " ".join(cells["covers"])
        writer.writerow([neutralise(cells[name]) for name in columns])
        n += 1
    return n


def _when(value: datetime | None, ongoing: str = "") -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ongoing


def write_alert_table(console: Console, alerts: list[SilenceAlert], maintenance: Iterable[Maintenance]) -> int:
    shown = [a for a in alerts if not a.suppressed and a.state != "TOO_QUIET"]
    table = Table(title="Silence", title_justify="left", show_lines=True)
    for name in ("state", "level", "source", "from", "to", "detected", "evidence and cause"):
        table.add_column(name)
    for alert in shown:
        why = alert.evidence
        for cause in alert.causes:
            why += (
                f"\ncause: {cause.time:%Y-%m-%d %H:%M} {cause.title} by {cause.actor or '?'} on {cause.target or '?'}"
            )
        if alert.covers:
            why += f"\nalso silent: {', '.join(alert.covers)}"
        if alert.note:
            why += f"\n{alert.note}"
        table.add_row(
            alert.state,
            alert.level,
            Text(alert.source),
            _when(alert.start),
            _when(alert.end, "ongoing"),
            _when(alert.detected),
            Text(why),
        )
    console.print(table)
    quiet = [a for a in alerts if a.state == "TOO_QUIET"]
    if quiet:
        console.print(Text(f"Too quiet to watch ({len(quiet)}):", style="bold"))
        for alert in quiet:
            console.print(Text(f"  {alert.source}: {alert.evidence}"))
    suppressed = [a for a in alerts if a.suppressed]
    windows = list(maintenance)
    if windows:
        console.print(Text("Maintenance windows:", style="bold"))
        for w in windows:
            console.print(
                Text(f"  {w.start:%Y-%m-%d %H:%M} - {w.end:%Y-%m-%d %H:%M} {', '.join(w.sources)}: ")
                + Text(f"{w.reason} ({w.author})")
            )
    for alert in suppressed:
        console.print(Text(f"  suppressed: {alert.state} {alert.source} {_when(alert.start)}: {alert.note}"))
    return len(shown)


def write_source_table(console: Console, sources: list[SourceState]) -> int:
    table = Table(title="Sources", title_justify="left")
    for name in ("source", "state", "first", "last", "events", "rhythm", "stop told after (typical / worst)"):
        table.add_column(name)
    for s in sources:
        delay = "-"
        if s.typical_delay_h is not None:
            worst = f"{s.worst_delay_h:.1f} h" if s.worst_delay_h is not None else "-"
            typical = f"{s.typical_delay_h:.1f} h" if math.isfinite(s.typical_delay_h) else "> 6 months"
            delay = f"{typical} / {worst}"
        table.add_row(Text(s.id), s.state, _when(s.first), _when(s.last), f"{s.events:,}", Text(s.rhythm), delay)
    console.print(table)
    return len(sources)
