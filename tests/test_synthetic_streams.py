from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from logwarden.ingest import open_case
from logwarden.synthetic.streams import (
    HOUR,
    RHYTHMS,
    Drop,
    Rhythm,
    Stop,
    event_times,
    rate_per_hour,
    write_activity,
)

START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
END = START + timedelta(weeks=8)
SUB_A = "00000000-0000-4000-8000-00000000000a"
SUB_B = "00000000-0000-4000-8000-00000000000b"


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _hours(start: datetime = START, end: datetime = END) -> np.ndarray:
    return np.arange(_epoch(start), _epoch(end), HOUR, dtype=np.int64)


def _hourly_counts(times: np.ndarray, start: datetime = START, end: datetime = END) -> np.ndarray:
    n = (_epoch(end) - _epoch(start)) // HOUR
    return np.bincount((times - _epoch(start)) // HOUR, minlength=n)


@pytest.mark.parametrize("name", sorted(RHYTHMS))
def test_counts_match_the_rate(name: str) -> None:
    rhythm = RHYTHMS[name]
    times = event_times(rhythm, START, END, np.random.default_rng(1))
    expected = rate_per_hour(rhythm, _hours()).sum()
    # Total of a compound Poisson count with geometric burst sizes of mean m: variance N (2m - 1).
    sd = np.sqrt(expected * (2 * rhythm.burst_mean - 1))
    assert abs(times.size - expected) < 5 * sd, (times.size, expected)


@pytest.mark.parametrize("name", sorted(RHYTHMS))
def test_sorted_int64_and_inside_the_window(name: str) -> None:
    start = START + timedelta(minutes=17, seconds=31, microseconds=500_000)
    end = START + timedelta(days=9, hours=5, seconds=12)
    times = event_times(RHYTHMS[name], start, end, np.random.default_rng(2))
    assert times.dtype == np.int64
    assert np.all(np.diff(times) >= 0)
    if times.size:
        assert times[0] >= _epoch(start) + 1  # the half second rounds up
        assert times[-1] < _epoch(end)


def test_the_rate_has_its_shape() -> None:
    hours = _hours(START, START + timedelta(weeks=1))
    # A day's mean is per_hour; the swing peaks in the afternoon and bottoms out at night.
    diurnal = rate_per_hour(RHYTHMS["diurnal"], hours)
    assert diurnal[:24].mean() == pytest.approx(20.0)
    assert diurnal[:24].argmax() in (13, 14) and diurnal[:24].argmin() in (1, 2)
    weekday = rate_per_hour(RHYTHMS["weekday"], hours)
    assert weekday[8:18].tolist() == [12.0] * 10 and weekday[:8].sum() == weekday[18:24].sum() == 0
    assert weekday[5 * 24 :].sum() == 0
    night = Rhythm("night", 6.0, hours=(22, 6), daily_amplitude=0.5)
    rates = rate_per_hour(night, hours[:24])
    assert (rates > 0).tolist() == [h < 6 or h >= 22 for h in range(24)]
    assert rates[rates > 0].mean() == pytest.approx(6.0)


def test_weekday_rhythm_is_quiet_at_weekends_and_at_night() -> None:
    times = event_times(RHYTHMS["weekday"], START, END, np.random.default_rng(3))
    hour = (times // HOUR) % 24
    assert times.size > 4000  # 8 weeks x 5 days x 10 hours x 12
    assert np.is_busday(times.astype("datetime64[s]").astype("datetime64[D]")).all()
    assert hour.min() == 8 and hour.max() == 17


def test_stops_remove_everything_in_range() -> None:
    outage = Stop(START + timedelta(days=10, hours=3, minutes=30), START + timedelta(days=12))
    for_good = Stop(START + timedelta(weeks=7))
    times = event_times(RHYTHMS["bursty"], START, END, np.random.default_rng(4), stops=[outage, for_good])
    assert outage.end is not None
    inside = (times >= _epoch(outage.start)) & (times < _epoch(outage.end))
    assert not inside.any()
    assert times.max() < _epoch(for_good.start)
    # The stream itself carries on either side of the outage.
    assert (times < _epoch(outage.start)).sum() > 1000 and (times >= _epoch(outage.end)).sum() > 1000


def test_a_drop_keeps_about_keep() -> None:
    drop = Drop(START + timedelta(weeks=2), START + timedelta(weeks=4), keep=0.3)
    assert drop.end is not None
    times = event_times(RHYTHMS["busy"], START, END, np.random.default_rng(5), drops=[drop])
    inside = ((times >= _epoch(drop.start)) & (times < _epoch(drop.end))).sum()
    expected = 0.3 * rate_per_hour(RHYTHMS["busy"], _hours(drop.start, drop.end)).sum()
    assert abs(inside - expected) < 5 * np.sqrt(expected)
    after = (times >= _epoch(drop.end)).sum()
    full = rate_per_hour(RHYTHMS["busy"], _hours(drop.end, END)).sum()
    assert abs(after - full) < 5 * np.sqrt(full)


def _dispersion(name: str) -> float:
    """Variance over mean of hourly counts, around each hour's own rate (the day/night swing is not noise)."""
    rhythm = RHYTHMS[name]
    times = event_times(rhythm, START, END, np.random.default_rng(6))
    rates = rate_per_hour(rhythm, _hours())
    return float(((_hourly_counts(times) - rates) ** 2).sum() / rates.sum())


def test_bursts_make_hourly_counts_overdispersed() -> None:
    assert _dispersion("bursty") > 5
    assert 0.8 < _dispersion("busy") < 1.25
    assert 0.8 < _dispersion("diurnal") < 1.25


def test_the_same_seed_gives_the_same_stream() -> None:
    one = event_times(RHYTHMS["bursty"], START, END, np.random.default_rng(7))
    two = event_times(RHYTHMS["bursty"], START, END, np.random.default_rng(7))
    assert np.array_equal(one, two)


@pytest.mark.parametrize(
    "when",
    [datetime(2024, 3, 4), datetime(2024, 3, 4, tzinfo=timezone(timedelta(hours=1)))],
)
def test_naive_or_non_utc_datetimes_raise(when: datetime) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="UTC"):
        event_times(RHYTHMS["busy"], when, END, rng)
    with pytest.raises(ValueError, match="UTC"):
        event_times(RHYTHMS["busy"], START, when + timedelta(days=1), rng)
    with pytest.raises(ValueError, match="UTC"):
        Stop(when)
    with pytest.raises(ValueError, match="UTC"):
        Drop(START, when + timedelta(days=1), 0.5)


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        event_times(RHYTHMS["busy"], END, START, np.random.default_rng(0))
    with pytest.raises(ValueError, match="burst_mean"):
        Rhythm("x", 1.0, burst_mean=0.5)
    with pytest.raises(ValueError, match="hours"):
        Rhythm("x", 1.0, hours=(8, 8))
    with pytest.raises(ValueError, match="keep"):
        Drop(START, None, 1.5)


def test_write_activity_rows_are_visible_and_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    a = event_times(RHYTHMS["busy"], START, START + timedelta(days=3), rng)
    b = event_times(RHYTHMS["hourly"], START, START + timedelta(days=3), rng)
    lag = rng.uniform(30, 300, a.size)
    case = open_case(tmp_path / "case.duckdb")
    try:
        n = write_activity(case, {SUB_A: a, SUB_B: b}, lag_s={SUB_A: lag}, label="test")
        assert n == a.size + b.size
        assert case.run("SELECT count(*), count(DISTINCT SubscriptionId) FROM AzureActivity") == [(n, 2)]
        for sub, times in ((SUB_A, a), (SUB_B, b)):
            stored = case.run(
                "SELECT epoch_us(TimeGenerated) FROM AzureActivity WHERE SubscriptionId = ? ORDER BY _Record", [sub]
            )
            assert [t for (t,) in stored] == (times * 1_000_000).tolist()
        submitted = case.run(
            "SELECT epoch_us(EventSubmissionTimestamp) - epoch_us(TimeGenerated) FROM AzureActivity "
            "WHERE SubscriptionId = ? ORDER BY _Record",
            [SUB_A],
        )
        assert np.array_equal([d for (d,) in submitted], np.rint(lag * 1e6).astype(np.int64))
        assert case.run(
            "SELECT count(EventSubmissionTimestamp) FROM AzureActivity WHERE SubscriptionId = ?", [SUB_B]
        ) == [(0,)]
        ((records, first, last, formats, bad_ids),) = case.run(
            "SELECT count(DISTINCT _Record), min(_Record), max(_Record), list(DISTINCT _Format), "
            "count(*) FILTER (WHERE NOT starts_with(ResourceId, '/subscriptions/' || SubscriptionId || '/')) "
            "FROM AzureActivity"
        )
        assert (records, first, last, formats, bad_ids) == (n, 1, n, ["synthetic"], 0)
        ((path, status, stored_rows, message),) = case.run("SELECT Path, Status, RowsStored, Message FROM IngestFiles")
        assert (path, status, stored_rows) == ("synthetic:test", "stored", n)
        assert "not collected" in message
    finally:
        case.close()


def test_write_activity_rejects_what_it_cannot_store(tmp_path: Path) -> None:
    case = open_case(tmp_path / "case.duckdb")
    try:
        times = np.array([1, 2, 3], dtype=np.int64)
        with pytest.raises(ValueError, match="GUID"):
            write_activity(case, {"Sub-A": times})
        with pytest.raises(ValueError, match="integer"):
            write_activity(case, {SUB_A: times.astype(float)})
        with pytest.raises(ValueError):
            write_activity(case, {SUB_A: times}, lag_s=np.ones(2))
        with pytest.raises(ValueError, match="without a stream"):
            write_activity(case, {SUB_A: times}, lag_s={SUB_B: np.ones(3)})
        # Nothing was half written.
        assert case.run("SELECT count(*) FROM IngestFiles") == [(0,)]
        assert case.run("SELECT count(*) FROM lw.AzureActivity") == [(0,)]
    finally:
        case.close()
