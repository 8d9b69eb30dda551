"""Subscriptions: `az account list` (no `type`; a GUID `id` beside `tenantId` and `state`) or
Azure Resource Graph `resourcecontainers` rows of type microsoft.resources/subscriptions."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind, Subscription
from logwarden.posture.snapshot.readers.base import Shape, arm_type, required
from logwarden.posture.snapshot.wire import subscription_of, text


def _claims(obj: dict[str, Any]) -> bool:
    if arm_type(obj) == "microsoft.resources/subscriptions":
        return True
    return not obj.get("type") and "tenantid" in obj and "state" in obj and ("isdefault" in obj or "cloudname" in obj)


def _parse(obj: dict[str, Any]) -> Subscription:
    ident = text(obj, "subscriptionid") or required(obj, "id")
    sub = subscription_of(ident) or ident.lower()
    return Subscription(f"/subscriptions/{sub}", text(obj, "name", "displayname"))


SHAPE = Shape(Kind.subscriptions, _claims, _parse, lambda item: item.id)
