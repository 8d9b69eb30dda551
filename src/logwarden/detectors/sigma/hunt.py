"""Run compiled Sigma rules over the case database, in bulk: one scan per table for all its
rules, then each correlation over the matches the scans left."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from logwarden.detectors.sigma.compiler import MACROS, inner_document, link, path_tokens
from logwarden.detectors.sigma.correlation import MATCHES
from logwarden.detectors.sigma.operations import (
    OPERATIONS,
    OUTCOMES,
    SUMMARY,
    attempted_only,
    key_sql,
    outcome_sql,
    rank,
    record_outcomes,
    status_sql,
)
from logwarden.detectors.sigma.rules import CompiledRule
from logwarden.store.database import Session
from logwarden.store.sql import sql_str
from logwarden.store.tables import FROM_RAW, RAW_COLUMN


@dataclass(frozen=True)
class Alert:
    rule_id: str
    title: str
    level: str
    tags: tuple[str, ...]
    time: datetime
    actor: str | None
    ip: str | None
    target: str | None
    operation: str | None
    table: str
    file: str | None
    line: int | None
    record: int | None
    outcome: str | None = None  # an ARM operation's most final status: Succeeded, Failed, Started...
    detail: str | None = None  # a correlation's finding: what was counted or sequenced, per which group


# Rules per scan: every detection rule on a table is tested in one pass over it.
RULES_PER_SCAN = 200
# A guard that lets through more than this share of a sample of the records is no prefilter.
PERMISSIVE = 0.25
SAMPLE_ROWS = 4_096

# A match: the rule, its alert, the ARM operation's key and the matched event's own status.
Match = tuple[CompiledRule, Alert, str | None, str | None]


def hunt(session: Session, rules: list[CompiledRule]) -> Iterator[Alert]:
    """Alerts of every rule that runs and alerts: detection rules table by table, one scan each,
    so a record's JSON is parsed once for all rules; then each correlation rule. An ARM
    operation's events give one alert, at the rule's attempt level if it did not succeed."""
    for sql in MACROS:
        session.run(sql)
    running = [r for r in rules if r.runs]
    correlations = [r for r in running if r.query is not None and r.alerts]
    used = {base for r in correlations for base in r.uses}
    # The rules whose matches a correlation may be anchored on: their outcome is told.
    anchored = {base for r in correlations for base in (r.needs or r.uses)}
    # The rules correlations use are scanned too, though they do not alert on their own: a
    # correlation none of whose rules matched anything, or whose anchor matched nothing, cannot
    # fire and is not run.
    by_table: dict[str, list[CompiledRule]] = {}
    for rule in running:
        if rule.predicate is not None and rule.table is not None and (rule.alerts or rule.id in used):
            by_table.setdefault(rule.table, []).append(rule)
    session.run(f"CREATE OR REPLACE TEMP TABLE {MATCHES} (rule VARCHAR, row_id BIGINT)")
    session.run(f"CREATE OR REPLACE TEMP TABLE {OUTCOMES} (key VARCHAR PRIMARY KEY, outcome VARCHAR)")
    matched: set[str] = set()
    for table, table_rules in by_table.items():
        if not session.run(f'SELECT 1 FROM "{table}" LIMIT 1'):
            continue  # nothing to scan: planning a scan of many rules costs more than it
        # Two scans. Rules whose guard is selective, and cheap (mostly the operation they name)
        # or sparing a JSON parse: only the records some such guard lets through are tested.
        # The rest test every record: one permissive guard would open the prefilter to every
        # record for all the others, a rule whose guard is its own costly test (a regular
        # expression, a CIDR) would run it twice behind one, and a rule with no guard would
        # have every record's JSON parsed for all the others too.
        selective = _selective(session, table, table_rules)
        behind: list[CompiledRule] = []
        direct: list[CompiledRule] = []
        for rule in table_rules:
            prefiltered = id(rule) in selective and (rule.guard_cheap or _reads_json(rule))
            (behind if prefiltered else direct).append(rule)
        matches: list[Match] = []
        for group, prefilter in ((behind, True), (direct, False)):
            for start in range(0, len(group), RULES_PER_SCAN):
                chunk = group[start : start + RULES_PER_SCAN]
                matches += _scan(session, table, chunk, used, anchored, matched, prefilter)
        yield from _per_operation(matches)
    for rule in correlations:
        if rule.query is not None and matched & set(rule.uses) and set(rule.needs) <= matched:
            found: list[Match] = []
            for time, who, where, what, op, path, line, record, status, detail in session.run(
                rule.query.sql, rule.query.params
            ):
                alert = Alert(
                    *(rule.id, rule.title, rule.level, rule.tags, time, who, where, what, op, "correlation"),
                    *(path, line, record),
                    outcome=status,
                    detail=detail,
                )
                found.append((rule, alert, None, None))
            yield from _per_operation(found)


def _selective(session: Session, table: str, rules: list[CompiledRule]) -> set[int]:
    """`id()`s of the rules whose guard lets through at most `PERMISSIVE` of a sample of the
    table's records. Only how the rules are grouped into scans depends on it, never what they
    find."""
    guarded = [r for r in rules if r.guard is not None]
    if not guarded:
        return set()
    counts = ", ".join(f"count(*) FILTER (WHERE coalesce({r.guard.sql}, false))" for r in guarded if r.guard)
    params = [x for r in guarded if r.guard for x in r.guard.params]
    sample = f'SELECT * FROM "{table}" USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (1)'
    total, *passed = session.run(f"SELECT count(*), {counts} FROM ({sample})", params)[0]
    return {id(r) for r, n in zip(guarded, passed, strict=True) if n <= PERMISSIVE * total}


def _reads_json(rule: CompiledRule) -> bool:
    """Whether the rule's predicate parses JSON (or reads the record as received) for a record."""
    assert rule.predicate is not None
    sql = rule.predicate.sql
    return bool(path_tokens(sql)) or "lw_param(" in sql or f'"{RAW_COLUMN}"' in sql


