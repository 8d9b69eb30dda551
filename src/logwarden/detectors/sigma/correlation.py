"""Sigma correlation rules (spec 2.x) compiled to one SQL query over the base rules' matches.

The hunt's scans leave every referenced rule's matching rows in a matches table; they are
stacked (time, rule, group-by values), then window
functions over `timespan` decide:
- event_count / value_count / value_sum / value_avg / value_median / value_percentile: events
  (or distinct values, or the sum, average, median or percentile of a field) in the `timespan`
  that ends at an event of the group, which is then the alert's event;
- temporal: every referenced rule has an event in the `timespan` that follows an event;
- temporal_ordered: the rules' events follow one another, in order, within `timespan` of the first;
- extended conditions (`a and not b`): anchored on the first rule named positively, a rule is
  present when it has an event in the `timespan` after the anchor (temporal_ordered) or within
  `timespan` either side of it (temporal), so "deleted and not re-created by the same caller
  within 10 minutes" reads as written.
One alert is given per burst: an anchor closer than `timespan` to the group's previous
alerting anchor is the same burst.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)

from logwarden.detectors.sigma.compiler import Compiler, Predicate, UnsupportedRule, link
from logwarden.detectors.sigma.fieldmap import resolve
from logwarden.detectors.sigma.operations import OPERATIONS, SUMMARY, key_sql, outcome_sql, rank_sql, status_sql
from logwarden.store.sql import sql_str
from logwarden.store.tables import TABLES

# Filled by the hunt's scans: (rule id, row id) of each match of a rule a correlation uses.
MATCHES = "lw_matches"

_OPS = {
    SigmaCorrelationConditionOperator.LT: "<",
    SigmaCorrelationConditionOperator.LTE: "<=",
    SigmaCorrelationConditionOperator.GT: ">",
    SigmaCorrelationConditionOperator.GTE: ">=",
    SigmaCorrelationConditionOperator.EQ: "=",
    SigmaCorrelationConditionOperator.NEQ: "<>",
}


# Per aggregating type: how an alert describes it, and the window aggregate over `val`.
_NUMBER = "TRY_CAST(val AS DOUBLE)"
_AGGREGATES = {
    SigmaCorrelationType.EVENT_COUNT: ("events", "count(*)"),
    # Values compare as Sigma compares strings: case-insensitively.
    SigmaCorrelationType.VALUE_COUNT: ("distinct values", "count(DISTINCT lower(CAST(val AS VARCHAR)))"),
    SigmaCorrelationType.VALUE_SUM: ("sum", f"sum({_NUMBER})"),
    SigmaCorrelationType.VALUE_AVG: ("average", f"avg({_NUMBER})"),
    SigmaCorrelationType.VALUE_MEDIAN: ("median", f"median({_NUMBER})"),
    SigmaCorrelationType.VALUE_PERCENTILE: ("percentile", f"quantile_cont({_NUMBER}, {{p}})"),
}


@dataclass(frozen=True)
class BaseRule:
    """A referenced detection rule, compiled: its id and table (its matches are the scan's)."""

    id: str
    table: str


def references(rule: SigmaCorrelationRule) -> list[str]:
    """The names or ids of the rules a correlation uses, in its order."""
    return [r.reference for r in (rule.rules or [])] or _referenced(rule)


def required(rule: SigmaCorrelationRule) -> list[str]:
    """The referenced rules that must all have matched something for the correlation to fire:
    the anchor of an extended condition, every rule of a plain temporal one, none named for a
    count (any one will do)."""
    if isinstance(rule.condition, SigmaExtendedCorrelationCondition):
        return [first_positive(rule.condition.parsed)]
    if rule.type in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED):
        return references(rule)
    return []


