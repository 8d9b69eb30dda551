"""Log Analytics data export rules: `az monitor log-analytics workspace data-export list` or
the REST page (`enable`, `tableNames`, `destination.resourceId`)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import DataExport, Kind
from logwarden.posture.snapshot.readers.base import Shape, arm_type, inner, names, required
from logwarden.posture.snapshot.wire import flag, parent_of, text


def _parse(obj: dict[str, Any]) -> DataExport:
    ident = required(obj, "id")
    destination = inner(obj, "destination")
    return DataExport(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        workspace_id=parent_of(ident, "dataexports"),
        enabled=flag(obj.get("enable")),
        tables=names(obj.get("tablenames")),
        destination=text(destination, "resourceid") or text(obj, "resourceid"),
    )


SHAPE = Shape(
    Kind.data_exports,
    lambda obj: arm_type(obj) == "microsoft.operationalinsights/workspaces/dataexports",
    _parse,
    lambda item: item.workspace_id,
)
