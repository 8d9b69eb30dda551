"""Sigma correlation rules over hand-made Activity Log events, with the spec's window semantics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logwarden.detectors.sigma.hunt import hunt
from logwarden.detectors.sigma.rules import load
from logwarden.ingest import Ingestor, open_case
from logwarden.store.database import CaseDatabase

UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
DELETE = "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"
WRITE = "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE"
LOCK_DELETE = "MICROSOFT.AUTHORIZATION/LOCKS/DELETE"
LIST_KEYS = "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"


def event(who: str, when: str, operation: str, setting: str = "LAW") -> dict[str, Any]:
    return {
        "time": f"2026-03-02T{when}:00Z",
        "resourceId": f"/SUBSCRIPTIONS/B7E4/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/{setting}",
        "operationName": operation,
        "category": "Administrative",
        "resultType": "Success",
        "correlationId": f"{who}-{when}",
        "identity": {"claims": {UPN: f"{who}@contoso.com"}},
    }


def blob_read(ip: str, when: str, duration: int) -> dict[str, Any]:
    """A storage resource-log record (also part of the diagnostic-settings export)."""
    return {
        "time": f"2026-03-02T{when}:00Z",
        "resourceId": "/SUBSCRIPTIONS/B7E4/RESOURCEGROUPS/LOGS/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/AUDIT",
        "operationName": "GetBlob",
        "category": "StorageRead",
        "callerIpAddress": ip,
        "correlationId": f"{ip}-{when}",
        "durationMs": duration,
    }


EVENTS = [
    event("alice", "10:00", DELETE),
    event("alice", "10:05", WRITE),  # re-created: quiet
    event("bob", "11:00", DELETE),  # never re-created: alert
    event("carol", "12:00", DELETE),
    event("carol", "12:20", WRITE),  # re-created too late: alert
    *(event("dave", f"13:0{i}", LIST_KEYS) for i in range(5)),  # 5 in 5 minutes: alert
    *(event("eve", f"13:0{i}", LIST_KEYS) for i in range(3)),  # 3: quiet
    *(event("frank", f"14:0{i}", DELETE, setting=f"S{i}") for i in range(3)),  # 3 settings: alert
    event("gina", "15:00", LOCK_DELETE),
    event("gina", "15:04", DELETE),  # lock, then setting
    event("hank", "16:00", DELETE),
    event("hank", "16:04", LOCK_DELETE),  # setting, then lock
    *(blob_read("203.0.113.5", f"17:0{i}", size) for i, size in enumerate((10, 20, 30, 400))),
    *(blob_read("203.0.113.6", f"17:0{i}", 10) for i in range(4)),
]

BASE = """
title: Diagnostic setting deleted
name: diag_delete
id: 9a6e8f6c-1d2b-4c3a-8e7f-000000000001
logsource: {product: azure, service: activitylogs}
detection: {sel: {operationName|endswith: /diagnosticsettings/delete}, condition: sel}
---
title: Diagnostic setting written
name: diag_write
id: 9a6e8f6c-1d2b-4c3a-8e7f-000000000002
logsource: {product: azure, service: activitylogs}
detection: {sel: {operationName|endswith: /diagnosticsettings/write}, condition: sel}
---
title: Resource lock deleted
name: lock_delete
id: 9a6e8f6c-1d2b-4c3a-8e7f-000000000003
logsource: {product: azure, service: activitylogs}
detection: {sel: {operationName: microsoft.authorization/locks/delete}, condition: sel}
---
title: Blob read
name: blob_read
id: 9a6e8f6c-1d2b-4c3a-8e7f-000000000005
logsource: {product: azure, service: resourcelogs}
detection: {sel: {operationName: GetBlob}, condition: sel}
---
title: Storage keys listed
name: list_keys
id: 9a6e8f6c-1d2b-4c3a-8e7f-000000000004
logsource: {product: azure, service: activitylogs}
detection: {sel: {operationName|endswith: /listkeys/action}, condition: sel}
"""


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> CaseDatabase:
    folder = tmp_path_factory.mktemp("corr")
    (folder / "PT1H.json").write_text("\n".join(json.dumps(e) for e in EVENTS) + "\n")
    db = open_case(folder / "case.duckdb")
    with Ingestor(db) as ingestor:
        assert ingestor.ingest([folder / "PT1H.json"]).stored == len(EVENTS)
    return db


def run(case: CaseDatabase, tmp_path: Path, correlation: str) -> list[tuple[str, str]]:
    (tmp_path / "base.yml").write_text(BASE)
    (tmp_path / "corr.yml").write_text(correlation)
    rules = load([tmp_path])
    broken = [r.error for r in rules if r.error]
    assert not broken, broken
    alerts = hunt(case, rules)
    # The group's values close the alert's detail: "events: 3 per callerIpAddress: 203.0.113.5".
    return [
        ((a.detail or "").rsplit(": ", 1)[-1], a.time.strftime("%H:%M")) for a in alerts if a.rule_id == CORRELATION_ID
    ]


CORRELATION_ID = "9a6e8f6c-1d2b-4c3a-8e7f-0000000000ff"


def correlation(kind: str, rules: list[str], condition: str, timespan: str = "10m", group: str = "caller") -> str:
    return f"""
