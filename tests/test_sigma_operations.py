"""What the engine adds to Sigma for Azure: paths inside an ARM request body, one alert per ARM
operation at a level that says whether it succeeded, Microsoft 365 fields read from the record
as received, and correlation groups compared as Sigma compares strings. Hand-made events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from logwarden.detectors.sigma.hunt import Alert, hunt
from logwarden.detectors.sigma.rules import load
from logwarden.ingest import Ingestor, open_case
from logwarden.store.database import CaseDatabase

SUB = "/SUBSCRIPTIONS/B7E4C2D1-5A3F-4E9B-8C7D-1F2E3A4B5C6D"
WS = f"{SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.OPERATIONALINSIGHTS/WORKSPACES/"
WRITE = "MICROSOFT.OPERATIONALINSIGHTS/WORKSPACES/WRITE"


def arm(cid: str, result: str, minute: int, name: str = "LAW", **properties: Any) -> dict[str, Any]:
    return {
        "time": f"2026-03-02T10:{minute:02d}:00Z",
        "resourceId": WS + name,
        "operationName": WRITE,
        "category": "Write",
        "resultType": result,
        "callerIpAddress": "203.0.113.45",
        "correlationId": cid,
        "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "alice@contoso.com"}},
        "properties": properties,
    }


CUT = json.dumps({"properties": {"retentionInDays": 7}})
LIFECYCLE = {
    "properties": {
        "policy": {
            "rules": [
                {"definition": {"actions": {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": 1}}}}},
                {"definition": {"actions": [{"actionType": "RemoveAllActionGroups"}]}},
            ]
        }
    }
}
ACTIVITY = [
    # succeeded: Start then Success of one operation
    arm("op-1", "Start", 0, requestbody=CUT),
    arm("op-1", "Success", 1, requestbody=CUT),
    # failed
    arm("op-2", "Start", 2, requestbody=CUT),
    arm("op-2", "Failure", 3, requestbody=CUT),
    # started, no outcome in the logs; the REST API's `requestBody`, as an object
    arm("op-3", "Start", 4, requestBody={"properties": {"retentionInDays": 3}}),
    # routine: retention kept long
    arm("op-4", "Success", 5, requestbody=json.dumps({"properties": {"retentionInDays": 730}})),
    # a request body that is not JSON (attacker-controlled text) reads as missing, not as an error
    arm("op-5", "Success", 6, requestbody="{'retentionInDays': 1"),
    # the body on the Start only, as real exports often have it: the Success still decides the outcome
    arm("op-6", "Start", 7, name="LAW2", requestbody=CUT),
    arm("op-6", "Success", 8, name="LAW2"),
    # `rules` is a list here and `actions` an object; an alert processing rule's `actions` is a list
    arm("op-7", "Success", 9, name="LAW2", requestbody=json.dumps(LIFECYCLE)),
]
UAL = [
    {
        "CreationTime": "2026-03-02T11:00:00",
        "Id": "x1",
        "Operation": "SetAdvancedFeatures",
        "RecordType": 1,
        "Workload": "Microsoft365Defender",
        "UserId": "mallory@contoso.com",
        "OrganizationId": "o",
        "SettingName": "TamperProtection",
        "SettingsNewValue": False,
    },
    # keys lower-cased, as some tools keep records (Panther's normaliser does)
    {
        "creationtime": "2026-03-02T11:05:00",
        "id": "x2",
        "operation": "SetAdvancedFeatures",
        "recordtype": 1,
        "workload": "Microsoft365Defender",
        "userid": "eve@contoso.com",
        "organizationid": "o",
        "settingname": "TamperProtection",
        "settingsnewvalue": False,
    },
]
RETENTION_CUT = {"sel": {"operationName": WRITE, "properties.requestbody.properties.retentionInDays|lt": 90}}


def write_rule(folder: Path, name: str, doc: dict[str, Any]) -> None:
    base = {"id": f"5f9c6c4e-8a8e-4f5e-9a0e-2c9d1b1f1a{len(list(folder.iterdir())):02d}", "status": "test"}
    (folder / f"{name}.yml").write_text(yaml.safe_dump({**base, **doc}), encoding="utf-8")


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> CaseDatabase:
    folder = tmp_path_factory.mktemp("ops")
    (folder / "activity.json").write_text("".join(json.dumps(r) + "\n" for r in ACTIVITY))
    (folder / "ual.json").write_text(json.dumps(UAL))
    db = open_case(folder / "case.duckdb")
    with Ingestor(db) as ingestor:
        assert ingestor.ingest([folder]).rejected == 0
    return db


def run(case: CaseDatabase, tmp_path: Path, detection: dict[str, Any], **extra: Any) -> list[Alert]:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    logsource = extra.pop("logsource", {"product": "azure", "service": "activitylogs"})
    write_rule(rules, "r", {"title": "t", "level": "high", "logsource": logsource, "detection": detection, **extra})
    compiled = load([rules])
    assert [r.error for r in compiled] == [None]
    return list(hunt(case, compiled))


def test_request_body_paths_and_one_alert_per_operation(case: CaseDatabase, tmp_path: Path) -> None:
    alerts = run(case, tmp_path, {**RETENTION_CUT, "condition": "sel"}, logwarden={"attempt_level": "low"})
    got = [(a.time.minute, a.outcome, a.level) for a in alerts]
    # op-1 once, from its Success; op-2 from its Failure; op-3 only started; op-4 and op-5 not at all
    assert got == [(1, "Success", "high"), (3, "Failure", "low"), (4, "Start", "low"), (7, "Success", "high")]


@pytest.mark.parametrize(
    "field",
    [
        "properties.requestbody.properties.policy.rules.definition.actions.baseBlob.delete."
        "daysAfterModificationGreaterThan|lt",
        "properties.requestbody.properties.policy.rules.definition.actions.actionType",
    ],
)
def test_a_path_through_lists_and_objects_alike(case: CaseDatabase, tmp_path: Path, field: str) -> None:
    value: Any = 30 if field.endswith("|lt") else "RemoveAllActionGroups"
    alerts = run(case, tmp_path, {"sel": {field: value}, "condition": "sel"})
    assert [a.time.minute for a in alerts] == [9]


def test_without_an_attempt_level_every_operation_keeps_the_rule_level(case: CaseDatabase, tmp_path: Path) -> None:
    alerts = run(case, tmp_path, {**RETENTION_CUT, "condition": "sel"})
    assert [a.level for a in alerts] == ["high", "high", "high", "high"]


def test_bad_logwarden_attributes_are_the_rule_s_error(tmp_path: Path) -> None:
    write_rule(
        tmp_path,
        "r",
        {
            "title": "t",
            "level": "high",
            "logsource": {"product": "azure", "service": "activitylogs"},
            "detection": {**RETENTION_CUT, "condition": "sel"},
            "logwarden": {"attempt_level": "severe"},
        },
    )
    (rule,) = load([tmp_path])
    assert rule.error is not None and "attempt_level" in rule.error


def test_microsoft_365_fields_from_the_record_as_received(case: CaseDatabase, tmp_path: Path) -> None:
    detection = {
        "sel": {"Operation": "SetAdvancedFeatures", "AuditData.SettingName": "TamperProtection"},
        "on": {"RawEventData.SettingsNewValue": "false"},
        "condition": "sel and on",
    }
    alerts = run(case, tmp_path, detection, logsource={"product": "m365", "service": "audit"})
    assert [(a.actor, a.operation) for a in alerts] == [
        ("mallory@contoso.com", "SetAdvancedFeatures"),
        ("eve@contoso.com", "SetAdvancedFeatures"),
    ]


def test_the_request_body_text_whichever_way_the_key_is_spelt(case: CaseDatabase, tmp_path: Path) -> None:
    alerts = run(case, tmp_path, {"sel": {"properties.requestbody|contains": 'retentionInDays":3'}, "condition": "sel"})
    assert [a.time.minute for a in alerts] == [4]  # op-3's `requestBody`, an object in the REST API's form


def test_an_unprefixed_unknown_microsoft_365_field_stays_an_error(tmp_path: Path) -> None:
    write_rule(
        tmp_path,
        "r",
        {
            "title": "t",
            "level": "high",
            "logsource": {"product": "m365", "service": "audit"},
            "detection": {"sel": {"SettingName": "x"}, "condition": "sel"},
        },
    )
    (rule,) = load([tmp_path])
    assert rule.error is not None and "SettingName" in rule.error


def test_correlation_groups_ignore_case_and_alerts_name_the_anchor(case: CaseDatabase, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    write_rule(
        rules,
        "base",
        {
            "title": "workspace write",
            "name": "ws_write",
            "level": "low",
            "logsource": {"product": "azure", "service": "activitylogs"},
            "detection": {"sel": {"operationName": WRITE}, "condition": "sel"},
        },
    )
    write_rule(
        rules,
        "corr",
        {
            "title": "many workspace writes",
            "level": "high",
            "correlation": {
                "type": "event_count",
                "rules": ["ws_write"],
                "group-by": ["resourceId"],
                "timespan": "1h",
                "condition": {"gte": 5},
            },
        },
    )
    alerts = list(hunt(case, load([rules])))
    # five operations (Start and Success of one count once) on one workspace
    assert [(a.title, a.actor, a.target, a.outcome) for a in alerts] == [
        ("many workspace writes", "alice@contoso.com", WS + "LAW", "Success")
    ]
    assert alerts[0].detail == f"events: 5 per resourceId: {(WS + 'LAW').lower()}"
