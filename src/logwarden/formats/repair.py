"""Second chance for records the bulk pass did not claim.

Such a record may be an envelope on one line (an Event Hub message with many
records), a search export row around an `AuditData` record, or a known shape with
its keys in another case (some normalisers lower-case every key). Repair parses it,
unwraps it and respells its keys after the format it fits best; a record that is
none of these is rejected with its keys named, so the user sees what it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from logwarden.formats.classify import vocabulary
from logwarden.formats.framing.envelopes import NotARecord, unwrap
from logwarden.formats.records import FORMATS


@dataclass(frozen=True)
class Repaired:
    text: str
    wrapper: str | None


@dataclass(frozen=True)
class Failed:
    reason: str
    message: str


@cache
def _vocabularies() -> tuple[dict[str, str], ...]:
    return tuple(vocabulary(f) for f in FORMATS)


def repair(text: str, wrapper: str | None) -> list[Repaired | Failed]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return [Failed("invalid-json", f"invalid JSON: {exc}")]
    out: list[Repaired | Failed] = []
    for item in unwrap(value, wrapper):
        if isinstance(item, NotARecord):
            out.append(Failed(item.reason, item.message))
            continue
        record = respell(item.record)
        if record == value and item.wrapper == wrapper:
            out.append(not_a_log(item.record))
        else:
            out.append(Repaired(orjson.dumps(record).decode(), item.wrapper))
    return out


def unknown_shape(text: str) -> Failed:
    """Why a record that even repair could not make recognisable is rejected."""
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Failed("invalid-json", f"invalid JSON: {exc}")
    return not_a_log(record)


# Settings exports (`Get-AdminAuditLogConfig`, diagnostic settings, workspaces) describe the
# logging posture; they are not events, and say so rather than "unknown".
_SNAPSHOTS = (
    ({"unifiedauditlogingestionenabled", "adminauditlogenabled"}, "Get-AdminAuditLogConfig output"),
    ({"logs", "workspaceid"}, "a diagnostic setting"),
    ({"logs", "storageaccountid"}, "a diagnostic setting"),
    ({"logs", "eventhubauthorizationruleid"}, "a diagnostic setting"),
    ({"retentionindays", "customerid"}, "a Log Analytics workspace"),
)


def not_a_log(record: Any) -> Failed:
    """The reject for a record no format claims: a settings snapshot, or an unknown shape."""
    if not isinstance(record, dict):
        return Failed("not-an-object", f"a JSON {type(record).__name__} where a record object was expected")
    inner = record.get("properties")
    keys = {k.lower() for k in record} | ({k.lower() for k in inner} if isinstance(inner, dict) else set())
    for signature, what in _SNAPSHOTS:
        if signature <= keys:
            return Failed(
                "config-snapshot",
                f"{what}: a settings snapshot, not a log record (posture checks read these)",
            )
    names = sorted(record)
    shown = ", ".join(names[:12]) + (f" (+{len(names) - 12} more)" if len(names) > 12 else "")
    return Failed("unknown-shape", f"not a recognised Azure or Microsoft 365 record; its keys are: {shown or '(none)'}")


def respell(record: dict[str, Any]) -> dict[str, Any]:
    """`record` with every key spelt as the best-fitting format spells it."""

    def fit(vocab: dict[str, str]) -> tuple[int, int]:
        # Keys known in any case first; ties go to the format that already spells them so.
        return (sum(k.lower() in vocab for k in record), sum(vocab.get(k.lower()) == k for k in record))

    return _respell(record, max(_vocabularies(), key=fit))  # type: ignore[no-any-return]


def _respell(value: Any, vocab: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {vocab.get(k.lower(), k): _respell(v, vocab) for k, v in value.items()}
    if isinstance(value, list):
        return [_respell(v, vocab) for v in value]
    return value
