"""Sigma rules as Sentinel scheduled analytic rules: the query and everything Sentinel needs
around it (severity, ATT&CK, entities, schedule, data connectors), or the reason a rule cannot go.

Only rules that alert are exported: a rule a correlation uses without `generate: true` lives
inside the correlation's query.
"""

from __future__ import annotations

import tomllib
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from logwarden.detectors.sentinel import queries
from logwarden.detectors.sentinel.attack import sentinel_attack
from logwarden.detectors.sigma import rules as sigma_rules
from logwarden.detectors.sigma.compiler import UnsupportedRule
from logwarden.detectors.sigma.fieldmap import UnmappedField, UnsupportedLogsource
from logwarden.detectors.sigma.operations import OPERATIONS

# Sentinel data connector per table (Content Hub gates a rule's enablement on it).
_CONNECTORS = {
    "AzureActivity": "AzureActivity",
    "AuditLogs": "AzureActiveDirectory",
    "SigninLogs": "AzureActiveDirectory",
    "OfficeActivity": "Office365",
}
# (entity, identifier, column) the query's alert columns fill, per table.
_ENTITIES = {
    "AzureActivity": (
        ("Account", "FullName", "Actor"),
        ("IP", "Address", "ActorIp"),
        ("AzureResource", "ResourceId", "Target"),
    ),
    "AuditLogs": (("Account", "FullName", "Actor"), ("IP", "Address", "ActorIp")),
    "SigninLogs": (("Account", "FullName", "Actor"), ("IP", "Address", "ActorIp")),
    "OfficeActivity": (
        ("Account", "FullName", "Actor"),
        ("IP", "Address", "ActorIp"),
        ("Mailbox", "MailboxPrimaryAddress", "Mailbox"),
    ),
}
# For rules without a Sigma id: a stable one from the rule file and title.
_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-4c55-9a51-1d6f0e4b9c21")


@dataclass(frozen=True)
class TestEvents:
    """A rule's own cases (paths relative to its file's case folder): the positives the local
    engine alerts on with this rule (its file's `alerts.toml` says which rule alerts on which
    case, and tests/test_pack.py checks it), and its file's negatives, on which the whole pack
    stays quiet."""

    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalyticRule:
    id: str
    name: str
    description: str
    severity: str
    query: str
    tables: tuple[str, ...]
    frequency: timedelta
    period: timedelta
    tactics: tuple[str, ...]
    techniques: tuple[str, ...]
    entities: tuple[tuple[str, str, str], ...]
    custom_details: tuple[tuple[str, str], ...]
    severity_column: bool
    source: str
    catalogue: tuple[str, ...]
    tests: TestEvents
    display_name: str  # each alert's title, with {{Column}} placeholders

    @property
    def connectors(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        found: dict[str, list[str]] = {}
        for table in self.tables:
            found.setdefault(_CONNECTORS[table], []).append(table)
        return tuple((c, tuple(t)) for c, t in found.items())


@dataclass(frozen=True)
class Skipped:
    id: str
    title: str
    source: str
    reason: str


@dataclass(frozen=True)
class Export:
    rules: tuple[AnalyticRule, ...]
    skipped: tuple[Skipped, ...]


def export(paths: Iterable[Path], placeholders: dict[str, list[str]] | None = None) -> Export:
    """Every alerting rule under `paths` as an analytic rule, or why it is not exported."""
    paths = list(paths)
    found = sigma_rules.read(paths)
    pipeline = sigma_rules.placeholder_pipeline(placeholders)
    skipped = [Skipped(r.id, r.title, r.source, r.error or "") for r in found.unreadable]
    # Every rule, a correlation's silent ones included, gets its placeholders filled first.
    prepared = {id(rule): sigma_rules.prepare(rule, source, pipeline) for rule, source in found.rules}
    silent = sigma_rules.silent(found.rules)
    alerting = Counter(source for rule, source in found.rules if id(rule) not in silent)
    out = []
    for rule, source in found.rules:
        if id(rule) in silent:
            continue
        meta = prepared[id(rule)]
        reason = meta.error or found.unresolved.get(id(rule))
        if isinstance(rule, SigmaCorrelationRule):
            bases = [prepared.get(id(r.rule)) for r in rule.rules or []]
            reason = reason or next((b.error for b in bases if b is not None and b.error), None)
        if reason:
            skipped.append(Skipped(meta.id, meta.title, source, reason))
            continue
        try:
            query = (
                queries.detection(rule, meta.level, meta.attempt_level)
                if isinstance(rule, SigmaRule)
                else queries.correlation(rule, meta.level, meta.attempt_level)
            )
        except (UnsupportedRule, UnmappedField, UnsupportedLogsource, SigmaError) as exc:
            skipped.append(Skipped(meta.id, meta.title, source, str(exc)))
            continue
        if len(query.query) > queries.QUERY_LIMIT:
            reason = f"its query is {len(query.query):,} characters; Sentinel takes at most {queries.QUERY_LIMIT:,}"
            skipped.append(Skipped(meta.id, meta.title, source, reason))
            continue
        try:
            tests = _tests(Path(source), meta.id, alerting[source])
        except UnsupportedRule as exc:
            skipped.append(Skipped(meta.id, meta.title, source, str(exc)))
            continue
        tactics, techniques = sentinel_attack(meta.tags)
        entities = tuple(dict.fromkeys(e for table in query.tables for e in _ENTITIES[table]))
        details = [("Operation", "Operation")]
        if any(table in OPERATIONS for table in query.tables):
            details.append(("Outcome", "Outcome"))
        if isinstance(rule, SigmaCorrelationRule):
            details += [("GroupValues", "GroupValues"), ("CorrelationKind", "CorrelationKind")]
        out.append(
            AnalyticRule(
                id=meta.id or str(uuid.uuid5(_NAMESPACE, f"{source}\n{meta.title}")),
                name=meta.title,
                description=(rule.description or meta.title).strip(),
                severity=queries.severity(meta.level),
                query=query.query,
                tables=query.tables,
                frequency=queries.FREQUENCY,
                period=query.period,
                tactics=tactics,
                techniques=techniques,
                entities=entities[:5],
                custom_details=tuple(details),
                severity_column=query.severity_column,
                source=_shown(Path(source), paths),
                catalogue=meta.catalogue,
                tests=tests,
                display_name=meta.title + ": {{Operation}} by {{Actor}}",
            )
        )
    return Export(tuple(out), tuple(skipped))


def _shown(source: Path, roots: list[Path]) -> str:
    """The rule file as the user named it: below the folder they gave (`pack/exchange/K1_....yml`)."""
    for root in roots:
        if source == root or root in source.parents:
            return str(source.relative_to(root.parent))
    return str(source)


ALERTS_FILE = "alerts.toml"


def _tests(source: Path, rule_id: str, alerting: int) -> TestEvents:
    """The rule's cases: from its file's `alerts.toml` when there is one; else, for a file with a
    single alerting rule, all the file's positives."""
    folder = source.with_suffix("")

    def listed(kind: str) -> tuple[str, ...]:
        where = folder / kind
        return tuple(sorted(p.relative_to(folder).as_posix() for p in where.rglob("*") if p.is_file()))

    positives = listed("positive")
    manifest = folder / ALERTS_FILE
    if manifest.is_file():
        try:
            expected = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UnsupportedRule(f"{manifest}: cannot read which rule alerts on which case ({exc})") from exc
        positives = tuple(p for p in positives if expected.get(p) == rule_id)
    elif alerting > 1:
        positives = ()
    return TestEvents(positives, listed("negative"))
