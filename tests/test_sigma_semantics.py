"""Sigma semantics through the real engine over DuckDB: (rule, events, expected matches).

The events are hand-made (Activity Log export records, Graph directoryAudits, Management
Activity API records) so that each case differs by exactly what it tests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from logwarden.detectors.sigma.hunt import hunt
from logwarden.detectors.sigma.rules import CompiledRule, load
from logwarden.ingest import Ingestor, open_case
from logwarden.store.database import CaseDatabase

SUB = "/SUBSCRIPTIONS/B7E4C2D1-5A3F-4E9B-8C7D-1F2E3A4B5C6D"
UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"


def activity(cid: str, **over: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": "2026-03-02T10:15:56.3Z",
        "resourceId": f"{SUB}/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/LAW",
        "operationName": "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
        "category": "Delete",
        "resultType": "Success",
        "callerIpAddress": "203.0.113.45",
        "correlationId": cid,
        "identity": {"claims": {UPN: "alice@contoso.com", "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}},
        "properties": {"requestbody": '{"properties":{"logs":[{"category":"Administrative","enabled":false}]}}'},
    }
    record.update(over)
    return record


ALERT_WRITE = "MICROSOFT.INSIGHTS/ACTIVITYLOGALERTS/WRITE"
ACTIVITY = [
    activity("a1"),
    activity("a2", operationName="Microsoft.Insights/diagnosticSettings/write", resultType="Start"),
    activity("a3", callerIpAddress="10.1.2.3:443", identity={"claims": {UPN: "ÄLICE@contoso.com"}}),
    activity("a4", identity={"claims": {UPN: "weird*name"}}, properties={"requestbody": "it's 100% a_b \\ done"}),
    activity("a5", identity={"claims": {UPN: "weirdXname"}}, level="Warning", properties={}),
    activity("a7", callerIpAddress="2001:db8::5", operationName=ALERT_WRITE),
    activity("a8", callerIpAddress="[2001:db8:0:0:0:0:0:7]:443", operationName=ALERT_WRITE),
    activity("a9", callerIpAddress="2001:db9::1", operationName=ALERT_WRITE),
    activity(
        "a6",
        properties={"requestbody": base64.b64encode(b"the secret value").decode()},
        operationName="MICROSOFT.OPERATIONALINSIGHTS/WORKSPACES/PURGE/ACTION",
    ),
]
AUDIT = [
    {
        "id": "d1",
        "activityDateTime": "2026-03-02T10:31:46Z",
        "activityDisplayName": "Update application",
        "category": "ApplicationManagement",
        "correlationId": "d1",
        "result": "success",
        "loggedByService": "Core Directory",
        "initiatedBy": {"user": {"userPrincipalName": "bob@contoso.com", "ipAddress": "198.51.100.7"}},
        "targetResources": [
            {"displayName": "Payroll", "type": "Application"},
            {"displayName": "SimuLandApp", "type": "ServicePrincipal"},
        ],
    },
    {
        "id": "d2",
        "activityDateTime": "2026-03-02T10:32:46Z",
        "activityDisplayName": "Add member to group",
        "category": "GroupManagement",
        "correlationId": "d2",
        "result": "failure",
        "loggedByService": "Core Directory",
        "initiatedBy": {"app": {"displayName": "Sync"}},
        "targetResources": [{"displayName": "Admins", "type": "Group"}],
    },
]
BLOBS = f"{SUB}/RESOURCEGROUPS/LOGS/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/AUDIT/BLOBSERVICES/DEFAULT"
RESOURCE_LOGS = [
    {
        "time": "2026-03-02T10:50:00Z",
        "resourceId": BLOBS,
        "operationName": "DeleteBlob",
        "category": "StorageDelete",
        "correlationId": "r1",
        "durationMs": 250,
    },
    {
        "time": "2026-03-02T10:51:00Z",
        "resourceId": BLOBS,
        "operationName": "GetBlob",
        "category": "StorageRead",
        "correlationId": "r2",
        "durationMs": 12,
    },
]
UAL = [
    {
        "CreationTime": "2026-03-02T10:40:00",
        "Id": "u1",
        "Operation": "Set-AdminAuditLogConfig",
        "RecordType": 1,
        "Workload": "Exchange",
        "UserId": "mallory@contoso.com",
        "ClientIP": "203.0.113.9",
        "ResultStatus": "True",
        "OrganizationId": "o",
        "Parameters": [
            {"Name": "DomainController", "Value": ""},
            {"Name": "Identity", "Value": "x"},
            {"Name": "UnifiedAuditLogIngestionEnabled", "Value": "False"},
        ],
    },
    {
        "CreationTime": "2026-03-02T10:41:00",
        "Id": "u2",
        "Operation": "Set-AdminAuditLogConfig",
        "RecordType": 1,
        "Workload": "Exchange",
        "UserId": "admin@contoso.com",
        "ResultStatus": "True",
        "OrganizationId": "o",
        "Parameters": [{"Name": "UnifiedAuditLogIngestionEnabled", "Value": "True"}],
    },
]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> CaseDatabase:
    folder = tmp_path_factory.mktemp("events")
    files = (("activity.json", ACTIVITY), ("graph.json", AUDIT), ("ual.json", UAL), ("storage.json", RESOURCE_LOGS))
    for name, records in files:
        (folder / name).write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    db = open_case(folder / "case.duckdb")
    with Ingestor(db) as ingestor:
        report = ingestor.ingest([folder])
    assert report.rejected == 0 and report.stored == len(ACTIVITY) + len(AUDIT) + len(UAL) + len(RESOURCE_LOGS)
    return db


def rule(tmp_path: Path, detection: dict[str, Any], logsource: dict[str, str] | None = None) -> CompiledRule:
    doc = {
        "title": "test rule",
        "id": "5f9c6c4e-8a8e-4f5e-9a0e-2c9d1b1f1a11",
        "status": "test",
        "level": "high",
        "logsource": logsource or {"product": "azure", "service": "activitylogs"},
        "detection": detection,
    }
    path = tmp_path / "rule.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (compiled,) = load([path])
    return compiled


def matched(case: CaseDatabase, compiled: CompiledRule) -> set[str]:
    assert compiled.error is None, compiled.error
    ids = set()
    for alert in hunt(case, [compiled]):
        table = compiled.table
        key = {"OfficeActivity": "OfficeId"}.get(table or "", "CorrelationId")
        (value,) = case.run(
            f'SELECT "{key}" FROM "{table}" t JOIN IngestFiles f ON f.FileId = t._FileId '
            "WHERE f.Path = ? AND t._Line = ?",
            [alert.file, alert.line],
        )[0]
        ids.add(value)
    return ids


AL = {"product": "azure", "service": "activitylogs"}
RES = {"product": "azure", "service": "resourcelogs"}
AUD = {"product": "azure", "service": "auditlogs"}
M365 = {"product": "m365", "service": "exchange"}

CASES: list[tuple[str, dict[str, Any], dict[str, str], set[str]]] = [
    (
        "equality ignores case",
        {"s": {"operationName": "microsoft.insights/diagnosticsettings/delete"}},
        AL,
        {"a1", "a3", "a4", "a5"},
    ),
    ("cased respects case", {"s": {"operationName|cased": "microsoft.insights/diagnosticsettings/delete"}}, AL, set()),
    ("cased exact", {"s": {"operationName|cased": "Microsoft.Insights/diagnosticSettings/write"}}, AL, {"a2"}),
    ("wildcard *", {"s": {"operationName": "*/workspaces/*"}}, AL, {"a6"}),
    ("wildcard ?", {"s": {"resultType": "St?rt"}}, AL, {"a2"}),
    ("escaped wildcard is literal", {"s": {"identity.claims.upn": "weird\\*name"}}, AL, set()),
    ("escaped star on the upn claim", {"s": {f"identity.claims.{UPN}": "weird\\*name"}}, AL, {"a4"}),
    ("unescaped star on the upn claim", {"s": {f"identity.claims.{UPN}": "weird*name"}}, AL, {"a4", "a5"}),
    ("contains", {"s": {"operationName|contains": "settings/wr"}}, AL, {"a2"}),
    ("startswith", {"s": {"operationName|startswith": "microsoft.operationalinsights"}}, AL, {"a6"}),
    ("endswith", {"s": {"operationName|endswith": "/DELETE"}}, AL, {"a1", "a3", "a4", "a5"}),
    (
        "contains|all",
        {"s": {"properties.requestbody|contains|all": ["Administrative", '"enabled":false']}},
        AL,
        {"a1", "a2", "a3", "a7", "a8", "a9"},
    ),
    ("literal % and _ in contains", {"s": {"properties.requestbody|contains": "100% a_b \\ done"}}, AL, {"a4"}),
    ("list is OR", {"s": {"resultType": ["Start", "nothing"]}}, AL, {"a2"}),
    ("re is case-sensitive", {"s": {"operationName|re": "^Microsoft\\.Insights"}}, AL, {"a2"}),
    ("re|i", {"s": {"operationName|re|i": "^microsoft\\.insights.*delete$"}}, AL, {"a1", "a3", "a4", "a5"}),
    ("cidr, port and all", {"s": {"callerIpAddress|cidr": "10.0.0.0/8"}}, AL, {"a3"}),
    ("cidr IPv6, compressed and bracketed", {"s": {"callerIpAddress|cidr": "2001:db8::/32"}}, AL, {"a7", "a8"}),
    ("non-ASCII case", {"s": {f"identity.claims.{UPN}": "älice@contoso.com"}}, AL, {"a3"}),
    ("exists", {"s": {"level|exists": True}}, AL, {"a5"}),
    ("not exists", {"s": {"level|exists": False}}, AL, {"a1", "a2", "a3", "a4", "a6", "a7", "a8", "a9"}),
    ("null matches a missing field", {"s": {"level": None}}, AL, {"a1", "a2", "a3", "a4", "a6", "a7", "a8", "a9"}),
    (
        "nested claim",
        {"s": {"identity.claims.appid": "C44B4083-3BB0-49C1-B47D-974E53CBDF3C"}},
        AL,
        {"a1", "a2", "a6", "a7", "a8", "a9"},
    ),
    ("base64offset|contains", {"s": {"properties.requestbody|base64offset|contains": "secret"}}, AL, {"a6"}),
    ("keyword search", {"keywords": ["*PURGE/ACTION*"]}, AL, {"a6"}),
    ("1 of", {"sel_a": {"resultType": "Start"}, "sel_b": {"callerIpAddress|cidr": "10.0.0.0/8"}}, AL, {"a2", "a3"}),
    ("all of", {"sel_a": {"resultType": "Success"}, "sel_b": {"callerIpAddress|cidr": "10.0.0.0/8"}}, AL, {"a3"}),
    (
        "not 1 of",
        {
            "sel": {"operationName|endswith": "/delete"},
            "filter_a": {"level": "Warning"},
            "filter_b": {"callerIpAddress|startswith": "10."},
        },
        AL,
        {"a1", "a4"},
    ),
    ("fieldref", {"s": {"correlationId|fieldref": "correlationId"}}, AL, {f"a{i}" for i in range(1, 10)}),
    ("any element of a list", {"s": {"TargetResources.displayName": "simulandapp"}}, AUD, {"d1"}),
    ("no element of a list", {"s": {"TargetResources.displayName": "nobody"}}, AUD, set()),
    ("nested initiator", {"s": {"InitiatedBy.user.userPrincipalName|endswith": "@contoso.com"}}, AUD, {"d1"}),
    (
        "community auditlogs names",
        {"s": {"properties.message": "Add member to group", "Result": "failure"}},
        AUD,
        {"d2"},
    ),
    (
        "Exchange parameter by name",
        {"s": {"Operation": "Set-AdminAuditLogConfig", "Parameters.UnifiedAuditLogIngestionEnabled": "false"}},
        M365,
        {"u1"},
    ),
    ("Parameters text contains", {"s": {"Parameters|contains": "UnifiedAuditLogIngestionEnabled"}}, M365, {"u1", "u2"}),
]
CONDITIONS = {
    "1 of": "1 of sel_*",
    "all of": "all of sel_*",
    "not 1 of": "sel and not 1 of filter_*",
    "keyword search": "keywords",
}


@pytest.mark.parametrize(("name", "detection", "logsource", "expected"), CASES, ids=[c[0] for c in CASES])
def test_semantics(
    case: CaseDatabase,
    tmp_path: Path,
    name: str,
    detection: dict[str, Any],
    logsource: dict[str, str],
    expected: set[str],
) -> None:
    detection = {**detection, "condition": CONDITIONS.get(name, "s")}
    assert matched(case, rule(tmp_path, detection, logsource)) == expected


HOSTILE = [
    "it's",
    'say "hi"',
    "back\\slash",
    "100%",
    "a_b",
    "nul\x00byte",
    "'; DROP TABLE IngestFiles; --",
    "SELECT * FROM lw.AzureActivity",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_rule_values_never_reach_sql_as_text(case: CaseDatabase, tmp_path: Path, value: str) -> None:
    for detection in (
        {"s": {"operationName": value}, "condition": "s"},
        {"s": {"operationName|contains": value}, "condition": "s"},
        {"s": {f"properties.{value}": "x"}, "condition": "s"},
        {"s": {"operationName|re": value.replace("\\", "\\\\").replace("*", "")}, "condition": "s"},
    ):
        compiled = rule(tmp_path, detection)
        assert value not in (compiled.predicate.sql if compiled.predicate else "")
        assert matched(case, compiled) == set()
    assert case.run("SELECT count(*) FROM IngestFiles")[0][0] == 4


def test_unmapped_field_is_an_error_not_a_silent_miss(tmp_path: Path) -> None:
    compiled = rule(tmp_path, {"s": {"NoSuchField": "x"}, "condition": "s"})
    assert compiled.predicate is None and "NoSuchField" in (compiled.error or "")


def test_unknown_logsource_is_an_error(tmp_path: Path) -> None:
    compiled = rule(tmp_path, {"s": {"EventID": 1}, "condition": "s"}, {"product": "windows", "service": "security"})
    assert compiled.error and "logsource" in compiled.error


def test_expand_with_placeholders(case: CaseDatabase, tmp_path: Path) -> None:
    detection = {"s": {"callerIpAddress|expand": "%admin_ips%"}, "condition": "s"}
    doc = {"title": "t", "logsource": AL, "detection": detection}
    (tmp_path / "r.yml").write_text(yaml.safe_dump(doc))
    (compiled,) = load([tmp_path], {"admin_ips": ["198.51.100.1", "10.1.2.3:443"]})
    assert matched(case, compiled) == {"a3"}
    (unset,) = load([tmp_path])
    assert unset.error and "--placeholders" in unset.error


def test_null_is_not_an_empty_string(case: CaseDatabase, tmp_path: Path) -> None:
    # a5 has `properties: {}`: its requestbody is missing, which `null` matches; an empty string would not.
    assert "a5" in matched(case, rule(tmp_path, {"s": {"properties.requestbody": None}, "condition": "s"}))
    assert matched(case, rule(tmp_path, {"s": {"properties.requestbody": ""}, "condition": "s"})) == set()


def test_nothing_reaches_the_network(case: CaseDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pySigma can fetch MITRE data on demand; loading and running rules must never try."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    doc = {
        "title": "t",
        "id": "5f9c6c4e-8a8e-4f5e-9a0e-2c9d1b1f1a12",
        "tags": ["attack.defense-evasion", "attack.t1562.008", "attack.t1685.002"],
        "logsource": AL,
        "detection": {"s": {"operationName|endswith": "/delete"}, "condition": "s"},
    }
    (tmp_path / "r.yml").write_text(yaml.safe_dump(doc))
    (compiled,) = load([tmp_path])
    assert compiled.tags == ("attack.defense-evasion", "attack.t1562.008", "attack.t1685.002")
    assert matched(case, compiled)
