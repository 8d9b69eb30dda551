"""One case, investigated: the hunt and the silence watch put together into what an analyst
reads first. Which logging was impaired, when and by whom; which sources went blind and for
how long; every source's volume hour by hour, with its silences and the tamper events that
caused them; the tamper alerts with their original records; what was read.

Outputs render this; they compute nothing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from logwarden.detectors.sigma.coverage import Coverage, coverage
from logwarden.detectors.sigma.hunt import Alert, hunt
from logwarden.detectors.sigma.rules import CompiledRule
from logwarden.detectors.silence.config import SilenceConfig
from logwarden.detectors.silence.explain import Cause, causes_from
from logwarden.detectors.silence.judge import Judgement, SilenceAlert, judge, level_rank
from logwarden.detectors.silence.sources import KIND_BY_NAME, Observed, newest, observe
from logwarden.store.database import CaseDatabase
from logwarden.store.stats import Stats, collect
from logwarden.store.tables import RAW_COLUMN, TABLES

# States of a silence alert that mean a source was (partly) blind.
BLINDING = ("SILENT", "THINNED", "LATE", "NEVER_SEEN")


@dataclass(frozen=True)
class Blind:
    """A source that went blind: a silence alert, with how long it lasted and what caused it."""

    source: str
    title: str
    alert: SilenceAlert
    hours: float | None  # from its last record to the data's return (or to the judgement)


@dataclass(frozen=True)
class Actor:
    """Someone whose actions impaired logging: their tamper alerts, first and last."""

    name: str
    first: datetime
    last: datetime
    alerts: tuple[Alert, ...]
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """One source on the timeline: records per hour from `Investigation.start`, its silence
    windows, and the tamper events that its alerts name as their cause."""

    source: str
    title: str
    state: str
    counts: tuple[int, ...]
    windows: tuple[SilenceAlert, ...]
    marks: tuple[Cause, ...]


@dataclass(frozen=True)
class Finding:
    """A tamper alert with the record it was raised on, as received."""

    alert: Alert
    raw: str | None


@dataclass
class Investigation:
    at: datetime
    start: datetime  # the timeline's first hour
    hours: int
    blind: list[Blind]
    actors: list[Actor]
    rows: list[Row]
    findings: list[Finding]
    silence: Judgement
    ledger: Stats
    coverage: list[Coverage] = field(default_factory=list)


def _title(source: str) -> str:
    kind = source.split(":", 1)[0]
    return KIND_BY_NAME[kind].title if kind in KIND_BY_NAME else "every record of the table"


def investigate(
    case: CaseDatabase, rules: Sequence[CompiledRule], config: SilenceConfig, at: datetime | None = None
) -> Investigation:
    """Hunt with `rules`, judge every source as of `at` (default: the newest event), and put
    the findings together."""
    alerts = list(hunt(case, list(rules)))
    moment = at or newest(case) or datetime.now(UTC)
    observed = observe(case, moment, config.budget_per_day)
    silence = judge(observed, moment, config, causes_from(alerts, rules))
    start_h = min((o.first // 3600 for o in observed), default=int(moment.timestamp() // 3600))
    hours = int(moment.timestamp() // 3600) - start_h + 1
    return Investigation(
        at=moment,
        start=datetime.fromtimestamp(start_h * 3600, UTC),
        hours=hours,
        blind=_blind(silence, moment),
        actors=_actors(alerts),
        rows=_rows(observed, silence, start_h, hours),
        findings=_findings(case, alerts),
        silence=silence,
        ledger=collect(case),
        coverage=coverage(list(rules)),
    )


def _blind(silence: Judgement, at: datetime) -> list[Blind]:
    """Silence alerts, the explained and most severe first."""
    out = []
    for alert in silence.alerts:
        if alert.state not in BLINDING or alert.suppressed:
            continue
        hours = None
        if alert.start is not None:
            hours = ((alert.end or at) - alert.start).total_seconds() / 3600
        out.append(Blind(alert.source, _title(alert.source), alert, hours))
    out.sort(key=lambda b: (not b.alert.causes, -level_rank(b.alert.level), b.alert.start or at))
    return out


def _actors(alerts: list[Alert]) -> list[Actor]:
    """Who did what, for tamper alerts of medium level and above, the busiest first."""
    by_actor: dict[str, list[Alert]] = {}
    for alert in alerts:
        if level_rank(alert.level) >= level_rank("medium"):
            by_actor.setdefault(alert.actor or "(unknown)", []).append(alert)
    actors = [
        Actor(
            name,
            min(a.time for a in mine),
            max(a.time for a in mine),
            tuple(sorted(mine, key=lambda a: a.time)),
            tuple(sorted({a.ip for a in mine if a.ip})),
        )
        for name, mine in by_actor.items()
    ]
    actors.sort(key=lambda a: (-max(level_rank(x.level) for x in a.alerts), -len(a.alerts), a.first))
    return actors


def _rows(observed: list[Observed], silence: Judgement, start_h: int, hours: int) -> list[Row]:
    states = {s.id: s.state for s in silence.sources}
    rows = []
    for seen in sorted(observed, key=lambda o: (o.kind != "table", o.id)):
        counts = np.zeros(hours, np.int64)
        inside = (seen.hours >= start_h) & (seen.hours < start_h + hours)
        counts[seen.hours[inside] - start_h] = seen.counts[inside]
        windows = tuple(
            a for a in silence.alerts if a.state in BLINDING and (a.source == seen.id or seen.id in a.covers)
        )
        marks = tuple({c: None for w in windows for c in w.causes})
        rows.append(
            Row(seen.id, _title(seen.id), states.get(seen.id, "-"), tuple(int(c) for c in counts), windows, marks)
        )
    return rows


def _findings(case: CaseDatabase, alerts: list[Alert]) -> list[Finding]:
    """Each alert with its record's raw text, looked up in bulk per table by file, line and record."""
    raw: dict[tuple[str | None, int | None, int | None], str] = {}
    wanted = {(a.file, a.line, a.record) for a in alerts}
    if wanted:
        keys = pa.table(
            {
                "Path": pa.array([w[0] for w in wanted], pa.string()),
                "Line": pa.array([w[1] for w in wanted], pa.int64()),
                "Record": pa.array([w[2] for w in wanted], pa.int64()),
            }
        )
        case.register("lw_finding_keys", keys)
        try:
            for table in TABLES:
                for path, line, record, text in case.run(
                    f"""SELECT k.Path, k.Line, k.Record, any_value(t."{RAW_COLUMN}")
                        FROM lw_finding_keys k
                        JOIN IngestFiles f ON f.Path = k.Path
                        JOIN "{table}" t ON t._FileId = f.FileId
                         AND t._Line IS NOT DISTINCT FROM k.Line AND t._Record IS NOT DISTINCT FROM k.Record
                        GROUP BY ALL"""
                ):
                    raw.setdefault((path, line, record), text)
        finally:
            case.unregister("lw_finding_keys")
    return [Finding(a, raw.get((a.file, a.line, a.record))) for a in alerts]