def _per_operation(matches: Iterable[Match]) -> Iterator[Alert]:
    """One alert per (rule, operation), from the most final event the rule matched, in time order."""
    kept: dict[tuple[str, str], tuple[CompiledRule, Alert, int]] = {}
    single: list[tuple[CompiledRule, Alert, int]] = []
    for rule, alert, key, status in matches:
        if key is None:
            single.append((rule, alert, 0))
            continue
        held = kept.get((rule.id, key))
        if held is None or rank(status) < held[2]:
            kept[(rule.id, key)] = (rule, alert, rank(status))
    # In time order, ties by where the event was read: the same order however many scans found them.
    chosen = sorted(
        [*single, *kept.values()],
        key=lambda held: (held[1].time, held[1].file or "", held[1].line or 0, held[1].record or 0),
    )
    for rule, alert, _ in chosen:
        if rule.attempt_level and attempted_only(alert.outcome):
            yield replace(alert, level=rule.attempt_level)
        else:
            yield alert


def _scan(
    session: Session,
    table: str,
    rules: list[CompiledRule],
    used: set[str],
    anchored: set[str],
    matched: set[str],
    prefilter: bool,
) -> Iterator[Match]:
    """One pass over `table` for `rules` (with `prefilter`, over the records their guards let
    through): each JSON column a rule looks into is parsed once per
    record for every path any of them reads, then all predicates are tested on those values.
    The matches of rules in `used` (by correlations) go to the matches table; the outcomes of
    the operations that rules which alert, or are `anchored` on, matched are recorded; the ids
    of the rules that matched anything are added to `matched`."""
    predicates = [r.predicate for r in rules if r.predicate is not None]
    columns: dict[str, list[str]] = {}  # column -> paths read from it, in slot order

    def slot(column: str, path: str) -> str:
        paths = columns.setdefault(column, [])
        if path not in paths:
            paths.append(path)
        return f"j{list(columns).index(column)}[{paths.index(path) + 1}]"

    slots: dict[int, str] = {}
    from_raw = FROM_RAW.get(table, {})
    documents: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # (column, within) -> paths inside
    tokens = path_tokens(" ".join(p.sql for p in predicates))
    for token, column, within, path in tokens:
        if within is not None:
            if column not in from_raw:
                paths = documents.setdefault((column, within), [])
                paths.append(path)
                slots[token] = f"k{list(documents).index((column, within))}[{len(paths)}]"
            continue
        spec = from_raw.get(column)
        if spec is None:
            slots[token] = slot(column, path)
            continue
        # A column the view derives from the raw record: read the path there directly, in the
        # same parse as every other such path, rather than building the column first.
        inner = path[1:]
        found = [slot(RAW_COLUMN, f"$.{prefix}{inner}") for prefix in spec.objects]
        texts = [slot(RAW_COLUMN, f"$.{key}") for key in spec.texts]
        slots[token] = (
            f"coalesce({', '.join(found)}, json_extract_string(coalesce({', '.join(texts)}), {sql_str(path)}))"
        )
    # A request body's paths are read in one parse of it, from the column's own extraction (so
    # before the column's list of paths is written out).
    bodies = [
        f"json_extract_string({inner_document(column, within, slot)}, [{', '.join(sql_str(p) for p in paths)}]) AS k{n}"
        for n, ((column, within), paths) in enumerate(documents.items())
    ]
    lists = [
        f'json_extract_string(t."{column}", [{", ".join(sql_str(p) for p in paths)}]) AS j{n}'
        for n, (column, paths) in enumerate(columns.items())
    ]
    actor, ip, target, operation = SUMMARY[table]
    key = key_sql(table, "t")
    join, outcome = outcome_sql(table, "t")
    own = status_sql(table, "t")
    tests = ", ".join(f"coalesce({link(p.sql, slots)}, false)" for p in predicates)
    params = [x for p in predicates for x in p.params]
    extracted = "".join(", " + e for e in lists)
    documents_read = "".join(", " + e for e in bodies)
    guards = [r.guard for r in rules]
    where = ""
    if prefilter and all(g is not None for g in guards):
        known = [g for g in guards if g is not None]
        # Only records some rule's guard lets through are tested (and their JSON parsed) at all.
        where = " WHERE " + " OR ".join(f"coalesce({g.sql}, false)" for g in known)
        params = params + [x for g in known for x in g.params]
    # The tests are materialised with just the row id, so DuckDB computes each record's values
    # once rather than once per rule; only the records some rule hit are kept, and only they are
    # read again for the alert.
    session.run(
        f"CREATE OR REPLACE TEMP TABLE lw_scan AS SELECT * FROM (SELECT t._RowId, [{tests}] AS hits "
        f'FROM (SELECT *{documents_read} FROM (SELECT *{extracted} FROM "{table}" t{where}) t) t) '
        "WHERE list_bool_or(hits)",
        params,
    )
    anything = ", ".join(f"coalesce(bool_or(hits[{i}]), false)" for i in range(1, len(rules) + 1))
    ((any_hit,),) = session.run(f"SELECT [{anything}] FROM lw_scan")
    hits = [(i, rule) for i, (rule, hit) in enumerate(zip(rules, any_hit, strict=True), 1) if hit]
    for i, rule in hits:
        matched.add(rule.id)
        if rule.id in used:
            session.run(f"INSERT INTO {MATCHES} SELECT ?, _RowId FROM lw_scan WHERE hits[{i}]", [rule.id])
    alerting = [i for i, rule in hits if rule.alerts]
    told = [i for i, rule in hits if rule.alerts or rule.id in anchored]
    if table in OPERATIONS and told:
        # Only the operations an alert may name need their outcome.
        session.run(record_outcomes(table, f"SELECT _RowId FROM lw_scan WHERE list_bool_or([hits[i] FOR i IN {told}])"))
    if not alerting:
        return
    sql = (
        f"SELECT t.TimeGenerated, {actor}, {ip}, {target}, {operation}, f.Path, t._Line, t._Record, "
        f"{outcome}, {key}, {own}, list_filter({alerting}, lambda i: x.hits[i]) AS which "
        f'FROM lw_scan x JOIN "{table}" t ON t._RowId = x._RowId LEFT JOIN IngestFiles f ON f.FileId = t._FileId{join} '
        # Ties in time broken by where the event was read, so the same event represents its
        # operation in every run.
        "WHERE len(which) > 0 ORDER BY 1, 6, 7, 8"
    )
    for time, who, where, what, op, path, line, record, outcome, operation_key, own, which in session.run(sql):
        for i in which:
            rule = rules[i - 1]
            alert = Alert(
                rule.id,
                rule.title,
                rule.level,
                rule.tags,
                time,
                who,
                where,
                what,
                op,
                table,
                path,
                line,
                record,
                outcome,
            )
            yield rule, alert, operation_key, own
