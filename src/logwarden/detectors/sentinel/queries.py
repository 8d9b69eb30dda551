"""Whole KQL queries for Sentinel's scheduled analytics, with the local engine's semantics.

A detection rule becomes `Table | where ...` (list-valued fields and Exchange parameters through
`mv-apply`, after a cheap filter on plain columns). Two things the local hunt does around the
match are written out too:
- an ARM operation (`Start`, then `Success`/`Failure` under one correlation id) gives one alert,
  with the operation's most final status as `Outcome`; a rule with `attempt_level` sets the
  alert's severity per row (`AlertSeverity`) to that level when the operation failed or never
  finished;
- correlation rules (`temporal`, `temporal_ordered`, with extended `and not` conditions;
  `event_count`, `value_count`) use the same windows as `detectors.sigma.correlation`. A
  scheduled query sees only its query period, so each run judges the anchors whose whole window
  it can see (anchors at least `timespan` old for a forward window) and the period is the run
  interval plus the windows; one alert per burst within a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
)
from sigma.rule import SigmaRule

from logwarden.detectors.sentinel.backend import SentinelBackend, kql_string
from logwarden.detectors.sigma.compiler import UnsupportedRule, guard_tree
from logwarden.detectors.sigma.correlation import condition_text, field_for, first_positive, references
from logwarden.detectors.sigma.fieldmap import resolve, table_for
from logwarden.detectors.sigma.operations import OPERATIONS, OTHER, RANKS

# How often the exported rules run, the longest query period Sentinel allows, and the longest query.
FREQUENCY = timedelta(hours=1)
MAX_PERIOD = timedelta(days=14)
QUERY_LIMIT = 10_000

# What an analyst reads first, per table, as the local alerts name it (operations.SUMMARY):
# who, from where, on what, which operation, and the mailbox of an Exchange action.
_ALERT_COLUMNS = {
    "AzureActivity": ("Caller", "CallerIpAddress", "ResourceId", "OperationNameValue", '""'),
    "AuditLogs": (
        'coalesce(tostring(InitiatedBy["user"]["userPrincipalName"]), '
        'tostring(InitiatedBy["app"]["displayName"]), Identity)',
        'tostring(InitiatedBy["user"]["ipAddress"])',
        'tostring(TargetResources[0]["displayName"])',
        "OperationName",
        '""',
    ),
    "OfficeActivity": ("UserId", "ClientIP", "OfficeObjectId", "Operation", "MailboxOwnerUPN"),
    "SigninLogs": ("UserPrincipalName", "IPAddress", "AppDisplayName", "OperationName", '""'),
}
ALERT_NAMES = ("Actor", "ActorIp", "Target", "Operation", "Mailbox")
_OUTCOMES = {0: "Succeeded", 1: "Failed", 3: "Started", OTHER: "Other"}
_SEVERITIES = {"informational": "Informational", "low": "Low", "medium": "Medium", "high": "High", "critical": "High"}


def whole_minutes(span: timedelta) -> int:
    """Minutes, rounded up: a query period or a limit may only be longer than asked, never shorter."""
    return math.ceil(span.total_seconds() / 60)


@dataclass(frozen=True)
class KqlQuery:
    query: str
    tables: tuple[str, ...]
    period: timedelta  # how far back the query must read
    severity_column: bool  # the rows carry their own severity (`AlertSeverity`)


def severity(level: str) -> str:
    """Sentinel's severity for a Sigma level (Sentinel has no critical)."""
    return _SEVERITIES.get(level, "Medium")


def detection(rule: SigmaRule, level: str, attempt_level: str | None) -> KqlQuery:
    """A detection rule's query: its matches, one row per operation where the table has them."""
    table = table_for(rule.logsource).name
    lets, name = _matches(rule, 0)
    lines = [name]
    if attempt_level is not None and table in OPERATIONS:
        lines.append(f"extend AlertSeverity = {_severity_by_outcome(level, attempt_level)}")
    lines.append("project-away LwOutcome" if table in OPERATIONS else "")
    query = "".join(lets) + "\n| ".join(line for line in lines if line)
    return KqlQuery(query, (table,), FREQUENCY, attempt_level is not None and table in OPERATIONS)


