"""The silence watch's configuration: a TOML file of expected sources, redundant groups,
per-class limits, schedules and maintenance windows.

```toml
budget = "1/week"                      # false alarms across all watched sources

[classes.activity]                     # per source kind (see `sources.KINDS`)
max_delay = "2d"                       # slower than this to detect: "too quiet to watch"
latency = "15m"                        # the newest data may still be in flight for this long

[[expected]]                           # must exist even if never seen: NEVER_SEEN otherwise
source = "activity:0f1e2d3c-..."

[[groups]]                             # redundant paths: silent only if every member is
name = "activity log, both exports"
members = ["activity:0f1e...", "table:AzureActivity"]

[[schedules]]                          # outside these hours alerts are demoted, not dropped
sources = ["ual:*"]
days = "mon-fri"
hours = "08:00-18:00"
timezone = "Europe/Berlin"
holidays = [2026-12-25]

[[maintenance]]                        # alerts wholly inside are suppressed, and listed
start = 2026-05-01T00:00:00Z
end = 2026-05-01T06:00:00Z
reason = "workspace migration"
author = "j.doe"
sources = ["*"]
```
Source patterns are globs over source ids (`*` any run of characters, `?` one), matched with RE2.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2


class ConfigError(ValueError):
    """A configuration file that cannot be used, with the file and the entry at fault."""


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_BUDGET_PERIODS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `1h30m`, `2d`, `1w`."""
    spec = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(spec)
    if not parts or "".join(n + u for n, u in parts) != spec:
        raise ValueError(f"not a duration: {text!r} (write e.g. 15m, 6h, 2d)")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def parse_budget(text: str) -> float:
    """False alarms per day, from `N/period` (period: hour, day, week, month)."""
    count, sep, period = text.strip().lower().partition("/")
    try:
        n = float(count)
    except ValueError:
        n = -1.0
    if not sep or n <= 0 or period not in _BUDGET_PERIODS:
        raise ValueError(f"not a budget: {text!r} (write e.g. 1/week, 2/day)")
    return n / _BUDGET_PERIODS[period]


def glob(pattern: str) -> Any:
    """A compiled RE2 pattern for a source-id glob (source ids come from logs)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re2.compile(body)


def matches_any(patterns: Iterable[Any], source: str) -> bool:
    return any(p.fullmatch(source) is not None for p in patterns)


@dataclass(frozen=True)
class ClassLimits:
    max_delay: timedelta = timedelta(days=2)
    latency: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    patterns: tuple[Any, ...]
    days: frozenset[int]  # Monday = 0
    start: time
    end: time
    zone: tzinfo
    holidays: frozenset[date]

    def covers(self, source: str) -> bool:
        return matches_any(self.patterns, source)

    def on(self, hour_starts: Iterable[datetime]) -> list[bool]:
        """Whether each UTC hour is inside the schedule, in its own time zone."""
        out = []
        for moment in hour_starts:
            local = moment.astimezone(self.zone)
            out.append(
                local.weekday() in self.days
                and local.date() not in self.holidays
                and self.start <= local.time().replace(minute=0, second=0) < self.end
            )
        return out


@dataclass(frozen=True)
class Maintenance:
    start: datetime
    end: datetime
    reason: str
    author: str
    patterns: tuple[Any, ...]
    sources: tuple[str, ...]

    def covers(self, source: str) -> bool:
        return matches_any(self.patterns, source)


_DEFAULT_CLASSES: dict[str, ClassLimits] = {
    # The unified audit log takes 30 min to 24 h to arrive; a gap is only final after a day.
    "ual": ClassLimits(max_delay=timedelta(days=3), latency=timedelta(hours=24)),
    "ual_record": ClassLimits(max_delay=timedelta(days=3), latency=timedelta(hours=24)),
}


@dataclass(frozen=True)
class SilenceConfig:
    budget_per_day: float = 1 / 7
    budget_text: str = "1/week"
    classes: dict[str, ClassLimits] = field(default_factory=lambda: dict(_DEFAULT_CLASSES))
    expected: tuple[str, ...] = ()
    # Where an expected source came from, when not this file (a posture snapshot, say).
    expected_origin: tuple[tuple[str, str], ...] = ()
    groups: tuple[Group, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    maintenance: tuple[Maintenance, ...] = ()
    # A drop to this fraction of the usual volume is what the THINNED test looks for.
    thinned_ratio: float = 0.3
    # How long before a gap a tamper event may have caused it.
    explain_before: timedelta = timedelta(hours=6)
    source: str = "(defaults)"

    def limits(self, kind: str) -> ClassLimits:
        return self.classes.get(kind, ClassLimits())

    def with_budget(self, text: str) -> SilenceConfig:
        return replace(self, budget_per_day=parse_budget(text), budget_text=text)

    def expecting(self, sources: Iterable[tuple[str, str]]) -> SilenceConfig:
        """These (source, why) expected too, besides the file's own."""
        more = [(source, why) for source, why in sources if source not in self.expected]
        return replace(
            self,
            expected=self.expected + tuple(source for source, _ in more),
            expected_origin=self.expected_origin + tuple(more),
        )

    def why_expected(self, source: str) -> str:
        return dict(self.expected_origin).get(source, f"configured as expected in {self.source}")


