"""Security & Compliance `Get-UnifiedAuditLogRetentionPolicy | ConvertTo-Json`: how long the
unified audit log keeps records beyond the licence's default (ScubaGear MS.SECURITYSUITE.5.2v1)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import TENANT_SCOPE, Kind, RetentionPolicy
from logwarden.posture.snapshot.readers.base import Shape, names, required
from logwarden.posture.snapshot.wire import flag, text


def _parse(obj: dict[str, Any]) -> RetentionPolicy:
    return RetentionPolicy(
        name=text(obj, "name", "identity") or required(obj, "guid"),
        duration=text(obj, "retentionduration"),
        enabled=flag(obj.get("enabled")),
        record_types=names(obj.get("recordtypes")),
        operations=names(obj.get("operations")),
        user_ids=names(obj.get("userids")),
    )


SHAPE = Shape(Kind.ual_retention_policies, lambda obj: "retentionduration" in obj, _parse, lambda item: TENANT_SCOPE)
