"""Every SigmaHQ rule for Azure and Microsoft 365 (vendored in tests/data/sigmahq, DRL 1.1)
compiles and runs over a real case database, or `rules check` names why it cannot."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from logwarden.detectors.sigma.hunt import hunt
from logwarden.detectors.sigma.rules import load
from logwarden.ingest import Ingestor, open_case

CORPUS = Path(__file__).parent / "data" / "sigmahq" / "rules"

# Recorded in docs/hunting.md; a change here is a change in coverage, up or down.
COMPILING = 134
CANNOT = 53


def test_corpus_compiles_or_says_why() -> None:
    rules = load([CORPUS])
    assert len(rules) == COMPILING + CANNOT
    assert sum(r.runs for r in rules) == COMPILING
    reasons = Counter(r.error for r in rules if r.error)
    assert sum(reasons.values()) == CANNOT
    for reason in reasons:
        assert len(reason) > 20  # says what is wrong, not just that something is
    # The largest group is a log this database has no table for: said so, not hidden.
    assert any("service=riskdetection" in r for r in reasons)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the repository")
def test_every_compiling_rule_runs(tmp_path: Path) -> None:
    db = open_case(tmp_path / "case.duckdb")
    with Ingestor(db) as ingestor:
        ingestor.ingest([SHARED_DATA / d for d in ("activity", "entra", "m365")])
    rules = [r for r in load([CORPUS]) if r.runs]
    alerts = list(hunt(db, rules))  # any SQL a rule compiled to that DuckDB rejects would raise here
    assert all(a.rule_id for a in alerts)
    db.close()


# Recorded in docs/sentinel.md: every SigmaHQ rule that runs locally also exports to Sentinel.
EXPORTED = 133


def test_every_rule_that_runs_locally_exports_to_sentinel_and_passes_the_kusto_language_service() -> None:
    from logwarden.detectors.sentinel.analytics import export
    from test_sentinel_export import errors, kusto

    found = export([CORPUS])
    assert len(found.rules) == EXPORTED
    local = {r.title for r in load([CORPUS]) if r.runs and r.alerts}
    assert {r.name for r in found.rules} == local
    assert all(len(s.reason) > 20 for s in found.skipped)
    results = kusto([r.query for r in found.rules])
    assert [(r.name, errors(x)) for r, x in zip(found.rules, results, strict=True) if errors(x)] == []
