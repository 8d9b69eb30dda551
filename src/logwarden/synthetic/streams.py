"""Synthetic event streams with the rhythms real logs have, and a way to store them as a case.

A stream is a sorted array of event times (int64 epoch seconds, UTC). Its rhythm gives the
expected events per hour: a base rate, active hours and weekdays, a day/night swing, and
bursts (an operator or a deployment touching many resources at once). Stops and drops cut
it the way a switched-off or half-working export would. Silence detection is judged against
these streams, so `rate_per_hour` is exactly the rate the generator draws from.

Stored rows say what they are: `_Format` is "synthetic" and the ledger entry's path starts
with "synthetic:", so simulation data can always be told apart from collected logs.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from logwarden.store.database import ROW_GROUP_ROWS, STORED_SCHEMA, CaseDatabase, FinishedFile

Times = npt.NDArray[np.int64]
Rates = npt.NDArray[np.float64]
# Seconds: one value, or one per row.
Lags = float | npt.NDArray[np.number[Any]]

HOUR = 3600
DAY = 24 * HOUR
# 1970-01-01 was a Thursday: Monday-based weekday of epoch day d is (d + 3) % 7.
_EPOCH_WEEKDAY = 3
PEAK_HOUR = 14

FORMAT = "synthetic"
# Rows per insert: each statement commits on its own, and DuckDB holds the Arrow table it
# reads until then, so the slice bounds the memory whatever the stream's length.
SLICE_ROWS = 8 * ROW_GROUP_ROWS
VMS_PER_SUBSCRIPTION = 5
CALLER = "vm-automation@synthetic.example"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_VIEW = "lw_synthetic"


@dataclass(frozen=True)
class Rhythm:
    """How often a source logs.

    `per_hour` is the mean rate over the active hours of an active day; `daily_amplitude`
    moves events from night to day (peak at 14:00 UTC) without changing that mean.
    `hours` is [start, end) in UTC and may wrap midnight, as (22, 6) does.
    """

    name: str
    per_hour: float
    hours: tuple[int, int] | None = None
    weekdays_only: bool = False
    burst_mean: float = 1.0
    burst_spread_s: float = 0.0
    daily_amplitude: float = 0.0

    def __post_init__(self) -> None:
        # Written so that NaN fails too.
        if not 0 <= self.per_hour < math.inf:
            raise ValueError(f"rhythm {self.name}: per_hour must be finite and >= 0, not {self.per_hour}")
        if not 1 <= self.burst_mean < math.inf:
            raise ValueError(f"rhythm {self.name}: burst_mean must be finite and >= 1, not {self.burst_mean}")
        if not 0 <= self.burst_spread_s < math.inf:
            raise ValueError(f"rhythm {self.name}: burst_spread_s must be finite and >= 0, not {self.burst_spread_s}")
        if not 0 <= self.daily_amplitude <= 1:
            raise ValueError(f"rhythm {self.name}: daily_amplitude must be in [0, 1], not {self.daily_amplitude}")
        if self.hours is not None:
            first, end = self.hours
            if not (0 <= first < 24 and 0 < end <= 24 and first != end):
                raise ValueError(
                    f"rhythm {self.name}: hours must be (start, end) with start in 0..23, end in 1..24 and "
                    f"start != end (start > end wraps past midnight), not {self.hours}"
                )


RHYTHMS: dict[str, Rhythm] = {
    r.name: r
    for r in (
        Rhythm("busy", 60.0),
        Rhythm("hourly", 1.0),
        Rhythm("daily", 1 / 24),
        Rhythm("weekday", 12.0, hours=(8, 18), weekdays_only=True),
        Rhythm("bursty", 30.0, burst_mean=5.0, burst_spread_s=120.0, daily_amplitude=0.6),
        Rhythm("diurnal", 20.0, daily_amplitude=0.8),
    )
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc_seconds(when: datetime, what: str) -> int:
    """The first whole epoch second at or after `when`: an event second t is in [a, b) exactly
    when it is in [_utc_seconds(a), _utc_seconds(b))."""
    if when.utcoffset() != timedelta(0):
        raise ValueError(f"{what} must be a timezone-aware UTC datetime, not {when!r}")
    return -((_EPOCH - when) // timedelta(seconds=1))


def _span(start: datetime, end: datetime | None, what: str) -> tuple[int, int]:
    first = _utc_seconds(start, f"{what} start")
    last = np.iinfo(np.int64).max if end is None else _utc_seconds(end, f"{what} end")
    if last < first:
        raise ValueError(f"{what} ends ({end}) before it starts ({start})")
    return first, int(last)


@dataclass(frozen=True)
class Stop:
    """Logging switched off from `start` until `end` (None: it never comes back)."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        _span(self.start, self.end, "stop")


