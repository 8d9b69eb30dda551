"""Exchange Online `Get-AdminAuditLogConfig | ConvertTo-Json` (ScubaGear stores the same
object), or the same cmdlet's answer through the Exchange admin API's InvokeCommand.

The object itself does not say which PowerShell session read it, and in a Security &
Compliance session `UnifiedAuditLogIngestionEnabled` always reads False: the provenance's
session decides what a False means (see the `m365-ual-enabled` check)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import TENANT_SCOPE, AdminAuditLogConfig, Kind
from logwarden.posture.snapshot.readers.base import Shape
from logwarden.posture.snapshot.wire import flag, moment, text


def _claims(obj: dict[str, Any]) -> bool:
    return "unifiedauditlogingestionenabled" in obj or (
        "adminauditlogenabled" in obj and "adminauditlogagelimit" in obj
    )


def _parse(obj: dict[str, Any]) -> AdminAuditLogConfig:
    return AdminAuditLogConfig(
        organisation=text(obj, "organizationalunitroot", "organizationid"),
        ual_enabled=flag(obj.get("unifiedauditlogingestionenabled")),
        first_opt_in=moment(obj.get("unifiedauditlogfirstoptindate")),
        when_changed=moment(obj.get("whenchangedutc") or obj.get("whenchanged")),
    )


SHAPE = Shape(Kind.admin_audit_log_config, _claims, _parse, lambda item: TENANT_SCOPE)
