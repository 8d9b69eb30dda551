"""Judge every source against its own rhythm, as of one moment.

For each source: fit its baseline (`baseline`), then
- SILENT: every gap between two events (or since the last one) whose expected count makes
  "no event at all" improbable beyond the source's threshold; reported once per gap with its
  start, end (or ongoing) and when the evidence sufficed. On the arrival axis too, where the
  records carry one: a gap a live watcher saw whose events turned up later is `backfilled`.
- THINNED: a CUSUM for a sustained drop to a fraction of the usual volume.
- LATE: hours whose ingestion lag is far above the source's own usual lag.
- NEVER_SEEN: a configured source with no data.
The baseline is fitted twice: the second time without the gaps, drops and maintenance the
first pass found, so an outage does not teach the source that silence is normal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from logwarden.detectors.silence.baseline import SCALES, Baseline, fit, p_zero
from logwarden.detectors.silence.config import SilenceConfig, glob, matches_any
from logwarden.detectors.silence.explain import Cause, explain
from logwarden.detectors.silence.model import alpha, cusum, cusum_limit, drop_llr, needed
from logwarden.detectors.silence.sources import KIND_BY_NAME, MIN_EVENTS, MIN_HISTORY_H, Observed

LEVELS = ("info", "low", "medium", "high", "critical")


def level_rank(level: str) -> int:
    """A level's place in LEVELS (a Sigma rule's "informational" counts as info)."""
    return LEVELS.index(level) if level in LEVELS else 0


# The THINNED test needs this many expected events in its window to mean anything.
MIN_DROP_EXPECTED = 20.0
PRECEDENTS = 2
_SIMILAR = 0.75
_LATE_FACTOR = 4.0
# A first-pass silence this much less probable than the threshold is an outage to train without.
_OUTAGE = 1e-3
_LATE_MARGIN_S = 900.0
_LATE_RECORDS = 5


@dataclass(frozen=True)
class SilenceAlert:
    state: str  # SILENT, THINNED, LATE, NEVER_SEEN, TOO_QUIET
    source: str
    level: str
    start: datetime | None  # the last event before the gap / the window's first hour
    end: datetime | None  # when data came back; None = ongoing
    detected: datetime | None  # when the evidence sufficed
    expected: float | None  # arrivals (SILENT) or records (THINNED) expected in the gap or window
    observed: float | None
    probability: float | None  # of seeing so few, under the source's model
    threshold: float | None  # the probability (or CUSUM limit) it had to reach
    evidence: str
    budget: str
    backfilled: bool | None = None
    causes: tuple[Cause, ...] = ()
    covers: tuple[str, ...] = ()  # narrower sources silent in the same gap
    note: str = ""  # demoted, or the maintenance window that suppressed it
    suppressed: bool = False


@dataclass(frozen=True)
class SourceState:
    id: str
    kind: str
    title: str
    first: datetime
    last: datetime
    events: int
    per_day: float  # records a day
    arrivals_per_day: float  # arrivals a day: the chances of an improbable gap, that alpha divides by
    rhythm: str
    burst: float  # events per independent arrival, within an hour (1 = Poisson)
    needed: float | None  # expected events a gap must span to alarm
    typical_delay_h: float | None  # time to detect a stop starting at a typical hour
    worst_delay_h: float | None
    state: str


@dataclass
class Judgement:
    at: datetime
    budget: str
    watched: int
    alerts: list[SilenceAlert] = field(default_factory=list)
    sources: list[SourceState] = field(default_factory=list)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _fmt_h(hours: float) -> str:
    if not math.isfinite(hours) or hours > 24 * 182:
        return "more than half a year"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


@dataclass
class _Source:
    seen: Observed
    h0: int  # first hour judged
    h1: int  # hours [h0, h1) are complete
    counts: np.ndarray  # records, dense, per hour in [h0, h1)
    arrivals: np.ndarray  # arrivals (records ARRIVAL_S apart), likewise
    training: np.ndarray  # bool per hour
    baseline: Baseline | None = None  # of arrivals: what silence is judged by
    volume: Baseline | None = None  # of records: what a drop is judged by
    a: float = 0.0
    latency: float = 0.0  # seconds
    reason: str = ""

    @property
    def hours(self) -> np.ndarray:
        return np.arange(self.h0, self.h1)


def judge(observed: Iterable[Observed], at: datetime, config: SilenceConfig, causes: Sequence[Cause] = ()) -> Judgement:
    at_s = at.timestamp()
    sources: list[_Source] = []
    for seen in observed:
        h0, h1 = seen.first // 3600, int(at_s // 3600)
        counts, arrivals = np.zeros(max(h1 - h0, 0)), np.zeros(max(h1 - h0, 0))
        inside = seen.hours < h1
        counts[seen.hours[inside] - h0] = seen.counts[inside]
        arrivals[seen.hours[inside] - h0] = seen.arrivals[inside]
        src = _Source(seen, h0, h1, counts, arrivals, np.ones(len(counts), bool))
        src.latency = max(config.limits(seen.kind).latency.total_seconds(), seen.lag_p99 or 0.0)
        _mask_maintenance(src, config)
        sources.append(src)
    watchable = [s for s in sources if _enough(s)]
    result = Judgement(at, config.budget_text, 0)
    for src in watchable:
        # The silence being judged is never part of what the source normally does.
        _exclude_span(src, src.seen.last, at_s)
        _train(src)
    # First pass: every source with history, to find the gaps and drops training must skip.
    for src in watchable:
        src.a = alpha(config.budget_per_day, len(watchable), src.baseline.mean * 24)  # type: ignore[union-attr]
        for alert in _found(src, at_s, config, len(watchable)):
            if alert.start is None or alert.state == "LATE":
                continue
            end = alert.end or at
            # Left out: what a tamper alert explains, the outages no reading of the source
            # could call normal, and deep drops. Not every borderline gap or quiet spell:
            # that would teach a bursty source that it never pauses.
            tampered = bool(
                explain(causes, src.seen.kind, src.seen.id, alert.start, end, config.explain_before, src.seen.formats)
            )
            outage = alert.state == "SILENT" and (alert.probability or 1.0) <= _OUTAGE * src.a
            # A drop to half or less of the usual volume would drag the source's level down.
            drop = alert.state == "THINNED" and (alert.observed or 0.0) <= 0.5 * (alert.expected or 0.0)
            if tampered or outage or drop:
                _exclude_span(src, alert.start.timestamp(), end.timestamp())
        _train(src)
    watched = _watched(watchable, config)
    result.watched = len(watched)
    for src in watched:
        src.a = alpha(config.budget_per_day, len(watched), src.baseline.mean * 24)  # type: ignore[union-attr]
        result.alerts.extend(_finish(a, src, config, causes, at) for a in _found(src, at_s, config, len(watched)))
    parents = {s.seen.id: s.seen.parent for s in sources}
    result.alerts = _part_alone(_collapse(_grouped(result.alerts, sources, config), parents), sources)
    result.alerts.extend(_never_seen(config, sources, at))
    watched_ids = {s.seen.id for s in watched}
    for src in sources:
        state = _inventory(src, watched_ids, result.alerts, at)
        result.sources.append(state)
        # A quiet part (a provider, a record type) of a watched source, or a whole table whose
        # parts are listed, is not reported on its own: the broader (or narrower) source
        # speaks for it. A whole table does not speak for one quiet subscription in it.
        part = src.seen.parent is not None and not src.seen.parent.startswith("table:")
        if state.state == "TOO_QUIET" and src.seen.kind != "table" and not (part and src.seen.parent in watched_ids):
            result.alerts.append(
                SilenceAlert(
                    "TOO_QUIET", src.seen.id, "info", None, None, None, None, None, None, None,
                    f"too quiet to watch: a stop would take {_fmt_h(state.typical_delay_h or math.inf)} to tell "
                    f"from its rhythm ({state.rhythm}), more than the {_fmt_h(_max_delay_h(src, config))} allowed "
                    f"for {src.seen.kind} sources; cover it with a posture check or a canary event",
                    config.budget_text,
                )
            )  # fmt: skip
    result.alerts.sort(key=lambda a: (a.start or at, a.source))
    result.sources.sort(key=lambda s: s.id)
    return result


def _max_delay_h(src: _Source, config: SilenceConfig) -> float:
    return config.limits(src.seen.kind).max_delay.total_seconds() / 3600


def _enough(src: _Source) -> bool:
    if src.h1 - src.h0 < MIN_HISTORY_H:
        src.reason = f"learning: {src.h1 - src.h0} h of history, {MIN_HISTORY_H} needed"
        return False
    if src.seen.events < MIN_EVENTS:
        src.reason = f"learning: {src.seen.events} events, {MIN_EVENTS} needed"
        return False
    return True


def _watched(sources: list[_Source], config: SilenceConfig) -> list[_Source]:
    """The sources a stop would be told from in time: the rest are too quiet to watch."""
    out = []
    for src in sources:
        delay = _delays(src, alpha(config.budget_per_day, len(sources), src.baseline.mean * 24))  # type: ignore[union-attr]
        if np.median(delay) > _max_delay_h(src, config):
            src.reason = "too quiet"
        else:
            src.reason = ""
            out.append(src)
    return out


def _train(src: _Source) -> None:
    hours = src.hours[src.training]
    src.baseline = fit(hours, src.arrivals[src.training])
    src.volume = fit(hours, src.counts[src.training])


def _mask_maintenance(src: _Source, config: SilenceConfig) -> None:
    for window in config.maintenance:
        if window.covers(src.seen.id):
            _exclude_span(src, window.start.timestamp(), window.end.timestamp())


def _exclude_span(src: _Source, start: float, end: float) -> None:
    a = int(start // 3600) - src.h0
    b = math.ceil(end / 3600) - src.h0
    src.training[max(a, 0) : max(b, 0)] = False


def _found(src: _Source, at_s: float, config: SilenceConfig, watched: int) -> list[SilenceAlert]:
    """Silences, drops and lateness. A drop that is mostly one silence is that silence; the
    short silences inside a true drop are the drop, reported once as it."""
    # Before the source had a rhythm (its first MIN_HISTORY_H), nothing was unusual yet.
    settled = src.seen.first + MIN_HISTORY_H * 3600
    silences = [a for a in _silences(src, at_s, config) if a.start is None or a.start.timestamp() >= settled]
    drops = []
    for drop in _drops(src, at_s, config, watched):
        if drop.start is not None and drop.start.timestamp() < settled:
            continue
        inside = [a for a in silences if _overlaps(drop.start, drop.end, a.start, a.end)]
        if sum(a.expected or 0.0 for a in inside) >= 0.5 * (drop.expected or 0.0):
            continue
        silences = [a for a in silences if a not in inside]
        drops.append(replace(drop, evidence=drop.evidence + (f"; {len(inside)} gaps inside it" if inside else "")))
    return silences + drops + _late(src)


def _cumulative(src: _Source) -> tuple[np.ndarray, np.ndarray]:
    """Hour boundaries (seconds) and the expected events up to each, over the judged span
    plus the hour in progress."""
    assert src.baseline is not None
    hours = np.arange(src.h0, src.h1 + 1)
    expected = src.baseline.expected(hours)
    edges = np.arange(src.h0, src.h1 + 2) * 3600.0
    return edges, np.concatenate([[0.0], np.cumsum(expected)])


def _delays(src: _Source, a: float) -> np.ndarray:
    """Hours to alarm for a stop starting at each hour of the week (inf: not within half a year)."""
    assert src.baseline is not None
    cum = np.concatenate([[0.0], np.cumsum(np.tile(src.baseline.rate, 26))])
    edges = np.arange(len(cum)) * 3600.0
    starts = np.arange(168) * 3600.0
    delays: np.ndarray = (_alarm_times(edges, cum, starts, src.baseline, a) - starts) / 3600
    return delays


def _alarm_times(edges: np.ndarray, cum: np.ndarray, starts: np.ndarray, base: Baseline, a: float) -> np.ndarray:
    """For gaps opening at `starts` (seconds): the first moment P(no event) <= a, or inf.

    The burst size depends on how long the gap has lasted (`Baseline.burst_at`), so the moment
    is found scale by scale: the time the expected count reaches what that scale's burst needs,
    if the gap is then within that scale's range.
    """
    c0 = np.interp(starts, edges, cum)
    best = np.full(len(starts), np.inf)
    for j, burst in enumerate(base.burst):
        lo = starts + (SCALES[j] * 3600.0 if j else 0.0)
        hi = starts + SCALES[j + 1] * 3600.0 if j + 1 < len(SCALES) else np.full(len(starts), np.inf)
        target = c0 + needed(a, float(burst))
        reach = np.where(target <= cum[-1], np.interp(target, cum, edges), np.inf)
        moment = np.maximum(reach, lo)
        best = np.minimum(best, np.where(moment < hi, moment, np.inf))
    return best


def _silences(src: _Source, at_s: float, config: SilenceConfig) -> list[SilenceAlert]:
    seen = src.seen
    out = _gap_alerts(src, seen.gaps, seen.last, at_s, config, backfill=False)
    if seen.arrival_gaps is not None and seen.last_arrival is not None:
        true_gaps = [(a.start, a.end) for a in out]
        for alert in _gap_alerts(src, seen.arrival_gaps, seen.last_arrival, at_s, config, backfill=True):
            if not any(_overlaps(alert.start, alert.end, s, e) for s, e in true_gaps):
                out.append(alert)
    return out


def _overlaps(a0: datetime | None, a1: datetime | None, b0: datetime | None, b1: datetime | None) -> bool:
    far = datetime.max.replace(tzinfo=UTC)
    near = datetime.min.replace(tzinfo=UTC)
    return (a0 or near) < (b1 or far) and (b0 or near) < (a1 or far)


def _gap_alerts(
    src: _Source, gaps: np.ndarray, last: int, at_s: float, config: SilenceConfig, backfill: bool
) -> list[SilenceAlert]:
    base = src.baseline
    assert base is not None
    edges, cum = _cumulative(src)
    # The open gap since the last event is judged up to `at`, less the data still in flight.
    horizon = at_s - src.latency
    starts = np.concatenate([gaps[:, 0], [last]]).astype(float)
    ends = np.concatenate([gaps[:, 1], [max(horizon, last)]]).astype(float)
    ongoing = np.zeros(len(starts), bool)
    ongoing[-1] = True
    mu = np.interp(ends, edges, cum) - np.interp(starts, edges, cum)
    alarms = _alarm_times(edges, cum, starts, base, src.a)
    # A silence the source has gone through PRECEDENTS times before (longer, in expected
    # arrivals) is part of its rhythm, whatever the model says: the model's tail is thinnest
    # where its history is, and this is the empirical check on it (reference A.5.5).
    # Similar counts as precedent: a daily quiet spell before a scheduled batch expects a
    # little more some days than others, and the top two of ten would otherwise alarm.
    longer = len(mu) - np.searchsorted(np.sort(mu), _SIMILAR * mu, side="left") - 1
    out = []
    for i in np.flatnonzero((alarms <= ends) & (longer < PRECEDENTS)):
        s, e, detected = starts[i], ends[i], float(alarms[i])
        k = base.burst_at((detected - s) / 3600)
        mu_alarm = float(np.interp(detected, edges, cum) - np.interp(s, edges, cum))
        p = _least_probable(edges, cum, s, e, base)
        shape = "Poisson" if k <= 1 else f"arriving ~{k:.3g} at a time"
        what = "the data arrived late: events from the gap came in after it" if backfill else "no event"
        evidence = (
            f"{'ongoing ' if ongoing[i] else ''}gap of {_fmt_h((e - s) / 3600)} with {mu[i]:.1f} arrivals expected; "
            f"P(none) reached alpha={src.a:.2g} after {_fmt_h((detected - s) / 3600)} ({mu_alarm:.1f} expected, "
            f"{shape}) and {p:.2g} over the gap ({what})"
        )
        out.append(
            SilenceAlert(
                "SILENT", src.seen.id, "low" if backfill else "high",
                _utc(s), None if ongoing[i] else _utc(e), _utc(detected),
                float(mu[i]), 0.0, p, src.a, evidence, config.budget_text,
                backfilled=backfill,
            )
        )  # fmt: skip
    return out


def _least_probable(edges: np.ndarray, cum: np.ndarray, start: float, end: float, base: Baseline) -> float:
    """P(no event) at the strongest point of a gap: for each window length the gap reached,
    the expected events up to the end of that length's range, at its burst size."""
    c0 = float(np.interp(start, edges, cum))
    least = 1.0
    for j, burst in enumerate(base.burst):
        if j and start + SCALES[j] * 3600.0 > end:
            break
        until = min(end, start + SCALES[j + 1] * 3600.0) if j + 1 < len(SCALES) else end
        least = min(least, float(p_zero(float(np.interp(until, edges, cum)) - c0, float(burst))))
    return least


