"""Log Analytics tables: `az monitor log-analytics workspace table list` or the REST page.
`retentionInDays` of -1 (or `retentionInDaysAsDefault`) means the workspace's retention."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind, Table
from logwarden.posture.snapshot.readers.base import Shape, arm_type, required
from logwarden.posture.snapshot.wire import parent_of, text, whole


def _parse(obj: dict[str, Any]) -> Table:
    ident = required(obj, "id")
    return Table(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        workspace_id=parent_of(ident, "tables"),
        retention_days=whole(obj.get("retentionindays")),
        total_retention_days=whole(obj.get("totalretentionindays")),
        plan=text(obj, "plan"),
    )


SHAPE = Shape(
    Kind.tables,
    lambda obj: arm_type(obj) == "microsoft.operationalinsights/workspaces/tables",
    _parse,
    lambda item: item.workspace_id,
)
