"""Exchange Online `Get-MailboxAuditBypassAssociation -ResultSize Unlimited | ConvertTo-Json`:
an account with `AuditBypassEnabled` leaves no mailbox audit records (CIS M365 6.1.3)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import TENANT_SCOPE, BypassAssociation, Kind
from logwarden.posture.snapshot.readers.base import Shape, required
from logwarden.posture.snapshot.wire import flag, text


def _parse(obj: dict[str, Any]) -> BypassAssociation:
    return BypassAssociation(
        text(obj, "identity", "name") or required(obj, "guid"), flag(obj.get("auditbypassenabled"))
    )


SHAPE = Shape(Kind.audit_bypass, lambda obj: "auditbypassenabled" in obj, _parse, lambda item: TENANT_SCOPE)
