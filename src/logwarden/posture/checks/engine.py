"""Checks: their metadata (checks.yml), their functions (registered by id) and the run that
judges a snapshot with all of them.

A check never turns a missing or unreadable setting into pass or fail: when the snapshot
cannot tell, the verdict is `unknown`, with the reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml

from logwarden.posture.snapshot.model import Provenance, Reading, Snapshot


class Verdict(StrEnum):
    passed = "pass"
    failed = "fail"
    unknown = "unknown"
    not_applicable = "n/a"


@dataclass(frozen=True)
class CheckInfo:
    id: str
    title: str
    severity: str
    references: tuple[str, ...]
    reads: str
    rationale: str
    fix: str
    beyond_cis: bool


@dataclass(frozen=True)
class Options:
    """The minimums a user may move; defaults from the reference (docs/posture.md)."""

    min_retention_days: int = 90
    min_audit_retention_days: int = 365


@dataclass(frozen=True)
class Outcome:
    """What a check function says about one subject."""

    subject: str
    verdict: Verdict
    evidence: str
    readings: tuple[Reading, ...] = ()
    fill: dict[str, str] = field(default_factory=dict)  # the fix's <placeholders>


@dataclass(frozen=True)
class Finding:
    check: CheckInfo
    subject: str
    verdict: Verdict
    evidence: str
    fix: str
    provenance: tuple[Provenance, ...]


CheckFunction = Callable[[Snapshot, Options], Iterable[Outcome]]
_REGISTRY: dict[str, CheckFunction] = {}


def check(check_id: str) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        if check_id in _REGISTRY:
            raise ValueError(f"two functions for check {check_id}")
        _REGISTRY[check_id] = function
        return function

    return register


def catalogue() -> list[CheckInfo]:
    """Every check's metadata, in the order of checks.yml."""
    text = (resources.files("logwarden.posture.checks") / "checks.yml").read_text(encoding="utf-8")
    return [
        CheckInfo(
            id=str(entry["id"]),
            title=str(entry["title"]),
            severity=str(entry["severity"]),
            references=tuple(str(r) for r in entry.get("references") or ()),
            reads=str(entry["reads"]),
            rationale=" ".join(str(entry["rationale"]).split()),
            fix=str(entry["fix"]),
            beyond_cis=bool(entry.get("beyond_cis", False)),
        )
        for entry in yaml.safe_load(text)
    ]


def functions() -> dict[str, CheckFunction]:
    # the modules register their checks when imported
    from logwarden.posture.checks import m365, monitor, storage, workspace  # noqa: F401

    return dict(_REGISTRY)


def _fix(template: str, fill: dict[str, str]) -> str:
    for name, value in fill.items():
        template = template.replace(f"<{name}>", value)
    return template


def run(snapshot: Snapshot, options: Options | None = None) -> list[Finding]:
    chosen = options or Options()
    registry = functions()
    findings = []
    for info in catalogue():
        for outcome in registry[info.id](snapshot, chosen):
            seen: dict[Provenance, None] = dict.fromkeys(r.provenance for r in outcome.readings)
            fix = _fix(info.fix, outcome.fill) if outcome.verdict is Verdict.failed else ""
            findings.append(Finding(info, outcome.subject, outcome.verdict, outcome.evidence, fix, tuple(seen)))
    return findings


def summary(findings: Iterable[Finding]) -> dict[str, Any]:
    counts = {v.value: 0 for v in Verdict}
    for found in findings:
        counts[found.verdict.value] += 1
    return counts
