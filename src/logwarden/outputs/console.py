"""Terminal rendering of ingest summaries and case statistics (Rich), and JSON for machines.

Log fields shown here are attacker-controlled: they are printed as plain text, never
interpreted as Rich markup.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from logwarden.ingest import FileResult, IngestReport, Progress
from logwarden.outputs.paths import common_folder, under
from logwarden.store.stats import Stats

REJECTS_SHOWN = 20
FILES_LISTED = 50


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else ""


def render_ingest(console: Console, report: IngestReport) -> None:
    root = common_folder([f.path for f in report.files])
    table = Table(title=f"Ingest of {root}" if root else "Ingest", title_justify="left", show_lines=False)
    for col, justify in (
        ("file", "left"),
        ("shape", "left"),
        ("read", "right"),
        ("stored", "right"),
        ("rejected", "right"),
        ("status", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    listed, summed = report.files, []
    if len(report.files) > FILES_LISTED:
        # A blob tree has thousands of hourly files: list those that need a look.
        listed = [f for f in report.files if f.status not in ("stored", "skipped")]
        clean = [f for f in report.files if f.status == "stored"]
        skipped = sum(f.status == "skipped" for f in report.files)
        if clean:
            shapes = ", ".join(sorted({f.container for f in clean}))
            read, stored = sum(f.read for f in clean), sum(f.stored for f in clean)
            note = "stored (each file: `logwarden stats`)"
            summed.append((f"{len(clean):,} more files", shapes, f"{read:,}", f"{stored:,}", "0", note))
        if skipped:
            summed.append((f"{skipped:,} more files", "", "0", "0", "0", "skipped: already in this case"))
    for f in listed:
        status = f.status + (f": {f.message}" if f.message else "")
        table.add_row(
            Text(under(f.path, root)), f.container, f"{f.read:,}", f"{f.stored:,}", f"{f.rejected:,}", Text(status)
        )
    for row in summed:
        table.add_row(*row)
    table.add_row("total", "", f"{report.read:,}", f"{report.stored:,}", f"{report.rejected:,}", "", end_section=True)
    console.print(table)
    shown = 0
    for f in report.files:
        for where, reason, message in f.first_rejects:
            if shown == REJECTS_SHOWN:
                break
            console.print(Text(f"rejected {f.path}, {where}: [{reason}] {message}"), style="yellow", soft_wrap=True)
            shown += 1
    if report.rejected > shown:
        console.print(Text(f"… {report.rejected - shown} more rejects; `logwarden stats` lists them by reason"))
    rate = report.read / report.seconds if report.seconds else 0.0
    console.print(
        f"{report.stored:,} stored, {report.rejected:,} rejected in {report.seconds:.1f}s ({rate:,.0f} records/s)"
    )


def render_stats(console: Console, stats: Stats) -> None:
    t = Table(title="Tables", title_justify="left")
    for col in ("table", "rows", "first event", "last event"):
        t.add_column(col, justify="right" if col == "rows" else "left")
    for s in stats.tables:
        t.add_row(s.table, f"{s.rows:,}", _when(s.first), _when(s.last))
    console.print(t)
    t = Table(title="Sources", title_justify="left")
    for col in ("table", "source", "rows", "first event", "last event"):
        t.add_column(col, justify="right" if col == "rows" else "left")
    for s in stats.sources:
        t.add_row(s.table, Text(s.source), f"{s.rows:,}", _when(s.first), _when(s.last))
    console.print(t)
    t = Table(title="Files (read = stored + rejected)", title_justify="left")
    for col in ("id", "file", "shape", "read", "stored", "rejected", "status"):
        t.add_column(col, justify="right" if col in ("id", "read", "stored", "rejected") else "left")
    for f in stats.files:
        status = f.status + (f": {f.message}" if f.message else "")
        t.add_row(
            str(f.file_id),
            Text(f.path),
            f.container or "",
            f"{f.read:,}",
            f"{f.stored:,}",
            f"{f.rejected:,}",
            Text(status),
        )
    console.print(t)
    if stats.rejects:
        t = Table(title="Rejected records by reason", title_justify="left")
        for col in ("reason", "records", "example"):
            t.add_column(col, justify="right" if col == "records" else "left")
        for r in stats.rejects:
            t.add_row(r.reason, f"{r.records:,}", Text(r.example or ""))
        console.print(t)


def to_json(value: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        raise TypeError(type(o).__name__)

    return json.dumps(dataclasses.asdict(value), default=default, indent=2)


class RichProgressDisplay(Progress):
    """Files, records and MB/s on a terminal; the CLI uses the silent default when piped."""

    def __init__(self, console: Console) -> None:
        self._bar = RichProgress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[files]} files · {task.fields[records]:,} records · {task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("ingest", total=0, files="0/0", records=0, rate="")
        self._done_files = 0
        self._total_files = 0
        # Bytes of the inputs read before the current one: small inputs are finished in groups
        # well after they are read, so the bar follows reading, and the file count finishing.
        self._read_before = 0
        self._file_bytes = 0
        self._file_size = 0
        self._records = 0

    def start(self, total_files: int, total_bytes: int) -> None:
        self._total_files = total_files
        self._bar.start()
        self._bar.update(self._task, total=total_bytes, files=f"0/{total_files}")

    def file_started(self, name: str, size: int) -> None:
        self._read_before += self._file_size
        self._file_bytes = 0
        self._file_size = size

    def bytes_read(self, n: int) -> None:
        self._file_bytes += n
        self._refresh()

    def records(self, n: int) -> None:
        self._records += n
        self._refresh()

    def file_done(self, result: FileResult) -> None:
        self._done_files += 1
        self._refresh()
        if self._done_files == self._total_files:
            self._bar.stop()

    def _refresh(self) -> None:
        task = self._bar.tasks[0]
        elapsed = task.elapsed or 0.0
        # Sniffing reads a file's start twice; never show more of a file than it has.
        done = self._read_before + min(self._file_bytes, self._file_size)
        rate = f"{done / elapsed / 1e6:.1f} MB/s" if elapsed > 0 else ""
        self._bar.update(
            self._task,
            completed=done,
            files=f"{self._done_files}/{self._total_files}",
            records=self._records,
            rate=rate,
        )
