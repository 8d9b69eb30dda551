"""Which tamper-catalogue behaviours the rules cover, computed from the rules themselves.

A rule claims behaviours with `logwarden: {catalogue: [A1]}`; its test cases are the files in
`<rule stem>/positive/` and `<rule stem>/negative/` beside its file. The catalogue (behaviours,
priority tier, the public rule sets' coverage) ships as `logwarden/rules/catalogue.yml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from logwarden.detectors.sigma.rules import CompiledRule


@dataclass(frozen=True)
class Behaviour:
    id: str
    behaviour: str
    tier: str
    public: dict[str, str]  # rule set -> its rule codes (◐ partial, H hunting only)


@dataclass(frozen=True)
class CoveringRule:
    title: str
    level: str
    source: str
    positives: int
    negatives: int


@dataclass(frozen=True)
class Coverage:
    behaviour: Behaviour
    rules: tuple[CoveringRule, ...]


def catalogue() -> list[Behaviour]:
    text = (resources.files("logwarden") / "rules" / "catalogue.yml").read_text(encoding="utf-8")
    return [
        Behaviour(str(b["id"]), str(b["behaviour"]), str(b["tier"]), {str(k): str(v) for k, v in b["public"].items()})
        for b in yaml.safe_load(text)["behaviours"]
    ]


def _cases(source: str, kind: str) -> int:
    folder = Path(source).with_suffix("") / kind
    return sum(1 for f in folder.glob("*") if f.is_file()) if folder.is_dir() else 0


def coverage(rules: list[CompiledRule]) -> list[Coverage]:
    """Every catalogue behaviour with the rules that claim it (rules that cannot run claim nothing)."""
    claims: dict[str, list[CoveringRule]] = {}
    for rule in rules:
        if not rule.runs:
            continue
        covering = CoveringRule(
            rule.title, rule.level, rule.source, _cases(rule.source, "positive"), _cases(rule.source, "negative")
        )
        for behaviour in rule.catalogue:
            claims.setdefault(behaviour, []).append(covering)
    return [Coverage(b, tuple(claims.get(b.id, ()))) for b in catalogue()]
