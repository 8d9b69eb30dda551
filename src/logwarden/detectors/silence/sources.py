"""Log sources as the silence watch sees them, and what the case database says each one did.

A source is one stream that should keep speaking: a table, an Activity Log per subscription
(and per resource provider), Entra audit per tenant and category, the unified audit log per
tenant and workload (and record type). Its id is `kind:key`, e.g. `activity:<subscription>`.

Everything here is a few bulk queries per source kind: a summary per source, counts per
hour, the gaps between consecutive events long enough to matter, and ingestion lag where the
record has an arrival time. Sources are keyed by a 64-bit hash of their key inside the
queries (collisions are checked), so the sorts move integers, not text; no row goes through
Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from logwarden.detectors.silence.model import alpha, needed
from logwarden.store.database import Session
from logwarden.store.tables import TABLES

# Gaps shorter than this are never a silence worth a look: below it even a source of one
# event per minute has said nothing unusual.
MIN_GAP_S = 300
# A gap is listed only if it could hold this many expected events at the source's busiest
# hour, twice over; no threshold a budget gives is lower (see `_floors`).
_MIN_NEEDED = 2.0
TIME = "TimeGenerated"
# Less history than this, or fewer records, and a source is still being learned.
MIN_HISTORY_H = 72
MIN_EVENTS = 20
ARRIVAL_SHARE = 0.99
# Records this close together are one arrival: one operation's Start and Success, the dozen
# records one cmdlet writes. Silence is judged in arrivals, volume in records.
ARRIVAL_S = 5


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
    hours: np.ndarray  # epoch hours with events (sorted), their events and arrivals
    counts: np.ndarray
    arrivals: np.ndarray
    gaps: np.ndarray  # (n, 2) epoch seconds: an event and the next one, long enough to matter
    # On the arrival axis, when the records carry one: gaps as a live watcher saw them, and
    # the ingestion lag (seconds) per hour with the source's usual (p99) lag.
    arrival_gaps: np.ndarray | None = None
    lag_hours: np.ndarray | None = None
    lag_median: np.ndarray | None = None
    lag_records: np.ndarray | None = None
    lag_p99: float | None = None
    last_arrival: int | None = None
    formats: frozenset[str] = frozenset()  # how its records were delivered (record format codes)


def _where(kind: Kind) -> str:
    visible = f"{TIME} IS NOT NULL AND {TIME} <= $at"
    if kind.arrival:
        visible += f" AND ({kind.arrival} IS NULL OR {kind.arrival} <= $at)"
    return visible


def newest(session: Session) -> datetime | None:
    """The newest event time in the case: what "now" is for a case judged after the fact.

    Event times are whatever the records say: one dated after the case was ingested cannot be
    real and would make every source look silent up to it, so it does not count."""
    ingested = "(SELECT max(IngestedAt) FROM IngestFiles)"
    times = [
        row[0]
        for table in sorted({k.table for k in KINDS})
        for row in session.run(f'SELECT max({TIME}) FROM "{table}" WHERE {TIME} <= {ingested}')
        if row[0] is not None
    ]
    return max(times) if times else None


@dataclass
class _Summary:
    kind: Kind
    key: str
    hash: int
    events: int
    first: int
    last: int
    arrived: int
    formats: frozenset[str]

    @property
    def id(self) -> str:
        return f"{self.kind.name}:{self.key}"

    @property
    def parent(self) -> str | None:
        if self.kind.parent == "table":
            return f"table:{self.kind.table}"
        if self.kind.parent:
            return f"{self.kind.parent}:{self.key.rsplit('/', 1)[0]}"
        return None


class KeyCollision(RuntimeError):
    """Two source keys with one 64-bit hash: never seen, but never silently merged either."""


def _summaries(session: Session, kind: Kind, at: datetime) -> list[_Summary]:
    key = _key_sql(kind.parts)
    arrived = f"count({kind.arrival})" if kind.arrival else "0"
    rows = session.con.sql(
        f"""SELECT hash({key}) AS kh, min({key}), max({key}), count(*),
                   CAST(floor(min(epoch({TIME}))) AS BIGINT), CAST(floor(max(epoch({TIME}))) AS BIGINT), {arrived},
                   list(DISTINCT _Format)
            FROM "{kind.table}" WHERE {_where(kind)} GROUP BY kh""",
        params={"at": at},
    ).fetchall()
    out = []
    for kh, low, high, events, first, last, arrivals, formats in rows:
        if low != high:
            raise KeyCollision(f"{kind.name}: keys {low!r} and {high!r} share a hash")
        delivered = frozenset(str(f) for f in formats if f is not None)
        out.append(_Summary(kind, str(low), int(kh), int(events), int(first), int(last), int(arrivals), delivered))
    return out


def _distinct(summaries: list[_Summary]) -> list[_Summary]:
    """One source per stream: a parent and its only child are the same events, watched once,
    under the more telling name (a subscription rather than the whole table, a workload
    rather than its only record type)."""
    events = {s.id: s.events for s in summaries}
    drop = set()
    for s in summaries:
        parent = s.parent
        if parent is not None and events.get(parent) == s.events:
            drop.add(parent if parent.startswith("table:") else s.id)
    return [s for s in summaries if s.id not in drop]


def observe(session: Session, at: datetime, budget_per_day: float = 1 / 7) -> list[Observed]:
    """Every source with at least one event at or before `at` (UTC). `budget_per_day` only
    bounds which gaps are worth listing (the judgement's own budget may be no looser)."""
    kinds = [k for k in KINDS if session.run(f'SELECT 1 FROM "{k.table}" LIMIT 1')]
    everything = [s for kind in kinds for s in _summaries(session, kind, at)]
    kept = _distinct(everything)
    ids = {s.id for s in kept}
    # Parents of dropped sources: the nearest kept ancestor.
    parent_of = {s.id: s.parent for s in everything}
    judged = sum(1 for s in kept if s.events >= MIN_EVENTS and s.last - s.first >= MIN_HISTORY_H * 3600)
    out: list[Observed] = []
    for kind in kinds:
        mine = [s for s in kept if s.kind is kind]
        if mine:
            out.extend(_observe_kind(session, kind, at, mine, budget_per_day, judged))
    for seen in out:
        while seen.parent is not None and seen.parent not in ids:
            seen.parent = parent_of.get(seen.parent)
    return out


def _grouped(keys: np.ndarray, *columns: np.ndarray) -> dict[int, tuple[np.ndarray, ...]]:
    """Rows sorted by key, split into one slice per key."""
    if len(keys) == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    cols = [c[order] for c in columns]
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(keys)]])
    return {int(keys[a]): tuple(c[a:b] for c in cols) for a, b in zip(starts, ends, strict=True)}


