"""The built-in tamper rule pack, run as a user runs it: each test event file is ingested into a
case database of its own, then the whole pack hunts over it.

Beside every rule file `<area>/<stem>.yml` is a folder `<area>/<stem>/` holding its cases, one
export file each (hand-made, see the pack's README):
- `positive/<case>.*`: the pack gives exactly one alert, from the rule of this file that
  `<stem>/alerts.toml` names for the case, at the rule's level; at its `attempt_level` when the
  case's name starts with `attempt`;
- `negative/<case>.*`: the pack gives no alert at all.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from logwarden.cli import builtin_rules
from logwarden.detectors.sentinel.analytics import ALERTS_FILE
from logwarden.detectors.sigma.hunt import Alert, hunt
from logwarden.detectors.sigma.rules import CompiledRule, load
from logwarden.ingest import Ingestor, open_case

PACK = builtin_rules()
RULE_FILES = sorted(p for p in PACK.rglob("*.yml") if p.parent.name != "common")


def _cases(kind: str) -> list[tuple[Path, Path]]:
    return [
        (rule, case)
        for rule in RULE_FILES
        for case in sorted((rule.parent / rule.stem / kind).glob("*"))
        if case.is_file()
    ]


@pytest.fixture(scope="module")
def pack() -> list[CompiledRule]:
    return load([PACK])


def _alerts(tmp_path: Path, case: Path, rules: list[CompiledRule]) -> list[Alert]:
    with open_case(tmp_path / "case.duckdb") as db:
        with Ingestor(db) as ingestor:
            report = ingestor.ingest([case])
        assert report.ok and report.stored > 0, f"{case}: the test event did not ingest cleanly"
        return list(hunt(db, rules))


def test_every_rule_compiles_and_has_cases(pack: list[CompiledRule]) -> None:
    assert [f"{r.source}: {r.error}" for r in pack if r.error] == []
    for rule in RULE_FILES:
        for kind in ("positive", "negative"):
            assert list((rule.parent / rule.stem / kind).glob("*")), f"{rule}: no {kind} test event"


def _expected(rule_file: Path) -> dict[str, str]:
    """The file's `alerts.toml`: which of its rules alerts on each positive case."""
    return tomllib.loads((rule_file.parent / rule_file.stem / ALERTS_FILE).read_text(encoding="utf-8"))


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.stem)
def test_alerts_file_names_every_positive_and_an_alerting_rule(rule_file: Path, pack: list[CompiledRule]) -> None:
    folder = rule_file.parent / rule_file.stem
    positives = {p.relative_to(folder).as_posix() for p in (folder / "positive").glob("*") if p.is_file()}
    expected = _expected(rule_file)
    assert set(expected) == positives
    alerting = {r.id for r in pack if r.source == str(rule_file) and r.alerts}
    assert set(expected.values()) <= alerting


@pytest.mark.parametrize(("rule_file", "case"), _cases("positive"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_positive(rule_file: Path, case: Path, pack: list[CompiledRule], tmp_path: Path) -> None:
    alerts = _alerts(tmp_path, case, pack)
    expected = _expected(rule_file)[case.relative_to(rule_file.parent / rule_file.stem).as_posix()]
    assert [a.rule_id for a in alerts] == [expected], (
        f"{case}: expected one alert from rule {expected} of {rule_file.name}, got {[a.title for a in alerts]}"
    )
    rule = next(r for r in pack if r.id == expected)
    expected = rule.attempt_level if case.name.startswith("attempt") else rule.level
    assert alerts[0].level == expected


@pytest.mark.parametrize(("rule_file", "case"), _cases("negative"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_negative(rule_file: Path, case: Path, pack: list[CompiledRule], tmp_path: Path) -> None:
    assert [a.title for a in _alerts(tmp_path, case, pack)] == []
