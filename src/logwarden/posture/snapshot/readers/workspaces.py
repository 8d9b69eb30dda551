"""Log Analytics workspaces: `az monitor log-analytics workspace show` / `list` (flat) or the
ARM REST body (`properties` nested, as azure-mgmt-loganalytics 14 models it)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind, Workspace
from logwarden.posture.snapshot.readers.base import Shape, inner, of_type, required
from logwarden.posture.snapshot.wire import number, subscription_of, text, whole


def _parse(obj: dict[str, Any]) -> Workspace:
    capping = inner(obj, "workspacecapping")
    ident = required(obj, "id")
    return Workspace(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        retention_days=whole(obj.get("retentionindays")),
        daily_quota_gb=number(capping.get("dailyquotagb")),
        ingestion_status=text(capping, "dataingestionstatus"),
    )


SHAPE = Shape(
    Kind.workspaces,
    of_type("microsoft.operationalinsights/workspaces", "retentionindays", "workspacecapping", "customerid"),
    _parse,
    lambda item: f"/subscriptions/{subscription_of(item.id)}",
)
