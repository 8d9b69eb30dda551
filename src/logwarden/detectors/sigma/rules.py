"""Load Sigma rules and compile each for the case database, keeping every failure's reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import ValueListPlaceholderTransformation
from sigma.rule import SigmaRule

from logwarden.detectors.sigma.compiler import Compiler, Predicate, UnsupportedRule
from logwarden.detectors.sigma.correlation import BaseRule, compile_correlation, references, required
from logwarden.detectors.sigma.fieldmap import UnmappedField, UnsupportedLogsource, table_for

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CompiledRule:
    id: str
    title: str
    level: str
    tags: tuple[str, ...]
    source: str
    table: str | None = None
    predicate: Predicate | None = None  # a detection rule: its WHERE over `table`
    query: Predicate | None = None  # a correlation rule: its whole query
    alerts: bool = True  # False for a rule a correlation uses without `generate: true`
    error: str | None = None
    # logwarden's own rule attributes (under `logwarden:` in the rule): the tamper-catalogue
    # behaviours it covers, and its level when the operation failed or never finished.
    catalogue: tuple[str, ...] = ()
    attempt_level: str | None = None
    uses: tuple[str, ...] = ()  # a correlation's detection rules, by id
    needs: tuple[str, ...] = ()  # those of them that must all have matched for it to fire
    guard: Predicate | None = None  # a detection rule: plain-column tests every match passes
    guard_cheap: bool = False  # the guard has no regular expression or CIDR test

    @property
    def runs(self) -> bool:
        return self.error is None and (self.predicate is not None or self.query is not None)


def placeholder_pipeline(placeholders: dict[str, list[str]] | None = None) -> ProcessingPipeline:
    """The processing every rule gets before either engine compiles it: `%name%` values of
    `|expand` filled from `placeholders` (e.g. an organisation's admin IPs)."""
    return ProcessingPipeline(
        items=[ProcessingItem(ValueListPlaceholderTransformation())], vars=dict(placeholders or {})
    )


@dataclass
class RuleFiles:
    """Every rule read from some files, each with its file; files that could not be read, as
    errors; and, by `id()` of a correlation, why its rule references do not resolve."""

    rules: list[tuple[SigmaRule | SigmaCorrelationRule, str]]
    unreadable: list[CompiledRule]
    unresolved: dict[int, str]


def read(paths: Iterable[Path]) -> RuleFiles:
    """Every rule under `paths` (files or folders of .yml/.yaml). All files form one collection,
    so a correlation may use rules from other files."""
    files = sorted(
        f for p in paths for f in ([p] if p.is_file() else [*p.rglob("*.yml"), *p.rglob("*.yaml")]) if f.is_file()
    )
    unreadable: list[CompiledRule] = []
    rules: list[tuple[SigmaRule | SigmaCorrelationRule, str]] = []
    for f in files:
        try:
            # libyaml's safe loader where PyYAML has it: the pure-Python one takes about a second
            # for the built-in pack alone, on every run.
            documents = [d for d in yaml.load_all(f.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) if d is not None]
            odd = [type(d).__name__ for d in documents if not isinstance(d, dict)]
            if odd:
                raise ValueError(f"a Sigma rule is a YAML mapping, this file holds a {odd[0]}")
            collection = SigmaCollection.from_dicts(documents, collect_errors=True, resolve_references=False)
        except (SigmaError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            unreadable.append(CompiledRule("", f.stem, "", (), str(f), error=f"not a readable Sigma file: {exc}"))
            continue
        rules += [(rule, str(f)) for rule in collection.rules]
    everything = SigmaCollection([rule for rule, _ in rules], resolve_references=False)
    unresolved: dict[int, str] = {}
    for rule, _ in rules:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(everything)
            except SigmaError as exc:
                unresolved[id(rule)] = str(exc)
    return RuleFiles(rules, unreadable, unresolved)


def load(paths: Iterable[Path], placeholders: dict[str, list[str]] | None = None) -> list[CompiledRule]:
    """Every rule under `paths`, compiled or with its error (see `read`)."""
    pipeline = placeholder_pipeline(placeholders)
    found = read(paths)
    rules, unresolved = found.rules, found.unresolved
    out = list(found.unreadable)
    detections = {
        id(rule): compile_rule(rule, source, pipeline) for rule, source in rules if isinstance(rule, SigmaRule)
    }
    bases: dict[str, BaseRule] = {}
    for rule, _ in rules:
        compiled = detections.get(id(rule))
        if compiled is not None and compiled.predicate is not None and compiled.table is not None:
            for ref in filter(None, (str(rule.id) if rule.id else None, rule.name)):
                bases[ref] = BaseRule(compiled.id, compiled.table)
    for rule, source in rules:
        if isinstance(rule, SigmaCorrelationRule):
            out.append(_correlation(rule, source, bases, unresolved.get(id(rule), "")))
    silenced = silent(rules)
    for rule, _ in rules:
        if isinstance(rule, SigmaRule):
            compiled = detections[id(rule)]
            out.append(replace(compiled, alerts=id(rule) not in silenced))
    return out


def silent(rules: Iterable[tuple[SigmaRule | SigmaCorrelationRule, str]]) -> set[int]:
    """`id()`s of the detection rules a correlation uses without `generate: true`: they alert
    only through it."""
    found: set[int] = set()
    for rule, _ in rules:
        if isinstance(rule, SigmaCorrelationRule) and not rule.generate:
            found |= {id(r.rule) for r in (rule.rules or []) if getattr(r, "rule", None) is not None}
    return found


_LEVELS = ("informational", "low", "medium", "high", "critical")


def meta(rule: SigmaRule | SigmaCorrelationRule, source: str) -> CompiledRule:
    """A rule's identity and logwarden's own attributes, or the error in them."""
    level = getattr(rule, "level", None)
    base = CompiledRule(
        id=str(rule.id or ""),
        title=rule.title or "",
        level=level.name.lower() if level else "",
        tags=tuple(f"{t.namespace}.{t.name}" for t in (rule.tags or [])),
        source=source,
    )
    own = rule.custom_attributes.get("logwarden")
    if own is None:
        return base
    if not isinstance(own, dict) or set(own) - {"catalogue", "attempt_level"}:
        return replace(base, error="`logwarden:` takes only `catalogue` (a list of IDs) and `attempt_level`")
    catalogue = own.get("catalogue") or []
    attempt = own.get("attempt_level")
    if not isinstance(catalogue, list) or not all(isinstance(c, str) for c in catalogue):
        return replace(base, error="`logwarden.catalogue` must be a list of catalogue IDs such as A1")
    if attempt is not None and attempt not in _LEVELS:
        return replace(base, error=f"`logwarden.attempt_level` must be one of {', '.join(_LEVELS)}")
    return replace(base, catalogue=tuple(catalogue), attempt_level=attempt)


def prepare(
    rule: SigmaRule | SigmaCorrelationRule, source: str, pipeline: ProcessingPipeline | None = None
) -> CompiledRule:
    """A rule's identity, with the first error that keeps any engine from compiling it: in
    logwarden's own attributes, in the rule, or in filling a detection rule's placeholders
    (`pipeline` is applied here)."""
    found = meta(rule, source)
    if found.error:
        return found
    if rule.errors:
        return replace(found, error="; ".join(str(e) for e in rule.errors))
    if pipeline is not None and isinstance(rule, SigmaRule):
        try:
            pipeline.apply(rule)
        except SigmaError as exc:
            return replace(found, error=f"{exc} Give placeholder values with --placeholders FILE.")
    return found


def compile_rule(rule: SigmaRule, source: str, pipeline: ProcessingPipeline | None = None) -> CompiledRule:
    found = prepare(rule, source, pipeline)
    if found.error:
        return found
    try:
        table = table_for(rule.logsource)
        compiler = Compiler(table)
        conditions = [condition.parsed for condition in rule.detection.parsed_condition]
        parts = [compiler.compile(condition) for condition in conditions]
        guards = [compiler.guard(condition) for condition in conditions]
    except (UnmappedField, UnsupportedLogsource, UnsupportedRule, SigmaError) as exc:
        return replace(found, error=str(exc))
    predicate = Predicate(" OR ".join(p.sql for p in parts), [x for p in parts for x in p.params])
    guard, cheap = None, False
    if None not in guards:
        known = [g for g in guards if g is not None]
        guard = Predicate(" OR ".join(g.sql for g, _ in known), [x for g, _ in known for x in g.params])
        cheap = all(c for _, c in known)
    return replace(found, table=table.name, predicate=predicate, guard=guard, guard_cheap=cheap)


def _correlation(rule: SigmaCorrelationRule, source: str, bases: dict[str, BaseRule], unresolved: str) -> CompiledRule:
    found = prepare(rule, source)
    if found.error:
        return found
    try:
        query = compile_correlation(rule, bases)
        uses = tuple(bases[ref].id for ref in references(rule))
        return replace(found, query=query, uses=uses, needs=tuple(bases[ref].id for ref in required(rule)))
    except (UnmappedField, UnsupportedRule, SigmaError) as exc:
        return replace(found, error=f"{exc}{f' ({unresolved})' if unresolved else ''}")
