"""What a reader of one export shape provides: how to recognise an object of that shape,
how to turn it into a setting, and which scope the setting belongs to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logwarden.posture.snapshot.model import Kind
from logwarden.posture.snapshot.wire import flat


@dataclass(frozen=True)
class Shape:
    kind: Kind
    claims: Callable[[dict[str, Any]], bool]  # given the object flattened by wire.flat
    parse: Callable[[dict[str, Any]], Any]  # raises ValueError when a needed field is missing
    scope: Callable[[Any], str]


def arm_type(obj: dict[str, Any]) -> str:
    return str(obj.get("type") or "").lower()


def required(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if value is None or value == "":
        raise ValueError(f"no {name!r}")
    return str(value)


def names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None)
    if isinstance(value, str) and value:
        return (value,)
    return ()


def of_type(resource_type: str, *fields: str) -> Callable[[dict[str, Any]], bool]:
    """Claims objects of `resource_type` that carry at least one of `fields`: `az resource
    list` and Resource Graph list the same types without their settings, and those rows
    belong to the inventory."""

    def claims(obj: dict[str, Any]) -> bool:
        return arm_type(obj) == resource_type and (not fields or any(f in obj for f in fields))

    return claims


def inner(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    """The first of `names` that holds an object, flattened (REST and `az` name some
    differently: `networkAcls` / `networkRuleSet`); empty when none does."""
    for name in names:
        value = obj.get(name)
        if isinstance(value, dict):
            return flat(value)
    return {}
