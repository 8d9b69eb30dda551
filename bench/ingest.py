"""Benchmark `logwarden ingest` against DuckDB's own JSON table creation, in the same run.

    python bench/ingest.py --records 200000
    python bench/ingest.py --records 50000 --files 500    # a blob tree of small hourly files

Generates N realistic Activity Log records (format a, JSON Lines as in the
storage-account blobs, about 2.3 KB each, deterministic seed), in one file or spread
over `--files` files of a storage-account tree, then times:
  1. `logwarden ingest` end to end, as a user runs it (a fresh process, a new case database);
  2. DuckDB creating a table of the same eight top-level columns from the same file.
It prints records/s and MB/s for both and their ratio; machines here are shared and
noisy, so only the ratio measured in one run means much. Targets: at least 60,000
records/s, and no more than 1.5x DuckDB's time.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson

OPERATIONS = [
    ("MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", "Write"),
    ("MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION", "Action"),
    ("MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION", "Action"),
    ("MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE", "Write"),
    ("MICROSOFT.KEYVAULT/VAULTS/WRITE", "Write"),
    ("MICROSOFT.RESOURCES/DEPLOYMENTS/WRITE", "Write"),
    ("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE", "Write"),
    ("MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "Write"),
    ("MICROSOFT.COMPUTE/DISKS/DELETE", "Delete"),
]
USERS = [("alice@contoso.com", "Alice", "Ng"), ("bob@contoso.com", "Bob", "Okafor"), ("ci-deploy", "", "")]
TENANT = "a39bedba-be8f-4c0f-bfe2-b8c7913501ea"


def record(rng: random.Random, i: int, t: datetime, subscriptions: list[str]) -> dict[str, object]:
    sub = subscriptions[i % len(subscriptions)]
    op, category = OPERATIONS[rng.randrange(len(OPERATIONS))]
    upn, given, family = USERS[rng.randrange(len(USERS))]
    rg = f"RG-{rng.choice(['PROD', 'DEV', 'SHARED'])}-{rng.randrange(12):02d}"
    provider, kind = op.split("/")[0:2]
    name = f"{kind[:-1].lower()}-{rng.randrange(400):03d}"
    resource_id = f"/SUBSCRIPTIONS/{sub.upper()}/RESOURCEGROUPS/{rg}/PROVIDERS/{provider}/{kind}/{name.upper()}"
    ip = f"203.0.113.{rng.randrange(1, 255)}"
    oid = str(uuid.UUID(int=rng.getrandbits(128)))
    claims = {
        "aud": "https://management.core.windows.net/",
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": str(int(t.timestamp()) - 300),
        "nbf": str(int(t.timestamp()) - 300),
        "exp": str(int(t.timestamp()) + 3600),
        "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
        "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "appidacr": "0",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": family,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": given,
        "ipaddr": ip,
        "name": f"{given} {family}".strip(),
        "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
        "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
        "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": upn,
        "ver": "1.0",
    }
    if "@" in upn:
        claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = upn
    result = rng.choice(["Start", "Success", "Success", "Accept"])
    return {
        "time": t.strftime("%Y-%m-%dT%H:%M:%S.%f") + str(rng.randrange(10)) + "Z",
        "resourceId": resource_id,
        "operationName": op,
        "category": category,
        "resultType": result,
        "resultSignature": {"Start": "Started.", "Success": "Succeeded.OK", "Accept": "Accepted.Created"}[result],
        "durationMs": 0,
        "callerIpAddress": ip,
        "correlationId": str(uuid.UUID(int=rng.getrandbits(128))),
        "identity": {
            "authorization": {
                "scope": resource_id.lower(),
                "action": op.title(),
                "evidence": {
                    "role": rng.choice(["Owner", "Contributor"]),
                    "roleAssignmentScope": f"/subscriptions/{sub}",
                    "roleAssignmentId": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "roleDefinitionId": "8e3af657a8ff443ca75c2fe8c4bcb635",
                    "principalId": oid.replace("-", ""),
                    "principalType": "User",
                },
            },
            "claims": claims,
        },
        "level": "Information",
        "location": "global",
        "properties": {
            "statusCode": rng.choice(["OK", "Created", "Accepted"]),
            "serviceRequestId": str(uuid.UUID(int=rng.getrandbits(128))),
            "eventCategory": "Administrative",
            "entity": resource_id,
            "message": op.title(),
            "hierarchy": f"{TENANT}/{sub}",
        },
    }


def generate(root: Path, n: int, files: int, seed: int) -> list[Path]:
    """`n` records over `files` hourly blobs laid out as a storage account writes them."""
    rng = random.Random(seed)
    subscriptions = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(8)]
    t = start = datetime(2026, 5, 1, tzinfo=UTC)
    paths = []
    for f in range(files):
        hour = start + timedelta(hours=f)
        path = root / f"y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/m=00/PT1H.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for i in range(n * f // files, n * (f + 1) // files):
                t += timedelta(milliseconds=rng.randrange(1, 4000))
                out.write(orjson.dumps(record(rng, i, t, subscriptions)) + b"\n")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=1, help="spread the records over this many files")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the data (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        data = work / "insights-activity-logs"
        paths = generate(data, args.records, args.files, args.seed)
        size = sum(p.stat().st_size for p in paths)
        print(
            f"{args.records:,} records in {len(paths):,} files, {size / 1e6:.0f} MB, "
            f"{size / args.records:,.0f} bytes/record"
        )

        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "logwarden", "ingest", str(data), "--db", str(work / "case.duckdb")],
            capture_output=True,
            text=True,
            check=False,
        )
        ours = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"logwarden ingest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        con = duckdb.connect(str(work / "baseline.duckdb"))
        started = time.perf_counter()
        con.execute(
            "CREATE TABLE t AS SELECT time, resourceId, operationName, category, resultType, callerIpAddress, "
            "identity, properties FROM read_json(?)",
            [[str(p) for p in paths]],
        ).fetchall()
        baseline = time.perf_counter() - started
        con.close()

    for name, seconds in (("logwarden ingest", ours), ("duckdb read_json", baseline)):
        print(
            f"{name:18} {seconds:7.2f} s  {args.records / seconds:>9,.0f} records/s  {size / seconds / 1e6:6.1f} MB/s"
        )
    print(f"ratio (logwarden / duckdb): {ours / baseline:.2f}x   peak RSS of logwarden: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
