"""Format d2: Entra ID audit and sign-in logs exported by a tenant diagnostic setting.

The envelope is the Activity Log's, but `properties` holds the Graph object
(directoryAudit or signIn) and `identity` is a display name, not claims.
"""

from __future__ import annotations

from logwarden.formats.records.base import RecordFormat, dyn, first, key, path
from logwarden.formats.records.diagnostic_export import IS_DIAGNOSTIC_RECORD, IS_ENTRA, IS_SIGNIN, OPERATION

AUDIT = RecordFormat(
    code="d2",
    title="Entra audit log, diagnostic-settings export",
    table="AuditLogs",
    match=f"{IS_DIAGNOSTIC_RECORD} AND {IS_ENTRA} AND NOT {IS_SIGNIN}",
    time=key("time"),
    columns={
        "OperationName": OPERATION,
        "ActivityDisplayName": first(path("properties", "activityDisplayName"), OPERATION),
        "ActivityDateTime": path("properties", "activityDateTime"),
        # The top-level category is the log (AuditLogs); Sentinel's Category is the audit category.
        "Category": first(path("properties", "category"), key("category")),
        "Result": first(path("properties", "result"), key("resultType")),
        "ResultReason": path("properties", "resultReason"),
        "ResultDescription": key("resultDescription"),
        "ResultType": key("resultType"),
        "ResultSignature": key("resultSignature"),
        "AADOperationType": path("properties", "operationType"),
        "LoggedByService": path("properties", "loggedByService"),
        "CorrelationId": first(key("correlationId"), path("properties", "correlationId")),
        "Id": path("properties", "id"),
        "Identity": key("identity"),
        "Level": first(key("level"), key("Level")),
        "Location": key("location"),
        "OperationVersion": key("operationVersion"),
        "DurationMs": key("durationMs"),
        "ResourceId": key("resourceId"),
        "AADTenantId": key("tenantId"),
        "InitiatedBy": dyn("properties", "initiatedBy"),
        "TargetResources": dyn("properties", "targetResources"),
        "AdditionalDetails": dyn("properties", "additionalDetails"),
    },
)

SIGNIN = RecordFormat(
    code="d2",
    title="Entra sign-in log, diagnostic-settings export",
    table="SigninLogs",
    match=f"{IS_DIAGNOSTIC_RECORD} AND {IS_SIGNIN}",
    time=key("time"),
    columns={
        "OperationName": OPERATION,
        "Category": key("category"),
        "ResultType": first(key("resultType"), path("properties", "status", "errorCode")),
        "ResultSignature": key("resultSignature"),
        "ResultDescription": first(key("resultDescription"), path("properties", "status", "failureReason")),
        "CorrelationId": first(key("correlationId"), path("properties", "correlationId")),
        "Id": path("properties", "id"),
        "UserPrincipalName": path("properties", "userPrincipalName"),
        "UserDisplayName": path("properties", "userDisplayName"),
        "UserId": path("properties", "userId"),
        "UserType": path("properties", "userType"),
        "AppId": path("properties", "appId"),
        "AppDisplayName": path("properties", "appDisplayName"),
        "IPAddress": first(path("properties", "ipAddress"), key("callerIpAddress")),
        "ClientAppUsed": path("properties", "clientAppUsed"),
        "ConditionalAccessStatus": path("properties", "conditionalAccessStatus"),
        "IsInteractive": path("properties", "isInteractive"),
        "AuthenticationRequirement": path("properties", "authenticationRequirement"),
        "ResourceDisplayName": path("properties", "resourceDisplayName"),
        "ServicePrincipalId": path("properties", "servicePrincipalId"),
        "ServicePrincipalName": path("properties", "servicePrincipalName"),
        "UserAgent": path("properties", "userAgent"),
        "AuthenticationProtocol": path("properties", "authenticationProtocol"),
        "CrossTenantAccessType": path("properties", "crossTenantAccessType"),
        "RiskState": path("properties", "riskState"),
        "RiskLevelDuringSignIn": path("properties", "riskLevelDuringSignIn"),
        "RiskLevelAggregated": path("properties", "riskLevelAggregated"),
        "NetworkLocationDetails": dyn("properties", "networkLocationDetails"),
        "AuthenticationDetails": dyn("properties", "authenticationDetails"),
        "Status": dyn("properties", "status"),
        "LocationDetails": dyn("properties", "location"),
        "DeviceDetail": dyn("properties", "deviceDetail"),
        "Identity": key("identity"),
        "Level": first(key("level"), key("Level")),
        "Location": key("location"),
        "ResourceId": key("resourceId"),
        "AADTenantId": key("tenantId"),
    },
)
