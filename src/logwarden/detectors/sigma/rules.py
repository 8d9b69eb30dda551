"""Load Sigma rules and compile each for the case database, keeping every failure's reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from logwarden.detectors.sigma.compiler import Compiler, Predicate, UnsupportedRule
from logwarden.detectors.sigma.fieldmap import UnmappedField, UnsupportedLogsource, table_for


@dataclass(frozen=True)
class CompiledRule:
    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    source: str
    table: str | None = None
    predicate: Predicate | None = None
    error: str | None = None


def load(paths: Iterable[Path]) -> list[CompiledRule]:
    """Every rule under `paths` (files or folders of .yml/.yaml), compiled or with its error."""
    files = sorted(
        f for p in paths for f in ([p] if p.is_file() else [*p.rglob("*.yml"), *p.rglob("*.yaml")]) if f.is_file()
    )
    out: list[CompiledRule] = []
    for f in files:
        try:
            collection = SigmaCollection.from_yaml(f.read_text(encoding="utf-8"), collect_errors=True)
        except (SigmaError, UnicodeDecodeError, ValueError) as exc:
            out.append(CompiledRule("", f.stem, "", (), str(f), error=f"not a readable Sigma file: {exc}"))
            continue
        for rule in collection.rules:
            out.append(compile_rule(rule, str(f)))
    return out


def compile_rule(rule: SigmaRule | SigmaCorrelationRule, source: str) -> CompiledRule:
    level = getattr(rule, "level", None)
    meta = CompiledRule(
        id=str(rule.id or ""),
        title=rule.title or "",
        level=level.name.lower() if level else "",
        tags=tuple(f"{t.namespace}.{t.name}" for t in (rule.tags or [])),
        source=source,
    )
    if rule.errors:
        return replace(meta, error="; ".join(str(e) for e in rule.errors))
    if isinstance(rule, SigmaCorrelationRule):
        return replace(meta, error="correlation rules are not supported yet")
    try:
        table = table_for(rule.logsource)
        compiler = Compiler(table)
        parts = [compiler.compile(condition.parsed) for condition in rule.detection.parsed_condition]
    except (UnmappedField, UnsupportedLogsource, UnsupportedRule, SigmaError) as exc:
        return replace(meta, error=str(exc))
    predicate = Predicate(" OR ".join(p.sql for p in parts), [x for p in parts for x in p.params])
    return replace(meta, table=table.name, predicate=predicate)