def correlation(rule: SigmaCorrelationRule, level: str, attempt_level: str | None) -> KqlQuery:
    refs = references(rule)
    bases = {r.reference: r.rule for r in (rule.rules or [])}
    missing = [ref for ref in refs if not isinstance(bases.get(ref), SigmaRule)]
    if missing:
        raise UnsupportedRule(f"correlation refers to rules that are missing: {', '.join(missing)}")
    span = rule.timespan.seconds
    ordered = rule.type is SigmaCorrelationType.TEMPORAL_ORDERED
    counting = rule.type in (SigmaCorrelationType.EVENT_COUNT, SigmaCorrelationType.VALUE_COUNT)
    if counting or ordered:
        period = FREQUENCY + timedelta(seconds=span)
    elif rule.type is SigmaCorrelationType.TEMPORAL:
        period = FREQUENCY + timedelta(seconds=2 * span)
    else:
        raise UnsupportedRule(f"correlation type {rule.type.name.lower()} is not exported to KQL")
    if period > MAX_PERIOD:
        raise UnsupportedRule(
            f"its {rule.timespan.spec} window needs {period.days} days of look-back; "
            f"Sentinel's scheduled rules read at most {MAX_PERIOD.days}"
        )
    groups = list(rule.group_by or [])
    value = _value_field(rule)
    lets: list[str] = []
    tables: list[str] = []
    for i, ref in enumerate(refs):
        base = bases[ref]
        assert isinstance(base, SigmaRule)
        table = table_for(base.logsource)
        tables.append(table.name)
        own, name = _matches(base, i)
        lets += own
        backend = SentinelBackend(table)
        keys = [f"tolower({backend.scalar(resolve(table, field_for(rule, ref, g)))})" for g in groups]
        columns = [
            "TimeGenerated",
            f"LwRule = {i}",
            f"LwGroup = tostring(pack_array({', '.join(keys)}))",
            *ALERT_NAMES,
            "Outcome" if table.name in OPERATIONS else 'Outcome = ""',
            "LwOutcome" if table.name in OPERATIONS else "LwOutcome = long(null)",
        ]
        if value is not None:
            columns.append(f"LwValue = tolower({backend.scalar(resolve(table, field_for(rule, ref, value)))})")
        # A group-by field may need its own step first (an Exchange parameter's bag).
        steps = "".join(f"\n| {step}" for step in backend.conversion.applies)
        lets.append(f"let LwR{i} = {name}{steps}\n| project {', '.join(columns)};\n")
    lets.append(f"let LwSpan = {span}s;\n")
    lets.append(f"let LwM = union {', '.join(f'LwR{i}' for i in range(len(refs)))};\n")
    anchor_columns = ", ".join(("TimeGenerated", "LwGroup", *ALERT_NAMES, "Outcome", "LwOutcome"))
    if counting:
        body = _counted(rule, anchor_columns)
    elif isinstance(rule.condition, SigmaExtendedCorrelationCondition):
        body = _extended(rule, refs, ordered, anchor_columns)
    elif ordered:
        body = _sequence(refs, anchor_columns)
    else:
        body = _all_within(refs, anchor_columns)
    tail = [
        "sort by LwGroup asc, TimeGenerated asc",
        "extend LwPrevious = iff(prev(LwGroup) == LwGroup, prev(TimeGenerated), datetime(null))",
        "where isnull(LwPrevious) or TimeGenerated - LwPrevious > LwSpan",
        f"extend GroupValues = LwGroup, CorrelationKind = {kql_string(rule.type.name.lower())}",
    ]
    severity_column = attempt_level is not None and tables[refs.index(_anchor(rule, refs))] in OPERATIONS
    if severity_column:
        assert attempt_level is not None
        tail.append(f"extend AlertSeverity = {_severity_by_outcome(level, attempt_level)}")
    tail.append("project-away LwGroup, LwPrevious, LwOutcome")
    query = "".join(lets) + "\n| ".join([*body, *tail])
    return KqlQuery(query, tuple(dict.fromkeys(tables)), period, severity_column)


