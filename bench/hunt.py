"""Benchmark `logwarden hunt`: the rule phase, and end to end against ingest alone, in one run.

    python bench/hunt.py --records 1000000 --rules 100

Generates N Activity Log records (the same generator as bench/ingest.py, about 2.3 KB each) and
runs R Sigma rules: the built-in tamper pack, topped up with generated ones shaped like tamper
detections (variants on the operation, nested claims (`identity.claims.appid`), the properties
(`properties.message|contains`), caller CIDRs, resource regular expressions). Then times, each
as a user runs it (a fresh process):
  1. `logwarden ingest` of the files (the baseline);
  2. `logwarden hunt` over that case database (the rule phase);
  3. `logwarden hunt FILES` into a new case database (end to end).
Targets: rule phase under 10 s for 1M records and 100 rules; end to end at most 1.3x ingest
alone; peak memory of the hunt under 1 GB.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ingest import OPERATIONS, generate  # the sibling benchmark's generator
from logwarden.cli import builtin_rules
from logwarden.detectors.sigma.rules import load

TAMPER_OPERATIONS = [
    "microsoft.insights/diagnosticsettings/delete",
    "microsoft.operationalinsights/workspaces/purge/action",
    "microsoft.operationalinsights/workspaces/delete",
    "microsoft.authorization/locks/delete",
    "microsoft.eventhub/namespaces/delete",
    "microsoft.storage/storageaccounts/delete",
    "microsoft.insights/activitylogalerts/delete",
    "microsoft.operationalinsights/workspaces/tables/write",
]


def write_rules(folder: Path, n: int, seed: int) -> None:
    """Rules shaped like tamper detections: most match nothing, as on a real tenant; the first of
    each shape matches a few percent of the records, so alerts are produced and counted too."""
    rng = random.Random(seed)
    shapes = [
        lambda i, hit: {
            "operationName|endswith": "/"
            + (OPERATIONS[0][0].split("/", 1)[1].lower() if hit else TAMPER_OPERATIONS[i % len(TAMPER_OPERATIONS)]),
            "callerIpAddress|startswith": "203.0.113.7",
        },
        lambda i, hit: {
            "identity.claims.appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c" if hit else f"00000000-0000-4000-{i:012d}",
            "identity.claims.ipaddr|startswith": "203.0.113.8",
        },
        lambda i, hit: (
            {"properties.requestbody|contains": f'retentionInDays":{i}'}
            if not hit
            else {"properties.message|contains": "VirtualMachines/Start"}
        ),
        lambda i, hit: {"callerIpAddress|cidr": "203.0.113.0/30" if hit else f"198.51.100.{(i * 4) % 256}/30"},
        lambda i, hit: {"resourceId|re": "(?i)/resourcegroups/rg-prod-00/" if hit else f"(?i)/resourcegroups/rg-x{i}/"},
        lambda i, hit: {
            "identity.authorization.evidence.role": "Owner" if hit else rng.choice(["Reader", "User"]),
            "resultType": "Failure" if hit else "Success",
        },
    ]
    for i in range(n):
        hit = i < len(shapes)
        detection = shapes[i % len(shapes)](i, hit)
        lines = [
            f"title: bench rule {i}",
            f"id: 00000000-0000-4000-8000-{i:012d}",
            "status: test",
            "level: medium",
            "logsource: {product: azure, service: activitylogs}",
            "detection:",
            "  sel:",
        ]
        lines += [f"    {k}: {v!r}" for k, v in detection.items()]
        lines.append("  condition: sel")
        (folder / f"rule_{i:03d}.yml").write_text("\n".join(lines) + "\n")


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and the peak RSS (MB) of that one process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        assert child.stderr is not None
        sys.exit(f"{' '.join(command)} failed ({code}):\n{child.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    lw = [sys.executable, "-m", "logwarden"]
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        data = work / "exports"
        data.mkdir()
        generate(data, args.records, 1, args.seed)
        rules = work / "rules"
        rules.mkdir()
        pack = sum(1 for rule in load([builtin_rules()]) if rule.runs)
        generated = max(0, args.rules - pack)
        write_rules(rules, generated, args.seed)
        ingest_s, ingest_mb = timed([*lw, "ingest", str(data), "--db", str(work / "a.duckdb")])
        hunting = ["--rules", str(rules), "--format", "jsonl"]
        hunt_s, hunt_mb = timed([*lw, "hunt", "--db", str(work / "a.duckdb"), *hunting])
        e2e_s, e2e_mb = timed([*lw, "hunt", str(data), "--db", str(work / "b.duckdb"), *hunting])
    print(f"{args.records:,} records, {pack + generated} rules ({pack} of the built-in pack, {generated} generated)")
    print(f"ingest alone        {ingest_s:7.2f} s   peak RSS {ingest_mb:,.0f} MB")
    print(f"hunt (rule phase)   {hunt_s:7.2f} s   peak RSS {hunt_mb:,.0f} MB")
    print(f"hunt end to end     {e2e_s:7.2f} s   peak RSS {e2e_mb:,.0f} MB")
    print(f"end to end / ingest alone: {e2e_s / ingest_s:.2f}x")


if __name__ == "__main__":
    main()