def _column(table: Any, name: str) -> np.ndarray:
    column: np.ndarray = table.column(name).to_numpy(zero_copy_only=False)
    return column


def _floors(mine: list[_Summary], by_hour: dict[int, tuple[np.ndarray, ...]], budget: float, judged: int) -> list[int]:
    """Per source, the shortest gap worth listing: one that could hold the fewest expected
    events any threshold needs (`model.needed` for a steady source), at twice the source's
    busiest hour. The count of sources is taken ten times smaller than it will be, and
    records stand for arrivals, for a margin."""
    floors = []
    for s in mine:
        days = max((s.last - s.first) / 86400, 1.0)
        a = alpha(budget, judged / 10, s.events / days)
        counts = by_hour.get(s.hash, (np.empty(0), np.ones(1)))[1]
        busiest = max(float(counts.max()), 1.0)
        floors.append(max(MIN_GAP_S, int(3600 * max(needed(a, 1.0), _MIN_NEEDED) / (2 * busiest))))
    return floors


def _observe_kind(
    session: Session, kind: Kind, at: datetime, mine: list[_Summary], budget: float, judged: int
) -> Iterator[Observed]:
    key = _key_sql(kind.parts)
    where = _where(kind)
    wanted = pa.table({"kh": pa.array([s.hash for s in mine], pa.uint64())})
    session.register("lw_silence_keys", wanted)
    try:
        hourly = session.con.sql(
            f"""SELECT kh, hour, count(*) AS n, count(DISTINCT tick) AS arrivals
                FROM (SELECT hash({key}) AS kh, CAST(floor(epoch({TIME}) / 3600) AS BIGINT) AS hour,
                             CAST(floor(epoch({TIME}) / {ARRIVAL_S}) AS BIGINT) AS tick
                      FROM "{kind.table}" WHERE {where}) JOIN lw_silence_keys USING (kh)
                GROUP BY kh, hour""",
            params={"at": at},
        ).to_arrow_table()
    finally:
        session.unregister("lw_silence_keys")
    by_hour = _grouped(
        _column(hourly, "kh"), _column(hourly, "hour"), _column(hourly, "n"), _column(hourly, "arrivals")
    )
    floors = pa.table(
        {
            "kh": pa.array([s.hash for s in mine], pa.uint64()),
            "min_gap": pa.array(_floors(mine, by_hour, budget, judged), pa.int64()),
        }
    )
    with_arrival = [s for s in mine if kind.arrival and s.arrived >= ARRIVAL_SHARE * s.events]
    session.register("lw_silence_floors", floors)
    try:
        by_gap = _grouped(*_gaps(session, key, kind.table, where, f"epoch({TIME})", at))
        arrival_gaps: dict[int, tuple[np.ndarray, ...]] = {}
        lags: dict[int, tuple[np.ndarray, ...]] = {}
        p99: dict[int, float] = {}
        if kind.arrival and with_arrival:
            arrival_where = f"{where} AND {kind.arrival} IS NOT NULL"
            arrival_gaps = _grouped(*_gaps(session, key, kind.table, arrival_where, f"epoch({kind.arrival})", at))
            lag = f"epoch({kind.arrival}) - epoch({TIME})"
            per_hour = session.con.sql(
                f"""SELECT kh, CAST(floor(epoch({TIME}) / 3600) AS BIGINT) AS hour, median(lag) AS lag, count(*) AS n
                    FROM (SELECT hash({key}) AS kh, {TIME}, {lag} AS lag FROM "{kind.table}" WHERE {arrival_where})
                    JOIN lw_silence_floors USING (kh) GROUP BY ALL""",
                params={"at": at},
            ).to_arrow_table()
            lags = _grouped(
                _column(per_hour, "kh"), _column(per_hour, "hour"), _column(per_hour, "lag"), _column(per_hour, "n")
            )
            for kh, q in session.con.sql(
                f"""SELECT kh, quantile_cont(lag, 0.99)
                    FROM (SELECT hash({key}) AS kh, {lag} AS lag FROM "{kind.table}" WHERE {arrival_where})
                    JOIN lw_silence_floors USING (kh) GROUP BY kh""",
                params={"at": at},
            ).fetchall():
                if q is not None:
                    p99[int(kh)] = float(q)
    finally:
        session.unregister("lw_silence_floors")
    none = np.empty(0, np.int64)
    arrival_ok = {s.hash for s in with_arrival}
    for s in mine:
        hours, counts, arrivals = by_hour.get(s.hash, (none, none, none))
        order = np.argsort(hours)
        gap_start, gap_end = by_gap.get(s.hash, (none, none))
        observed = Observed(
            id=s.id,
            kind=kind.name,
            key=s.key,
            parent=s.parent,
            first=s.first,
            last=s.last,
            events=s.events,
            hours=hours[order].astype(np.int64),
            counts=counts[order].astype(np.int64),
            arrivals=arrivals[order].astype(np.int64),
            gaps=_pairs(gap_start, gap_end),
            formats=s.formats,
        )
        # The arrival axis only where (nearly) every record has one: judged against the
        # source's whole rhythm, a part of it would look like a silence.
        if s.hash in arrival_ok:
            a_start, a_end = arrival_gaps.get(s.hash, (none, none))
            observed.arrival_gaps = _pairs(a_start, a_end)
            observed.last_arrival = int(a_start[np.isnan(a_end)][0]) if np.isnan(a_end).any() else s.last
            if s.hash in lags:
                lag_hours, lag_median, lag_records = lags[s.hash]
                order = np.argsort(lag_hours)
                observed.lag_hours, observed.lag_median = lag_hours[order].astype(np.int64), lag_median[order]
                observed.lag_records = lag_records[order].astype(np.int64)
                observed.lag_p99 = p99.get(s.hash)
        yield observed


