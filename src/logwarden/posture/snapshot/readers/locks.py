"""Resource locks: `az lock list` or the REST page. A lock's scope is the part of its id
before `/providers/Microsoft.Authorization/locks`; it covers everything under that scope."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind, Lock
from logwarden.posture.snapshot.readers.base import Shape, arm_type, required
from logwarden.posture.snapshot.wire import scope_of, subscription_of, text


def _parse(obj: dict[str, Any]) -> Lock:
    ident = required(obj, "id")
    return Lock(
        ident, text(obj, "name") or "", scope_of(ident, "microsoft.authorization/locks"), required(obj, "level")
    )


SHAPE = Shape(
    Kind.locks,
    lambda obj: arm_type(obj) == "microsoft.authorization/locks",
    _parse,
    lambda item: f"/subscriptions/{subscription_of(item.id)}",
)
