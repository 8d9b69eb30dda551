"""Activity log alert rules: `az monitor activity-log alert list` or the REST page
(`condition.allOf[]` of `{field, equals}` or `{anyOf: [...]}`)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import ActivityLogAlert, AlertCondition, Kind
from logwarden.posture.snapshot.readers.base import Shape, inner, names, of_type, required
from logwarden.posture.snapshot.wire import flag, flat, subscription_of, text


def _condition(obj: Any) -> AlertCondition | None:
    if not isinstance(obj, dict):
        return None
    low = flat(obj)
    field, equals = text(low, "field"), text(low, "equals")
    return AlertCondition(field.lower(), equals.lower()) if field and equals else None


def _parse(obj: dict[str, Any]) -> ActivityLogAlert:
    ident = required(obj, "id")
    condition = inner(obj, "condition")
    all_of: list[AlertCondition] = []
    any_of: list[tuple[AlertCondition, ...]] = []
    for entry in condition.get("allof") or []:
        low = flat(entry) if isinstance(entry, dict) else {}
        if isinstance(low.get("anyof"), list):
            any_of.append(tuple(c for c in map(_condition, low["anyof"]) if c))
        elif found := _condition(entry):
            all_of.append(found)
    return ActivityLogAlert(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        enabled=flag(obj.get("enabled")) is not False,  # ARM defaults `enabled` to true
        scopes=names(obj.get("scopes")),
        all_of=tuple(all_of),
        any_of=tuple(any_of),
    )


SHAPE = Shape(
    Kind.activity_log_alerts,
    of_type("microsoft.insights/activitylogalerts", "condition"),
    _parse,
    lambda item: f"/subscriptions/{subscription_of(item.id)}",
)
