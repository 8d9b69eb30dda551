"""What Azure Monitor diagnostic settings write to Storage and Event Hubs.

Activity Log (format a), Entra audit and sign-in logs (d2) and resource logs all
share one record shape: `time`, `resourceId`, `operationName` (a string), `category`.
They are told apart by category and by the resource the record is about.
"""

from __future__ import annotations

from logwarden.formats.records.base import holds, key, one_of

ACTIVITY_CATEGORIES = frozenset(
    {
        "Administrative",
        "Security",
        "ServiceHealth",
        "Alert",
        "Recommendation",
        "Policy",
        "Autoscale",
        "ResourceHealth",
        # The resource-log schema's own examples and real exports use these for Administrative events.
        "Write",
        "Action",
        "Delete",
    }
)
SIGNIN_CATEGORIES = frozenset(
    {
        "SignInLogs",
        "NonInteractiveUserSignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
    }
)

# Some producers nest the operation as REST does ({value, localizedValue}) inside this shape.
OPERATION = (
    f"CASE WHEN starts_with({key('operationName')}, '{{') "
    f"THEN try(json_extract_string({key('operationName')}, '$.value')) ELSE {key('operationName')} END"
)
IS_DIAGNOSTIC_RECORD = (
    f"{key('operationName')} IS NOT NULL AND ({key('resourceId')} IS NOT NULL OR {key('category')} IS NOT NULL)"
)
_ABOUT_THE_TENANT = holds(f"{key('resourceId')} ILIKE '/tenants/%/providers/microsoft.aadiam%'")
IS_ENTRA = f"({one_of(key('category'), ['AuditLogs'])} OR {_ABOUT_THE_TENANT})"
IS_SIGNIN = one_of(key("category"), SIGNIN_CATEGORIES)
_NAME_IS_ARM_OPERATION = holds(f"contains({OPERATION}, '/')")
IS_ACTIVITY = (
    f"({one_of(key('category'), ACTIVITY_CATEGORIES)} OR ({key('category')} IS NULL AND {_NAME_IS_ARM_OPERATION}))"
)
