"""How the hunt groups a table's rules into scans (a prefiltered scan for rules with selective
guards, a direct one for the rest) decides its speed, never its findings: the alerts of all rules
together are the alerts of each rule run alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from logwarden.cli import builtin_rules
from logwarden.detectors.sigma.hunt import _selective, hunt
from logwarden.detectors.sigma.rules import load
from logwarden.ingest import Ingestor, open_case
from logwarden.store.database import CaseDatabase
from logwarden.synthetic.tenant import write_tenant

# Hand-made rules: a permissive guard (most records succeed), no guard at all (a path into the
# claims), a guard that is its own costly test (a regular expression), a selective one.
RULES = {
    "permissive.yml": """
title: Permissive guard
id: 5d1c7f64-98a4-4c0e-9a55-0d2a6f3e1b01
logsource: {product: azure, service: activitylogs}
detection:
  s: {resultType: Success, properties.requestbody|contains: '"enabled":false'}
  condition: s
level: low
""",
    "unguarded.yml": """
title: No guard
id: 5d1c7f64-98a4-4c0e-9a55-0d2a6f3e1b02
logsource: {product: azure, service: activitylogs}
detection:
  s: {identity.claims.ipaddr|startswith: '203.0.113.'}
  condition: s
level: low
""",
    "regex.yml": """
title: Regular expression guard
id: 5d1c7f64-98a4-4c0e-9a55-0d2a6f3e1b03
logsource: {product: azure, service: activitylogs}
detection:
  s: {resourceId|re: '(?i)/providers/microsoft\\.insights/diagnosticsettings/'}
  condition: s
level: low
""",
}


@pytest.fixture(scope="module")
def tenant_case(tmp_path_factory: pytest.TempPathFactory) -> CaseDatabase:
    root = tmp_path_factory.mktemp("scans")
    tenant = write_tenant(root / "exports", days=7, seed=5, end=datetime(2026, 11, 27, 12, tzinfo=UTC), scale=0.2)
    case = open_case(root / "case.duckdb")
    with Ingestor(case) as ingestor:
        assert ingestor.ingest([tenant.out]).ok
    return case


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rules")
    for name, text in RULES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _key(alert: object) -> tuple[object, ...]:
    return tuple(vars(alert).values())


def test_scan_grouping_never_changes_what_is_found(tenant_case: CaseDatabase, rules_dir: Path) -> None:
    rules = load([builtin_rules(), rules_dir])
    mine = [r for r in rules if r.source.startswith(str(rules_dir))]
    selective = _selective(tenant_case, "AzureActivity", [r for r in rules if r.table == "AzureActivity"])
    # The groups this test means to mix are all there.
    assert id(next(r for r in mine if r.title == "Permissive guard")) not in selective
    assert next(r for r in mine if r.title == "No guard").guard is None
    assert any(id(r) in selective for r in rules if r.table == "AzureActivity")
    together = sorted(map(_key, hunt(tenant_case, rules)), key=str)
    alone = sorted(
        (_key(a) for r in rules if r.runs and r.query is None and r.alerts for a in hunt(tenant_case, [r])), key=str
    )
    correlations = {r.id for r in rules if r.query is not None}
    assert [k for k in together if k[0] not in correlations] == alone
    assert {k[0] for k in together} >= {r.id for r in mine}
