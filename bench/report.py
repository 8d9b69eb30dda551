"""Benchmark the investigation report and the demo on the demo tenant, against DuckDB reading the same rows.

    python bench/report.py --scale 20

Writes (once; kept in `--workdir` and reused by later runs of the same scale and seed, unless
`--rebuild`) the demo tenant of `logwarden.synthetic.tenant` at `--scale` times its default
volume (about a million records at 20), and ingests it into a case. Then times, each in a fresh
process:
  1. the baseline: DuckDB reading every table once the simplest way a report needs (records per
     hour per table);
  2. `logwarden report`: hunting with the pack, judging every source, and writing the HTML;
  3. with `--demo`, the whole default `logwarden demo` (write, ingest, hunt, judge, report).
It prints the seconds, each process's peak RSS, the report's size and the ratio of the report to
the baseline. Targets (the issue): the report on a 1M-event case in under 30 s; the default demo
in under a minute; the HTML small enough to open quickly.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from logwarden.ingest import IngestOptions, Ingestor, open_case
from logwarden.store.tables import TABLES
from logwarden.synthetic.tenant import write_tenant
from phases import timed

END = datetime(2026, 11, 27, tzinfo=UTC)
VERSION = 1


def run_baseline(case_path: Path) -> dict[str, Any]:
    with open_case(case_path, read_only=True) as case:
        started = time.perf_counter()
        for table in TABLES:
            case.run(f"SELECT date_trunc('hour', TimeGenerated) AS hour, count(*) FROM \"{table}\" GROUP BY ALL")
        return {"seconds": time.perf_counter() - started}


def run_report(case_path: Path, out: Path) -> dict[str, Any]:
    from logwarden.cli import _write_report

    started = time.perf_counter()
    _write_report(case_path, out, at=END.isoformat())
    return {"seconds": time.perf_counter() - started, "bytes": out.stat().st_size}


def run_demo(folder: Path) -> dict[str, Any]:
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "logwarden", "demo", "--out", str(folder)], capture_output=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"demo failed:\n{done.stderr.decode()}")
    return {"seconds": time.perf_counter() - started}


def build(case_path: Path, scale: float, seed: int) -> tuple[int, float]:
    exports = case_path.with_suffix(".exports")
    shutil.rmtree(exports, ignore_errors=True)
    case_path.unlink(missing_ok=True)
    started = time.perf_counter()
    tenant = write_tenant(exports, seed=seed, end=END, scale=scale)
    with open_case(case_path) as case, Ingestor(case, IngestOptions()) as ingestor:
        report = ingestor.ingest([exports])
    shutil.rmtree(exports)
    if not report.ok:
        sys.exit(f"the demo tenant did not ingest cleanly: {report.rejected:,} rejected")
    return tenant.records, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="also time the default `logwarden demo`")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "logwarden-bench-report",
        help="where the case is built and kept for later runs (default: %(default)s)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the case even if one of this scale is kept")
    parser.add_argument("--phase", choices=["build", "baseline", "report", "demo"], help=argparse.SUPPRESS)
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "build":
            records, seconds = build(args.case, args.scale, args.seed)
            result = {"records": records, "seconds": seconds}
        elif args.phase == "baseline":
            result = run_baseline(args.case)
        elif args.phase == "report":
            result = run_report(args.case, args.out)
        else:
            result = run_demo(args.out)
        args.result.write_text(json.dumps(result))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    case_path = args.workdir / f"report-v{VERSION}-{args.scale:g}-{args.seed}.duckdb"
    if case_path.exists() and not args.rebuild:
        print(f"reusing {case_path}")
    else:
        # In a process of its own: a child forked later would inherit this one's peak memory.
        spec = ["--phase", "build", "--case", str(case_path), "--scale", str(args.scale), "--seed", str(args.seed)]
        built, _, _ = timed(__file__, spec)
        print(f"built {case_path}: {built['records']:,} records written and ingested in {built['seconds']:.1f} s")
    with open_case(case_path, read_only=True) as case:
        rows = sum(case.run(f'SELECT count(*) FROM "{t}"')[0][0] for t in TABLES)
    print(f"{rows:,} records in the case (demo tenant at scale {args.scale:g}, seed {args.seed})")

    base, base_wall, base_mb = timed(__file__, ["--phase", "baseline", "--case", str(case_path)])
    html = args.workdir / "report.html"
    ours, ours_wall, ours_mb = timed(__file__, ["--phase", "report", "--case", str(case_path), "--out", str(html)])
    print(f"baseline (DuckDB, records per hour per table) {base['seconds']:7.2f} s   process {base_wall:6.2f} s   "
          f"peak RSS {base_mb:,.0f} MB")  # fmt: skip
    print(f"report (hunt, judge, HTML)                    {ours['seconds']:7.2f} s   process {ours_wall:6.2f} s   "
          f"peak RSS {ours_mb:,.0f} MB   HTML {ours['bytes'] / 1e6:.2f} MB")  # fmt: skip
    print(f"report / baseline: {ours['seconds'] / base['seconds']:.1f}x")
    if args.demo:
        demo, _, demo_mb = timed(__file__, ["--phase", "demo", "--out", str(args.workdir / "demo")])
        print(f"logwarden demo (default size, end to end)     {demo['seconds']:7.2f} s   peak RSS {demo_mb:,.0f} MB")


if __name__ == "__main__":
    main()
