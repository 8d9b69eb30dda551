"""A record format: how to recognise one record shape and map it onto a Sentinel table.

Formats are data: a SQL predicate that recognises the shape and one SQL expression
per Sentinel column, all over `r`, the record parsed once into a struct whose fields
are the record's top-level keys as text (objects and arrays as their JSON text).
The store runs them in bulk, so no record goes through a Python loop unless it
needs repair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from logwarden.store.sql import sql_str


@dataclass(frozen=True)
class RecordFormat:
    code: str
    title: str
    table: str
    match: str
    time: str
    columns: Mapping[str, str]


def key(name: str) -> str:
    """A top-level key of the record, as text."""
    return 'r."' + name.replace('"', '""') + '"'


def path(name: str, *steps: str) -> str:
    """A JSON path below a top-level key, as text (NULL when absent or when the key is not JSON).

    Written as a `lw_path` marker: the plan compiler reads all paths below one key with a
    single parse of that key's JSON.
    """
    return f"lw_path({key(name)}, {sql_str(json_path(*steps))})"


def json_path(*steps: str) -> str:
    out = "$"
    for step in steps:
        if step.replace("_", "").isalnum():
            out += "." + step
        else:
            out += '."' + step.replace('"', '\\"') + '"'
    return out


def dyn(name: str, *steps: str) -> str:
    """A dynamic column: the JSON value (object, array) at a key or a path below it, as is.

    Written as an `lw_obj` marker, read in one parse with the record's other objects.
    """
    return f"lw_obj({key(name)}, {sql_str(json_path(*steps))})"


def json_text(name: str) -> str:
    """A dynamic column from a key whose value is JSON written as text (Log Analytics exports)."""
    return f"lw_json({key(name)})"


def first(*exprs: str) -> str:
    return "coalesce(" + ", ".join(exprs) + ")" if len(exprs) > 1 else exprs[0]


def holds(condition: str) -> str:
    """`condition`, false rather than NULL when a key is missing, so NOT works as expected."""
    return f"coalesce({condition}, false)"


def one_of(expr: str, values: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """Case-insensitive membership of a text expression in a fixed set (false when NULL)."""
    return holds(f"lower({expr}) IN (" + ", ".join(sql_str(v.lower()) for v in sorted(values)) + ")")


def present(*names: str) -> str:
    return " AND ".join(f"{key(n)} IS NOT NULL" for n in names)


def any_present(*names: str) -> str:
    return "(" + " OR ".join(f"{key(n)} IS NOT NULL" for n in names) + ")"


def subscription_of(resource_id: str) -> str:
    return f"nullif(lower(regexp_extract({resource_id}, '(?i)^/subscriptions/([^/]+)', 1)), '')"


def resource_group_of(resource_id: str) -> str:
    return f"nullif(regexp_extract({resource_id}, '(?i)/resourcegroups/([^/]+)', 1), '')"


def provider_of(resource_id: str) -> str:
    return f"nullif(regexp_extract({resource_id}, '(?i)/providers/([^/]+)', 1), '')"


def last_segment(resource_id: str) -> str:
    return f"nullif(regexp_extract({resource_id}, '([^/]+)/?$', 1), '')"
