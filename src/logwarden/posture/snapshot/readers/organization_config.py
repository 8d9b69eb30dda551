"""Exchange Online `Get-OrganizationConfig | ConvertTo-Json`: `AuditDisabled` is the
organisation-wide switch for mailbox auditing (CIS M365 6.1.1)."""

from __future__ import annotations

from logwarden.posture.snapshot.model import TENANT_SCOPE, Kind, OrganizationConfig
from logwarden.posture.snapshot.readers.base import Shape
from logwarden.posture.snapshot.wire import flag, text

SHAPE = Shape(
    Kind.organization_config,
    lambda obj: "auditdisabled" in obj,
    lambda obj: OrganizationConfig(text(obj, "name", "identity"), flag(obj.get("auditdisabled"))),
    lambda item: TENANT_SCOPE,
)
