"""The case database: one DuckDB file per case, readable by any DuckDB client.

It holds the Sentinel-shaped tables, the ingest ledger (per input file: its hash,
what was read, stored and rejected, and why) and a few SQL macros that make the
tables pleasant to query by hand, such as `lw_param(Parameters, 'Name')`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from logwarden.store.tables import JSON, PROVENANCE, RAW_COLUMN, TABLES, Table

DEFAULT_MEMORY_LIMIT = "1200MB"

_LEDGER = (
    "CREATE SEQUENCE IF NOT EXISTS lw_file_ids START 1",
    """CREATE TABLE IF NOT EXISTS IngestFiles (
        FileId INTEGER PRIMARY KEY, Path VARCHAR NOT NULL, Sha256 VARCHAR, Size BIGINT, MtimeNs BIGINT,
        Container VARCHAR, RecordsRead BIGINT, RowsStored BIGINT, RecordsRejected BIGINT,
        Status VARCHAR, Message VARCHAR, IngestedAt TIMESTAMPTZ, Seconds DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS IngestCounts (
        FileId INTEGER, TableName VARCHAR, Format VARCHAR, Rows BIGINT)""",
    """CREATE TABLE IF NOT EXISTS IngestRejectCounts (FileId INTEGER, Reason VARCHAR, Records BIGINT)""",
    """CREATE TABLE IF NOT EXISTS IngestRejects (
        FileId INTEGER, Line BIGINT, Record BIGINT, Reason VARCHAR, Message VARCHAR, Excerpt VARCHAR)""",
)

# Generic helpers, persisted in the file so they work from the DuckDB CLI too.
_MACROS = (
    # Event times as exported: ISO 8601 with 0-9 fractional digits and any zone (none = UTC),
    # PowerShell's /Date(ms)/ and epoch milliseconds from pandas.
    r"""CREATE OR REPLACE MACRO lw_ts(s) AS CASE
        WHEN s IS NULL THEN NULL
        WHEN contains(s, 'Date(') THEN to_timestamp(TRY_CAST(regexp_extract(s, 'Date\((-?\d+)', 1) AS BIGINT) / 1000.0)
        WHEN regexp_full_match(s, '\d{12,13}') THEN to_timestamp(CAST(s AS BIGINT) / 1000.0)
        ELSE TRY_CAST(trim(s) AS TIMESTAMPTZ) END""",
    # A dynamic column from text that may be JSON (object, array, or JSON inside a string) or a plain string.
    """CREATE OR REPLACE MACRO lw_json(s) AS CASE
        WHEN s IS NULL OR s = '' THEN NULL
        WHEN json_valid(s) THEN CAST(s AS JSON)
        ELSE to_json(s) END""",
    # Exchange cmdlet parameters by name, case-insensitively; never by position.
    """CREATE OR REPLACE MACRO lw_param(params, name) AS
        (list_filter(
            CAST(json_extract(params, '$[*]') AS JSON[]),
            lambda p: lower(coalesce(p->>'Name', p->>'name')) = lower(name)
        )[1]) ->> 'Value'""",
)


@dataclass(frozen=True)
class LedgerEntry:
    file_id: int
    path: str
    status: str


def _create_table_sql(table: Table) -> str:
    # Long JSON text compresses far faster with zstd than with the default dictionary/FSST analysis.
    cols = [f'"{name}" {kind}' + (" USING COMPRESSION zstd" if kind == JSON else "") for name, kind in table.columns]
    cols += [f'"{name}" {kind}' for name, kind in PROVENANCE]
    cols.append(f'"{RAW_COLUMN}" VARCHAR USING COMPRESSION zstd')
    cols += [f'"{name}" {kind} GENERATED ALWAYS AS ({expr}) VIRTUAL' for name, kind, expr in table.derived]
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" ({", ".join(cols)})'


class CaseDatabase:
    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        macros: Sequence[str] = (),
    ) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no case database here (run `logwarden ingest` first)")
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        self.run("SET TimeZone = 'UTC'")
        self.run("SET memory_limit = ?", [memory_limit])
        if not read_only:
            self._create(macros)

    def _create(self, macros: Sequence[str]) -> None:
        for sql in (*_LEDGER, *(_create_table_sql(t) for t in TABLES.values()), *_MACROS, *macros):
            self.run(sql)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> CaseDatabase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the ledger -------------------------------------------------------------------------

    def find_ingested(self, sha256: str) -> LedgerEntry | None:
        rows = self.run(
            "SELECT FileId, Path, Status FROM IngestFiles WHERE Sha256 = ? ORDER BY FileId LIMIT 1", [sha256]
        )
        return LedgerEntry(*rows[0]) if rows else None

    def find_unchanged(self, path: str, size: int, mtime_ns: int) -> LedgerEntry | None:
        rows = self.run(
            "SELECT FileId, Path, Status FROM IngestFiles WHERE Path = ? AND Size = ? AND MtimeNs = ? LIMIT 1",
            [path, size, mtime_ns],
        )
        return LedgerEntry(*rows[0]) if rows else None

    def begin_file(self) -> int:
        """Open the transaction one input is stored in, and give it a file id."""
        self.run("BEGIN TRANSACTION")
        return int(self.run("SELECT nextval('lw_file_ids')")[0][0])

    def finish_file(
        self,
        file_id: int,
        entry: dict[str, Any],
        counts: Iterable[tuple[str, str, int]],
        reject_counts: Iterable[tuple[str, int]],
    ) -> None:
        """Write the ledger rows for one input and commit everything stored for it."""
        self.run(
            "INSERT INTO IngestFiles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
            [
                file_id,
                entry["path"],
                entry["sha256"],
                entry["size"],
                entry["mtime_ns"],
                entry["container"],
                entry["read"],
                entry["stored"],
                entry["rejected"],
                entry["status"],
                entry["message"],
                entry["seconds"],
            ],
        )
        rows = [(file_id, table, fmt, n) for table, fmt, n in counts]
        if rows:
            self.con.executemany("INSERT INTO IngestCounts VALUES (?, ?, ?, ?)", rows)
        reasons = [(file_id, reason, n) for reason, n in reject_counts]
        if reasons:
            self.con.executemany("INSERT INTO IngestRejectCounts VALUES (?, ?, ?)", reasons)
        self.run("COMMIT")

    def abandon_file(self) -> None:
        self.run("ROLLBACK")

    def add_rejects(self, rows: Sequence[tuple[int, int | None, int | None, str, str, str]]) -> None:
        if rows:
            self.con.executemany("INSERT INTO IngestRejects VALUES (?, ?, ?, ?, ?, ?)", rows)

    # --- bulk loading -----------------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def arrow(self, sql: str) -> Any:
        return self.con.sql(sql).to_arrow_table()

    def register(self, name: str, table: Any) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        # After a failed statement the transaction is aborted and DuckDB refuses even this;
        # the caller is already unwinding and will roll back.
        with contextlib.suppress(duckdb.Error):
            self.con.unregister(name)
