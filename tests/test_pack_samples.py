"""The built-in pack over the real public samples in ../shared/data (unmodified) and over the
example that ships inside logwarden: it alerts on the records that really are tampering, each
named below, and on nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from logwarden.cli import builtin_rules, example_folder
from logwarden.detectors.sigma.hunt import Alert, hunt
from logwarden.detectors.sigma.rules import load
from logwarden.ingest import Ingestor, open_case

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _hunt(tmp_path: Path, inputs: list[Path]) -> list[Alert]:
    with open_case(tmp_path / "case.duckdb") as db:
        with Ingestor(db) as ingestor:
            ingestor.ingest(inputs)
        return list(hunt(db, load([builtin_rules()])))


def _named(alerts: list[Alert]) -> list[tuple[str, str, int | None, str]]:
    return sorted((Path(a.file or "").name, a.title, a.line or a.record, a.level) for a in alerts)


@pytest.fixture(scope="module")
def shared_alerts(tmp_path_factory: pytest.TempPathFactory) -> list[Alert]:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    inputs = [SHARED / "activity", SHARED / "entra", SHARED / "m365"]
    return _hunt(tmp_path_factory.mktemp("shared"), inputs)


def test_benign_real_samples_give_no_alert(shared_alerts: list[Alert]) -> None:
    # msticpy's two months of real Exchange administration include benign Set-AdminAuditLogConfig
    # records (AdminAuditLogEnabled=True); the Entra and Exchange samples hold no tampering.
    quiet = {"msticpy_demo_exchange_data.csv", "panther_m365_exchange_tests_lowercase.jsonl"}
    quiet |= {"otrf_goldensaml_OfficeActivityEvents.json", "panther_azure_audit_tests.jsonl"}
    quiet |= {"otrf_goldensaml_AADAuditEvents.json", "sumologic_eventhub_records.json"}
    assert [a for a in _named(shared_alerts) if a[0] in quiet] == []


def test_panther_activity_sample_alerts_on_its_tampering_events(shared_alerts: list[Alert]) -> None:
    got = [a[1:] for a in _named(shared_alerts) if a[0] == "panther_monitoractivity_tests.jsonl"]
    assert got == sorted(EXPECTED_PANTHER)


def test_the_shipped_example(tmp_path: Path) -> None:
    assert _named(_hunt(tmp_path, [example_folder()])) == sorted(EXPECTED_EXAMPLE)


# Panther's test events for its Azure Activity rules are real-shaped tampering and look-alikes.
# They share timestamps and correlation ids across unrelated tests (10:30, 11:45, ...), so a
# resource deleted "with" its diagnostic setting in this file is taken as the setting's cascade
# (lines 31, 32: the storage account and key vault are deleted by the same caller at the same
# minute), just as they would be in a real log.
EXPECTED_PANTHER: list[tuple[str, int | None, str]] = [
    ("Action Group Deleted and Not Re-created", 1, "high"),  # securityteam
    ("Action Group Deleted and Not Re-created", 2, "high"),  # oncallteam
    # line 3: the action group write is not a deletion
    ("Metric or Classic Alert Rule Deleted and Not Re-created", 6, "medium"),  # classic alertRules
    ("Metric or Classic Alert Rule Deleted and Not Re-created", 7, "medium"),  # metricAlerts
    ("Metric or Classic Alert Rule Deleted and Not Re-created", 8, "medium"),  # lower-case metricalerts
    ("Event Hub Deleted and Not Re-created", 37, "high"),  # siem-events
    ("Event Hub Deleted and Not Re-created", 38, "high"),  # audit-logs
    # the workspaces are deleted in the same minute as their resource groups (lines 108, 109):
    # the workspace (B1) and the group holding log infrastructure (I6)
    ("Log Analytics Workspace Deleted (Recoverable for 14 Days)", 69, "critical"),
    ("Log Analytics Workspace Deleted (Recoverable for 14 Days)", 70, "critical"),
    ("Resource Group Holding Logging Infrastructure Deleted", 69, "high"),
    ("Resource Group Holding Logging Infrastructure Deleted", 70, "high"),
    ("Network Watcher Deleted (Not as Part of a Resource Group Delete)", 84, "medium"),
    ("Network Watcher Deleted (Not as Part of a Resource Group Delete)", 85, "medium"),
    ("Resource Lock Deleted and Not Put Back", 111, "medium"),
    ("Resource Lock Deleted and Not Put Back", 112, "medium"),
    ("Resource Lock Deleted and Not Put Back", 113, "medium"),
    ("Resource Lock Deleted and Not Put Back", 114, "low"),  # Failed: an attempt
    # blobServices writes turning soft delete off; lines 148 and 175 are one operation (same
    # correlation id, operation and resource), so one alert, from the first read
    ("Blob Soft Delete, Container Soft Delete or Versioning Disabled on a Storage Account", 148, "medium"),
    ("Blob Soft Delete, Container Soft Delete or Versioning Disabled on a Storage Account", 149, "medium"),
    ("Immutability (WORM) Policy Deleted from a Storage Container", 183, "high"),
    ("Immutability (WORM) Policy Deleted from a Storage Container", 184, "high"),
    ("Immutability (WORM) Policy Deleted from a Storage Container", 185, "high"),
    ("Immutability (WORM) Policy Deleted from a Storage Container", 186, "medium"),  # Failed: an attempt
]

# The example that ships inside logwarden: hand-made events of one intrusion, in several formats.
EXPECTED_EXAMPLE: list[tuple[str, str, int | None, str]] = [
    (
        "AuditLog_2026-03-02.csv",
        "Advanced Audit (Audit Premium) Switched Off for Users through Their Licence",
        4,
        "high",
    ),
    ("AuditLog_2026-03-02.csv", "Unified Audit Log Switched Off and Not Switched Back on", 2, "critical"),
    ("PT1H.json", "Activity Log Export or SIEM Workspace Diagnostic Setting Deleted", 3, "critical"),
    # only the Start of these writes is in the example: attempts, as far as the logs tell
    ("PT1H.json", "Diagnostic Setting Rewritten with Every Log Category Disabled or Removed", 1, "medium"),
    ("PT1H.json", "Log Analytics Table Retention Cut or Plan Downgraded", 2, "medium"),
    ("PT1H.json", "Log Analytics Workspace Data Purged", 1, "critical"),  # Accept: a purge is asynchronous
    ("activity-log-rest.json", "Activity Log Export or SIEM Workspace Diagnostic Setting Deleted", 1, "critical"),
    ("activity-log-rest.json", "Log Analytics Workspace Retention Cut or Daily Cap Set", 1, "medium"),
    ("directoryAudits.json", "Advanced Audit (Audit Premium) Switched Off for Users through Their Licence", 1, "high"),
]