def _matches(rule: SigmaRule, n: int) -> tuple[list[str], str]:
    """`let` statements naming rule `n`'s matches, with the alert columns, one row per operation
    where the table logs operations; and the name."""
    table = table_for(rule.logsource)
    backend = SentinelBackend(table)
    conditions = [c.parsed for c in rule.detection.parsed_condition]
    wheres = [backend.condition(c) for c in conditions]
    lines = [table.name]
    if backend.conversion.applies:
        guards = [guard_tree(table, c) for c in conditions]
        if all(g is not None for g in guards):
            cheap = SentinelBackend(table)
            lines.append("where " + _any([cheap.condition(g[0]) for g in guards if g is not None]))
        lines += backend.conversion.applies
    lines.append("where " + _any(wheres))
    if backend.conversion.added:
        lines.append("project-away " + ", ".join(backend.conversion.added))
    expressions = _ALERT_COLUMNS[table.name]
    lines.append("extend " + ", ".join(f"{n_} = {e}" for n_, e in zip(ALERT_NAMES, expressions, strict=True)))
    body = "\n| ".join(lines)
    if table.name not in OPERATIONS:
        return [f"let LwRule{n} = {body};\n"], f"LwRule{n}"
    columns, status = OPERATIONS[table.name]
    key = f'tolower(strcat_delim("|", {", ".join(columns)}))'
    cases = ", ".join(f"{status} in~ ({', '.join(kql_string(v) for v in values)}), {rank}" for values, rank in RANKS)
    rank = f"case({cases}, {OTHER})"
    outcome = ", ".join(f"LwOutcome == {r}, {kql_string(label)}" for r, label in _OUTCOMES.items() if r != OTHER)
    return [
        f"let LwMatches{n} = {body};\n",
        f"let LwOutcomes{n} = {table.name}\n"
        f"| where {columns[0]} in ((LwMatches{n} | distinct {columns[0]}))\n"
        f"| summarize LwOutcome = min({rank}) by LwKey = {key};\n",
        f"let LwRule{n} = LwMatches{n}\n"
        f"| extend LwRank = {rank}\n"
        f"| summarize arg_min(LwRank, *) by LwKey = {key}\n"
        f"| lookup kind=leftouter LwOutcomes{n} on LwKey\n"
        f"| extend Outcome = case({outcome}, {kql_string(_OUTCOMES[OTHER])})\n"
        "| project-away LwKey, LwRank;\n",
    ], f"LwRule{n}"


def _any(conditions: list[str]) -> str:
    return conditions[0] if len(conditions) == 1 else " or ".join(f"({c})" for c in conditions)


def _severity_by_outcome(level: str, attempt_level: str) -> str:
    attempted = ", ".join(str(r) for values, r in RANKS if r in (1, 3))
    return f"iff(LwOutcome in ({attempted}), {kql_string(severity(attempt_level))}, {kql_string(severity(level))})"


def _anchor(rule: SigmaCorrelationRule, refs: list[str]) -> str:
    """The rule whose event an alert is anchored on (its outcome sets an attempt's severity)."""
    if isinstance(rule.condition, SigmaExtendedCorrelationCondition):
        return first_positive(rule.condition.parsed)
    return refs[0]


def _value_field(rule: SigmaCorrelationRule) -> str | None:
    if rule.type is not SigmaCorrelationType.VALUE_COUNT:
        return None
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition) or not condition.fieldref:
        raise UnsupportedRule("value_count needs a condition field")
    field = condition.fieldref
    return field if isinstance(field, str) else field[0]


_OPS = {
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.EQ: "==",
    SigmaCorrelationConditionOperator.NEQ: "!=",
}


