"""Formats c, d3, e4: rows exported from Log Analytics (portal CSV, query API, JSON rows).

The columns already carry Sentinel's names, so the mapping is the identity, plus
the string twins of dynamic columns some exports carry instead (`Properties` for
`Properties_d`). Which table a row belongs to comes from its `Type` (or the
`$table` of a `union withsource=$table` query), else from columns only one table has.
"""

from __future__ import annotations

from logwarden.formats.records.base import RecordFormat, any_present, first, json_text, key, one_of
from logwarden.store.tables import JSON, TABLES

_TYPE = f"coalesce({key('Type')}, {key('$table')})"
_SIGNIN_TYPES = (
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
)
LOG_ANALYTICS_TYPES = (*TABLES, *_SIGNIN_TYPES)


def _rows_of(
    table: str,
    code: str,
    names: tuple[str, ...],
    fallback: str | None,
    overrides: dict[str, str] | None = None,
) -> RecordFormat:
    columns = {}
    for column, kind in TABLES[table].columns:
        if column != "TimeGenerated":
            columns[column] = json_text(column) if kind == JSON else key(column)
    columns.update(overrides or {})
    by_type = one_of(_TYPE, names)
    # A hunting query may project its own `Type` column over the table's (OTRF's AADAuditEvents do).
    untyped = (
        f"NOT {one_of(_TYPE, LOG_ANALYTICS_TYPES)} AND {key('TimeGenerated')} IS NOT NULL AND {fallback}"
        if fallback
        else None
    )
    return RecordFormat(
        code=code,
        title=f"Log Analytics {table} rows",
        table=table,
        match=f"({by_type} OR ({untyped}))" if untyped else by_type,
        time=key("TimeGenerated"),
        columns=columns,
    )


AZURE_ACTIVITY = _rows_of(
    "AzureActivity",
    "c",
    ("AzureActivity",),
    any_present("OperationNameValue", "ActivityStatusValue", "CategoryValue"),
    {
        "Properties_d": first(json_text("Properties_d"), json_text("Properties")),
    },
)
AUDIT_LOGS = _rows_of(
    "AuditLogs", "d3", ("AuditLogs",), any_present("ActivityDisplayName", "InitiatedBy", "TargetResources")
)
OFFICE_ACTIVITY = _rows_of(
    "OfficeActivity",
    "e4",
    ("OfficeActivity",),
    f"{key('Operation')} IS NOT NULL",
    {
        "RecordType": f"lw_record_type({key('RecordType')})",
        "OfficeId": first(key("OfficeId"), key("SourceRecordId")),
    },
)
SIGNIN_LOGS = _rows_of(
    "SigninLogs",
    "c",
    _SIGNIN_TYPES,
    None,
)
AZURE_DIAGNOSTICS = _rows_of("AzureDiagnostics", "c", ("AzureDiagnostics",), None)

FORMATS = (AZURE_ACTIVITY, AUDIT_LOGS, OFFICE_ACTIVITY, SIGNIN_LOGS, AZURE_DIAGNOSTICS)
