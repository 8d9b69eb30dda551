"""The case database: one DuckDB file per case, readable by any DuckDB client.

It holds the Sentinel-shaped tables, the ingest ledger (per input file: its hash,
what was read, stored and rejected, and why) and a few SQL macros that make the
tables pleasant to query by hand, such as `lw_param(Parameters, 'Name')`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from logwarden.store.sql import sql_str
from logwarden.store.tables import JSON, PROVENANCE, RAW_COLUMN, TABLES, Table

# Where the rows are stored; the Sentinel-named views in the main schema are what users query.
STORED_SCHEMA = "lw"
INGESTING = "ingesting"
CATALOG = "lw_case"
ROW_GROUP_ROWS = 30_720
DEFAULT_MEMORY_LIMIT = "700MB"

_LEDGER = (
    "CREATE SEQUENCE IF NOT EXISTS lw_file_ids START 1",
    """CREATE TABLE IF NOT EXISTS IngestFiles (
        FileId INTEGER, Path VARCHAR NOT NULL, Sha256 VARCHAR, Size BIGINT, MtimeNs BIGINT,
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
    # The plain cast first: it is what almost every record needs, and the rest runs only if it fails.
    r"""CREATE OR REPLACE MACRO lw_ts(s) AS coalesce(
        TRY_CAST(s AS TIMESTAMPTZ),
        CASE
            WHEN contains(s, 'Date(')
                THEN to_timestamp(TRY_CAST(regexp_extract(s, 'Date\((-?\d+)', 1) AS BIGINT) / 1000.0)
            WHEN regexp_full_match(s, '\d{12,13}') THEN to_timestamp(CAST(s AS BIGINT) / 1000.0)
        END)""",
    # A dynamic column from text that may be JSON (object, array, or JSON inside a string) or a plain string.
    """CREATE OR REPLACE MACRO lw_json(s) AS CASE
        WHEN s IS NULL OR s = '' THEN NULL
        ELSE coalesce(TRY_CAST(s AS JSON), to_json(s)) END""",
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


# Entry field -> IngestFiles column, with its Arrow type.
_ENTRY_COLUMNS = {
    "sha256": ("Sha256", pa.string()),
    "size": ("Size", pa.int64()),
    "mtime_ns": ("MtimeNs", pa.int64()),
    "container": ("Container", pa.string()),
    "read": ("RecordsRead", pa.int64()),
    "stored": ("RowsStored", pa.int64()),
    "rejected": ("RecordsRejected", pa.int64()),
    "status": ("Status", pa.string()),
    "message": ("Message", pa.string()),
    "seconds": ("Seconds", pa.float64()),
}
_COUNTS_SCHEMA = pa.schema(
    [("FileId", pa.int32()), ("TableName", pa.string()), ("Format", pa.string()), ("Rows", pa.int64())]
)
_REASONS_SCHEMA = pa.schema([("FileId", pa.int32()), ("Reason", pa.string()), ("Records", pa.int64())])


# FileId, Line, Record, Reason, Message, Excerpt
RejectRow = tuple[int, int | None, int | None, str, str, str]


@dataclass(frozen=True)
class FinishedFile:
    """One input's ledger rows: its entry (`_ENTRY_COLUMNS`), rows per (table, format), rejects per reason."""

    file_id: int
    entry: dict[str, Any]
    counts: list[tuple[str, str, int]]
    reject_counts: list[tuple[str, int]]


def _create_table_sql(table: Table) -> list[str]:
    """The stored table in the `lw` schema, and the Sentinel-named view over it.

    Derived columns live in the view: DuckDB evaluates a table's generated columns on
    every insert, a view's only when a query asks for them.
    """
    # Long JSON text compresses far faster with zstd than with the default dictionary/FSST analysis.
    cols = [f'"{name}" {kind}' + (" USING COMPRESSION zstd" if kind == JSON else "") for name, kind in table.columns]
    cols += [f'"{name}" {kind}' for name, kind in PROVENANCE]
    cols.append(f'"{RAW_COLUMN}" VARCHAR USING COMPRESSION zstd')
    derived = "".join(f', CAST({expr} AS {kind}) AS "{name}"' for name, kind, expr in table.derived)
    visible = f"_FileId NOT IN (SELECT FileId FROM IngestFiles WHERE Status = '{INGESTING}')"
    return [
        f'CREATE TABLE IF NOT EXISTS {STORED_SCHEMA}."{table.name}" ({", ".join(cols)})',
        f'CREATE OR REPLACE VIEW "{table.name}" AS SELECT *{derived}, rowid AS _RowId '
        f'FROM {STORED_SCHEMA}."{table.name}" '
        f"WHERE {visible}",
    ]


class Session:
    """One connection to the case database."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def arrow(self, sql: str) -> Any:
        return self.con.sql(sql).to_arrow_table()

    @contextlib.contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """Run with another memory limit (DuckDB books a huge JSON value several times over)."""
        (before,) = self.run("SELECT current_setting('memory_limit')")[0]
        self.run("SET memory_limit = ?", [limit])
        try:
            yield
        finally:
            self.run("SET memory_limit = ?", [before])

    def register(self, name: str, table: Any) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        # After a failed statement the transaction is aborted and DuckDB refuses even this;
        # the caller is already unwinding and will roll back.
        with contextlib.suppress(duckdb.Error):
            self.con.unregister(name)

    def close(self) -> None:
        self.con.close()


class CaseDatabase(Session):
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
        # Attached rather than opened, to set the row group size: DuckDB writes a transaction's
        # full row groups straight to the file, so smaller groups keep an ingest's memory low.
        super().__init__(duckdb.connect())
        mode = "READ_ONLY" if read_only else f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}"
        self.run(f"ATTACH {sql_str(str(self.path))} AS {CATALOG} ({mode})")
        self.run(f"USE {CATALOG}")
        self.run("SET TimeZone = 'UTC'")
        self.run("SET memory_limit = ?", [memory_limit])
        # Spills go beside the case (DuckDB's default for an in-memory connection is the
        # working directory), where the user knows the data lives.
        self.run("SET temp_directory = ?", [str(self.path.with_name(self.path.name + ".tmp"))])
        self.recovered: list[str] = []
        if not read_only:
            self._create(macros)
            self.recovered = self.recover()

    def _create(self, macros: Sequence[str]) -> None:
        # Macros first: derived columns use them.
        tables = [sql for t in TABLES.values() for sql in _create_table_sql(t)]
        for sql in (f"CREATE SCHEMA IF NOT EXISTS {STORED_SCHEMA}", *_MACROS, *macros, *_LEDGER, *tables):
            self.run(sql)

    def __enter__(self) -> CaseDatabase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the ledger -------------------------------------------------------------------------

    def ledger(self) -> list[tuple[LedgerEntry, int | None, int | None, str | None]]:
        """Every finished input, oldest first, with its size, mtime and SHA-256."""
        rows = self.run(
            "SELECT FileId, Path, Status, Size, MtimeNs, Sha256 FROM IngestFiles WHERE Status <> ? ORDER BY FileId",
            [INGESTING],
        )
        return [(LedgerEntry(fid, path, status), size, mtime, sha) for fid, path, status, size, mtime, sha in rows]

    def begin_file(self, path: str) -> int:
        """Register one input as being ingested, and give it a file id."""
        (file_id,) = self.reserve_file_ids(1)
        self.begin_files([(file_id, path)], [])
        return file_id

    def reserve_file_ids(self, n: int) -> list[int]:
        """`n` file ids for inputs that `begin_files` will register; unused ones leave gaps."""
        return [int(r[0]) for r in self.run("SELECT nextval('lw_file_ids') FROM range(?)", [n])]

    def begin_files(self, files: Sequence[tuple[int, str]], rejects: Sequence[RejectRow]) -> None:
        """Register inputs with reserved ids as being ingested, with the rejects found reading them.

        Their rows are committed in slices (one transaction for a 5 GB file would hold it
        all in memory) and stay invisible until `finish_files`: the views hide rows of
        files still marked `ingesting`, and `recover` removes them after a crash.
        """
        if not files:
            return
        self.run("BEGIN TRANSACTION")
        try:
            self.con.executemany(
                "INSERT INTO IngestFiles (FileId, Path, Status, IngestedAt) VALUES (?, ?, ?, now())",
                [(file_id, path, INGESTING) for file_id, path in files],
            )
            self.add_rejects(rejects)
            self.run("COMMIT")
        except BaseException:
            self.run("ROLLBACK")
            raise

    def finish_files(self, files: Sequence[FinishedFile]) -> None:
        """Write the ledger rows for inputs; from this commit on their rows are visible."""
        if not files:
            return
        # As Arrow tables: a statement per input would cost more than storing a small input's rows.
        entries = pa.table(
            {
                "FileId": pa.array([f.file_id for f in files], pa.int32()),
                **{col: pa.array([f.entry[k] for f in files], kind) for k, (col, kind) in _ENTRY_COLUMNS.items()},
            }
        )
        counts = pa.Table.from_pylist(
            [{"FileId": f.file_id, "TableName": t, "Format": fmt, "Rows": n} for f in files for t, fmt, n in f.counts],
            schema=_COUNTS_SCHEMA,
        )
        reasons = pa.Table.from_pylist(
            [{"FileId": f.file_id, "Reason": r, "Records": n} for f in files for r, n in f.reject_counts],
            schema=_REASONS_SCHEMA,
        )
        assignments = ", ".join(f"{col} = e.{col}" for col, _ in _ENTRY_COLUMNS.values())
        self.run("BEGIN TRANSACTION")
        try:
            self.con.register("lw_finished", entries)
            self.con.register("lw_counts", counts)
            self.con.register("lw_reasons", reasons)
            self.run(f"UPDATE IngestFiles SET {assignments} FROM lw_finished e WHERE IngestFiles.FileId = e.FileId")
            self.run("INSERT INTO IngestCounts BY NAME SELECT * FROM lw_counts")
            self.run("INSERT INTO IngestRejectCounts BY NAME SELECT * FROM lw_reasons")
            self.run("COMMIT")
        except BaseException:
            self.run("ROLLBACK")
            raise
        finally:
            for name in ("lw_finished", "lw_counts", "lw_reasons"):
                self.con.unregister(name)

    def abandon_files(self, file_ids: Sequence[int]) -> None:
        """Remove everything stored for inputs whose ingest did not finish."""
        if file_ids:
            self._forget(list(file_ids))

    def recover(self) -> list[str]:
        """Remove what an interrupted ingest left; the paths it was reading, for a message."""
        unfinished = self.run("SELECT FileId, Path FROM IngestFiles WHERE Status = ? ORDER BY FileId", [INGESTING])
        if unfinished:
            self._forget([file_id for file_id, _ in unfinished])
        return [path for _, path in unfinished]

    def _forget(self, file_ids: list[int]) -> None:
        self.run("BEGIN TRANSACTION")
        for table in TABLES:
            self.run(f'DELETE FROM {STORED_SCHEMA}."{table}" WHERE list_contains(?, "_FileId")', [file_ids])
        for ledger in ("IngestRejects", "IngestRejectCounts", "IngestCounts", "IngestFiles"):
            self.run(f"DELETE FROM {ledger} WHERE list_contains(?, FileId)", [file_ids])
        self.run("COMMIT")

    def add_rejects(self, rows: Sequence[RejectRow]) -> None:
        if rows:
            self.con.executemany("INSERT INTO IngestRejects VALUES (?, ?, ?, ?, ?, ?)", rows)

    def session(self) -> Session:
        """Another connection to the same case, for work on another thread."""
        session = Session(self.con.cursor())
        session.run(f"USE {CATALOG}")
        session.run("SET TimeZone = 'UTC'")
        return session
