"""Load a snapshot from files and folders: logwarden's own snapshot files and hand exports,
each recognised by its content (never its name). A file that cannot be used is named with
the reason, and the rest are still read."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from logwarden.formats.files import InputError, iter_inputs
from logwarden.posture.snapshot.file import is_snapshot, read_snapshot
from logwarden.posture.snapshot.model import ExchangeSession, Kind, Provenance, Reading, Snapshot, Status
from logwarden.posture.snapshot.readers import shape_of
from logwarden.posture.snapshot.wire import entries, flat

_MAX_BYTES = 256 << 20  # settings exports are small; a bigger file is a log, not a setting


def load(paths: list[Path], session: ExchangeSession | None = None) -> Snapshot:
    """Every reading in `paths`. `session` says where hand-exported Exchange settings were
    read (their JSON does not say); None leaves it unknown."""
    snap = Snapshot()
    try:
        inputs = list(iter_inputs(paths))
    except InputError as exc:
        snap.problems.append(str(exc))
        return snap
    for source in inputs:
        try:
            with source.open() as stream:
                data = stream.read(_MAX_BYTES + 1)
            if len(data) > _MAX_BYTES:
                raise InputError(f"{source.name}: over {_MAX_BYTES >> 20} MB, not a settings export")
            document = orjson.loads(data)
        except (InputError, OSError) as exc:
            snap.problems.append(str(exc) if isinstance(exc, InputError) else f"{source.name}: {exc}")
            continue
        except orjson.JSONDecodeError as exc:
            snap.problems.append(f"{source.name}: not JSON ({exc})")
            continue
        if is_snapshot(document):
            readings, problems = read_snapshot(document, source.name)
        else:
            readings, problems = _hand_export(document, source.name, session)
        snap.readings.extend(readings)
        snap.problems.extend(problems)
    return snap


def _hand_export(document: Any, name: str, session: ExchangeSession | None) -> tuple[list[Reading], list[str]]:
    objects = entries(document)
    if objects is None:
        return [], [f"{name}: JSON but neither an object nor a list of objects"]
    if not objects:
        return [], [f"{name}: an empty list; nothing in it says which setting or scope it lists"]
    grouped: dict[tuple[Kind, str], list[Any]] = defaultdict(list)
    unknown, bad = 0, []
    for n, obj in enumerate(objects, 1):
        low = flat(obj) if isinstance(obj, dict) else {}
        shape = shape_of(low)
        if shape is None:
            unknown += 1
            continue
        try:
            item = shape.parse(low)
        except (ValueError, TypeError, AttributeError) as exc:  # a field of the wrong JSON type
            bad.append(f"{name}: object {n}: {exc}")
            continue
        grouped[shape.kind, shape.scope(item)].append(item)
    problems = bad
    if unknown:
        what = "no object" if unknown == len(objects) else f"{unknown} of {len(objects)} objects"
        problems.append(f"{name}: {what} in a shape logwarden knows (see docs/posture.md for the exports it reads)")
    readings = [
        Reading(kind, scope, Status.ok, tuple(items), Provenance(name, session=_session(kind, session)))
        for (kind, scope), items in grouped.items()
    ]
    return readings, problems


def _session(kind: Kind, session: ExchangeSession | None) -> ExchangeSession | None:
    exchange = (Kind.admin_audit_log_config, Kind.organization_config, Kind.audit_bypass)
    return session if kind in exchange else None
