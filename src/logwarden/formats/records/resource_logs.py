"""Resource logs (storage, Key Vault, Kubernetes audit, ...) from diagnostic-settings exports.

They travel in the same blobs and Event Hubs as the Activity Log and some of them
record tampering (a storage account's log container emptied, for one).
"""

from __future__ import annotations

from logwarden.formats.records.base import (
    RecordFormat,
    dyn,
    first,
    key,
    last_segment,
    provider_of,
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

FORMAT = RecordFormat(
    code="a-resource",
    title="Resource log, diagnostic-settings export",
    table="AzureDiagnostics",
    match=f"{IS_DIAGNOSTIC_RECORD} AND NOT {IS_ENTRA} AND NOT {IS_SIGNIN} AND NOT {IS_ACTIVITY}",
    time=key("time"),
    columns={
        "ResourceId": key("resourceId"),
        "SubscriptionId": subscription_of(key("resourceId")),
        "ResourceGroup": resource_group_of(key("resourceId")),
        "ResourceProvider": provider_of(key("resourceId")),
        "Resource": last_segment(key("resourceId")),
        "Category": key("category"),
        "OperationName": OPERATION,
        "OperationVersion": key("operationVersion"),
        "ResultType": first(key("resultType"), key("statusText")),
        "ResultSignature": first(key("resultSignature"), key("statusCode")),
        "ResultDescription": key("resultDescription"),
        "DurationMs": key("durationMs"),
        "CallerIPAddress": key("callerIpAddress"),
        "CorrelationId": key("correlationId"),
        "Level": key("level"),
        "Location": key("location"),
        "TenantId": key("tenantId"),
        "Identity": dyn("identity"),
        "Properties": dyn("properties"),
    },
)
