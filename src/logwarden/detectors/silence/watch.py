"""The silence watch as Sentinel scheduled rules: every source logwarden learned to watch, with the
longest silence its rhythm allows, left-joined to what arrived.

An expected-source inventory (a `datatable`) is joined to the last record each source sent
within the look-back, so a source that sends nothing at all is caught (a plain aggregation over
what arrived has no row for it). A source's threshold is the longest the local judge would wait
before alarming on a stop, over every hour of the week (its worst delay), plus its class's
ingestion latency: a stop at a busy hour is told later than locally, never a normal pause sooner.
Sentinel caps a query at 10,000 characters, so a large inventory is split over several rules.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from logwarden.detectors.sentinel.analytics import AnalyticRule, TestEvents
from logwarden.detectors.sentinel.backend import kql_string
from logwarden.detectors.sentinel.queries import MAX_PERIOD, QUERY_LIMIT, whole_minutes
from logwarden.detectors.silence.config import SilenceConfig
from logwarden.detectors.silence.judge import Judgement, SourceState
from logwarden.detectors.silence.sources import KINDS


def _part(column: str, empty: str = "?", case: str = "") -> str:
    value = f"{case}({column})" if case else column
    return f"iff(isempty({column}), {kql_string(empty)}, {value})"


# Each kind's key as `sources.KINDS` builds it in SQL, part by part, written in KQL.
_KEY_PARTS: dict[str, tuple[str, ...]] = {
    "activity": (_part("SubscriptionId", "(tenant)", "tolower"),),
    "activity_provider": (
        _part("SubscriptionId", "(tenant)", "tolower"),
        _part("ResourceProviderValue", case="toupper"),
    ),
    "entra": (_part("AADTenantId", "(tenant)", "tolower"), _part("Category")),
    "signin": (_part("AADTenantId", "(tenant)", "tolower"),),
    "ual": (_part("OrganizationId", "(tenant)", "tolower"), _part("OfficeWorkload")),
    "ual_record": (_part("OrganizationId", "(tenant)", "tolower"), _part("OfficeWorkload"), _part("RecordType")),
}
_TABLES = {k.name: k.table for k in KINDS if k.name != "table"}
_EXPORTED = ("AzureActivity", "AuditLogs", "OfficeActivity", "SigninLogs")
_NAMESPACE = uuid.UUID("0b4cf0a4-5d0e-4a57-8f0e-6a1c0f3b7e55")


@dataclass(frozen=True)
class _Row:
    kind: str
    key: str  # the source key, or "*": any source of the kind
    limit: timedelta

    @property
    def table(self) -> str | None:
        return self.key if self.kind == "table" else _TABLES.get(self.kind)


def _threshold(source: SourceState, config: SilenceConfig) -> timedelta | None:
    if source.state == "TOO_QUIET" or source.state == "LEARNING" or source.worst_delay_h is None:
        return None
    if not math.isfinite(source.worst_delay_h):
        return None
    latency = config.limits(source.kind).latency
    return timedelta(minutes=math.ceil(source.worst_delay_h * 60)) + latency


def watch_rules(judgement: Judgement, config: SilenceConfig) -> tuple[list[AnalyticRule], list[str]]:
    """The watch's rules, and the sources left out with why."""
    rows: list[_Row] = []
    left_out = []
    candidates: list[tuple[str, str, str, timedelta | None, str]] = [
        (s.id, s.kind, s.id.split(":", 1)[1], _threshold(s, config), s.state.lower().replace("_", " "))
        for s in judgement.sources
    ]
    for wanted in _never_seen(judgement, config):
        kind, key = wanted.split(":", 1) if ":" in wanted else (wanted, "")
        # Never seen here, so no rhythm to learn: the class's longest allowed delay is the limit.
        allowed = config.limits(kind).max_delay + config.limits(kind).latency
        keyed = key == "*" or not any(c in key for c in "*?")
        candidates.append((wanted, kind, key, allowed if keyed else None, "a pattern other than kind:*"))
    for name, kind, key, limit, why in candidates:
        row = _Row(kind, key, limit or timedelta(0))
        if row.table not in _EXPORTED:
            left_out.append(f"{name}: {kind} sources are not in a Sentinel table the watch reads")
        elif limit is None:
            left_out.append(f"{name}: not watched ({why})")
        elif limit + timedelta(hours=1) > MAX_PERIOD:
            left_out.append(f"{name}: its allowed silence ({limit}) is longer than Sentinel can look back")
        else:
            rows.append(row)
    chunks: list[list[_Row]] = []
    for row in rows:
        if chunks and len(_query(chunks[-1] + [row])) <= QUERY_LIMIT:
            chunks[-1].append(row)
        else:
            chunks.append([row])
    rules = [_rule(chunk, n, len(chunks), judgement) for n, chunk in enumerate(chunks, start=1)]
    return rules, left_out


