"""`logwarden hunt` and `logwarden rules` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logwarden.cli import app
from logwarden.outputs.alerts import neutralise

runner = CliRunner(env={"COLUMNS": "250"})

RULE = """
title: Diagnostic setting deleted
id: 0b7d2b8a-7c3e-4f4e-9d7e-2a1f3c9b8e01
status: test
level: high
tags: [attack.defense-evasion, attack.t1562.008]
logsource: {product: azure, service: activitylogs}
detection:
  sel:
    operationName|endswith: '/diagnosticSettings/delete'
    resultType: Success
  condition: sel
"""
BROKEN = """
title: Uses a field nobody has
id: 6a1d6f1e-2f0b-4d7a-9a36-3a5c2a5d1f02
status: test
level: low
logsource: {product: azure, service: activitylogs}
detection:
  sel:
    NoSuchField: x
  condition: sel
"""
EVENT = {
    "time": "2026-03-02T10:15:56.3Z",
    "resourceId": "/SUBSCRIPTIONS/B7E4/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/LAW",
    "operationName": "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
    "category": "Delete",
    "resultType": "Success",
    "callerIpAddress": "203.0.113.45",
    "correlationId": "c1",
    # Attacker-controlled text shaped like a spreadsheet formula.
    "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": '=HYPERLINK("x")'}},
}


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "diag.yml").write_text(RULE)
    (rules / "broken.yml").write_text(BROKEN)
    (rules / "garbled.yml").write_text("title: half-written\nid: @@\n")
    (rules / "scalar.yml").write_text("just a sentence\n")
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "PT1H.json").write_text(json.dumps(EVENT) + "\n")
    return rules, exports, tmp_path / "case.duckdb"


def test_hunt_ingests_then_writes_jsonl(setup: tuple[Path, Path, Path]) -> None:
    rules, exports, db = setup
    result = runner.invoke(
        app, ["hunt", str(exports), "--db", str(db), "--rules", str(rules), "--no-builtin", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 1
    alert = lines[0]
    assert alert["title"] == "Diagnostic setting deleted" and alert["level"] == "high"
    assert alert["tags"] == ["attack.defense-evasion", "attack.t1562.008"]
    assert alert["time"] == "2026-03-02T10:15:56.300000Z"
    assert alert["ip"] == "203.0.113.45" and alert["line"] == 1 and alert["file"].endswith("PT1H.json")
    assert "rule skipped" in result.stderr and "NoSuchField" in result.stderr


def test_hunt_csv_neutralises_formulas(setup: tuple[Path, Path, Path]) -> None:
    rules, exports, db = setup
    result = runner.invoke(
        app, ["hunt", str(exports), "--db", str(db), "--rules", str(rules), "--no-builtin", "--format", "csv"]
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["actor"] == '\'=HYPERLINK("x")'


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert neutralise("plain") == "plain" and neutralise(5) == 5


def test_rules_check_names_what_cannot_run(setup: tuple[Path, Path, Path]) -> None:
    rules, _, _ = setup
    result = runner.invoke(app, ["rules", "check", "--rules", str(rules), "--no-builtin"])
    assert result.exit_code == 1
    assert "broken.yml" in result.stdout and "NoSuchField" in result.stdout
    assert "garbled.yml" in result.stdout and "not a readable Sigma file" in result.stdout
    assert "scalar.yml" in result.stdout and "holds a str" in result.stdout
    assert "1 rules compile, 3 do not" in result.stdout


def test_rules_list_and_show(setup: tuple[Path, Path, Path]) -> None:
    rules, _, _ = setup
    listed = runner.invoke(app, ["rules", "list", "--rules", str(rules), "--no-builtin"])
    assert "0b7d2b8a-7c3e-4f4e-9d7e-2a1f3c9b8e01" in listed.stdout and "AzureActivity" in listed.stdout
    shown = runner.invoke(
        app, ["rules", "show", "0b7d2b8a-7c3e-4f4e-9d7e-2a1f3c9b8e01", "--rules", str(rules), "--no-builtin"]
    )
    assert "ILIKE ?" in shown.stdout and "'%/diagnosticSettings/delete'" in shown.stdout


def test_hunt_table_on_terminal_output(setup: tuple[Path, Path, Path]) -> None:
    rules, exports, db = setup
    result = runner.invoke(
        app, ["hunt", str(exports), "--db", str(db), "--rules", str(rules), "--no-builtin", "--format", "table"]
    )
    assert "Diagnostic setting deleted" in result.stdout and "line 1" in result.stdout
