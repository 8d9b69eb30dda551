"""Format d1: Microsoft Graph `/auditLogs/directoryAudits` objects."""

from __future__ import annotations

from logwarden.formats.records.base import RecordFormat, dyn, first, key, path, present

FORMAT = RecordFormat(
    code="d1",
    title="Entra audit log, Microsoft Graph directoryAudits",
    table="AuditLogs",
    match=f"{present('activityDisplayName')} AND {key('operationName')} IS NULL "
    f"AND ({key('activityDateTime')} IS NOT NULL OR {key('loggedByService')} IS NOT NULL)",
    time=key("activityDateTime"),
    columns={
        "OperationName": key("activityDisplayName"),
        "ActivityDisplayName": key("activityDisplayName"),
        "ActivityDateTime": key("activityDateTime"),
        "Category": key("category"),
        "Result": key("result"),
        "ResultReason": key("resultReason"),
        "AADOperationType": key("operationType"),
        "LoggedByService": key("loggedByService"),
        "CorrelationId": key("correlationId"),
        "Id": key("id"),
        "Identity": first(
            path("initiatedBy", "user", "userPrincipalName"),
            path("initiatedBy", "app", "displayName"),
        ),
        "InitiatedBy": dyn("initiatedBy"),
        "TargetResources": dyn("targetResources"),
        "AdditionalDetails": dyn("additionalDetails"),
    },
)
