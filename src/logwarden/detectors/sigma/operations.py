"""How a table's matches become alerts: what an analyst reads first, and one alert per ARM operation.

An ARM write or delete is logged at least twice under one correlation id: `Start`, then
`Success` or `Failure` (`Accepted` for asynchronous work such as a purge). A rule that matches
the operation would alert on each; instead its matches are collapsed per operation, keeping
the most final event, whose status says whether the impairment happened (succeeded) or was
only attempted (failed, or started with no outcome in the logs).
"""

from __future__ import annotations

# Who, from where, on what, and which operation, per table: what an analyst reads first.
SUMMARY = {
    "AzureActivity": ("Caller", "CallerIpAddress", "ResourceId", "OperationNameValue"),
    "AuditLogs": (
        "coalesce(InitiatedBy->>'$.user.userPrincipalName', InitiatedBy->>'$.app.displayName', Identity)",
        "InitiatedBy->>'$.user.ipAddress'",
        "TargetResources->>'$[0].displayName'",
        "OperationName",
    ),
    "OfficeActivity": ("UserId", "ClientIP", "OfficeObjectId", "Operation"),
    "SigninLogs": ("UserPrincipalName", "IPAddress", "AppDisplayName", "OperationName"),
    # A Kubernetes audit record names its user and address inside `properties.log`, JSON in a string.
    "AzureDiagnostics": (
        "coalesce(Identity->>'$', TRY_CAST(Properties->>'$.log' AS JSON)->>'$.user.username')",
        "coalesce(CallerIPAddress, TRY_CAST(Properties->>'$.log' AS JSON)->>'$.sourceIPs[0]')",
        "ResourceId",
        "OperationName",
    ),
}


# Per table: the columns naming an operation, and its status column. Tables not listed have one
# event per action and are not collapsed.
OPERATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "AzureActivity": (("CorrelationId", "OperationNameValue", "ResourceId"), "ActivityStatusValue"),
}


def key_sql(table: str, alias: str) -> str:
    """SQL naming the operation of row `alias` of `table` (NULL where there are no operations)."""
    if table not in OPERATIONS:
        return "NULL"
    columns, _ = OPERATIONS[table]
    return f"lower(concat_ws('|', {', '.join(f'{alias}.{c}' for c in columns)}))"


def status_sql(table: str, alias: str) -> str:
    """SQL of row `alias`'s own status (NULL where there are no operations)."""
    return f"{alias}.{OPERATIONS[table][1]}" if table in OPERATIONS else "NULL"


# Filled by the hunt: each matched operation's most final status, by `key_sql`.
OUTCOMES = "lw_outcomes"


def outcome_sql(table: str, alias: str) -> tuple[str, str]:
    """A join and a column: the most final status any event of row `alias`'s operation has, as
    `record_outcomes` left it. A request body is often logged on the `Start` event only, and the
    rule that judges it must still learn whether the operation succeeded."""
    if table not in OPERATIONS:
        return "", "NULL"
    own = status_sql(table, alias)
    return f" LEFT JOIN {OUTCOMES} oc ON oc.key = {key_sql(table, alias)}", f"coalesce(oc.outcome, {own})"


def record_outcomes(table: str, rows: str) -> str:
    """SQL recording the outcome of every operation of the rows whose `_RowId`s the query `rows`
    gives, once, however many rules matched them. A row that succeeded needs no look-up: nothing
    is more final (`outcome_sql` falls back on the row's own status)."""
    columns, status = OPERATIONS[table]
    pending = (
        f'SELECT DISTINCT lower(t.{columns[0]}) AS c FROM "{table}" t '
        f"WHERE t._RowId IN ({rows}) AND {rank_sql('t.' + status)} > 0"
    )
    return (
        f"INSERT OR IGNORE INTO {OUTCOMES} SELECT key, min_by(status, {rank_sql('status')}) FROM "
        f'(SELECT {key_sql(table, "o")} AS key, o.{status} AS status FROM "{table}" o '
        f"SEMI JOIN ({pending}) p ON lower(o.{columns[0]}) = p.c) "
        "GROUP BY key"
    )


_SUCCEEDED = ("success", "succeeded", "accept", "accepted")
_FAILED = ("failure", "failed")
_STARTED = ("start", "started")
# Statuses by rank, the most final first; any other status ranks OTHER.
RANKS = ((_SUCCEEDED, 0), (_FAILED, 1), (_STARTED, 3))
OTHER = 2


def rank_sql(status: str) -> str:
    """SQL ranking a status: the most final first (succeeded, failed, other, started)."""

    def listed(values: tuple[str, ...]) -> str:
        return ", ".join(f"'{v}'" for v in values)

    cases = " ".join(f"WHEN lower({status}) IN ({listed(values)}) THEN {rank}" for values, rank in RANKS)
    return f"CASE {cases} ELSE {OTHER} END"


def rank(status: str | None) -> int:
    """The same ranking in Python, for matches collapsed after a scan."""
    value = (status or "").lower()
    return next((rank for values, rank in RANKS if value in values), OTHER)


def attempted_only(status: str | None) -> bool:
    """True when the operation's most final event says it failed or never finished."""
    return status is not None and rank(status) in (1, 3)
