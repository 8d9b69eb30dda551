"""Unwrap the envelopes exporters put around records.

`{"records": [...]}` (diagnostic settings to Storage / Event Hub), `{"value": [...]}`
(ARM REST and Graph pages), `{"tables": [{columns, rows}]}` (Log Analytics query API),
bare arrays, arrays of arrays (PowerShell pages), and an `AuditData` column or key
holding the Management Activity API record (Purview and `Search-UnifiedAuditLog`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

# Keys that may sit beside `value` in a REST or Graph page without making it a record.
_PAGE_KEYS = {"value", "nextlink", "count"}


@dataclass(frozen=True)
class Unwrapped:
    record: dict[str, Any]
    wrapper: str | None


@dataclass(frozen=True)
class NotARecord:
    reason: str
    message: str


def unwrap(value: Any, wrapper: str | None = None) -> Iterator[Unwrapped | NotARecord]:
    """Every record inside `value`, in document order."""
    if isinstance(value, list):
        for item in value:
            yield from unwrap(item, wrapper)
        return
    if not isinstance(value, dict):
        yield NotARecord("not-an-object", f"a JSON {type(value).__name__} where a record object was expected")
        return
    lowered = {k.lower(): k for k in value}
    items = _envelope_items(value, lowered)
    if items is not None:
        yield from unwrap(items, wrapper)
        return
    if "tables" in lowered and isinstance(value[lowered["tables"]], list):
        yield from _query_api_rows(value[lowered["tables"]])
        return
    if "auditdata" in lowered:
        yield _audit_data(value, lowered)
        return
    yield Unwrapped(value, wrapper)


def _envelope_items(value: dict[str, Any], lowered: dict[str, str]) -> list[Any] | None:
    if set(lowered) == {"records"} and isinstance(value[lowered["records"]], list):
        return list(value[lowered["records"]])
    if "value" in lowered and isinstance(value[lowered["value"]], list):
        others = {k for k in lowered if k not in _PAGE_KEYS and not k.startswith("@odata")}
        if not others:
            return list(value[lowered["value"]])
    return None


def _query_api_rows(tables: list[Any]) -> Iterator[Unwrapped | NotARecord]:
    for table in tables:
        if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
            yield NotARecord("unknown-shape", "a query API table without rows")
            continue
        names = [c.get("name") if isinstance(c, dict) else c for c in table.get("columns", [])]
        for row in table["rows"]:
            if not isinstance(row, list) or len(row) != len(names):
                yield NotARecord("unknown-shape", f"a query API row with {_len(row)} cells for {len(names)} columns")
                continue
            yield Unwrapped({str(n): v for n, v in zip(names, row, strict=True) if v is not None}, None)


def _len(row: Any) -> int:
    return len(row) if isinstance(row, list) else 1


def _audit_data(value: dict[str, Any], lowered: dict[str, str]) -> Unwrapped | NotARecord:
    wrapper = "e2" if "recordid" in lowered else "e3"
    inner = value[lowered["auditdata"]]
    if isinstance(inner, str):
        if not inner.strip():
            return NotARecord("empty-auditdata", "the AuditData column is empty")
        try:
            inner = orjson.loads(inner)
        except orjson.JSONDecodeError as exc:
            return NotARecord("invalid-json", f"AuditData is not valid JSON: {exc}")
    if not isinstance(inner, dict):
        return NotARecord("not-an-object", "AuditData does not hold a record object")
    return Unwrapped(inner, wrapper)
