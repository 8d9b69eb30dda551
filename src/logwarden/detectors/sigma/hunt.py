"""Run compiled Sigma rules over the case database, in bulk: one query per rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from logwarden.detectors.sigma.compiler import MACROS
from logwarden.detectors.sigma.rules import CompiledRule
from logwarden.store.database import Session

# Who, from where, on what, and which operation, per table: what an analyst reads first.
_SUMMARY = {
    "AzureActivity": ("Caller", "CallerIpAddress", "ResourceId", "OperationNameValue"),
    "AuditLogs": (
        "coalesce(InitiatedBy->>'$.user.userPrincipalName', InitiatedBy->>'$.app.displayName', Identity)",
        "InitiatedBy->>'$.user.ipAddress'",
        "TargetResources->>'$[0].displayName'",
        "OperationName",
    ),
    "OfficeActivity": ("UserId", "ClientIP", "OfficeObjectId", "Operation"),
    "SigninLogs": ("UserPrincipalName", "IPAddress", "AppDisplayName", "OperationName"),
    "AzureDiagnostics": ("Identity->>'$'", "CallerIPAddress", "ResourceId", "OperationName"),
}


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


def hunt(session: Session, rules: list[CompiledRule]) -> Iterator[Alert]:
    for sql in MACROS:
        session.run(sql)
    for rule in rules:
        if not (rule.runs and rule.alerts):
            continue
        if rule.query is not None:
            sql, params, table = rule.query.sql, rule.query.params, "correlation"
        else:
            assert rule.predicate is not None and rule.table is not None
            actor, ip, target, operation = _SUMMARY[rule.table]
            sql = (
                f"SELECT t.TimeGenerated, {actor}, {ip}, {target}, {operation}, f.Path, t._Line, t._Record "
                f'FROM "{rule.table}" t LEFT JOIN IngestFiles f ON f.FileId = t._FileId '
                f"WHERE {rule.predicate.sql} ORDER BY t.TimeGenerated"
            )
            params, table = rule.predicate.params, rule.table
        for time, who, where, what, op, path, line, record in session.run(sql, params):
            yield Alert(
                rule.id, rule.title, rule.level, rule.tags, time, who, where, what, op, table, path, line, record
            )
