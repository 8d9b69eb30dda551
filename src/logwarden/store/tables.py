"""The case database's tables, named and shaped after Microsoft Sentinel's.

Column names are Sentinel's so that a query or rule written for Sentinel runs here
unchanged. Only the columns a detection or an analyst needs are typed out; every
row also keeps the record exactly as received (`_Raw`) and where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

TS = "TIMESTAMPTZ"
TEXT = "VARCHAR"
JSON = "JSON"
INT = "BIGINT"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    # Derived columns Sentinel also has, computed on read so they cost no storage.
    derived: tuple[tuple[str, str, str], ...] = ()

    def column_type(self, column: str) -> str:
        return dict(self.columns)[column]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


PROVENANCE: tuple[tuple[str, str], ...] = (
    ("_FileId", "INTEGER"),
    ("_Line", INT),
    ("_Record", INT),
    ("_Format", TEXT),
)
RAW_COLUMN = "_Raw"
# The tail of a diagnostic setting's or data-collection-rule association's resource id, below
# the resource it hangs off (matched on the lower-cased id; no quote, so it sits in SQL as is).
SETTING_CHILD = r"/providers/microsoft\.insights/(diagnosticsettings|datacollectionruleassociations)/[^/]+$"


@dataclass(frozen=True)
class FromRaw:
    """A dynamic column read from the raw record: the first of `objects` (JSON paths to an
    object) present, else JSON written as text under one of `texts` (Log Analytics rows)."""

    objects: tuple[str, ...]
    texts: tuple[str, ...]


# The token claims and RBAC evidence are a third of an Activity Log record and rarely
# queried: read from the raw record when asked for, rather than stored twice.
FROM_RAW: dict[str, dict[str, FromRaw]] = {
    "AzureActivity": {
        "Authorization_d": FromRaw(("identity.authorization", "authorization"), ("Authorization_d", "Authorization")),
        "Claims_d": FromRaw(("identity.claims", "claims"), ("Claims_d", "Claims")),
    },
}


def _from_raw(spec: FromRaw) -> str:
    """SQL for a FromRaw column. One extraction reads all the paths (DuckDB computes the
    repeated list once per record)."""
    objects, texts = spec.objects, spec.texts
    paths = ", ".join(f"'$.{p}'" for p in (*objects, *texts))
    found = f"json_extract({RAW_COLUMN}, [{paths}])"
    picks = [f"{found}[{i}]" for i in range(1, len(objects) + 1)]
    picks += [f"lw_json({found}[{i}] ->> '$')" for i in range(len(objects) + 1, len(objects) + len(texts) + 1)]
    return "coalesce(" + ", ".join(picks) + ")"


def _t(*cols: str) -> tuple[tuple[str, str], ...]:
    out = []
    for spec in cols:
        name, _, kind = spec.partition(":")
        out.append((name, {"": TEXT, "ts": TS, "json": JSON, "int": INT}[kind]))
    return tuple(out)


AZURE_ACTIVITY = Table(
    "AzureActivity",
    _t(
        "TimeGenerated:ts",
        "OperationNameValue",
        "OperationName",
        "ActivityStatusValue",
        "ActivitySubstatusValue",
        "CategoryValue",
        "Level",
        "Caller",
        "CallerIpAddress",
        "CorrelationId",
        "EventDataId",
        "OperationId",
        "ResourceId",
        "ResourceGroup",
        "ResourceProviderValue",
        "Resource",
        "SubscriptionId",
        "TenantId",
        "EventSubmissionTimestamp:ts",
        "Hierarchy",
        "Properties_d:json",
        "HTTPRequest:json",
    ),
    derived=(
        ("_ResourceId", TEXT, "lower(ResourceId)"),
        # logwarden's, not Sentinel's: the resource a diagnostic setting or data-collection-rule
        # association hangs off (lower case), or the resource itself; rules key on it to tell a
        # setting removed along with its resource from one removed on its own.
        ("ParentResourceId", TEXT, f"regexp_replace(lower(ResourceId), '{SETTING_CHILD}', '')"),
        ("Properties", TEXT, "CAST(Properties_d AS VARCHAR)"),
        *((name, JSON, _from_raw(spec)) for name, spec in FROM_RAW["AzureActivity"].items()),
        ("Type", TEXT, "'AzureActivity'"),
    ),
)

AUDIT_LOGS = Table(
    "AuditLogs",
    _t(
        "TimeGenerated:ts",
        "OperationName",
        "ActivityDisplayName",
        "ActivityDateTime:ts",
        "Category",
        "Result",
        "ResultReason",
        "ResultDescription",
        "ResultType",
        "ResultSignature",
        "AADOperationType",
        "LoggedByService",
        "CorrelationId",
        "Id",
        "Identity",
        "Level",
        "Location",
        "OperationVersion",
        "DurationMs:int",
        "ResourceId",
        "AADTenantId",
        "InitiatedBy:json",
        "TargetResources:json",
        "AdditionalDetails:json",
    ),
    derived=(("Type", TEXT, "'AuditLogs'"),),
)

OFFICE_ACTIVITY = Table(
    "OfficeActivity",
    _t(
        "TimeGenerated:ts",
        "Operation",
        "OfficeWorkload",
        "RecordType",
        "UserId",
        "UserKey",
        "UserType",
        "ClientIP",
        "OrganizationId",
        "OrganizationName",
        "ResultStatus",
        "OfficeObjectId",
        "OfficeId",
        "Parameters:json",
        "ModifiedProperties:json",
        "ExternalAccess",
        "OriginatingServer",
        "AppId",
        "ClientAppId",
        "MailboxOwnerUPN",
        "Site_Url",
        "SourceFileName",
        "ElevationTime:ts",
    ),
    derived=(("Type", TEXT, "'OfficeActivity'"),),
)

SIGNIN_LOGS = Table(
    "SigninLogs",
    _t(
        "TimeGenerated:ts",
        "OperationName",
        "Category",
        "ResultType",
        "ResultSignature",
        "ResultDescription",
        "CorrelationId",
        "Id",
        "UserPrincipalName",
        "UserDisplayName",
        "UserId",
        "UserType",
        "AppId",
        "AppDisplayName",
        "IPAddress",
        "ClientAppUsed",
        "ConditionalAccessStatus",
        "IsInteractive",
        "AuthenticationRequirement",
        "ResourceDisplayName",
        "ServicePrincipalId",
        "ServicePrincipalName",
        "UserAgent",
        "AuthenticationProtocol",
        "CrossTenantAccessType",
        "RiskState",
        "RiskLevelDuringSignIn",
        "RiskLevelAggregated",
        "Status:json",
        "NetworkLocationDetails:json",
        "AuthenticationDetails:json",
        "LocationDetails:json",
        "DeviceDetail:json",
        "Identity",
        "Level",
        "Location",
        "ResourceId",
        "AADTenantId",
    ),
    derived=(("Type", TEXT, "'SigninLogs'"),),
)

AZURE_DIAGNOSTICS = Table(
    "AzureDiagnostics",
    _t(
        "TimeGenerated:ts",
        "ResourceId",
        "SubscriptionId",
        "ResourceGroup",
        "ResourceProvider",
        "Resource",
        "Category",
        "OperationName",
        "OperationVersion",
        "ResultType",
        "ResultSignature",
        "ResultDescription",
        "DurationMs:int",
        "CallerIPAddress",
        "CorrelationId",
        "Level",
        "Location",
        "TenantId",
        "Identity:json",
        "Properties:json",
    ),
    derived=(("_ResourceId", TEXT, "lower(ResourceId)"), ("Type", TEXT, "'AzureDiagnostics'")),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (AZURE_ACTIVITY, AUDIT_LOGS, OFFICE_ACTIVITY, SIGNIN_LOGS, AZURE_DIAGNOSTICS)
}
