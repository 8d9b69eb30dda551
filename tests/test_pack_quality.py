"""The built-in pack as Sigma: SigmaHQ's own validators, ATT&CK tags in both numbering schemes,
metadata an analyst relies on, and the catalogue coverage computed from the rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.plugins import InstalledSigmaPlugins
from sigma.rule import SigmaRule
from sigma.validation import SigmaValidator
from typer.testing import CliRunner

from logwarden.cli import app, builtin_rules
from logwarden.detectors.sigma.coverage import catalogue, coverage
from logwarden.detectors.sigma.rules import load

PACK = builtin_rules()
FILES = sorted(PACK.rglob("*.yml"))

# SigmaHQ validators left out, and why.
EXCLUDED = {
    # These load MITRE ATT&CK, D3FEND or SigmaHQ's field and logsource lists from the internet,
    # which neither logwarden nor its tests may do; tags are checked below instead.
    "attacktag": "downloads ATT&CK data",
    "d3_fendtag": "downloads D3FEND data",
    "sigmahq_tags_techniques_without_tactics": "downloads ATT&CK data",
    "sigmahq_fieldname_cast": "downloads SigmaHQ's field lists",
    "sigmahq_invalid_fieldname": "downloads SigmaHQ's field lists",
    "sigmahq_redundant_field": "downloads SigmaHQ's field lists",
    "sigmahq_logsource_unknown": "downloads SigmaHQ's logsource taxonomy",
    "sigmahq_filename_prefix": "downloads SigmaHQ's file-name prefixes",
    # The pack names files `<catalogue id>_<what>.yml` so coverage reads at a glance.
    "sigmahq_filename_convention": "logwarden's file naming",
    "sigmahq_correlation_filename_prefix": "logwarden's file naming",
    # `logwarden:` holds the catalogue IDs and attempt level.
    "sigmahq_unknown_field": "logwarden's own rule attributes",
}
# ATT&CK v18 technique -> its v19 successor (SigmaHQ's retag of 2026-04-29).
V19 = {"t1562.008": "t1685.002", "t1562.001": "t1685", "t1562": "t1685", "t1070": "t1070"}


@pytest.fixture(scope="module")
def collection() -> SigmaCollection:
    return SigmaCollection.load_ruleset([str(f) for f in FILES], collect_errors=True)


def test_sigmahq_validators(collection: SigmaCollection) -> None:
    validators = InstalledSigmaPlugins.autodiscover().validators
    assert set(EXCLUDED) <= set(validators)
    chosen = SigmaValidator(v for name, v in validators.items() if name not in EXCLUDED)
    issues = [
        f"{type(i).__name__}: {[r.title for r in i.rules]} { ({k: v for k, v in i.__dict__.items() if k != 'rules'}) }"
        for i in chosen.validate_rules(collection)
    ]
    assert issues == []


def _alerting(collection: SigmaCollection) -> list[SigmaRule | SigmaCorrelationRule]:
    return [r for r in collection.rules if "logwarden" in r.custom_attributes]


def test_alerting_rules_carry_what_an_analyst_needs(collection: SigmaCollection) -> None:
    rules = _alerting(collection)
    assert rules
    known = {b.id for b in catalogue()}
    for rule in rules:
        where = f"{rule.source}: {rule.title}"
        tags = {f"{t.namespace}.{t.name}" for t in rule.tags}
        techniques = {t.split(".", 1)[1] for t in tags if t.startswith("attack.t")}
        assert techniques & set(V19), f"{where}: no ATT&CK v18 technique"
        for v18, v19 in V19.items():
            if v18 in techniques:
                assert v19 in techniques, f"{where}: {v18} without its v19 successor {v19}"
        assert "attack.defense-evasion" in tags and ("attack.defense-impairment" in tags or "attack.stealth" in tags), (
            f"{where}: tactics in both schemes"
        )
        assert rule.description and rule.falsepositives and rule.level, where
        assert any("learn.microsoft.com" in r for r in rule.references), f"{where}: no Microsoft reference"
        assert set(rule.custom_attributes["logwarden"]["catalogue"]) <= known, where


def test_ids_and_names_are_unique(collection: SigmaCollection) -> None:
    ids = [str(r.id) for r in collection.rules]
    names = [r.name for r in collection.rules if r.name]
    assert len(ids) == len(set(ids)) and len(names) == len(set(names))


def test_every_catalogue_behaviour_is_covered() -> None:
    items = coverage(load([PACK]))
    # M1, silence, is the silence detector's (issue 5), not a rule's.
    missing = [i.behaviour.id for i in items if not i.rules and i.behaviour.id != "M1"]
    assert missing == []
    for item in items:
        for rule in item.rules:
            assert rule.positives >= 2 and rule.negatives >= 2, f"{item.behaviour.id}: {rule.title}"


def test_rules_coverage_command() -> None:
    result = CliRunner().invoke(app, ["rules", "coverage", "--format", "markdown"])
    assert result.exit_code == 0
    a1 = next(line for line in result.stdout.splitlines() if line.startswith("| A1 |"))
    assert re.search(r"Diagnostic Setting Deleted and Not Restored \(high; tests \d+\+/\d+-\)", a1, re.I), a1
    assert a1.endswith("| Elastic E1, Panther P1, Sentinel AS1 |")
    assert re.search(r"^\d+ of 72 behaviours covered by the pack; public rule sets touch 30\.$", result.stdout, re.M)


def test_the_docs_show_the_current_coverage() -> None:
    result = CliRunner().invoke(app, ["rules", "coverage", "--format", "markdown"])
    docs = Path(__file__).resolve().parents[1] / "docs" / "rule-pack.md"
    assert result.stdout in docs.read_text(encoding="utf-8"), "regenerate: logwarden rules coverage --format markdown"


def test_rules_coverage_on_a_terminal() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["rules", "coverage"])
    assert result.exit_code == 0
    assert "Tamper catalogue coverage" in result.stdout
    assert re.search(r"^71 of 72 behaviours covered by the pack; public rule sets touch 30$", result.stdout, re.M)
