"""Format a: the Activity Log exported by a diagnostic setting (Storage blobs, Event Hub).

There is no `caller` field in this shape: the actor comes from the token claims.
"""

from __future__ import annotations

from logwarden.formats.records.base import (
    RecordFormat,
    dyn,
    first,
    key,
    path,
    resource_group_of,
    subscription_of,
)
from logwarden.formats.records.diagnostic_export import (
    IS_ACTIVITY,
    IS_DIAGNOSTIC_RECORD,
    IS_ENTRA,
    IS_SIGNIN,
    OPERATION,
)

_CLAIMS = ("identity", "claims")
_CATEGORY = first(path("properties", "eventCategory"), key("category"))

FORMAT = RecordFormat(
    code="a",
    title="Activity Log, diagnostic-settings export",
    table="AzureActivity",
    match=f"{IS_DIAGNOSTIC_RECORD} AND NOT {IS_ENTRA} AND NOT {IS_SIGNIN} AND {IS_ACTIVITY}",
    time=key("time"),
    columns={
        "OperationNameValue": OPERATION,
        "ActivityStatusValue": key("resultType"),
        "ActivitySubstatusValue": key("resultSignature"),
        # Write/Action/Delete are operation kinds, not event categories; Sentinel shows them as Administrative.
        "CategoryValue": (
            f"CASE WHEN lower({_CATEGORY}) IN ('write', 'action', 'delete') THEN 'Administrative' ELSE {_CATEGORY} END"
        ),
        "Level": key("level"),
        "Caller": first(
            key("caller"),
            path(*_CLAIMS, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"),
            path(*_CLAIMS, "http://schemas.microsoft.com/identity/claims/objectidentifier"),
            path(*_CLAIMS, "appid"),
            path("identity", "authorization", "evidence", "principalId"),
        ),
        "CallerIpAddress": key("callerIpAddress"),
        "CorrelationId": key("correlationId"),
        "EventDataId": path("properties", "eventDataId"),
        "OperationId": path("properties", "operationId"),
        "ResourceId": key("resourceId"),
        "ResourceGroup": resource_group_of(key("resourceId")),
        "ResourceProviderValue": f"nullif(split_part({OPERATION}, '/', 1), '')",
        "SubscriptionId": subscription_of(key("resourceId")),
        "TenantId": key("tenantId"),
        "Hierarchy": path("properties", "hierarchy"),
        "Properties_d": dyn("properties"),
    },
)
