"""The resource inventory: `az resource list`, or Azure Resource Graph rows (`az graph query`,
`{"data": [...]}`). Tried last: any ARM object that no other reader claims is a resource."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind, Resource
from logwarden.posture.snapshot.readers.base import Shape, arm_type, required
from logwarden.posture.snapshot.wire import subscription_of, text


def _claims(obj: dict[str, Any]) -> bool:
    return bool(arm_type(obj)) and str(obj.get("id") or "").lower().startswith("/subscriptions/")


def _parse(obj: dict[str, Any]) -> Resource:
    ident = required(obj, "id")
    return Resource(
        id=ident,
        type=required(obj, "type").lower(),
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        subscription_id=subscription_of(ident),
        workspace_id=text(obj, "workspaceresourceid"),
    )


SHAPE = Shape(Kind.inventory, _claims, _parse, lambda item: f"/subscriptions/{item.subscription_id}")