@dataclass(frozen=True)
class Drop:
    """Logging half working from `start` until `end`: each event kept with probability `keep`."""

    start: datetime
    end: datetime | None
    keep: float

    def __post_init__(self) -> None:
        _span(self.start, self.end, "drop")
        if not 0 <= self.keep <= 1:
            raise ValueError(f"drop: keep must be in [0, 1], not {self.keep}")


def _hour_profile(rhythm: Rhythm) -> Rates:
    """Expected events in each hour of an active day, 0 to 23 UTC."""
    hour = np.arange(24)
    if rhythm.hours is None:
        active = np.ones(24, dtype=bool)
    else:
        first, end = rhythm.hours
        active = (hour >= first) & (hour < end) if first < end else (hour >= first) | (hour < end)
    # Each hour gets the curve at its middle, which stands for the hour's average.
    swing = 1 + rhythm.daily_amplitude * np.cos(2 * np.pi * (hour + 0.5 - PEAK_HOUR) / 24)
    weights: Rates = np.where(active, swing, 0.0)
    # Scaled so that per_hour stays the mean over the active hours. The swing is 0 only at the
    # trough (02:00), never at an hour's middle, so the sum is never 0.
    return weights * (rhythm.per_hour * float(active.sum()) / float(weights.sum()))


def rate_per_hour(rhythm: Rhythm, hour_starts: Times) -> Rates:
    """Expected events in each hour starting at `hour_starts` (epoch seconds, UTC): what `event_times` draws from."""
    hour_starts = np.asarray(hour_starts, dtype=np.int64)
    rates = _hour_profile(rhythm)[(hour_starts // HOUR) % 24]
    if rhythm.weekdays_only:
        rates[(hour_starts // DAY + _EPOCH_WEEKDAY) % 7 >= 5] = 0.0
    return rates


def event_times(
    rhythm: Rhythm,
    start: datetime,
    end: datetime,
    rng: np.random.Generator,
    stops: Sequence[Stop] = (),
    drops: Sequence[Drop] = (),
) -> Times:
    """Sorted epoch seconds (UTC) of the events of a stream with this rhythm in [start, end).

    Bursts arrive as a Poisson process whose rate changes hourly (`rate_per_hour` / burst_mean),
    each starting at a uniform moment in its hour with a geometric number of events spread
    uniformly over the next `burst_spread_s` seconds.
    """
    first, stop_at = _span(start, end, "window")
    # Bursts that begin before the window spill into it; without them it would open quieter than the stream.
    lead = math.ceil(rhythm.burst_spread_s)
    hours = np.arange((first - lead) // HOUR * HOUR, stop_at, HOUR, dtype=np.int64)
    bursts = rng.poisson(rate_per_hour(rhythm, hours) / rhythm.burst_mean)
    burst_hours = np.repeat(hours, bursts)
    sizes = rng.geometric(1 / rhythm.burst_mean, burst_hours.size)
    offsets = np.repeat(rng.random(burst_hours.size) * HOUR, sizes)
    offsets += rng.random(offsets.size) * rhythm.burst_spread_s
    # Whole seconds are taken from the offset within the hour, then added to the integer hour:
    # float rounding at epoch magnitudes would otherwise shift events across a boundary.
    times = np.repeat(burst_hours, sizes) + offsets.astype(np.int64)
    kept = (times >= first) & (times < stop_at)
    for stop in stops:
        lo, hi = _span(stop.start, stop.end, "stop")
        kept &= (times < lo) | (times >= hi)
    for drop in drops:
        lo, hi = _span(drop.start, drop.end, "drop")
        inside = kept & (times >= lo) & (times < hi)
        kept[inside] = rng.random(int(inside.sum())) < drop.keep
    return np.sort(times[kept])


def _lags(lag_s: Lags | Mapping[str, Lags], subs: list[str], lengths: list[int]) -> Rates:
    """Lag in seconds per row in the order rows are stored; NaN where there is none."""
    if not isinstance(lag_s, Mapping):
        return np.broadcast_to(np.asarray(lag_s, dtype=np.float64), (sum(lengths),))
    unknown = set(lag_s) - set(subs)
    if unknown:
        raise ValueError(f"lags for subscriptions without a stream: {sorted(unknown)}")
    parts = [
        np.broadcast_to(np.asarray(lag_s[sub], dtype=np.float64), (n,)) if sub in lag_s else np.full(n, np.nan)
        for sub, n in zip(subs, lengths, strict=True)
    ]
    return np.concatenate([np.empty(0), *parts])


def write_activity(
    case: CaseDatabase,
    streams: Mapping[str, npt.NDArray[np.integer[Any]]],
    *,
    provider: str = "MICROSOFT.COMPUTE",
    lag_s: Lags | Mapping[str, Lags] | None = None,
    label: str = "synthetic",
) -> int:
    """Store streams as AzureActivity rows, one stream per subscription id (lower-case GUID); the row count.

    Every row is a successful administrative write by one synthetic caller to one of a few
    virtual machines of its subscription. `lag_s` sets EventSubmissionTimestamp to
    TimeGenerated plus that many seconds: one array for all rows (in the order of `streams`,
    or a scalar), or one per subscription; NaN or a missing subscription leaves it NULL.
    The rows are one ledger entry, "synthetic:<label>", visible once all are stored.
    """
    subs = list(streams)
    for sub in subs:
        if not _GUID.fullmatch(sub):
            raise ValueError(f"subscription id {sub!r} is not a lower-case GUID")
    arrays = [np.asarray(streams[sub]) for sub in subs]
    for sub, arr in zip(subs, arrays, strict=True):
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"stream {sub}: expected a 1-d integer array of epoch seconds, got {arr.dtype}{arr.shape}")
    lengths = [arr.size for arr in arrays]
    times = np.concatenate([np.empty(0, dtype=np.int64), *arrays], dtype=np.int64, casting="same_kind")
    sub_index = np.repeat(np.arange(len(subs), dtype=np.int32), lengths)
    lags = None if lag_s is None else _lags(lag_s, subs, lengths)
    resources = pa.array([f"vm-{n}" for n in range(VMS_PER_SUBSCRIPTION)])
    resource_ids = pa.array(
        [
            f"/subscriptions/{sub}/resourceGroups/rg-synthetic/providers/{provider}/virtualMachines/vm-{n}"
            for sub in subs
            for n in range(VMS_PER_SUBSCRIPTION)
        ]
    )
    constants = {
        "ResourceProviderValue": provider,
        "OperationNameValue": f"{provider}/VIRTUALMACHINES/WRITE",
        "OperationName": "Create or Update Virtual Machine",
        "CategoryValue": "Administrative",
        "ActivityStatusValue": "Success",
        "Level": "Informational",
        "ResourceGroup": "rg-synthetic",
        "Caller": CALLER,
        "_Format": FORMAT,
    }
    began = time.monotonic()
    file_id = case.begin_file(f"synthetic:{label}")
    insert = (
        f'INSERT INTO {STORED_SCHEMA}."AzureActivity" BY NAME SELECT *, ? AS "_FileId", '
        + ", ".join(f'? AS "{column}"' for column in constants)
        + f" FROM {_VIEW}"
    )
    try:
        for lo in range(0, times.size, SLICE_ROWS):
            part = slice(lo, lo + SLICE_ROWS)
            record = np.arange(lo + 1, lo + 1 + times[part].size, dtype=np.int64)
            vm = ((record - 1) % VMS_PER_SUBSCRIPTION).astype(np.int32)
            columns = {
                "TimeGenerated": pa.array(times[part], pa.timestamp("s", tz="UTC")),
                "SubscriptionId": pa.DictionaryArray.from_arrays(sub_index[part], pa.array(subs, pa.string())),
                "ResourceId": pa.DictionaryArray.from_arrays(sub_index[part] * VMS_PER_SUBSCRIPTION + vm, resource_ids),
                "Resource": pa.DictionaryArray.from_arrays(vm, resources),
                "_Record": pa.array(record),
            }
            if lags is not None:
                lag = lags[part]
                submitted = times[part] * 1_000_000 + np.rint(np.nan_to_num(lag) * 1e6).astype(np.int64)
                columns["EventSubmissionTimestamp"] = pa.array(
                    submitted, pa.timestamp("us", tz="UTC"), mask=np.isnan(lag)
                )
            case.register(_VIEW, pa.table(columns))
            try:
                case.run(insert, [file_id, *constants.values()])
            finally:
                case.unregister(_VIEW)
        entry = {
            "sha256": None,
            "size": None,
            "mtime_ns": None,
            "container": FORMAT,
            "read": times.size,
            "stored": times.size,
            "rejected": 0,
            # What a fully read input gets, so the rows count like any others in a simulation.
            "status": "stored",
            "message": "simulation data from logwarden.synthetic, not collected from Azure",
            "seconds": time.monotonic() - began,
        }
        case.finish_files([FinishedFile(file_id, entry, [("AzureActivity", FORMAT, times.size)], [])])
    except BaseException:
        case.abandon_files([file_id])
        raise
    return int(times.size)
