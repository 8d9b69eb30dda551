"""Format b: the Activity Log from the REST API, `az monitor activity-log list`, the portal's JSON view.

Names and statuses are `{value, localizedValue}` objects here, unlike format a.
"""

from __future__ import annotations

from logwarden.formats.records.base import (
    RecordFormat,
    any_present,
    dyn,
    first,
    holds,
    key,
    path,
    resource_group_of,
    subscription_of,
)

_NAME_IS_OBJECT = holds(f"starts_with({key('operationName')}, '{{')")

FORMAT = RecordFormat(
    code="b",
    title="Activity Log, REST / az CLI / PowerShell",
    table="AzureActivity",
    match=(f"{_NAME_IS_OBJECT} AND {any_present('eventTimestamp', 'eventDataId', 'submissionTimestamp')}"),
    time=key("eventTimestamp"),
    columns={
        "OperationNameValue": path("operationName", "value"),
        "OperationName": path("operationName", "localizedValue"),
        "ActivityStatusValue": path("status", "value"),
        "ActivitySubstatusValue": f"nullif({path('subStatus', 'value')}, '')",
        "CategoryValue": path("category", "value"),
        "Level": key("level"),
        "Caller": key("caller"),
        "CallerIpAddress": first(path("httpRequest", "clientIpAddress"), path("claims", "ipaddr")),
        "CorrelationId": key("correlationId"),
        "EventDataId": key("eventDataId"),
        "OperationId": key("operationId"),
        "ResourceId": key("resourceId"),
        "ResourceGroup": first(key("resourceGroupName"), resource_group_of(key("resourceId"))),
        "ResourceProviderValue": path("resourceProviderName", "value"),
        "SubscriptionId": first(f"lower({key('subscriptionId')})", subscription_of(key("resourceId"))),
        "TenantId": key("tenantId"),
        "EventSubmissionTimestamp": key("submissionTimestamp"),
        "Hierarchy": path("properties", "hierarchy"),
        "Properties_d": dyn("properties"),
        "HTTPRequest": dyn("httpRequest"),
    },
)
