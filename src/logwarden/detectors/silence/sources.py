"""Log sources as the silence watch sees them, and what the case database says each one did.

A source is one stream that should keep speaking: a table, an Activity Log per subscription
(and per resource provider), Entra audit per tenant and category, the unified audit log per
tenant and workload (and record type). Its id is `kind:key`, e.g. `activity:<subscription>`.

Everything here is one bulk query per source kind: counts per hour, the gaps between
consecutive events longer than `MIN_GAP`, and ingestion lag where the record has an arrival
time. No row goes through Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from logwarden.store.database import Session
from logwarden.store.tables import TABLES

# Gaps shorter than this are never a silence worth a look: below it even a source of one
# event per minute has said nothing unusual, and listing every short gap would cost more
# than the rest of the work.
MIN_GAP_S = 300
TIME = "TimeGenerated"
ARRIVAL_SHARE = 0.99


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    title: str
    # SQL over the table's columns, joined with "/" into the key; the parent's key is all
    # but the last part (or the table name when the parent is the table).
    parts: tuple[str, ...]
    parent: str | None
    # When the record became available, for ingestion lag (LATE) and back-fill.
    arrival: str | None = None


def _tenant(column: str) -> str:
    return f"coalesce(lower({column}), '(tenant)')"


_ACTIVITY_ARRIVAL = "EventSubmissionTimestamp"

KINDS: tuple[Kind, ...] = (
    *(
        Kind(
            "table",
            name,
            f"every {name} record",
            (f"'{name}'",),
            None,
            _ACTIVITY_ARRIVAL if name == "AzureActivity" else None,
        )
        for name in TABLES
    ),
    Kind(
        "activity",
        "AzureActivity",
        "Activity Log of a subscription",
        (_tenant("SubscriptionId"),),
        "table",
        _ACTIVITY_ARRIVAL,
    ),
    Kind(
        "activity_provider",
        "AzureActivity",
        "Activity Log of a subscription, one resource provider",
        (_tenant("SubscriptionId"), "coalesce(upper(ResourceProviderValue), '?')"),
        "activity",
        _ACTIVITY_ARRIVAL,
    ),
    Kind(
        "entra",
        "AuditLogs",
        "Entra audit log of a tenant, one category",
        (_tenant("AADTenantId"), "coalesce(Category, '?')"),
        "table",
    ),
    Kind("signin", "SigninLogs", "Entra sign-in log of a tenant", (_tenant("AADTenantId"),), "table"),
    Kind(
        "ual",
        "OfficeActivity",
        "Unified audit log of a tenant, one workload",
        (_tenant("OrganizationId"), "coalesce(OfficeWorkload, '?')"),
        "table",
    ),
    Kind(
        "ual_record",
        "OfficeActivity",
        "Unified audit log of a tenant, one workload and record type",
        (_tenant("OrganizationId"), "coalesce(OfficeWorkload, '?')", "coalesce(CAST(RecordType AS VARCHAR), '?')"),
        "ual",
    ),
    Kind(
        "resource",
        "AzureDiagnostics",
        "Resource log of one resource, one category",
        ("lower(ResourceId)", "coalesce(Category, '?')"),
        "table",
    ),
)
KIND_BY_NAME = {k.name: k for k in KINDS if k.name != "table"}


def _key_sql(parts: tuple[str, ...]) -> str:
    return " || '/' || ".join(f"coalesce(CAST({p} AS VARCHAR), '?')" for p in parts)


@dataclass
class Observed:
    """What one source did up to the judgement time."""

    id: str
    kind: str
    key: str
    parent: str | None
    first: int  # epoch seconds of its first and last event
    last: int
    events: int
    hours: np.ndarray  # epoch hours with events (sorted) and their counts
    counts: np.ndarray
    gaps: np.ndarray  # (n, 2) epoch seconds: an event and the next one, at least MIN_GAP_S apart
    # On the arrival axis, when the records carry one: gaps as a live watcher saw them, and
    # the ingestion lag (seconds) per hour with the source's usual (p99) lag.
    arrival_gaps: np.ndarray | None = None
    lag_hours: np.ndarray | None = None
    lag_median: np.ndarray | None = None
    lag_p99: float | None = None
    last_arrival: int | None = None


def _where(kind: Kind) -> str:
    visible = f"{TIME} IS NOT NULL AND {TIME} <= $at"
    if kind.arrival:
        visible += f" AND ({kind.arrival} IS NULL OR {kind.arrival} <= $at)"
    return visible


def newest(session: Session) -> datetime | None:
    """The newest event time in the case: what "now" is for a case judged after the fact."""
    times = [
        row[0]
        for table in sorted({k.table for k in KINDS})
        for row in session.run(f'SELECT max({TIME}) FROM "{table}"')
        if row[0] is not None
    ]
    return max(times) if times else None


def observe(session: Session, at: datetime) -> Iterator[Observed]:
    """Every source with at least one event at or before `at` (UTC)."""
    for kind in KINDS:
        if not session.run(f'SELECT 1 FROM "{kind.table}" LIMIT 1'):
            continue
        yield from _observe_kind(session, kind, at)


def _grouped(keys: np.ndarray, *columns: np.ndarray) -> dict[str, tuple[np.ndarray, ...]]:
    """Rows sorted by key, split into one slice per key."""
    if len(keys) == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    cols = [c[order] for c in columns]
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(keys)]])
    return {str(keys[a]): tuple(c[a:b] for c in cols) for a, b in zip(starts, ends, strict=True)}


def _column(table: object, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)  # type: ignore[attr-defined,no-any-return]


def _observe_kind(session: Session, kind: Kind, at: datetime) -> Iterator[Observed]:
    key = _key_sql(kind.parts)
    table = f'"{kind.table}"'
    where = _where(kind)
    params = {"at": at, "gap": MIN_GAP_S}
    hourly = session.con.sql(
        f"SELECT {key} AS key, CAST(floor(epoch({TIME}) / 3600) AS BIGINT) AS hour, count(*) AS n "
        f"FROM {table} WHERE {where} GROUP BY ALL",
        params={"at": at},
    ).to_arrow_table()
    gaps = _gaps(session, key, table, where, f"epoch({TIME})", params)
    by_hour = _grouped(_column(hourly, "key"), _column(hourly, "hour"), _column(hourly, "n"))
    by_gap = _grouped(*gaps)
    arrival_gaps: dict[str, tuple[np.ndarray, ...]] = {}
    arrived: dict[str, int] = {}
    lags: dict[str, tuple[np.ndarray, ...]] = {}
    p99: dict[str, float] = {}
    if kind.arrival:
        arrival_where = f"{where} AND {kind.arrival} IS NOT NULL"
        arrival_gaps = _grouped(*_gaps(session, key, table, arrival_where, f"epoch({kind.arrival})", params))
        lag = f"epoch({kind.arrival}) - epoch({TIME})"
        per_hour = session.con.sql(
            f"SELECT {key} AS key, CAST(floor(epoch({TIME}) / 3600) AS BIGINT) AS hour, median({lag}) AS lag "
            f"FROM {table} WHERE {arrival_where} GROUP BY ALL",
            params={"at": at},
        ).to_arrow_table()
        lags = _grouped(_column(per_hour, "key"), _column(per_hour, "hour"), _column(per_hour, "lag"))
        for k, q, n in session.con.sql(
            f"SELECT {key}, quantile_cont({lag}, 0.99), count(*) FROM {table} WHERE {arrival_where} GROUP BY ALL",
            params={"at": at},
        ).fetchall():
            arrived[str(k)] = int(n)
            if q is not None:
                p99[str(k)] = float(q)
    for source_key, (hours, counts) in by_hour.items():
        order = np.argsort(hours)
        hours, counts = hours[order].astype(np.int64), counts[order].astype(np.int64)
        gap_start, gap_end = by_gap.get(source_key, (np.empty(0, np.int64), np.empty(0, np.float64)))
        parent = None
        if kind.parent == "table":
            parent = f"table:{kind.table}"
        elif kind.parent:
            parent = f"{kind.parent}:{source_key.rsplit('/', 1)[0]}"
        observed = Observed(
            id=f"{kind.name}:{source_key}",
            kind=kind.name,
            key=source_key,
            parent=parent,
            first=0,
            last=0,
            events=int(counts.sum()),
            hours=hours,
            counts=counts,
            gaps=np.empty((0, 2), np.int64),
        )
        observed.gaps, observed.first, observed.last = _gap_pairs(gap_start, gap_end)
        # The arrival axis only where (nearly) every record has one: judged against the
        # source's whole rhythm, a part of it would look like a silence.
        if source_key in arrival_gaps and arrived.get(source_key, 0) >= ARRIVAL_SHARE * observed.events:
            a_start, a_end = arrival_gaps[source_key]
            observed.arrival_gaps, _, observed.last_arrival = _gap_pairs(a_start, a_end)
        if source_key in lags and arrived.get(source_key, 0) >= ARRIVAL_SHARE * observed.events:
            lag_hours, lag_median = lags[source_key]
            order = np.argsort(lag_hours)
            observed.lag_hours, observed.lag_median = lag_hours[order].astype(np.int64), lag_median[order]
            observed.lag_p99 = p99.get(source_key)
        yield observed


def _gaps(
    session: Session, key: str, table: str, where: str, moment: str, params: dict[str, object]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per key: each event followed by a gap of at least MIN_GAP_S, and the next event (NaN
    after the last event). The first event comes back too, as a gap from -inf."""
    result = session.con.sql(
        f"""SELECT key, s, nxt FROM (
                SELECT key, s, lead(s) OVER (PARTITION BY key ORDER BY s) AS nxt,
                       row_number() OVER (PARTITION BY key ORDER BY s) AS i
                FROM (SELECT DISTINCT {key} AS key, CAST(floor({moment}) AS BIGINT) AS s
                      FROM {table} WHERE {where}))
            WHERE nxt IS NULL OR nxt - s >= $gap OR i = 1""",
        params=params,
    ).to_arrow_table()
    nxt = result.column("nxt").to_numpy(zero_copy_only=False)
    return (
        _column(result, "key"),
        _column(result, "s").astype(np.int64),
        np.where(np.isnan(nxt.astype(np.float64)), np.nan, nxt).astype(np.float64),
    )


def _gap_pairs(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(gaps, first event, last event) from the rows `_gaps` returned for one key."""
    order = np.argsort(starts)
    starts, ends = starts[order], ends[order]
    first = int(starts[0])
    last_rows = np.isnan(ends)
    last = int(starts[last_rows][0]) if last_rows.any() else int(np.nanmax(ends))
    keep = ~last_rows & (ends - starts >= MIN_GAP_S)
    pairs = np.stack([starts[keep], ends[keep].astype(np.int64)], axis=1) if keep.any() else np.empty((0, 2), np.int64)
    return pairs, first, last
