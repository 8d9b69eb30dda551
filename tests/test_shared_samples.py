"""Every public sample under ../shared/data (except config/) ingests, with the exact split.

The Panther rule-test files mix in records of other products (Kubernetes audit
events, GCP audit logs, Okta, CloudTrail), Panther's own enrichment-only stubs and
Azure-shaped records without a time. Each must land in the right table or be
rejected with its reason; none may vanish.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conftest import SHARED_DATA, IngestFn, rows
from logwarden.store.database import CaseDatabase

pytestmark = pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the repository")

# file -> (stored per (table, format), rejected per reason)
EXPECTED = {
    "activity/panther_monitoractivity_tests.jsonl": (
        {("AzureActivity", "a"): 196, ("AzureDiagnostics", "a-resource"): 18},
        {"missing-time": 35, "unknown-shape": 215},
    ),
    "activity/sumologic_eventhub_records.json": ({("AzureActivity", "a"): 1}, {}),
    "entra/otrf_goldensaml_AADAuditEvents.json": ({("AuditLogs", "d3"): 4}, {}),
    "entra/panther_azure_audit_tests.jsonl": (
        {("SigninLogs", "d2"): 27, ("AuditLogs", "d2"): 21},
        {"unknown-shape": 25},
    ),
    "m365/msticpy_demo_exchange_data.csv": ({("OfficeActivity", "e4"): 1334}, {}),
    "m365/otrf_goldensaml_OfficeActivityEvents.json": ({("OfficeActivity", "e4"): 1}, {}),
    "m365/panther_m365_exchange_tests_lowercase.jsonl": ({("OfficeActivity", "e1"): 10}, {}),
}


def _lines(name: str) -> int:
    path = SHARED_DATA / name
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return -1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_split(ingest: IngestFn, name: str) -> None:
    stored, rejected = EXPECTED[name]
    report = ingest(SHARED_DATA / name)
    (result,) = report.files
    assert dict(result.counts) == stored
    assert dict(result.reasons) == rejected
    assert result.read == result.stored + result.rejected
    assert result.stored == sum(stored.values())
    if _lines(name) >= 0:  # one record per line: nothing vanished between reading and counting
        assert result.read == _lines(name)


def test_whole_folder_accounts_for_every_record(ingest: IngestFn, case: CaseDatabase) -> None:
    report = ingest(*(SHARED_DATA / d for d in ("activity", "entra", "m365")))
    assert report.read == report.stored + report.rejected
    assert report.stored == sum(sum(s.values()) for s, _ in EXPECTED.values())
    ledger = rows(case, "SELECT sum(RecordsRead) r, sum(RowsStored) s, sum(RecordsRejected) j FROM IngestFiles")[0]
    assert (ledger["r"], ledger["s"], ledger["j"]) == (report.read, report.stored, report.rejected)
    stored = rows(
        case,
        "SELECT (SELECT count(*) FROM AzureActivity) + (SELECT count(*) FROM AuditLogs) + "
        "(SELECT count(*) FROM OfficeActivity) + (SELECT count(*) FROM SigninLogs) + "
        "(SELECT count(*) FROM AzureDiagnostics) AS n",
    )[0]["n"]
    assert stored == report.stored


def test_rejected_records_name_their_line_and_reason(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "activity/panther_monitoractivity_tests.jsonl")
    by_line = {r["Line"]: r for r in rows(case, "SELECT Line, Reason, Message FROM IngestRejects")}
    # line 216: a Kubernetes audit resource-log record without `time`
    assert by_line[216]["Reason"] == "missing-time"
    assert "(time)" in by_line[216]["Message"]
    # line 218: a native Kubernetes audit event, not an Azure record at all
    assert by_line[218]["Reason"] == "unknown-shape"
    assert "kind, objectRef" in by_line[218]["Message"]


def test_activity_log_diagnostic_export_values(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "activity/sumologic_eventhub_records.json")
    (r,) = rows(case, "SELECT * FROM AzureActivity")
    assert r["TimeGenerated"] == datetime(2018, 3, 7, 14, 23, 51, 991000, tzinfo=UTC)
    assert r["OperationNameValue"] == "MICROSOFT.WEB/SITES/CONFIG/WRITE"
    assert r["ActivityStatusValue"] == "Start"
    assert r["CategoryValue"] == "Administrative"  # the export says "Write"
    assert r["Caller"] == "abc@itsumologic.onmicrosoft.com"  # from the upn claim: this shape has no caller
    assert r["CallerIpAddress"] == "111.93.54.106"
    assert r["SubscriptionId"] == "c088dc46-d692-42ad-a4b6-9a542d28ad2a"
    assert r["ResourceGroup"] == "TESTEVENTHUBLOGS"
    assert r["ResourceId"].endswith("/CONFIG/APPSETTINGS")
    assert r["_ResourceId"] == r["ResourceId"].lower()
    assert r["_Format"] == "a" and r["_Record"] == 1 and r["Type"] == "AzureActivity"
    assert '"records"' not in r["_Raw"] and r["_Raw"].startswith('{"time":"2018-03-07T14:23:51.991Z"')


def test_panther_activity_values_and_case_insensitive_operations(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "activity/panther_monitoractivity_tests.jsonl")
    deletes = rows(
        case,
        "SELECT _Line, OperationNameValue FROM AzureActivity "
        "WHERE lower(OperationNameValue) LIKE '%/diagnosticsettings/delete' ORDER BY _Line",
    )
    spellings = {r["OperationNameValue"] for r in deletes}
    assert spellings == {
        "Microsoft.Insights/diagnosticSettings/delete",
        "microsoft.insights/diagnosticsettings/delete",
    }
    # line 122 nests the operation as REST does, inside the export shape
    (r,) = rows(case, "SELECT * FROM AzureActivity WHERE _Line = 122")
    assert r["OperationNameValue"] == "Microsoft.Authorization/elevateAccess/action"
    assert r["TimeGenerated"] == datetime(2024, 12, 24, 15, 45, tzinfo=UTC)
    # nine fractional digits before Z are truncated to microseconds, not rejected
    (r,) = rows(case, "SELECT TimeGenerated FROM AzureActivity WHERE _Line = 4")
    assert r["TimeGenerated"] == datetime(2025, 12, 22, 8, 46, 29, 678707, tzinfo=UTC)


def test_entra_diagnostic_export_values(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "entra/panther_azure_audit_tests.jsonl")
    (r,) = rows(case, "SELECT * FROM AuditLogs WHERE _Line = 5")
    assert r["OperationName"] == "Set federation settings on domain"
    assert r["Category"] == "DirectoryManagement"
    assert r["_Format"] == "d2"
    assert r["TimeGenerated"].tzinfo is not None
    # line 12 has lower-cased keys (`operationname`, `resourceid`): read all the same
    (s,) = rows(case, "SELECT * FROM SigninLogs WHERE _Line = 12")
    assert s["Category"] == "ServicePrincipalSignInLogs"
    assert s["OperationName"] == "Sign-in activity"
    assert s["ResourceId"].startswith("/tenants/c0dd2fa0")


def test_log_analytics_auditlogs_rows_with_query_columns(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "entra/otrf_goldensaml_AADAuditEvents.json")
    got = rows(case, "SELECT * FROM AuditLogs ORDER BY _Line")
    assert len(got) == 4
    first = got[0]
    # The en dash and the trailing space are Microsoft's, kept byte for byte.
    assert first["OperationName"] == "Update application \u2013 Certificates and secrets management "
    assert first["TimeGenerated"] == datetime(2021, 8, 2, 13, 29, 25, 983000, tzinfo=UTC)
    assert first["Result"] == "success"
    upn = case.con.execute("SELECT InitiatedBy->>'$.user.userPrincipalName' FROM AuditLogs WHERE _Line = 1").fetchone()
    assert upn == ("pgustavo@simulandlabs.com",)
    # rows 3 and 4 carry a hunting query's own `Type` column (Application, ServicePrincipal)
    assert {r["OperationName"] for r in got[2:]} == {"Update application", "Add delegated permission grant"}


def test_officeactivity_csv_parameters_by_name(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "m365/msticpy_demo_exchange_data.csv")
    got = rows(
        case,
        "SELECT TimeGenerated, Operation, lw_param(Parameters, 'AdminAuditLogEnabled') AS enabled, "
        "lw_param(Parameters, 'identity') AS ident FROM OfficeActivity "
        "WHERE Operation = 'Set-AdminAuditLogConfig' ORDER BY TimeGenerated",
    )
    assert len(got) == 4
    assert all(r["enabled"] == "True" for r in got)
    r = next(r for r in got if r["TimeGenerated"] == datetime(2020, 5, 2, 11, 33, 14, tzinfo=UTC))
    assert r["ident"].endswith("seccxpninja.onmicrosoft.com")
    (n,) = case.con.execute(
        "SELECT count(*) FROM OfficeActivity WHERE Operation = 'Install-AdminAuditLogConfig'"
    ).fetchone()
    assert n == 4


def test_officeactivity_row_and_lowercase_management_api(ingest: IngestFn, case: CaseDatabase) -> None:
    ingest(SHARED_DATA / "m365/otrf_goldensaml_OfficeActivityEvents.json")
    ingest(SHARED_DATA / "m365/panther_m365_exchange_tests_lowercase.jsonl")
    (r,) = rows(case, "SELECT * FROM OfficeActivity WHERE _Format = 'e4'")
    assert r["Operation"] == "MailItemsAccessed"
    assert r["RecordType"] == "ExchangeItemAggregated"
    assert r["TimeGenerated"] == datetime(2021, 8, 2, 13, 32, 7, tzinfo=UTC)
    lower = rows(case, "SELECT * FROM OfficeActivity WHERE _Format = 'e1' ORDER BY _Line")
    assert len(lower) == 10
    first = lower[0]
    assert first["Operation"] == "Set-Mailbox"
    assert first["RecordType"] == "ExchangeAdmin"
    assert first["UserType"] == "Admin"
    assert first["OfficeWorkload"] == "Exchange"
    assert first["TimeGenerated"] == datetime(2022, 12, 12, 22, 19, tzinfo=UTC)  # no zone: UTC
    (fwd,) = case.con.execute(
        "SELECT lw_param(Parameters, 'ForwardingSmtpAddress') FROM OfficeActivity WHERE _Format = 'e1' AND _Line = 1"
    ).fetchone()
    assert fwd == "smtp:peter.griffin@familyguy.com"


@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED_DATA / "config").glob("*.json")))
def test_settings_snapshots_are_named_not_unknown(ingest: IngestFn, name: str) -> None:
    (result,) = ingest(SHARED_DATA / "config" / name).files
    assert (result.stored, dict(result.reasons)) == (0, {"config-snapshot": 1})
    assert "Get-AdminAuditLogConfig output" in result.first_rejects[0][2]
