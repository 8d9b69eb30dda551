"""Helpers for JSON as Azure and Exchange return it.

The same setting comes in several spellings: ARM REST nests fields under `properties`, the
`az` CLI flattens them, PowerShell's `ConvertTo-Json` keeps .NET names and writes dates as
`/Date(ms)/`. Keys are matched case-insensitively, since tools disagree on case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def flat(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object with the fields under `properties` lifted up, keys lower-cased.

    A field at the top wins over one of the same name under `properties` only when the top
    one is set: `az` output keeps a null `properties` key beside the lifted fields.
    """
    lifted: dict[str, Any] = {}
    inner = obj.get("properties")
    if isinstance(inner, Mapping):
        lifted.update({str(k).lower(): v for k, v in inner.items()})
    for key, value in obj.items():
        low = str(key).lower()
        if low != "properties" and (value is not None or low not in lifted):
            lifted[low] = value
    return lifted


def text(obj: Mapping[str, Any], *names: str) -> str | None:
    """The first of `names` (lower-case keys) that holds a non-empty value, as text."""
    for name in names:
        value = obj.get(name)
        if value is not None and value != "":
            return str(value)
    return None


def flag(value: Any) -> bool | None:
    """A boolean as JSON, PowerShell or a form would write it; None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def whole(value: Any) -> int | None:
    found = number(value)
    return None if found is None else int(found)


def moment(value: Any) -> datetime | None:
    """A time as ISO 8601 or Windows PowerShell's `/Date(ms)/`, in UTC; None when unreadable."""
    if not isinstance(value, str) or not value:
        return None
    found = _MS_DATE.match(value)
    if found:
        try:
            return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)
        except (OverflowError, OSError, ValueError):  # a millisecond count past year 9999
            return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def entries(document: Any) -> list[Any] | None:
    """The objects a JSON document lists: a bare list, an ARM `{"value": [...]}` page, an
    Azure Resource Graph `{"data": [...]}` answer, or one object on its own."""
    if isinstance(document, list):
        return document
    if isinstance(document, Mapping):
        # a page or an answer has no identity of its own; a resource always has an id
        if not any(k in document for k in ("id", "Id", "type")):
            for key in ("value", "data"):
                if isinstance(document.get(key), list):
                    return list(document[key])
        return [document]
    return None


def scope_of(resource_id: str, marker: str) -> str:
    """The part of an ARM id before `/providers/<marker>` (case-insensitive): the scope a
    diagnostic setting or lock belongs to."""
    at = resource_id.lower().find(f"/providers/{marker.lower()}")
    return resource_id[:at] if at >= 0 else resource_id


def subscription_of(resource_id: str) -> str | None:
    parts = resource_id.split("/")
    if len(parts) > 2 and parts[1].lower() == "subscriptions":
        return parts[2].lower()
    return None


def same_id(a: str | None, b: str | None) -> bool:
    """ARM ids compare case-insensitively (the portal, `az` and ARG disagree on case)."""
    return a is not None and b is not None and a.rstrip("/").lower() == b.rstrip("/").lower()


def parent_of(resource_id: str, child: str) -> str:
    """The id of the resource that holds a `/<child>/<name>` (case-insensitive): a table's
    workspace, a container's storage account."""
    at = resource_id.lower().find(f"/{child.lower()}/")
    return resource_id[:at] if at >= 0 else resource_id


def resource_group(resource_id: str) -> str:
    """The resource group named in an ARM id ("" when it names none)."""
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered[:-1] else ""


def type_of(resource_id: str) -> str:
    """The resource type an ARM id names, lower case: `.../providers/Microsoft.Storage/
    storageAccounts/st/blobServices/default` is microsoft.storage/storageaccounts/blobservices."""
    at = resource_id.lower().rfind("/providers/")
    if at < 0:
        return ""
    parts = resource_id[at + len("/providers/") :].split("/")
    return "/".join([parts[0], *parts[1::2]]).lower()
