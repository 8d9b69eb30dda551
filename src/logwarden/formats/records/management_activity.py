"""Format e1: Office 365 Management Activity API records (the unified audit log's AuditData).

Also the record inside Purview (e2) and classic / `Search-UnifiedAuditLog` (e3) CSV
exports, which framing unwraps from their `AuditData` column. `CreationTime` has no
zone and is UTC by definition.
"""

from __future__ import annotations

from logwarden.formats.records.base import RecordFormat, any_present, dyn, key, present
from logwarden.formats.records.ual_enums import RECORD_TYPES, USER_TYPES
from logwarden.store.sql import sql_str


def _enum_macro(name: str, values: dict[int, str]) -> str:
    entries = ", ".join(f"{number}: {sql_str(label)}" for number, label in sorted(values.items()))
    # Numbers become names, as Log Analytics shows them; a name or an unknown number stays as it is.
    return f"CREATE OR REPLACE MACRO {name}(x) AS coalesce(MAP {{{entries}}}[TRY_CAST(x AS INTEGER)], x)"


MACROS = (
    _enum_macro("lw_record_type", RECORD_TYPES),
    _enum_macro("lw_user_type", USER_TYPES),
)

FORMAT = RecordFormat(
    code="e1",
    title="Unified audit log, Management Activity API record",
    table="OfficeActivity",
    match=f"{present('Operation')} AND {any_present('RecordType', 'Workload')} "
    f"AND {any_present('CreationTime', 'OrganizationId', 'Id')}",
    time=key("CreationTime"),
    columns={
        "Operation": key("Operation"),
        "OfficeWorkload": key("Workload"),
        "RecordType": f"lw_record_type({key('RecordType')})",
        "UserId": key("UserId"),
        "UserKey": key("UserKey"),
        "UserType": f"lw_user_type({key('UserType')})",
        "ClientIP": key("ClientIP"),
        "OrganizationId": key("OrganizationId"),
        "OrganizationName": key("OrganizationName"),
        "ResultStatus": key("ResultStatus"),
        "OfficeObjectId": key("ObjectId"),
        "OfficeId": key("Id"),
        "Parameters": dyn("Parameters"),
        "ModifiedProperties": dyn("ModifiedProperties"),
        "ExternalAccess": key("ExternalAccess"),
        "OriginatingServer": key("OriginatingServer"),
        "AppId": key("AppId"),
        "ClientAppId": key("ClientAppId"),
        "MailboxOwnerUPN": key("MailboxOwnerUPN"),
        "Site_Url": key("SiteUrl"),
        "SourceFileName": key("SourceFileName"),
    },
)