def compile_correlation(rule: SigmaCorrelationRule, bases: dict[str, BaseRule]) -> Predicate:
    """The whole query; its rows are (time, actor, ip, target, operation, path, line, record, outcome,
    detail), the first eight from the event the alert is anchored on."""
    refs = references(rule)
    missing = [r for r in refs if r not in bases]
    if missing:
        raise UnsupportedRule(f"correlation refers to rules that are missing or cannot run: {', '.join(missing)}")
    span = int(rule.timespan.seconds)
    groups = list(rule.group_by or [])
    value_field = _value_field(rule)

    selects, params = [], []
    for ref in refs:
        base = bases[ref]
        actor, ip, target, operation = SUMMARY[base.table]
        columns = [f"'{_i(refs, ref)}' AS r", f"{actor} AS who", f"{ip} AS ip", f"{target} AS on_what"]
        columns.append(f"{operation} AS op")
        for g, name in enumerate(groups):
            sql, p = _field_sql(rule, ref, base.table, name)
            # Sigma compares strings case-insensitively; so do groups (`/SUBSCRIPTIONS/..` = `/subscriptions/..`).
            columns.append(f"lower(CAST({sql} AS VARCHAR)) AS g{g}")
            params += p
        if value_field is not None:
            sql, p = _field_sql(rule, ref, base.table, value_field)
            columns.append(f"{sql} AS val")
            params += p
        # An ARM operation's Start and Success are one event here (the most final one matched),
        # with the operation's outcome whichever event the rule matched.
        once = (
            f" QUALIFY row_number() OVER (PARTITION BY {key_sql(base.table, 't')} "
            f"ORDER BY {rank_sql(status_sql(base.table, 't'))}, t.TimeGenerated DESC, t._RowId) = 1"
            if base.table in OPERATIONS
            else ""
        )
        join, outcome = outcome_sql(base.table, "t")
        selects.append(
            f"SELECT t.TimeGenerated AS t, {', '.join(columns)}, f.Path AS path, t._Line AS line, t._Record AS rec, "
            f"{outcome} AS outcome "
            f'FROM "{base.table}" t LEFT JOIN IngestFiles f ON f.FileId = t._FileId{join} '
            f"WHERE t._RowId IN (SELECT row_id FROM {MATCHES} WHERE rule = ?)" + once
        )
        params.append(base.id)
    partition = ", ".join(f"g{g}" for g in range(len(groups))) or "NULL"
    forward = f"PARTITION BY {partition} ORDER BY t RANGE BETWEEN CURRENT ROW AND INTERVAL {span} SECONDS FOLLOWING"
    around = (
        f"PARTITION BY {partition} ORDER BY t "
        f"RANGE BETWEEN INTERVAL {span} SECONDS PRECEDING AND INTERVAL {span} SECONDS FOLLOWING"
    )
    matches = " UNION ALL ".join(selects)

    if rule.type in _AGGREGATES:
        condition = rule.condition
        assert isinstance(condition, SigmaCorrelationCondition)
        label, aggregate = _AGGREGATES[rule.type]
        if rule.type is SigmaCorrelationType.VALUE_PERCENTILE:
            aggregate = aggregate.format(p=float(condition.percentile or 50) / 100)
        # The window ends at each event: the alert is the event that meets the condition (the
        # fifth deletion, the write that brought a second destination), not the burst's first.
        backward = (
            f"PARTITION BY {partition} ORDER BY t RANGE BETWEEN INTERVAL {span} SECONDS PRECEDING AND CURRENT ROW"
        )
        scored = f"SELECT *, {aggregate} OVER ({backward}) AS n FROM m"
        # The threshold is a number pySigma parsed, written as one.
        keep = f"n {_OPS[condition.op]} {float(condition.count)!r}"
        anchors = f"SELECT *, '{label}: ' || n AS what FROM ({scored}) WHERE {keep}"
    elif rule.type in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED):
        anchors = _temporal(rule, refs, forward, around)
    else:
        raise UnsupportedRule(f"correlation type {rule.type.name.lower()} is not supported")

    # The group's values are log text: bound as data by DuckDB, only the names are written here.
    group_text = " || ', ' || ".join(f"coalesce(g{g}, '-')" for g in range(len(groups)))
    detail = f"what || {sql_str(' per ' + ', '.join(groups) + ': ')} || {group_text}" if groups else "what"
    sql = (
        f"WITH m AS ({matches}), a AS ({anchors}), "
        f"b AS (SELECT *, lag(t) OVER (PARTITION BY {partition} ORDER BY t) AS prev FROM a) "
        f"SELECT t, who, ip, on_what, op, path, line, rec, outcome, {detail} FROM b "
        f"WHERE prev IS NULL OR t - prev > INTERVAL {span} SECONDS ORDER BY t"
    )
    return Predicate(sql, params)


def _i(refs: list[str], ref: str) -> int:
    """Rules are named in the SQL by their position in `refs`, never by their text."""
    return refs.index(ref)


def _referenced(rule: SigmaCorrelationRule) -> list[str]:
    condition = rule.condition
    if isinstance(condition, SigmaExtendedCorrelationCondition):
        return sorted(set(condition.get_referenced_rules()))
    return []


def _value_field(rule: SigmaCorrelationRule) -> str | None:
    if rule.type in (
        SigmaCorrelationType.EVENT_COUNT,
        SigmaCorrelationType.TEMPORAL,
        SigmaCorrelationType.TEMPORAL_ORDERED,
    ):
        return None
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition) or not condition.fieldref:
        raise UnsupportedRule(f"{rule.type.name.lower()} needs a condition field")
    field = condition.fieldref
    return field if isinstance(field, str) else field[0]