def load_config(path: Path | None) -> SilenceConfig:
    if path is None:
        return SilenceConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the silence configuration ({exc})") from exc
    try:
        return _config(data, str(path))
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _entries(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = data.get(name, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError(f"[[{name}]] must be a list of tables")
    return items


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a string or a list of strings")
    return tuple(value)


def _config(data: dict[str, Any], source: str) -> SilenceConfig:
    known = {"budget", "classes", "expected", "groups", "schedules", "maintenance", "thinned_ratio", "explain_before"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    budget_text = str(data.get("budget", "1/week"))
    classes = dict(_DEFAULT_CLASSES)
    for kind, limits in dict(data.get("classes", {})).items():
        if not isinstance(limits, dict):
            raise ValueError(f"[classes.{kind}] must be a table")
        base = classes.get(kind, ClassLimits())
        classes[kind] = ClassLimits(
            max_delay=parse_duration(limits["max_delay"]) if "max_delay" in limits else base.max_delay,
            latency=parse_duration(limits["latency"]) if "latency" in limits else base.latency,
        )
    expected = tuple(str(e["source"]) for e in _entries(data, "expected"))
    groups = tuple(
        Group(str(g.get("name") or "+".join(g["members"])), _strings(g["members"], "groups.members"))
        for g in _entries(data, "groups")
    )
    schedules = tuple(_schedule(s, i) for i, s in enumerate(_entries(data, "schedules"), 1))
    maintenance = tuple(_maintenance(m, i) for i, m in enumerate(_entries(data, "maintenance"), 1))
    ratio = float(data.get("thinned_ratio", 0.3))
    if not 0 < ratio < 1:
        raise ValueError("thinned_ratio must be between 0 and 1")
    return SilenceConfig(
        budget_per_day=parse_budget(budget_text),
        budget_text=budget_text,
        classes=classes,
        expected=expected,
        groups=groups,
        schedules=schedules,
        maintenance=maintenance,
        thinned_ratio=ratio,
        explain_before=parse_duration(str(data.get("explain_before", "6h"))),
        source=source,
    )


def _days(spec: str) -> frozenset[int]:
    out: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"days {spec!r}: write e.g. mon-fri or mon,wed,fri")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(out)


def _schedule(entry: dict[str, Any], n: int) -> Schedule:
    start_text, _, end_text = str(entry.get("hours", "00:00-24:00")).partition("-")
    try:
        zone: tzinfo = ZoneInfo(str(entry.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"schedule {n}: unknown time zone {entry.get('timezone')!r}") from exc
    end = time(23, 59, 59) if end_text.strip() in ("24:00", "24") else time.fromisoformat(end_text.strip())
    return Schedule(
        patterns=tuple(glob(p) for p in _strings(entry.get("sources", "*"), f"schedule {n} sources")),
        days=_days(str(entry.get("days", "mon-sun"))),
        start=time.fromisoformat(start_text.strip()),
        end=end,
        zone=zone,
        holidays=frozenset(h if isinstance(h, date) else date.fromisoformat(str(h)) for h in entry.get("holidays", [])),
    )


def _moment(value: Any, where: str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{where}: give a time zone (e.g. 2026-05-01T00:00:00Z)")
    return moment.astimezone(UTC)


def _maintenance(entry: dict[str, Any], n: int) -> Maintenance:
    for needed in ("start", "end", "reason", "author"):
        if needed not in entry:
            raise ValueError(f"maintenance window {n}: `{needed}` is required (windows are an audit record)")
    start, end = _moment(entry["start"], f"maintenance {n} start"), _moment(entry["end"], f"maintenance {n} end")
    if end <= start:
        raise ValueError(f"maintenance window {n}: ends before it starts")
    sources = _strings(entry.get("sources", "*"), f"maintenance {n} sources")
    return Maintenance(start, end, str(entry["reason"]), str(entry["author"]), tuple(glob(p) for p in sources), sources)