def _gaps(session: Session, key: str, table: str, where: str, moment: str, at: datetime) -> tuple[np.ndarray, ...]:
    """Per source: each event followed by a gap at least its floor long, and the next event
    (NaN after the last event).

    Sorted by minute, not by event: a gap of a minute or more runs from the last event of
    one busy minute to the first of the next, so each minute's first and last second are
    all a gap needs, and a table of ten million records has at most one row per minute."""
    result = session.con.sql(
        f"""SELECT kh, s, nxt FROM (
                SELECT kh, last AS s, min_gap, lead(first) OVER (PARTITION BY kh ORDER BY minute) AS nxt
                FROM (SELECT kh, minute, min(s) AS first, max(s) AS last
                      FROM (SELECT hash({key}) AS kh, CAST(floor({moment}) AS BIGINT) AS s,
                                   CAST(floor({moment} / 60) AS BIGINT) AS minute
                            FROM "{table}" WHERE {where})
                      GROUP BY kh, minute)
                JOIN lw_silence_floors USING (kh))
            WHERE nxt IS NULL OR nxt - s >= min_gap""",
        params={"at": at},
    ).to_arrow_table()
    nxt = result.column("nxt").to_numpy(zero_copy_only=False)
    return (
        _column(result, "kh"),
        _column(result, "s").astype(np.int64),
        np.asarray(nxt, dtype=np.float64),
    )


def _pairs(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n, 2) gaps: an event and the next one, from the rows `_gaps` returned for one source."""
    keep = ~np.isnan(ends)
    if not keep.any():
        return np.empty((0, 2), np.int64)
    order = np.argsort(starts[keep])
    pairs: np.ndarray = np.stack([starts[keep][order], ends[keep][order].astype(np.int64)], axis=1)
    return pairs
