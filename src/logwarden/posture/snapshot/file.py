"""The snapshot file `logwarden posture collect` writes: every answer as the service sent it
(ARM, Graph and Exchange JSON, unchanged), each with its provenance. The checks read it back
through the same readers as hand exports, so a snapshot can be judged again later, by a
newer logwarden, and its evidence traced to the call that produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from logwarden.outputs.alerts import iso_utc
from logwarden.posture.snapshot.model import ExchangeSession, Kind, Provenance, Reading, Status
from logwarden.posture.snapshot.readers import shape_of
from logwarden.posture.snapshot.wire import flat, moment

MARKER = "logwarden_posture_snapshot"
VERSION = 1
FILE_NAME = "posture-snapshot.json"


@dataclass(frozen=True)
class RawReading:
    """One answer as received: the objects of the reply's pages, unparsed."""

    kind: Kind
    scope: str
    status: Status
    body: list[Any]
    endpoint: str
    api_version: str | None
    read_at: datetime
    identity: str | None
    session: ExchangeSession | None = None
    detail: str = ""


@dataclass
class SnapshotFile:
    collected_at: datetime
    identity: str | None
    tool: str
    readings: list[RawReading] = field(default_factory=list)


def write_snapshot(folder: Path, snap: SnapshotFile) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        MARKER: VERSION,
        "collected_at": iso_utc(snap.collected_at),
        "identity": snap.identity,
        "tool": snap.tool,
        "readings": [
            {
                "kind": r.kind.value,
                "scope": r.scope,
                "status": r.status.value,
                "detail": r.detail,
                "read_at": iso_utc(r.read_at),
                "endpoint": r.endpoint,
                "api_version": r.api_version,
                "identity": r.identity,
                "session": r.session.value if r.session else None,
                "body": r.body,
            }
            for r in snap.readings
        ],
    }
    path = folder / FILE_NAME
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return path


def is_snapshot(document: Any) -> bool:
    return isinstance(document, dict) and MARKER in document


def read_snapshot(document: dict[str, Any], source: str) -> tuple[list[Reading], list[str]]:
    """The readings of a snapshot document, and what could not be read in it."""
    if document.get(MARKER) != VERSION:
        return [], [f"{source}: snapshot version {document.get(MARKER)!r}; this logwarden reads version {VERSION}"]
    readings: list[Reading] = []
    problems: list[str] = []
    for n, entry in enumerate(document.get("readings") or [], 1):
        try:
            readings.append(_reading(entry, source))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(f"{source}: reading {n}: {exc}")
    return readings, problems


def _reading(entry: dict[str, Any], source: str) -> Reading:
    kind, status = Kind(entry["kind"]), Status(entry["status"])
    items = []
    for obj in entry.get("body") or []:
        low = flat(obj) if isinstance(obj, dict) else {}
        shape = shape_of(low, kind)
        if shape is None:
            raise ValueError(f"a {kind.value} object that no reader recognises")
        items.append(shape.parse(low))
    session = entry.get("session")
    provenance = Provenance(
        source=source,
        read_at=moment(entry.get("read_at")),
        endpoint=entry.get("endpoint"),
        api_version=entry.get("api_version"),
        identity=entry.get("identity"),
        session=ExchangeSession(session) if session else None,
    )
    return Reading(kind, str(entry["scope"]), status, tuple(items), provenance, str(entry.get("detail") or ""))
