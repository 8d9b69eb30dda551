"""Where a Sigma rule's logsource and fields live in the case database.

Community rules name fields as the raw exports do (`operationName`, `properties.requestbody`,
`identity.claims.appid` for the Activity Log; `Operation`, `Parameters` for Microsoft 365);
rules written for Sentinel use its column names. Both resolve here to a column, or to a JSON
path below a dynamic column. A field that resolves to nothing is an error for that rule,
never a silent no-match.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sigma.rule import SigmaLogSource

from logwarden.store.tables import JSON, RAW_COLUMN, TABLES, Table


class UnmappedField(Exception):
    pass


class UnsupportedLogsource(Exception):
    pass


@dataclass(frozen=True)
class FieldRef:
    """A column, or a JSON path below a dynamic column (`path` is bound as a parameter)."""

    column: str
    path: str | None = None
    many: bool = False  # the path crosses an array: the rule matches if any element does
    parameter: str | None = None  # an Exchange cmdlet parameter, looked up by name
    # JSON paths below `column` (spellings of one key: `requestbody`, `requestBody`) to a string
    # that itself holds JSON (an ARM request body); `path` then applies to that parsed string.
    within: tuple[str, ...] | None = None
    # Other paths to the same field. Through keys that usually hold a list (`actions`, `rules`):
    # the path with some of them read as an object instead (a lifecycle rule's `actions` is an
    # object, an alert processing rule's a list), and the field matches when any value found by
    # any of them does. Otherwise, spellings of one key (`requestbody`, `requestBody`): the first
    # present is the value.
    shapes: tuple[str, ...] = ()


# Sigma logsource (product, service) -> table. Services may also be named by their table.
_LOGSOURCES: dict[tuple[str, str | None], str] = {
    ("azure", "activitylogs"): "AzureActivity",
    ("azure", "auditlogs"): "AuditLogs",
    ("azure", "signinlogs"): "SigninLogs",
    ("azure", "resourcelogs"): "AzureDiagnostics",
    ("m365", None): "OfficeActivity",
    ("microsoft365", None): "OfficeActivity",
}

# Export (community rule) field names per table -> Sentinel column, or (column, JSON path prefix).
_ALIASES: dict[str, dict[str, str | tuple[str, str]]] = {
    "AzureActivity": {
        "operationname": "OperationNameValue",
        "operationname.value": "OperationNameValue",
        "resulttype": "ActivityStatusValue",
        "status": "ActivityStatusValue",
        "status.value": "ActivityStatusValue",
        "resultsignature": "ActivitySubstatusValue",
        "substatus": "ActivitySubstatusValue",
        "category": "CategoryValue",
        "category.value": "CategoryValue",
        "resourceid": "ResourceId",
        "calleripaddress": "CallerIpAddress",
        "caller": "Caller",
        "correlationid": "CorrelationId",
        "level": "Level",
        "subscriptionid": "SubscriptionId",
        "tenantid": "TenantId",
        "resourcegroupname": "ResourceGroup",
        "resourceprovidername": "ResourceProviderValue",
        "properties": ("Properties_d", ""),
        "identity.claims": ("Claims_d", ""),
        "claims": ("Claims_d", ""),
        "identity.authorization": ("Authorization_d", ""),
        "authorization": ("Authorization_d", ""),
        "httprequest": ("HTTPRequest", ""),
    },
    "AuditLogs": {
        "operationname": "OperationName",
        "properties.message": "OperationName",
        "activitydisplayname": "ActivityDisplayName",
        "properties.activitydisplayname": "ActivityDisplayName",
        "loggedbyservice": "LoggedByService",
        "properties.loggedbyservice": "LoggedByService",
        "result": "Result",
        "properties.result": "Result",
        "status": "Result",
        "operationtype": "AADOperationType",
        "properties.operationtype": "AADOperationType",
        "resulttype": "ResultType",
        "category": "Category",
        "properties.category": "Category",
        "correlationid": "CorrelationId",
        "identity": "Identity",
        "initiatedby": ("InitiatedBy", ""),
        "properties.initiatedby": ("InitiatedBy", ""),
        "targetresources": ("TargetResources", ""),
        "properties.targetresources": ("TargetResources", ""),
        "additionaldetails": ("AdditionalDetails", ""),
        "properties.additionaldetails": ("AdditionalDetails", ""),
    },
    "SigninLogs": {
        "operationname": "OperationName",
        "resulttype": "ResultType",
        "calleripaddress": "IPAddress",
        "ipaddress": "IPAddress",
        "properties.ipaddress": "IPAddress",
        "properties.userprincipalname": "UserPrincipalName",
        "properties.appid": "AppId",
        "properties.appdisplayname": "AppDisplayName",
        "properties.status": ("Status", ""),
        "status": ("Status", ""),
        "properties.location": ("LocationDetails", ""),
        "properties.devicedetail": ("DeviceDetail", ""),
        "properties.authenticationprotocol": "AuthenticationProtocol",
        "properties.crosstenantaccesstype": "CrossTenantAccessType",
        "properties.riskstate": "RiskState",
        "properties.conditionalaccessstatus": "ConditionalAccessStatus",
        "properties.clientappused": "ClientAppUsed",
        "properties.networklocationdetails": ("NetworkLocationDetails", ""),
        "properties.authenticationdetails": ("AuthenticationDetails", ""),
        "authentication_result": "ResultType",
        "location": ("LocationDetails", ""),
    },
    "OfficeActivity": {
        # SigmaHQ's Microsoft 365 rules name the Management Activity API fields after CloudTrail's.
        "eventsource": "OfficeWorkload",
        "eventname": "Operation",
        "status": "ResultStatus",
        "workload": "OfficeWorkload",
        "objectid": "OfficeObjectId",
        "id": "OfficeId",
        "creationtime": "TimeGenerated",
    },
    "AzureDiagnostics": {
        "operationname": "OperationName",
        "category": "Category",
        "resourceid": "ResourceId",
        "calleripaddress": "CallerIPAddress",
        "resulttype": "ResultType",
        "durationms": "DurationMs",
        "correlationid": "CorrelationId",
        "properties": ("Properties", ""),
        "identity": ("Identity", ""),
    },
}

# JSON keys whose values are arrays: a path through them is "any element".
_ARRAYS = {
    "targetresources",
    "modifiedproperties",
    "additionaldetails",
    "parameters",
    "folders",
    "affecteditems",
    "logs",
    "metrics",
    "dataflows",
    "actions",
    "rules",
    "receivers",
}
# JSON keys whose values are JSON written as a string: the Activity Log's `requestbody` and
# `responseBody`, a Kubernetes audit event's `log`. A path may go on inside them
# (`properties.requestbody.properties.retentionInDays`).
_JSON_STRINGS = {"requestbody": "requestBody", "responsebody": "responseBody", "log": "log"}
# Microsoft 365 records carry workload-specific fields no table column names (Defender XDR's
# `SettingName`, ...): `AuditData.<path>` (or CloudAppEvents' `RawEventData.<path>`) reads them
# from the record as received. A prefix is required so a misspelt column stays an error.
_RAW_PREFIXES = ("auditdata.", "raweventdata.")


def table_for(logsource: SigmaLogSource) -> Table:
    product = (logsource.product or "").lower()
    service = (logsource.service or "").lower() or None
    by_table = {name.lower(): name for name in TABLES}
    name = _LOGSOURCES.get((product, service)) or _LOGSOURCES.get((product, None))
    if name is None and service in by_table and product in ("azure", "m365", "microsoft365"):
        name = by_table[service]
    if name is None:
        raise UnsupportedLogsource(
            f"logsource product={logsource.product} service={logsource.service} is not one of the case "
            "database's tables (azure activitylogs/auditlogs/signinlogs/resourcelogs, m365)"
        )
    return TABLES[name]


def resolve(table: Table, field: str) -> FieldRef:
    """The column (and JSON path) that holds `field` in `table`."""
    names = (*table.column_names, *(d[0] for d in table.derived))
    columns = {c.lower(): c for c in names}
    kinds = {**dict(table.columns), **{name: kind for name, kind, _ in table.derived}}
    lowered = field.lower()
    # Sentinel's spelling first (`OperationName`), then the exports' (`operationName`), then any case.
    if field in names:
        return FieldRef(field)
    aliases = _ALIASES.get(table.name, {})
    if isinstance(target := aliases.get(lowered), str):
        return FieldRef(target)
    if lowered in columns:
        return FieldRef(columns[lowered])
    if table.name == "OfficeActivity" and lowered.startswith("parameters."):
        # `Parameters.UnifiedAuditLogIngestionEnabled`: by name, never by position.
        return FieldRef("Parameters", parameter=field.split(".", 1)[1])
    if table.name == "OfficeActivity" and lowered.startswith(_RAW_PREFIXES):
        ref = _json_ref(RAW_COLUMN, field.split(".")[1:])
        if ref.many or ref.within or ref.path is None:
            return ref
        # Some tools lower-case every key of the records they keep (Panther does): read both.
        return replace(ref, shapes=tuple(p for p in (ref.path.lower(),) if p != ref.path))
    # The longest prefix that names a column (directly, or through an alias of a JSON column).
    parts = field.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head, rest = ".".join(parts[:cut]).lower(), parts[cut:]
        target = aliases.get(head) or columns.get(head)
        column = target[0] if isinstance(target, tuple) else target
        if column and kinds.get(column) == JSON:
            # A claim named by URI (`...claims.http://schemas.xmlsoap.org/.../upn`) is one key.
            return _json_ref(column, [".".join(rest)] if "://" in ".".join(rest) else rest)
    raise UnmappedField(f"field {field!r} is not a column of {table.name} nor a path below one of its JSON columns")


def _json_ref(column: str, steps: list[str]) -> FieldRef:
    head = "$[*]" if column.lower() in _ARRAYS else "$"
    within: tuple[str, ...] | None = None
    shapes = [head]
    for n, step in enumerate(steps):
        if step.lower() in _JSON_STRINGS and n + 1 < len(steps) and within is None and shapes == [head]:
            within, shapes = tuple(head + "." + _key(s) for s in _spellings(step)), ["$"]
            continue
        shapes = [shape + "." + _key(step) for shape in shapes]
        if step.lower() in _ARRAYS:
            shapes = [*(shape + "[*]" for shape in shapes), *shapes]
    many = any("[*]" in shape for shape in shapes)
    last = steps[-1].lower() if steps else ""
    if not many and within is None and last in _JSON_STRINGS:
        # The request body itself (to search its text): either spelling of the key.
        prefix = shapes[0][: -len(_key(steps[-1]))]
        shapes = [prefix + _key(s) for s in _spellings(steps[-1])]
    return FieldRef(column, shapes[0], many, within=within, shapes=tuple(shapes[1:]))


def _spellings(step: str) -> list[str]:
    """A JSON-string key as written and as exports spell it (`requestbody` in Event Hub records,
    `requestBody` in the REST API's): all are read, the first present wins."""
    return list(dict.fromkeys((step, step.lower(), _JSON_STRINGS[step.lower()])))


def _key(step: str) -> str:
    """One JSON path step, quoted: a key may hold dots, quotes or backslashes."""
    return '"' + step.replace("\\", "\\\\").replace('"', '\\"') + '"'