def _drops(src: _Source, at_s: float, config: SilenceConfig, watched: int) -> list[SilenceAlert]:
    base = src.volume
    assert base is not None
    # Only hours whose data has all arrived.
    last_hour = min(src.h1, int((at_s - src.latency) // 3600))
    n = last_hour - src.h0
    if n <= 0:
        return []
    x = src.counts[:n]
    mu = base.expected(src.hours[:n])
    ratio = config.thinned_ratio
    s = cusum(drop_llr(x, mu, base.dispersion, ratio))
    h = cusum_limit(config.budget_per_day, watched)
    out = []
    i = 0
    while i < n:
        above = np.flatnonzero(s[i:] >= h)
        if len(above) == 0:
            break
        alarm = i + int(above[0])
        zeros_before = np.flatnonzero(s[:alarm] == 0)
        first = int(zeros_before[-1]) + 1 if len(zeros_before) else 0
        zeros_after = np.flatnonzero(s[alarm:] == 0)
        back = alarm + int(zeros_after[0]) if len(zeros_after) else n
        # The drop ends where the evidence for it peaked (the CUSUM's change-point), not where
        # the statistic has decayed back to zero, hours of normal volume later.
        peak = alarm + int(np.argmax(s[alarm:back]))
        last = peak + 1 if len(zeros_after) else None
        stop = last if last is not None else n
        expected, seen = float(mu[first:stop].sum()), float(x[first:stop].sum())
        start_t, end_t = _utc((src.h0 + first) * 3600), (_utc((src.h0 + stop) * 3600) if last is not None else None)
        if expected >= MIN_DROP_EXPECTED and seen > 0:
            evidence = (
                f"{'ongoing ' if last is None else ''}{stop - first} h at {seen / expected:.0%} of the usual volume: "
                f"{seen:.0f} events where {expected:.0f} were expected; CUSUM for a drop to {ratio:.0%} "
                f"reached {s[alarm]:.1f} >= h={h:.1f} (at most one false alarm per {math.exp(h):,.0f} source-hours)"
            )
            out.append(
                SilenceAlert(
                    "THINNED", src.seen.id, "medium", start_t, end_t, _utc((src.h0 + alarm + 1) * 3600),
                    expected, seen, None, h, evidence, config.budget_text,
                )
            )  # fmt: skip
        i = back + 1
    return out


def _late(src: _Source) -> list[SilenceAlert]:
    seen = src.seen
    if seen.lag_hours is None or seen.lag_median is None or len(seen.lag_hours) < 48:
        return []
    # The upper quartile: robust to a lateness lasting up to a quarter of the history, which
    # would otherwise teach the source that being hours late is usual.
    usual = float(np.quantile(seen.lag_median, 0.75))
    limit = max(_LATE_FACTOR * usual, usual + _LATE_MARGIN_S)
    late = seen.lag_median > limit
    out = []
    idx = np.flatnonzero(late)
    if len(idx) == 0:
        return []
    records = seen.lag_records if seen.lag_records is not None else np.ones(len(seen.lag_hours), np.int64)
    # A run of late hours goes on through hours with no records (a quiet source's empty hours
    # say nothing about its lag) and ends at an hour on time, or after a day with no records.
    breaks = (np.diff(idx) > 1) | (np.diff(seen.lag_hours[idx]) > 24)
    runs = np.split(idx, np.flatnonzero(breaks) + 1)
    for run in runs:
        # One record late by chance is not a pipeline running late.
        if int(records[run].sum()) < _LATE_RECORDS:
            continue
        hours = seen.lag_hours[run]
        worst = float(seen.lag_median[run].max())
        evidence = (
            f"ingestion lag {_fmt_h(worst / 3600)} (median of the worst hour) over {len(run)} h; "
            f"this source's usual lag is {_fmt_h(usual / 3600)}, alarm above {_fmt_h(limit / 3600)}"
        )
        out.append(
            SilenceAlert(
                "LATE", seen.id, "low", _utc(int(hours[0]) * 3600), _utc((int(hours[-1]) + 1) * 3600),
                _utc((int(hours[0]) + 1) * 3600), None, worst, None, limit, evidence, "",
            )
        )  # fmt: skip
    return out


def _finish(
    alert: SilenceAlert, src: _Source, config: SilenceConfig, causes: Sequence[Cause], at: datetime
) -> SilenceAlert:
    """Causes, schedules and maintenance windows applied to one alert."""
    if alert.start is None:
        return alert
    end = alert.end or at
    found = explain(causes, src.seen.kind, src.seen.id, alert.start, end, config.explain_before, src.seen.formats)
    level, note = alert.level, alert.note
    if found and not alert.backfilled:
        level = "critical" if alert.state == "SILENT" else _raise(level)
    elif _outside_schedule(alert, src, config, end):
        level, note = _lower(level), "demoted: the evidence comes from outside the source's schedule"
    suppressed = False
    for window in config.maintenance:
        if window.covers(src.seen.id) and window.start <= alert.start and end <= window.end:
            suppressed = True
            note = (
                f"suppressed by maintenance {window.start:%Y-%m-%d %H:%M}-{window.end:%H:%M} "
                f"({window.author}: {window.reason})"
            )
    return replace(alert, level=level, note=note, causes=found, suppressed=suppressed)


def _raise(level: str) -> str:
    return LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]


def _lower(level: str) -> str:
    return LEVELS[max(LEVELS.index(level) - 1, 1)]


def _outside_schedule(alert: SilenceAlert, src: _Source, config: SilenceConfig, end: datetime) -> bool:
    """Whether the scheduled hours of the gap (up to its end, or now) alone would not have
    raised the alarm: a silence that goes on into the hours that matter is not demoted."""
    schedules = [s for s in config.schedules if s.covers(src.seen.id)]
    if not schedules or alert.start is None or src.baseline is None:
        return False
    hours = np.arange(int(alert.start.timestamp() // 3600), int(end.timestamp() // 3600) + 1)
    on = np.array(schedules[0].on(_utc(int(h) * 3600) for h in hours), bool)
    scheduled = float(src.baseline.expected(hours)[on].sum())
    return scheduled < needed(src.a, src.baseline.burst_at(len(hours)))


def _grouped(alerts: list[SilenceAlert], sources: list[_Source], config: SilenceConfig) -> list[SilenceAlert]:
    """Drop a member's silence when another member of its redundancy group kept speaking."""
    if not config.groups:
        return alerts
    by_id = {s.seen.id: s.seen for s in sources}
    out = []
    for alert in alerts:
        groups = [g for g in config.groups if alert.source in g.members]
        if alert.state == "SILENT" and alert.start and alert.detected and groups:
            others = [by_id[m] for g in groups for m in g.members if m != alert.source and m in by_id]
            if any(_spoke(o, alert.start.timestamp(), alert.detected.timestamp()) for o in others):
                continue
        out.append(alert)
    return out


def _spoke(seen: Observed, a: float, b: float) -> bool:
    """Whether the source had an event strictly between a and b."""
    if seen.last <= a or seen.first >= b:
        return False
    covering = (seen.gaps[:, 0] <= a) & (seen.gaps[:, 1] >= b)
    return not bool(covering.any())


def _collapse(alerts: list[SilenceAlert], parents: dict[str, str | None]) -> list[SilenceAlert]:
    """A narrower source silent in its parent's gap is listed under the parent's alert."""
    kept: list[SilenceAlert] = []
    parent_alerts: dict[str, list[int]] = {}
    ordered = sorted(alerts, key=lambda a: len(_ancestors(a.source, parents)))
    for alert in ordered:
        ancestor = parents.get(alert.source)
        home = None
        while ancestor is not None and home is None:
            for i in parent_alerts.get(ancestor, []):
                other = kept[i]
                # A broader source silent says the narrower ones are; a broader one thinned
                # does not (it thinned because of them: see below).
                if other.state == alert.state != "THINNED" and _same_gap(other, alert):
                    home = i
                    break
            ancestor = parents.get(ancestor)
        if home is not None:
            kept[home] = replace(kept[home], covers=(*kept[home].covers, alert.source))
            continue
        parent_alerts.setdefault(alert.source, []).append(len(kept))
        kept.append(alert)
    # A broader source thinned because a narrower one stopped or thinned: the narrower says it.
    return [
        alert
        for alert in kept
        if alert.state != "THINNED"
        or not any(
            alert.source in _ancestors(other.source, parents)
            and _overlaps(alert.start, alert.end, other.start, other.end)
            for other in kept
        )
    ]


def _part_alone(alerts: list[SilenceAlert], sources: list[_Source]) -> list[SilenceAlert]:
    """A provider or a record type silent while its subscription or workload kept logging:
    logging is cut per subscription, workload or tenant, never per provider, so this is the
    workload changing, not the logging. Kept, at low, unless a tamper alert explains it."""
    by_id = {s.seen.id: s.seen for s in sources}
    out = []
    for alert in alerts:
        seen = by_id.get(alert.source)
        parent = by_id.get(seen.parent) if seen is not None and seen.parent else None
        if (
            alert.state == "SILENT"
            and not alert.causes
            and parent is not None
            and not parent.id.startswith("table:")
            and alert.start is not None
            and alert.detected is not None
            and _spoke(parent, alert.start.timestamp(), alert.detected.timestamp())
        ):
            alert = replace(
                alert, level="low", note=f"{parent.id} kept logging meanwhile: a workload change, not logging"
            )
        out.append(alert)
    return out


def _same_gap(broad: SilenceAlert, narrow: SilenceAlert) -> bool:
    """Whether the narrower source's gap is the broader one's: it began no later and ended
    with it (both ongoing, or data back within the hour)."""
    if broad.start is None or narrow.start is None or narrow.start > broad.start:
        return False
    if broad.end is None or narrow.end is None:
        return broad.end is None and narrow.end is None
    return abs((broad.end - narrow.end).total_seconds()) <= 3600


def _ancestors(source: str, parents: dict[str, str | None]) -> set[str]:
    out, up = set(), parents.get(source)
    while up is not None:
        out.add(up)
        up = parents.get(up)
    return out


def _never_seen(config: SilenceConfig, sources: list[_Source], at: datetime) -> list[SilenceAlert]:
    ids = [s.seen.id for s in sources]
    out = []
    for wanted in config.expected:
        pattern = glob(wanted)
        if not any(matches_any([pattern], i) for i in ids):
            kind = wanted.split(":", 1)[0]
            hint = "" if kind in KIND_BY_NAME or kind == "table" else f" (unknown kind {kind!r})"
            out.append(
                SilenceAlert(
                    "NEVER_SEEN", wanted, "high", None, None, None, None, 0.0, None, None,
                    f"{config.why_expected(wanted)}, but no event up to {at:%Y-%m-%d %H:%M}Z{hint}",
                    config.budget_text,
                )
            )  # fmt: skip
    return out


def _rhythm(src: _Source) -> str:
    base, volume = src.baseline, src.volume
    if base is None or volume is None:
        return "-"
    rate = volume.rate.reshape(7, 24)
    weekend = rate[5:].sum() / max(rate.sum(), 1e-12)
    by_hour = rate.sum(axis=0)
    active = np.flatnonzero(by_hour >= 0.1 * by_hour.max())
    days = "weekdays" if weekend < 0.05 else "every day"
    hours = "all hours" if len(active) >= 20 else f"{active.min():02d}-{active.max() + 1:02d} UTC"
    k = base.burst_at(1)
    burst = "steady" if k < 1.5 else f"bursty (~{k:.3g} arrivals at a time)"
    return f"~{volume.mean * 24:,.1f} records in ~{base.mean * 24:,.1f} arrivals a day, {days}, {hours}, {burst}"


def _inventory(src: _Source, watched: set[str], alerts: list[SilenceAlert], at: datetime) -> SourceState:
    seen = src.seen
    state = "OK"
    delay: np.ndarray | None = None
    if src.baseline is not None:
        delay = _delays(src, src.a or alpha(1 / 7, max(len(watched), 1), src.baseline.mean * 24))
    if seen.id not in watched:
        state = "TOO_QUIET" if src.reason == "too quiet" else "LEARNING"
    else:
        mine = [a for a in alerts if (a.source == seen.id or seen.id in a.covers) and not a.suppressed]
        ongoing = [a for a in mine if a.end is None and a.state in ("SILENT", "THINNED", "LATE")]
        if ongoing:
            state = ongoing[0].state
    finite = delay[np.isfinite(delay)] if delay is not None else np.empty(0)
    return SourceState(
        id=seen.id,
        kind=seen.kind,
        title=KIND_BY_NAME[seen.kind].title if seen.kind in KIND_BY_NAME else f"every {seen.key} record",
        first=_utc(seen.first),
        last=_utc(seen.last),
        events=seen.events,
        per_day=src.volume.mean * 24 if src.volume else seen.events / max((src.h1 - src.h0) / 24, 1),
        arrivals_per_day=src.baseline.mean * 24
        if src.baseline
        else float(seen.arrivals.sum()) / max((src.h1 - src.h0) / 24, 1),
        rhythm=_rhythm(src) if src.baseline else src.reason,
        burst=src.baseline.burst_at(1) if src.baseline else 1.0,
        needed=needed(src.a, src.baseline.burst_at(1)) if src.baseline and src.a else None,
        typical_delay_h=float(np.median(delay)) if delay is not None else None,
        worst_delay_h=float(finite.max()) if len(finite) else None,
        state=state,
    )
