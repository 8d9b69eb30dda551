"""`posture check` offline: the real ScubaGear snapshots, every hand-export shape, bad files,
and the rule that a check never reports what the snapshot cannot tell as on or off."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, SHARED_DATA
from logwarden.posture.checks.engine import Finding, Verdict, catalogue, functions, run
from logwarden.posture.snapshot.file import RawReading, SnapshotFile, write_snapshot
from logwarden.posture.snapshot.load import load
from logwarden.posture.snapshot.model import ExchangeSession, Kind, Status

CONFIG = SHARED_DATA / "config"
HAND = FIXTURES / "posture" / "hand"
BAD = FIXTURES / "posture" / "bad"
SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"
WS = f"{SUB}/resourceGroups/logs-rg/providers/Microsoft.OperationalInsights/workspaces/law-sec"
ST = f"{SUB}/resourceGroups/logs-rg/providers/Microsoft.Storage/storageAccounts/stlogarchive"
VAULTS = f"{SUB}/resourceGroups/app-rg/providers/Microsoft.KeyVault/vaults"


def verdicts(findings: list[Finding], check: str) -> dict[str, str]:
    return {f.subject: f.verdict.value for f in findings if f.check.id == check}


def test_metadata_and_functions_match() -> None:
    infos = catalogue()
    assert [i.id for i in infos] == list(dict.fromkeys(i.id for i in infos)), "duplicate check id"
    assert {i.id for i in infos} == set(functions())
    for info in infos:
        assert info.severity in {"low", "medium", "high", "critical"}, info.id
        assert info.fix and info.rationale and info.reads, info.id
    doc = (REPO / "docs" / "posture.md").read_text(encoding="utf-8")
    for info in infos:  # the docs say what each check does, in the words of checks.yml
        assert f"### `{info.id}`" in doc and info.fix in doc and info.rationale in doc, info.id
    beyond = {i.id for i in infos if i.beyond_cis}
    assert {"azure-log-storage-immutable", "azure-workspace-retention", "azure-table-retention"} <= beyond
    assert {"azure-workspace-daily-cap", "azure-workspace-data-export"} <= beyond


@pytest.mark.skipif(not CONFIG.is_dir(), reason="shared data not present")
def test_real_scubagear_snapshots() -> None:
    """The three ScubaGear Get-AdminAuditLogConfig exports, read in place. Two have the unified
    audit log on. The third reads False, which proves nothing unless Exchange Online read it."""
    snapshot = load([CONFIG])
    assert snapshot.problems == []
    judged = verdicts(run(snapshot), "m365-ual-enabled")
    assert judged == {
        "agency.onmicrosoft.com": "pass",
        "tqhjy.onmicrosoft.com": "pass",
        "sct-15_20_5880_5-msonline-bpos_s_e9965": "unknown",
    }
    off = next(f for f in run(snapshot) if f.subject.startswith("sct-"))
    assert "cannot tell" in off.evidence and "Security & Compliance" in off.evidence
    assert "UnifiedAuditLogFirstOptInDate is empty: it may never have been on" in off.evidence
    assert "last changed 2022-11-25T15:15:38Z" in off.evidence  # WhenChangedUTC, /Date(1669389338000)/
    assert off.fix == ""  # nothing to fix until it is known to be off

    said_exo = verdicts(run(load([CONFIG], ExchangeSession.exchange_online)), "m365-ual-enabled")
    assert said_exo["sct-15_20_5880_5-msonline-bpos_s_e9965"] == "fail"
    assert said_exo["agency.onmicrosoft.com"] == "pass"
    said_scc = verdicts(run(load([CONFIG], ExchangeSession.security_compliance)), "m365-ual-enabled")
    assert said_scc["sct-15_20_5880_5-msonline-bpos_s_e9965"] == "unknown"
    failed = next(f for f in run(load([CONFIG], ExchangeSession.exchange_online)) if f.verdict is Verdict.failed)
    assert "Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true" in failed.fix


def test_every_hand_export_shape() -> None:
    snapshot = load([HAND])
    assert snapshot.problems == []
    kinds = {r.kind for r in snapshot.readings}
    assert kinds == set(Kind) - {Kind.admin_audit_log_config, Kind.diagnostic_categories}
    findings = run(snapshot)
    expected = {
        "m365-mailbox-audit-default": {"contoso.onmicrosoft.com": "pass"},
        "m365-no-audit-bypass": {"svc-archiver": "fail"},
        "m365-audit-retention": {"tenant": "pass"},
        "m365-ual-enabled": {"tenant": "unknown"},
        "azure-activity-log-exported": {SUB: "pass"},
        "azure-activity-log-categories": {SUB: "fail"},
        "azure-entra-diagnostic-setting": {"Entra ID": "fail"},
        "azure-entra-graph-activity": {"Entra ID": "fail"},
        "azure-keyvault-logging": {f"{VAULTS}/kv-prod": "pass", f"{VAULTS}/kv-dev": "unknown"},
        "azure-workspace-retention": {WS: "fail"},
        "azure-table-retention": {WS: "fail"},
        "azure-workspace-daily-cap": {WS: "fail"},
        "azure-workspace-data-export": {WS: "fail"},
        "azure-log-storage-immutable": {ST: "fail"},
        "azure-log-storage-soft-delete": {ST: "fail"},
        "azure-log-storage-private": {ST: "pass"},
        "azure-activity-log-storage-cmk": {ST: "fail"},
        "azure-log-infrastructure-locked": {WS: "pass", ST: "pass"},
        "azure-sentinel-health": {WS: "unknown"},
    }
    for check, wanted in expected.items():
        assert verdicts(findings, check) == wanted, check
    categories = next(f for f in findings if f.check.id == "azure-activity-log-categories")
    assert "lacks Alert, Policy" in categories.evidence
    assert f"--subscription {SUB.rsplit('/', 1)[1]} " in categories.fix and "--name to-law" in categories.fix
    locks_alert = next(f for f in findings if f.subject.endswith(":: Microsoft.Authorization/locks/delete"))
    assert f"--scope {SUB} " in locks_alert.fix
    assert "operationName=Microsoft.Authorization/locks/delete" in locks_alert.fix
    alerts = verdicts(findings, "azure-activity-log-alerts")
    assert alerts[SUB] == "pass"  # the enabled diagnosticSettings/delete alert
    assert alerts[f"{SUB} :: Microsoft.Authorization/locks/delete"] == "fail"  # only in a disabled alert
    assert alerts[f"{SUB} :: category ServiceHealth"] == "fail"
    assert alerts[f"{SUB} :: Microsoft.Storage/storageAccounts/delete"] == "fail"  # scoped to one resource group
    tables = next(f for f in findings if f.check.id == "azure-table-retention")
    assert "SigninLogs (30 d)" in tables.evidence and "SecurityEvent" not in tables.evidence
    bypass = next(f for f in findings if f.check.id == "m365-no-audit-bypass")
    assert "-Identity 'svc-archiver'" in bypass.fix
    assert all(p.source.startswith(str(HAND)) for f in findings for p in f.provenance)


def test_minimums_are_configurable() -> None:
    from logwarden.posture.checks.engine import Options

    findings = run(load([HAND]), Options(min_retention_days=30, min_audit_retention_days=3650))
    assert verdicts(findings, "azure-workspace-retention") == {WS: "pass"}
    assert verdicts(findings, "azure-table-retention") == {WS: "pass"}
    assert verdicts(findings, "m365-audit-retention") == {"tenant": "fail"}


def test_bad_files_are_named_and_the_rest_is_read() -> None:
    snapshot = load([BAD, HAND / "az_workspace_show.json"])
    problems = "\n".join(snapshot.problems)
    assert f"{BAD / 'truncated.json'}: not JSON" in problems
    assert f"{BAD / 'empty_list.json'}: an empty list" in problems
    assert f"{BAD / 'unknown_shape.json'}: no object in a shape logwarden knows" in problems
    assert f"{BAD / 'odd_types.json'}: object 6: no 'guid'" in problems  # a bypass association without identity
    assert f"{BAD / 'odd_types.json'}: object 9: no 'level'" in problems  # a lock without its level
    assert f"{BAD / 'odd_types.json'}: 1 of 9 objects in a shape logwarden knows" in problems
    workspaces = [r for r in snapshot.readings if r.kind is Kind.workspaces]
    assert [r.provenance.source for r in workspaces] == [
        str(BAD / "odd_types.json"),
        str(HAND / "az_workspace_show.json"),
    ]
    run(snapshot)  # fields of the wrong JSON type are judged as missing, never a crash
    missing = load([BAD / "nowhere"])
    assert missing.problems == [f"{BAD / 'nowhere'}: no such file or folder"] and not missing.readings


def _reading(kind: Kind, scope: str, status: Status, body: list[object], detail: str = "") -> RawReading:
    return RawReading(
        kind,
        scope,
        status,
        body,
        "https://management.azure.com" + scope,
        "2021-05-01-preview",
        datetime(2026, 11, 1, tzinfo=UTC),
        "analyst@contoso.example",
        detail=detail,
    )


def test_denied_and_uncollected_readings_are_unknown(tmp_path: Path) -> None:
    snap = SnapshotFile(
        datetime(2026, 11, 1, tzinfo=UTC),
        "analyst@contoso.example",
        "test",
        [
            _reading(
                Kind.subscriptions,
                "tenant",
                Status.ok,
                [{"id": SUB, "type": "microsoft.resources/subscriptions", "name": "Prod", "subscriptionId": SUB[15:]}],
            ),
            _reading(Kind.diagnostic_settings, SUB, Status.denied, [], "HTTP 403: AuthorizationFailed"),
            _reading(Kind.diagnostic_settings, "/providers/microsoft.aadiam", Status.failed, [], "HTTP 500: oops"),
            _reading(Kind.admin_audit_log_config, "tenant", Status.not_collected, [], "skipped (--no-m365)"),
            _reading(Kind.activity_log_alerts, SUB, Status.ok, []),
        ],
    )
    findings = run(load([write_snapshot(tmp_path, snap)]))
    assert verdicts(findings, "azure-activity-log-exported") == {SUB: "unknown"}
    assert verdicts(findings, "azure-entra-diagnostic-setting") == {"Entra ID": "unknown"}
    assert verdicts(findings, "m365-ual-enabled") == {"tenant": "unknown"}
    exported = next(f for f in findings if f.check.id == "azure-activity-log-exported")
    assert "may not read it (HTTP 403: AuthorizationFailed)" in exported.evidence
    assert exported.provenance[0].identity == "analyst@contoso.example"
    assert exported.provenance[0].api_version == "2021-05-01-preview"
    # an ok reading that found no alert at all is a real answer: every operation fails
    assert verdicts(findings, "azure-activity-log-alerts")[f"{SUB} :: category ServiceHealth"] == "fail"


def test_snapshot_version_and_broken_reading(tmp_path: Path) -> None:
    (tmp_path / "new.json").write_text('{"logwarden_posture_snapshot": 99, "readings": []}')
    (tmp_path / "broken.json").write_text(
        '{"logwarden_posture_snapshot": 1, "readings": [{"kind": "nonsense", "scope": "x", "status": "ok"}]}'
    )
    problems = "\n".join(load([tmp_path]).problems)
    assert "new.json: snapshot version 99; this logwarden reads version 1" in problems
    assert "broken.json: reading 1: 'nonsense' is not a valid Kind" in problems


@pytest.mark.skipif(not CONFIG.is_dir(), reason="shared data not present")
def test_cli_exchange_session_on_real_snapshots() -> None:
    from typer.testing import CliRunner

    from logwarden.cli import app

    runner = CliRunner(env={"COLUMNS": "250"})
    unknown = runner.invoke(app, ["posture", "check", str(CONFIG), "--format", "json"])
    assert unknown.exit_code == 0  # nothing failed: the False might be Security & Compliance's
    said = runner.invoke(
        app, ["posture", "check", str(CONFIG), "--format", "json", "--exchange-session", "exchange-online"]
    )
    assert said.exit_code == 1
    ual = [f for f in json.loads(said.stdout)["findings"] if f["check"] == "m365-ual-enabled"]
    assert [f["verdict"] for f in ual] == ["pass", "fail", "pass"]
    assert all(f["read"][0]["session"] == "exchange-online" for f in ual)