def _never_seen(judgement: Judgement, config: SilenceConfig) -> list[str]:
    """The expected sources (the configuration's, the posture's) the case never saw."""
    return [a.source for a in judgement.alerts if a.state == "NEVER_SEEN" and a.source in config.expected]


def _minutes(span: timedelta) -> str:
    """A KQL timespan literal."""
    return f"{whole_minutes(span)}m"


def _frequency(rows: list[_Row]) -> timedelta:
    """Often enough that the shortest allowed silence is told within half of it again."""
    shortest = min(row.limit for row in rows)
    return timedelta(minutes=min(60, max(5, int(shortest.total_seconds() // 120))))


def _period(rows: list[_Row]) -> timedelta:
    return max(row.limit for row in rows) + _frequency(rows)


def _query(rows: list[_Row]) -> str:
    expected = ",\n".join(f"  {kql_string(r.kind)}, {kql_string(r.key)}, {_minutes(r.limit)}" for r in rows)
    frequency = _frequency(rows)
    seen = []
    # Each part reads back only as far as its own sources' longest allowed silence needs; a
    # kind expected as a whole ("*") is seen when any of its sources is.
    for kind in sorted({r.kind for r in rows}):
        mine = [r for r in rows if r.kind == kind]
        if kind == "table":
            parts = [(r.key, kql_string(r.key), r.limit) for r in mine]
        else:
            key = ", ".join(_KEY_PARTS[kind])
            key = key if len(_KEY_PARTS[kind]) == 1 else f'strcat_delim("/", {key})'
            keyed = [r.limit for r in mine if r.key != "*"]
            whole = [r.limit for r in mine if r.key == "*"]
            parts = [(_TABLES[kind], key, max(keyed))] if keyed else []
            parts += [(_TABLES[kind], '"*"', max(whole))] if whole else []
        for table, key, limit in parts:
            seen.append(
                f"({table} | where TimeGenerated > ago({_minutes(limit + frequency)}) "
                f"| summarize LastSeen = max(TimeGenerated) by Kind = {kql_string(kind)}, Source = {key})"
            )
    sources = ",\n  ".join(seen)
    return (
        f"let LwExpected = datatable(Kind: string, Source: string, MaxSilence: timespan) [\n{expected}\n];\n"
        f"let LwSeen = union isfuzzy=true\n  {sources};\n"
        "LwExpected\n"
        "| join kind=leftouter LwSeen on Kind, Source\n"
        "| extend SilentFor = now() - LastSeen\n"
        # No record within the look-back at all: silent for longer than the limit, however long.
        "| where isnull(LastSeen) or SilentFor > MaxSilence\n"
        "| project SourceKind = Kind, SourceKey = Source, LastSeen, SilentFor, MaxSilence"
    )


def _rule(rows: list[_Row], n: int, of: int, judgement: Judgement) -> AnalyticRule:
    part = f" ({n} of {of})" if of > 1 else ""
    tables = tuple(dict.fromkeys(t for r in rows if (t := r.table) is not None))
    return AnalyticRule(
        id=str(uuid.uuid5(_NAMESPACE, f"silence-watch/{n}")),
        name=f"Expected log source gone silent{part}",
        description=(
            f"A log source logwarden watched in a case judged as of {judgement.at:%Y-%m-%d %H:%M} UTC sent nothing "
            "for longer than its own rhythm allows, or nothing at all within the look-back. Each source's limit "
            "is learned from the case's history (the longest the local judge waits before alarming on a stop at "
            "any hour of the week) plus its class's ingestion latency. A source that stops logging is what a "
            "deleted diagnostic setting, a purged workspace, a daily cap or a disabled audit log leaves behind: "
            "look for the tamper alert that explains it."
        ),
        severity="Medium",
        query=_query(rows),
        tables=tables,
        frequency=_frequency(rows),
        period=_period(rows),
        tactics=("DefenseEvasion",),
        techniques=("T1562.008",),
        entities=(),
        display_name="Log source silent: {{SourceKey}} ({{SourceKind}})",
        custom_details=(("SourceKind", "SourceKind"), ("SourceKey", "SourceKey"), ("SilentFor", "SilentFor")),
        severity_column=False,
        source="logwarden silence watch",
        catalogue=(),
        tests=TestEvents(),
    )