def field_for(rule: SigmaCorrelationRule, ref: str, name: str) -> str:
    """A group-by (or counted) field as base rule `ref` names it, through the correlation's aliases."""
    alias = rule.aliases.aliases.get(name)
    if alias is None:
        return name
    mapped = alias.mapping.get(SigmaRuleReference(ref))
    if mapped is None:
        raise UnsupportedRule(f"alias {name!r} has no field for rule {ref!r}")
    return mapped


def _field_sql(rule: SigmaCorrelationRule, ref: str, table: str, name: str) -> tuple[str, list[Any]]:
    compiler = Compiler(TABLES[table])
    sql, params = compiler.scalar(resolve(TABLES[table], field_for(rule, ref, name)))
    return link(sql), params


def _temporal(rule: SigmaCorrelationRule, refs: list[str], forward: str, around: str) -> str:
    ordered = rule.type is SigmaCorrelationType.TEMPORAL_ORDERED
    condition = rule.condition
    if isinstance(condition, SigmaExtendedCorrelationCondition):
        tree = condition.parsed
        positive = first_positive(tree)
        window = forward if ordered else around
        has = ", ".join(f"bool_or(r = '{i}') OVER ({window}) AS h{i}" for i in range(len(refs)))
        # Positive terms count from the anchor forward; only negated ones look back too.
        fwd = ", ".join(f"bool_or(r = '{i}') OVER ({forward}) AS f{i}" for i in range(len(refs)))
        test = _boolean(tree, refs)
        anchor = _i(refs, positive)
        return f"SELECT *, 'sequence' AS what FROM (SELECT *, {has}, {fwd} FROM m) WHERE r = '{anchor}' AND ({test})"
    if not ordered:
        has = ", ".join(f"bool_or(r = '{i}') OVER ({forward}) AS f{i}" for i in range(len(refs)))
        every = " AND ".join(f"f{i}" for i in range(len(refs)))
        return f"SELECT *, 'all rules within the timespan' AS what FROM (SELECT *, {has} FROM m) WHERE {every}"
    # Ordered: each rule's event at or after the previous one, all within the timespan of the first.
    span = int(rule.timespan.seconds)
    joins = []
    for i in range(1, len(refs)):
        same = (
            " AND ".join(f"m{i}.g{g} IS NOT DISTINCT FROM m0.g{g}" for g in range(len(rule.group_by or []))) or "true"
        )
        joins.append(
            f"JOIN m m{i} ON m{i}.r = '{i}' AND {same} AND m{i}.t >= m{i - 1}.t "
            f"AND m{i}.t <= m0.t + INTERVAL {span} SECONDS"
        )
    return f"SELECT DISTINCT m0.*, 'ordered sequence' AS what FROM m m0 {' '.join(joins)} WHERE m0.r = '0'"


def first_positive(tree: Any) -> str:
    if isinstance(tree, SigmaRuleReference):
        return tree.reference
    if isinstance(tree, CorrelationConditionNOT):
        raise UnsupportedRule("the condition needs a rule named without `not` to anchor on")
    for arg in tree.args:
        try:
            return first_positive(arg)
        except UnsupportedRule:
            continue
    raise UnsupportedRule("the condition needs a rule named without `not` to anchor on")


def _boolean(tree: Any, refs: list[str]) -> str:
    # Under `not`, presence is judged on the window around the anchor.
    return condition_text(tree, refs, lambda i, under_not: f"{'h' if under_not else 'f'}{i}", ("NOT {}", "AND", "OR"))


def condition_text(
    tree: Any, refs: list[str], present: Callable[[int, bool], str], words: tuple[str, str, str], negated: bool = False
) -> str:
    """An extended correlation condition as a boolean expression: `present(i, under_not)` names
    "rule i has an event in the window", `words` are the language's not (a format), and, or."""
    if isinstance(tree, SigmaRuleReference):
        return present(_i(refs, tree.reference), negated)
    if isinstance(tree, CorrelationConditionNOT):
        return "(" + words[0].format(condition_text(tree.args[0], refs, present, words, negated=True)) + ")"
    if isinstance(tree, CorrelationConditionAND | CorrelationConditionOR):
        joiner = f" {words[1]} " if isinstance(tree, CorrelationConditionAND) else f" {words[2]} "
        return "(" + joiner.join(condition_text(a, refs, present, words, negated) for a in tree.args) + ")"
    raise UnsupportedRule(f"condition element {type(tree).__name__} is not supported")