def _counted(rule: SigmaCorrelationRule, anchor_columns: str) -> list[str]:
    """Events (or distinct values) in the window that ends at each event, as the local engine counts."""
    condition = rule.condition
    assert isinstance(condition, SigmaCorrelationCondition)
    counted = (
        "array_length(make_set_if(LwV, isnotempty(LwV)))"
        if rule.type is SigmaCorrelationType.VALUE_COUNT
        else "count()"
    )
    other = "LwM | project LwGroup, LwT = TimeGenerated" + (
        ", LwV = LwValue" if rule.type is SigmaCorrelationType.VALUE_COUNT else ""
    )
    return [
        f"LwM\n| where TimeGenerated >= ago({int(FREQUENCY.total_seconds())}s)",
        f"join kind=inner ({other}) on LwGroup",
        "where LwT between ((TimeGenerated - LwSpan) .. TimeGenerated)",
        f"summarize LwN = {counted} by {anchor_columns}",
        f"where LwN {_OPS[condition.op]} {float(condition.count)!r}",
    ]


def _presence(refs: list[str], window: str, prefix: str) -> str:
    return ", ".join(f"{prefix}{i} = countif(LwR == {i} and LwT between {window})" for i in range(len(refs)))


_FORWARD = "(TimeGenerated .. (TimeGenerated + LwSpan))"
_AROUND = "((TimeGenerated - LwSpan) .. (TimeGenerated + LwSpan))"


def _extended(rule: SigmaCorrelationRule, refs: list[str], ordered: bool, anchor_columns: str) -> list[str]:
    """Anchored on the first rule named without `not`: a rule is present when it has an event in the
    window after the anchor; under `not`, in the window around it (after it, when ordered)."""
    condition = rule.condition
    assert isinstance(condition, SigmaExtendedCorrelationCondition)
    anchor = refs.index(first_positive(condition.parsed))
    test = condition_text(
        condition.parsed,
        refs,
        lambda i, under_not: f"LwH{i} > 0" if under_not else f"LwF{i} > 0",
        ("not({})", "and", "or"),
    )
    frequency = int(FREQUENCY.total_seconds())
    return [
        f"LwM\n| where LwRule == {anchor} and TimeGenerated between (ago({frequency}s + LwSpan) .. ago(LwSpan))",
        "join kind=inner (LwM | project LwGroup, LwT = TimeGenerated, LwR = LwRule) on LwGroup",
        f"summarize {_presence(refs, _FORWARD, 'LwF')}, {_presence(refs, _FORWARD if ordered else _AROUND, 'LwH')} "
        f"by {anchor_columns}",
        f"where {test}",
    ]


def _all_within(refs: list[str], anchor_columns: str) -> list[str]:
    """Plain `temporal`: every rule has an event in the window that follows an event."""
    frequency = int(FREQUENCY.total_seconds())
    every = " and ".join(f"LwF{i} > 0" for i in range(len(refs)))
    return [
        f"LwM\n| where TimeGenerated between (ago({frequency}s + LwSpan) .. ago(LwSpan))",
        "join kind=inner (LwM | project LwGroup, LwT = TimeGenerated, LwR = LwRule) on LwGroup",
        f"summarize {_presence(refs, _FORWARD, 'LwF')} by {anchor_columns}",
        f"where {every}",
    ]


def _sequence(refs: list[str], anchor_columns: str) -> list[str]:
    """Plain `temporal_ordered`: each rule's event at or after the previous one, all within the
    window of the first."""
    frequency = int(FREQUENCY.total_seconds())
    lines = [f"LwM\n| where LwRule == 0 and TimeGenerated between (ago({frequency}s + LwSpan) .. ago(LwSpan))"]
    previous = "TimeGenerated"
    for i in range(1, len(refs)):
        lines.append(
            f"join kind=inner (LwM | where LwRule == {i} | project LwGroup, LwT{i} = TimeGenerated) on LwGroup"
        )
        lines.append(f"where LwT{i} between ({previous} .. (TimeGenerated + LwSpan))")
        previous = f"LwT{i}"
    lines.append(f"distinct {anchor_columns}")
    return lines
