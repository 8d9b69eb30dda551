"""What a case database holds: per table, per source, per input file, and what was rejected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from logwarden.store.database import CaseDatabase
from logwarden.store.tables import TABLES

# The unit a silence would be judged in, per table; here it just groups the counts.
SOURCE_KEYS: dict[str, str] = {
    "AzureActivity": "coalesce(SubscriptionId, 'tenant-level')",
    "AuditLogs": "coalesce(AADTenantId, '?') || ' / ' || coalesce(Category, '?')",
    "OfficeActivity": "coalesce(OfficeWorkload, '?') || ' / ' || coalesce(RecordType, '?')",
    "SigninLogs": "coalesce(AADTenantId, '?') || ' / ' || coalesce(Category, '?')",
    "AzureDiagnostics": "coalesce(ResourceProvider, '?') || ' / ' || coalesce(Category, '?')",
}


@dataclass(frozen=True)
class SourceCount:
    table: str
    source: str
    rows: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class FileCount:
    file_id: int
    path: str
    container: str | None
    status: str
    read: int
    stored: int
    rejected: int
    message: str | None


@dataclass(frozen=True)
class RejectCount:
    reason: str
    records: int
    example: str


@dataclass(frozen=True)
class Stats:
    tables: list[SourceCount]
    sources: list[SourceCount]
    files: list[FileCount]
    rejects: list[RejectCount]


def collect(db: CaseDatabase) -> Stats:
    tables = []
    sources = []
    for name in TABLES:
        ((rows, first, last),) = db.run(f'SELECT count(*), min(TimeGenerated), max(TimeGenerated) FROM "{name}"')
        tables.append(SourceCount(name, "", rows, first, last))
        for source, n, f, la in db.run(
            f'SELECT {SOURCE_KEYS[name]} AS s, count(*), min(TimeGenerated), max(TimeGenerated) FROM "{name}" '
            "GROUP BY s ORDER BY s"
        ):
            sources.append(SourceCount(name, source, n, f, la))
    files = [
        FileCount(*row)
        for row in db.run(
            "SELECT FileId, Path, Container, Status, RecordsRead, RowsStored, RecordsRejected, Message "
            "FROM IngestFiles ORDER BY FileId"
        )
    ]
    rejects = [
        RejectCount(*row)
        for row in db.run(
            "SELECT c.Reason, sum(c.Records), "
            "(SELECT any_value(Message) FROM IngestRejects r WHERE r.Reason = c.Reason) "
            "FROM IngestRejectCounts c GROUP BY c.Reason ORDER BY sum(c.Records) DESC, c.Reason"
        )
    ]
    return Stats(tables, sources, files, rejects)
