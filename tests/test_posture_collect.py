"""`posture collect` against a local HTTPS stand-in replaying recorded ARM, Graph and
Exchange answers: the real Azure SDK clients, paging, a 429 with Retry-After, 403s that
become unknown, and the snapshot's provenance. Nothing here touches the network."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from typer.testing import CliRunner

import posture_standin as si
from logwarden.cli import app
from logwarden.posture.checks.engine import Finding, run
from logwarden.posture.collect.base import ARM_SCOPE, Endpoints, identity_of
from logwarden.posture.collect.rest import RestReader
from logwarden.posture.collect.run import collect
from logwarden.posture.snapshot.file import write_snapshot
from logwarden.posture.snapshot.load import load
from logwarden.posture.snapshot.model import Kind, Status

runner = CliRunner(env={"COLUMNS": "250"})
DENIED = f"/subscriptions/{si.DENIED_SUB}"


def verdicts(findings: list[Finding], check: str) -> dict[str, str]:
    return {f.subject: f.verdict.value for f in findings if f.check.id == check}


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, si.Recorded, si.FakeCredential, str]:
    folder = tmp_path_factory.mktemp("standin")
    credential = si.FakeCredential()
    with si.stand_in(folder) as (base, cert, recorded):
        endpoints = Endpoints(arm=base, graph=base, exchange=base, client_options={"connection_verify": str(cert)})
        snap = collect(credential, endpoints)
    return write_snapshot(folder / "snapshot", snap), recorded, credential, base


def test_every_call_was_recorded_and_authorised(collected: tuple[Path, si.Recorded, si.FakeCredential, str]) -> None:
    _, recorded, credential, _ = collected
    assert recorded.unexpected == []
    assert all(r.headers["authorization"].startswith("Bearer ") for r in recorded.requests)
    assert {ARM_SCOPE, "https://graph.microsoft.com/.default", "https://outlook.office365.com/.default"} <= set(
        credential.scopes
    )
    alerts = [r for r in recorded.requests if r.path == f"{si.S}/providers/Microsoft.Insights/activityLogAlerts"]
    assert len(alerts) == 2  # a 429, then the answer after Retry-After
    graph = [r for r in recorded.requests if r.path == "/providers/Microsoft.ResourceGraph/resources"]
    assert len(graph) == 3  # subscriptions, then the inventory in two pages ($skipToken)
    assert {r.method for r in recorded.requests} == {"GET", "POST"}  # read-only: Graph queries and InvokeCommand


def test_snapshot_records_provenance(collected: tuple[Path, si.Recorded, si.FakeCredential, str]) -> None:
    path, _, _, base = collected
    document = json.loads(path.read_text())
    assert document["identity"] == "analyst@contoso.example"
    readings = {(r["kind"], r["scope"]): r for r in document["readings"]}
    activity = readings["diagnostic_settings", si.S]
    assert activity["endpoint"] == f"{base}{si.S}/providers/Microsoft.Insights/diagnosticSettings"
    assert activity["api_version"] == "2021-05-01-preview"
    assert activity["status"] == "ok" and activity["read_at"].endswith("Z")
    assert activity["body"][0]["properties"]["workspaceId"] == si.WS  # the wire JSON, unchanged
    entra = readings["diagnostic_settings", "/providers/microsoft.aadiam"]
    assert entra["api_version"] == "2017-04-01-preview"
    denied = readings["diagnostic_settings", DENIED]
    assert denied["status"] == "denied" and "AuthorizationFailed" in denied["detail"]
    assert readings["inventory", DENIED]["status"] == "ok" and readings["inventory", DENIED]["body"] == []
    nic = readings["diagnostic_categories", si.NIC]
    assert nic["status"] == "ok" and nic["body"] == [] and "ResourceTypeNotSupported" in nic["detail"]
    assert len(readings["locks", si.S]["body"]) == 2  # two pages (nextLink)
    assert len(readings["containers", si.ST]["body"]) == 2  # two pages (nextLink)
    assert len(readings["audit_bypass", "tenant"]["body"]) == 4  # two pages (@odata.nextLink)
    assert readings["admin_audit_log_config", "tenant"]["session"] == "exchange-online"
    assert readings["organization_config", "tenant"]["status"] == "denied"
    assert readings["ual_retention_policies", "tenant"]["status"] == "not_collected"
    workspace = readings["workspaces", si.S]["body"][0]
    assert workspace["properties"]["retentionInDays"] == 90  # loganalytics 14's nested layout, as sent


def test_collected_snapshot_is_judged(collected: tuple[Path, si.Recorded, si.FakeCredential, str]) -> None:
    path, *_ = collected
    snapshot = load([path])
    assert snapshot.problems == []
    assert {r.status for r in snapshot.of(Kind.inventory)} == {Status.ok}
    findings = run(snapshot)
    expected = {
        "azure-activity-log-exported": {si.S: "pass", DENIED: "unknown"},
        "azure-activity-log-categories": {si.S: "pass", DENIED: "unknown"},
        "azure-entra-diagnostic-setting": {"Entra ID": "pass"},
        "azure-entra-graph-activity": {"Entra ID": "pass"},
        "azure-keyvault-logging": {si.KV: "pass", si.KV_DEV: "fail"},
        "azure-resource-logging": {si.S: "pass", si.KV_DEV: "fail", si.WS: "fail", si.QUEUES: "fail"},
        "azure-workspace-retention": {si.WS: "pass"},
        "azure-table-retention": {si.WS: "pass"},
        "azure-workspace-daily-cap": {si.WS: "pass"},
        "azure-workspace-data-export": {si.WS: "pass"},
        "azure-log-storage-immutable": {si.ST: "pass"},
        "azure-log-storage-soft-delete": {si.ST: "pass"},
        "azure-log-storage-private": {si.ST: "pass"},
        "azure-activity-log-storage-cmk": {si.ST: "fail"},
        "azure-log-infrastructure-locked": {si.WS: "pass", si.ST: "pass"},
        "azure-sentinel-health": {si.WS: "pass"},
        "m365-ual-enabled": {"contoso.onmicrosoft.com": "fail"},
        "m365-mailbox-audit-default": {"tenant": "unknown"},
        "m365-audit-retention": {"tenant": "fail"},
    }
    for check, wanted in expected.items():
        assert verdicts(findings, check) == wanted, check
    logging = next(f for f in findings if f.check.id == "azure-resource-logging" and f.subject == si.S)
    assert "kv-prod" in logging.evidence and "vm1-nic" not in logging.evidence  # no resource logs to send
    assert "stlogarchive/blobServices/default" in logging.evidence  # a storage service, not in any inventory
    alerts = verdicts(findings, "azure-activity-log-alerts")
    assert alerts[DENIED] == "unknown"
    assert f"{si.S} :: Microsoft.OperationalInsights/workspaces/delete" not in alerts  # watched through anyOf
    assert alerts[f"{si.S} :: Microsoft.Authorization/locks/delete"] == "fail"
    assert verdicts(findings, "azure-diagnostic-destination-exists") == {
        f"{si.S} :: to-law": "pass",
        f"{si.KV} :: vault-audit": "pass",
        "/providers/microsoft.aadiam :: entra-to-law": "pass",
        f"{si.HEALTH} :: health": "pass",
        **{f"{si.ST}/{s}/default :: storage-audit": "pass" for s in ("blobServices", "tableServices", "fileServices")},
    }
    queues = next(f for f in findings if f.subject == si.QUEUES)
    assert (
        queues.evidence == "microsoft.storage/storageaccounts/queueservices offers resource logs; no setting sends them"
    )
    assert f"--resource {si.QUEUES} " in queues.fix
    retention = next(f for f in findings if f.check.id == "m365-audit-retention")
    assert retention.evidence.startswith("no licence with M365_ADVANCED_AUDITING (SPE_E3)")
    ual = next(f for f in findings if f.check.id == "m365-ual-enabled")
    assert ual.provenance[0].session is not None and ual.provenance[0].endpoint.endswith("/InvokeCommand")
    assert ual.provenance[0].identity == "analyst@contoso.example"


def test_production_keeps_https() -> None:
    assert all(url.startswith("https://") for url in (Endpoints().arm, Endpoints().graph, Endpoints().exchange))
    reader = RestReader(si.FakeCredential(), ARM_SCOPE, "http://127.0.0.1:9")
    with pytest.raises(ServiceRequestError, match="https"):
        list(reader.pages("GET", "http://127.0.0.1:9/providers/microsoft.aadiam/diagnosticSettings", lambda _: None))


def test_cli_round_trip_and_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with si.stand_in(tmp_path) as (base, cert, recorded):
        endpoints = Endpoints(arm=base, graph=base, exchange=base, client_options={"connection_verify": str(cert)})
        monkeypatch.setattr("logwarden.posture.cli.connect", lambda: (si.FakeCredential(), endpoints))
        done = runner.invoke(app, ["posture", "collect", "--out", str(tmp_path / "snap"), "--workers", "2"])
    assert done.exit_code == 0, done.output
    assert "readings" in done.output and "as analyst@contoso.example" in done.output
    assert recorded.unexpected == []

    as_json = runner.invoke(app, ["posture", "check", str(tmp_path / "snap"), "--format", "json"])
    assert as_json.exit_code == 1  # checks failed
    document = json.loads(as_json.stdout)
    assert document["summary"]["fail"] > 0 and document["summary"]["unknown"] > 0 and document["problems"] == []
    ual = next(f for f in document["findings"] if f["check"] == "m365-ual-enabled")
    assert ual["verdict"] == "fail" and ual["read"][0]["session"] == "exchange-online"
    hostile = [f["subject"] for f in document["findings"] if f["check"] == "m365-no-audit-bypass"]
    assert '=HYPERLINK("https://evil.example","open")' in hostile

    as_csv = runner.invoke(app, ["posture", "check", str(tmp_path / "snap"), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    subjects = [r["subject"] for r in rows if r["check"] == "m365-no-audit-bypass"]
    assert '\'=HYPERLINK("https://evil.example","open")' in subjects  # neutralised for spreadsheets
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    as_table = runner.invoke(app, ["posture", "check", str(tmp_path / "snap"), "--format", "table"])
    assert as_table.exit_code == 1
    assert "[bold red]svc-x[/]" in as_table.stdout  # markup printed, not interpreted
    assert "\x1b[2J" not in as_table.stdout and "\u202e" not in as_table.stdout
    assert "⟨U+001B⟩" in as_table.stdout and "⟨U+202E⟩" in as_table.stdout
    assert "m365-ual-enabled" in as_table.stdout and "fail" in as_table.stdout


def test_cli_check_with_nothing_readable(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("not json")
    done = runner.invoke(app, ["posture", "check", str(tmp_path)])
    assert done.exit_code == 2
    assert f"{tmp_path / 'x.json'}: not JSON" in done.output and "Nothing to judge" in done.output


def test_identity_from_token_claims() -> None:
    assert identity_of(si.fake_jwt({"upn": "a@contoso.example", "tid": si.TENANT})) == ("a@contoso.example", si.TENANT)
    assert identity_of(si.fake_jwt({"appid": "9e9e", "tid": si.TENANT})) == ("app 9e9e", si.TENANT)
    assert identity_of("not-a-token") == (None, None)


class _NoCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> object:
        raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token: run az login")


def test_cli_collect_without_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("logwarden.posture.cli.connect", lambda: (_NoCredential(), Endpoints()))
    done = runner.invoke(app, ["posture", "collect", "--out", str(tmp_path / "snap")])
    assert done.exit_code == 2
    assert "cannot sign in to Azure" in done.output and "run az login" in done.output
    assert not (tmp_path / "snap").exists()


def test_one_subscription_without_m365(tmp_path: Path) -> None:
    with si.stand_in(tmp_path) as (base, cert, recorded):
        endpoints = Endpoints(arm=base, graph=base, exchange=base, client_options={"connection_verify": str(cert)})
        snap = collect(si.FakeCredential(), endpoints, only=[si.SUB], m365=False)
    assert recorded.unexpected == []
    assert not [r for r in recorded.requests if si.DENIED_SUB in r.path or "InvokeCommand" in r.path]
    assert not [r for r in recorded.requests if r.path == "/v1.0/subscribedSkus"]
    skipped = {r.kind for r in snap.readings if r.status is Status.not_collected}
    assert skipped == {
        Kind.admin_audit_log_config,
        Kind.organization_config,
        Kind.audit_bypass,
        Kind.ual_retention_policies,
        Kind.subscribed_skus,
    }
    assert {r.scope for r in snap.readings if r.kind is Kind.inventory} == {si.S}
