"""One reader per export shape, in the order they are tried: the most particular first, the
resource inventory (any ARM object with an id and a type) last."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind
from logwarden.posture.snapshot.readers import (
    activity_log_alerts,
    admin_audit_log,
    audit_bypass,
    blob_services,
    containers,
    data_exports,
    diagnostic_categories,
    diagnostic_settings,
    inventory,
    locks,
    organization_config,
    storage_accounts,
    subscribed_skus,
    subscriptions,
    tables,
    ual_retention,
    workspaces,
)
from logwarden.posture.snapshot.readers.base import Shape

SHAPES: tuple[Shape, ...] = (
    diagnostic_settings.SHAPE,
    diagnostic_categories.SHAPE,
    workspaces.SHAPE,
    tables.SHAPE,
    data_exports.SHAPE,
    storage_accounts.SHAPE,
    blob_services.SHAPE,
    containers.CONTAINERS,
    containers.POLICIES,
    locks.SHAPE,
    activity_log_alerts.SHAPE,
    admin_audit_log.SHAPE,
    organization_config.SHAPE,
    audit_bypass.SHAPE,
    ual_retention.SHAPE,
    subscribed_skus.SHAPE,
    subscriptions.SHAPE,
    inventory.SHAPE,
)


def shape_of(obj: dict[str, Any], kind: Kind | None = None) -> Shape | None:
    """The first reader that claims `obj` (flattened), among those of `kind` when given."""
    for shape in SHAPES:
        if (kind is None or shape.kind is kind) and shape.claims(obj):
            return shape
    return None
