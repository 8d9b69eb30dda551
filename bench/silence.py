"""Benchmark the silence watch: every source judged against its own rhythm, against DuckDB reading the same rows.

    python bench/silence.py --events 10000000 --sources 2000

Builds (once; kept in `--workdir` and reused by later runs of the same size and seed, unless
`--rebuild`) a case of N synthetic Activity Log events over `--weeks` weeks from S subscriptions,
each a source with a rhythm of `logwarden.synthetic.streams` (busy, diurnal, bursty, hourly,
weekday, daily), its rate scaled so the total is about N, and an ingestion lag per event. About
1 % of the subscriptions stop for good, 1 % stop for a while, 1 % drop to a fifth of their volume
and 1 % arrive hours late. The case is written in batches of subscriptions, so building it takes
bounded memory.
Then times, each in a fresh process:
  1. the baseline: DuckDB reading the rows once the simplest way a silence check needs (events
     and last event per subscription, events per subscription and hour);
  2. the judged phase: `observe` (what every source did, from the case) and `judge` (each source
     against its own rhythm) at the end of the window, with the default configuration.
It prints the seconds of each phase, the peak RSS of each process and the ratio of the judged
phase to the baseline. Target (the issue): 10M events from 2,000 sources judged in well under a
minute, in bounded memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from logwarden.ingest import open_case
from logwarden.synthetic.streams import HOUR, RHYTHMS, Drop, Stop, event_times, rate_per_hour, write_activity
from phases import timed

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
# Share of the sources per rhythm. Hourly and daily keep their own rate (they are the quiet
# sources a tenant has); the others are scaled, each source by its own log-normal factor.
MIX = {"busy": 0.15, "diurnal": 0.25, "bursty": 0.20, "hourly": 0.20, "weekday": 0.15, "daily": 0.05}
FIXED = ("hourly", "daily")
SPREAD = 0.75  # sigma of the log-normal rate factor
INJECTED = 0.01  # share of the sources per kind of injected trouble
BATCH_EVENTS = 500_000  # events per write_activity call while building the case
# Bump when the generated case changes, so a cached one is not reused.
VERSION = 2


def _sub(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012x}"


def plan(n_events: int, n_sources: int, weeks: int, seed: int) -> list[dict[str, Any]]:
    """Per source: its subscription id, rhythm (name and scaled rate) and injected trouble."""
    rng = np.random.default_rng(seed)
    end = START + timedelta(weeks=weeks)
    hours = np.arange(int(START.timestamp()), int(end.timestamp()), HOUR, dtype=np.int64)
    names = list(MIX)
    counts = np.floor(np.array(list(MIX.values())) * n_sources).astype(int)
    counts[0] += n_sources - counts.sum()
    rhythms = rng.permutation(np.repeat(names, counts))
    factor = np.where(np.isin(rhythms, FIXED), 1.0, rng.lognormal(0.0, SPREAD, n_sources))
    expected = np.array([rate_per_hour(RHYTHMS[r], hours).sum() for r in rhythms]) * factor
    fixed = np.isin(rhythms, FIXED)
    # The scaled sources make up what the fixed ones leave; if those alone are too many, they shrink too.
    budget = max(n_events - expected[fixed].sum(), 0.5 * n_events)
    factor[~fixed] *= budget / expected[~fixed].sum()
    factor[fixed] *= min(1.0, (n_events - budget) / max(expected[fixed].sum(), 1.0))
    sources: list[dict[str, Any]] = [
        {"sub": _sub(i), "rhythm": str(r), "per_hour": RHYTHMS[str(r)].per_hour * float(f), "trouble": None}
        for i, (r, f) in enumerate(zip(rhythms, factor, strict=True))
    ]
    # Trouble of each kind for about 1 % of the sources: stops for good and drops in the last two
    # weeks (drops last two to seven days), outages of 6-48 h in weeks before, lag of hours for 6-48 h.
    n_trouble = max(1, round(n_sources * INJECTED))
    kinds = ("stop", "outage", "drop", "late")
    picked = rng.choice(n_sources, size=min(len(kinds) * n_trouble, n_sources), replace=False)
    days = weeks * 7
    for j, i in enumerate(picked):
        kind = kinds[j // n_trouble]
        first_day = rng.uniform(days - 28, days - 7) if kind == "outage" else rng.uniform(days - 14, days - 1)
        length_h = rng.uniform(48, 168) if kind == "drop" else rng.uniform(6, 48)
        start = START + timedelta(days=float(first_day))
        sources[i]["trouble"] = {"kind": kind, "start": start.isoformat(), "hours": float(length_h)}
    return sources


def build(case_path: Path, sources: list[dict[str, Any]], weeks: int, seed: int) -> tuple[int, float]:
    """Write the case in batches of subscriptions; the events stored and the seconds taken."""
    rng = np.random.default_rng(seed + 1)
    end = START + timedelta(weeks=weeks)
    # Built under a name of this process's own, then renamed: two runs never write one file.
    partial = case_path.with_name(f"{case_path.name}.{os.getpid()}.partial")
    for stale in (partial, partial.with_name(partial.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    total = 0
    with open_case(partial) as case:
        streams: dict[str, np.ndarray] = {}
        lags: dict[str, np.ndarray] = {}
        for n, source in enumerate(sources):
            rhythm = replace(RHYTHMS[source["rhythm"]], per_hour=source["per_hour"])
            trouble = source["trouble"] or {"kind": None, "start": START.isoformat(), "hours": 0.0}
            t0 = datetime.fromisoformat(trouble["start"])
            t1 = t0 + timedelta(hours=trouble["hours"])
            stops = {"stop": [Stop(t0)], "outage": [Stop(t0, t1)]}.get(trouble["kind"], [])
            drops = [Drop(t0, t1, 0.2)] if trouble["kind"] == "drop" else []
            times = event_times(rhythm, START, end, rng, stops, drops)
            # Activity Log events usually arrive within minutes of happening.
            lag = 30.0 + rng.exponential(120.0, times.size)
            if trouble["kind"] == "late":
                lag[(times >= t0.timestamp()) & (times < t1.timestamp())] += 4 * HOUR
            streams[source["sub"]], lags[source["sub"]] = times, lag
            if sum(s.size for s in streams.values()) >= BATCH_EVENTS or n == len(sources) - 1:
                total += write_activity(case, streams, lag_s=lags, label=f"bench-silence-{n}")
                streams, lags = {}, {}
    partial.rename(case_path)
    return total, time.perf_counter() - started


# --- the two phases, each run in a process of its own -----------------------------------------

BASELINE_SQL = (
    'SELECT SubscriptionId, count(*), max(TimeGenerated) FROM "AzureActivity" GROUP BY ALL',
    "SELECT SubscriptionId, date_trunc('hour', TimeGenerated) AS hour, count(*) AS n "
    'FROM "AzureActivity" GROUP BY ALL',
)


def run_baseline(case_path: Path) -> dict[str, Any]:
    case = open_case(case_path, read_only=True)
    started = time.perf_counter()
    per_source = case.run(BASELINE_SQL[0])
    hourly = case.arrow(BASELINE_SQL[1])
    seconds = time.perf_counter() - started
    case.close()
    return {"seconds": seconds, "sources": len(per_source), "hourly_rows": hourly.num_rows}


def run_judge(case_path: Path, at: datetime) -> dict[str, Any]:
    from logwarden.detectors.silence.config import SilenceConfig
    from logwarden.detectors.silence.judge import judge
    from logwarden.detectors.silence.sources import observe

    case = open_case(case_path, read_only=True)
    started = time.perf_counter()
    observed = list(observe(case, at))
    observed_s = time.perf_counter() - started
    rss_observed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = judge(observed, at, SilenceConfig())
    judge_s = time.perf_counter() - started
    case.close()
    # What an analyst is told to look at: TOO_QUIET is a statement about a source, not a finding.
    findings = [a for a in result.alerts if a.state not in ("TOO_QUIET", "NEVER_SEEN") and not a.suppressed]
    alerted = {a.source for a in findings} | {c for a in findings for c in a.covers}
    return {
        "observe_s": observed_s,
        "judge_s": judge_s,
        "rss_after_observe_mb": rss_observed,
        "observed": len(observed),
        "by_kind": dict(Counter(o.kind for o in observed)),
        "judged": len(result.sources),
        "watched": result.watched,
        "states": dict(Counter(s.state.split(":")[0] for s in result.sources)),
        "alerts": dict(Counter(a.state for a in result.alerts)),
        "alerted": sorted(alerted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--sources", type=int, default=2_000, help="subscriptions, one source each")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "logwarden-bench-silence",
        help="where the case is built and kept for later runs (default: %(default)s)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the case even if one of this size is kept")
    parser.add_argument("--phase", choices=["build", "baseline", "judge"], help=argparse.SUPPRESS)
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    at = START + timedelta(weeks=args.weeks)

    sources = plan(args.events, args.sources, args.weeks, args.seed)
    if args.phase:
        if args.phase == "build":
            stored, seconds = build(args.case, sources, args.weeks, args.seed)
            result = {"stored": stored, "seconds": seconds}
        else:
            result = run_baseline(args.case) if args.phase == "baseline" else run_judge(args.case, at)
        args.result.write_text(json.dumps(result))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    case_path = args.workdir / f"silence-v{VERSION}-{args.events}-{args.sources}-{args.weeks}w-{args.seed}.duckdb"
    if case_path.exists() and not args.rebuild:
        print(f"reusing {case_path}")
    else:
        # In a process of its own: a child forked later would inherit this one's peak memory.
        spec = ["--phase", "build", "--case", str(case_path), "--weeks", str(args.weeks), "--seed", str(args.seed)]
        built, _, _ = timed(__file__, [*spec, "--events", str(args.events), "--sources", str(args.sources)])
        print(f"built {case_path}: {built['stored']:,} events in {built['seconds']:.1f} s")
    with open_case(case_path, read_only=True) as case:
        ((events,),) = case.run('SELECT count(*) FROM "AzureActivity"')
    size = case_path.stat().st_size

    common = ["--case", str(case_path), "--weeks", str(args.weeks)]
    base, base_wall, base_mb = timed(__file__, ["--phase", "baseline", *common])
    ours, ours_wall, ours_mb = timed(__file__, ["--phase", "judge", *common])

    trouble = {s["sub"]: s["trouble"]["kind"] for s in sources if s["trouble"] and s["trouble"]["kind"]}
    alerted = set(ours["alerted"])
    found = Counter(kind for sub, kind in trouble.items() if f"activity:{sub}" in alerted)
    false = sorted(a for a in alerted if a.startswith("activity:") and a.split(":", 1)[1] not in trouble)
    injected = Counter(trouble.values())
    rhythms = Counter(s["rhythm"] for s in sources)
    judged_s = ours["observe_s"] + ours["judge_s"]

    print(
        f"{events:,} events from {args.sources:,} subscriptions over {args.weeks} weeks, case {size / 1e6:,.0f} MB "
        f"({', '.join(f'{n} {r}' for r, n in rhythms.most_common())})"
    )
    print(
        f"sources observed {ours['observed']:,} ({', '.join(f'{n:,} {k}' for k, n in ours['by_kind'].items())}), "
        f"judged {ours['judged']:,}, watched {ours['watched']:,}"
    )
    print(f"source states: {', '.join(f'{k} {n:,}' for k, n in sorted(ours['states'].items()))}")
    print(f"alerts: {', '.join(f'{k} {n:,}' for k, n in sorted(ours['alerts'].items())) or 'none'}")
    print(f"injected and alerted: {', '.join(f'{k} {found[k]}/{n}' for k, n in sorted(injected.items()))}")
    print(f"sources alerted with nothing injected: {len(false)} (budget: 1 a week, {args.weeks} over the window)")
    print(
        f"baseline (DuckDB group by)  {base['seconds']:7.2f} s   process {base_wall:6.2f} s   "
        f"peak RSS {base_mb:,.0f} MB"
    )
    print(
        f"observe                     {ours['observe_s']:7.2f} s   "
        f"(peak RSS so far {ours['rss_after_observe_mb']:,.0f} MB)"
    )
    print(f"judge                       {ours['judge_s']:7.2f} s")
    print(f"judged (observe + judge)    {judged_s:7.2f} s   process {ours_wall:6.2f} s   peak RSS {ours_mb:,.0f} MB")
    print(f"judged / baseline: {judged_s / base['seconds']:.2f}x")


if __name__ == "__main__":
    main()