title: correlation under test
id: 9a6e8f6c-1d2b-4c3a-8e7f-0000000000ff
level: high
correlation:
  type: {kind}
  rules: {json.dumps(rules)}
  group-by: [{group}]
  timespan: {timespan}
  condition: {condition}
"""


def test_deleted_and_not_recreated_by_the_same_caller(case: CaseDatabase, tmp_path: Path) -> None:
    rule = correlation("temporal", ["diag_delete", "diag_write"], "diag_delete and not diag_write")
    got = run(case, tmp_path, rule)
    callers = sorted(actor for actor, _ in got)
    assert "alice@contoso.com" not in callers
    assert {"bob@contoso.com", "carol@contoso.com"} <= set(callers)


def test_event_count(case: CaseDatabase, tmp_path: Path) -> None:
    got = run(case, tmp_path, correlation("event_count", ["list_keys"], "{gte: 5}"))
    # one alert per burst, not one per event, at the event that made the count: the fifth
    assert got == [("dave@contoso.com", "13:04")]


def test_value_count(case: CaseDatabase, tmp_path: Path) -> None:
    rule = correlation("value_count", ["diag_delete"], "{gte: 3, field: resourceId}")
    assert run(case, tmp_path, rule) == [("frank@contoso.com", "14:02")]  # the third resource


def test_temporal_any_order(case: CaseDatabase, tmp_path: Path) -> None:
    got = run(case, tmp_path, correlation("temporal", ["lock_delete", "diag_delete"], "{gte: 2}"))
    assert sorted(actor for actor, _ in got) == ["gina@contoso.com", "hank@contoso.com"]


def test_temporal_ordered(case: CaseDatabase, tmp_path: Path) -> None:
    got = run(case, tmp_path, correlation("temporal_ordered", ["lock_delete", "diag_delete"], "{gte: 2}"))
    assert got == [("gina@contoso.com", "15:00")]


def test_timespan_bounds_the_window(case: CaseDatabase, tmp_path: Path) -> None:
    got = run(case, tmp_path, correlation("event_count", ["list_keys"], "{gte: 5}", timespan="3m"))
    assert got == []


def test_referenced_rules_alone_do_not_alert(case: CaseDatabase, tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(BASE)
    (tmp_path / "corr.yml").write_text(correlation("event_count", ["list_keys"], "{gte: 5}"))
    titles = {a.title for a in hunt(case, load([tmp_path]))}
    assert "Storage keys listed" not in titles  # used by the correlation, which does not `generate`
    assert "Resource lock deleted" in titles  # used by none: alerts on its own


def test_missing_reference_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "corr.yml").write_text(correlation("event_count", ["nowhere"], "{gte: 5}"))
    (rule,) = load([tmp_path])
    assert rule.error and "nowhere" in rule.error


@pytest.mark.parametrize(
    ("kind", "condition", "expected"),
    [
        ("value_sum", "{gt: 400, field: durationMs}", ["203.0.113.5"]),
        ("value_avg", "{gte: 100, field: durationMs}", ["203.0.113.5"]),
        ("value_median", "{gte: 25, field: durationMs}", ["203.0.113.5"]),
        ("value_percentile", "{gte: 250, field: durationMs, percentile: 90}", ["203.0.113.5"]),  # 289
        ("value_sum", "{gte: 40, field: durationMs}", ["203.0.113.5", "203.0.113.6"]),
    ],
)
def test_value_aggregates(case: CaseDatabase, tmp_path: Path, kind: str, condition: str, expected: list[str]) -> None:
    rule = correlation(kind, ["blob_read"], condition, group="callerIpAddress")
    assert sorted(actor for actor, _ in run(case, tmp_path, rule)) == expected
