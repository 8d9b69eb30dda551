"""Microsoft Graph `GET /v1.0/subscribedSkus`: the tenant's licences. Audit (Premium), service
plan M365_ADVANCED_AUDITING, is what allows audit retention past the standard 180 days."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import TENANT_SCOPE, Kind, SubscribedSku
from logwarden.posture.snapshot.readers.base import Shape
from logwarden.posture.snapshot.wire import flat, text

_LIVE = {"success", "pendingactivation", "pendingprovisioning", "warning"}


def _parse(obj: dict[str, Any]) -> SubscribedSku:
    plans = []
    for plan in obj.get("serviceplans") or []:
        low = flat(plan) if isinstance(plan, dict) else {}
        name, status = text(low, "serviceplanname"), (text(low, "provisioningstatus") or "success").lower()
        if name and status in _LIVE:
            plans.append(name)
    return SubscribedSku(text(obj, "skupartnumber"), tuple(plans))


SHAPE = Shape(
    Kind.subscribed_skus,
    lambda obj: "skupartnumber" in obj and "serviceplans" in obj,
    _parse,
    lambda item: TENANT_SCOPE,
)
