"""Which tamper alerts (from the rule pack) plausibly caused a source's silence.

A tamper behaviour of the catalogue blinds some kinds of source, over some scope: deleting a
subscription's Activity Log diagnostic setting silences that subscription's Activity Log;
turning off the unified audit log silences every workload of the tenant; a workspace purged,
capped or deleted, or the storage account or event hub the logs flow to, can silence anything
exported through it. An alert explains a silence when its behaviour blinds the source's kind,
its scope contains the source, it can cut the way the source's records were delivered (a
diagnostic setting deleted cannot silence the Activity Log read through the REST API), and it
came shortly before the gap began (or during it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from logwarden.detectors.sigma.hunt import Alert
from logwarden.detectors.sigma.rules import CompiledRule

_ACTIVITY = frozenset({"activity", "activity_provider", "table:AzureActivity"})
_ENTRA = frozenset({"entra", "signin", "table:AuditLogs", "table:SigninLogs"})
_UAL = frozenset({"ual", "ual_record", "table:OfficeActivity"})
_RESOURCE = frozenset({"resource", "table:AzureDiagnostics"})
_ANY = _ACTIVITY | _ENTRA | _UAL | _RESOURCE

# How the records reached the case (the record format): what a tamper behaviour can cut.
# The REST / az CLI Activity Log and Graph's directoryAudits read the platform directly, so
# no diagnostic setting, workspace, storage account or event hub stands between them.
_DIAGNOSTIC = frozenset({"a", "a-resource", "d2", "c"})  # sent by a diagnostic setting
_WORKSPACE = frozenset({"c"})  # rows of a Log Analytics workspace
_DESTINATION = frozenset({"a", "a-resource", "d2"})  # a storage account or event hub it wrote to
_AUDIT = frozenset({"e1", "e2", "e3", "c"})  # the unified audit log, however exported
# Deliveries that say how records came (a record of another format, e.g. simulation data,
# could have come any way).
_KNOWN = _DIAGNOSTIC | _AUDIT | frozenset({"b", "d1"})

# Catalogue id -> the source kinds it can silence, whether the scope is the alert's own
# subscription (True) or wherever the logs flowed (False), and the deliveries it can cut.
BLINDS: dict[str, tuple[frozenset[str], bool, frozenset[str]]] = {
    "A1": (_ACTIVITY | _RESOURCE, True, _DIAGNOSTIC - {"d2"}),
    "A2": (_ACTIVITY | _RESOURCE, True, _DIAGNOSTIC - {"d2"}),
    "A3": (_ENTRA, False, frozenset({"d2", "c"})),
    "A4": (_ACTIVITY, True, _DIAGNOSTIC - {"d2"}),
    **{code: (_ANY, False, _WORKSPACE) for code in ("B1", "B2", "B3", "B4", "B5", "B6", "B8", "B9", "B10")},
    **{code: (_RESOURCE, False, frozenset({"a-resource", "c"})) for code in ("C1", "C2", "C3", "C4", "C5")},
    **{code: (_ANY, False, _DESTINATION) for code in ("E1", "E2", "E6", "E7", "F1", "F2", "F3", "F4")},
    **{code: (_RESOURCE, True, frozenset({"a-resource", "c"})) for code in ("I2", "I3", "I4")},
    "J2": (_UAL, False, _AUDIT),
    **{code: (_UAL, False, _AUDIT) for code in ("K1", "K2", "K3", "K4", "K6")},
}

_SUBSCRIPTION = re.compile(r"(?i)/subscriptions/([0-9a-f-]{36})")


@dataclass(frozen=True)
class Cause:
    """A tamper alert offered as the explanation of a silence."""

    rule_id: str
    title: str
    level: str
    time: datetime
    actor: str | None
    target: str | None
    catalogue: tuple[str, ...]


def _subscription(text: str | None) -> str | None:
    found = _SUBSCRIPTION.search(text or "")
    return found.group(1).lower() if found else None


def _blinds(cause: Cause, kind: str, source_id: str, formats: frozenset[str]) -> bool:
    for code in cause.catalogue:
        kinds, scoped, cuts = BLINDS.get(code, (frozenset(), False, frozenset()))
        if kind not in kinds and source_id not in kinds:
            continue
        if formats and formats <= _KNOWN and not formats & cuts:
            continue
        if not scoped:
            return True
        wanted = _subscription(cause.target)
        key_sub = (
            source_id.split(":", 1)[1].split("/", 1)[0] if kind.startswith("activity") else _subscription(source_id)
        )
        if wanted is None or key_sub is None or key_sub == wanted:
            return True
    return False


# A daily cap keeps cutting the workspace every day until it is lifted: it explains the
# silences of the days after it, not only the first.
LASTING = frozenset({"B3"})


def explain(
    causes: Iterable[Cause],
    kind: str,
    source_id: str,
    start: datetime,
    end: datetime,
    before: timedelta,
    formats: frozenset[str] = frozenset(),
) -> tuple[Cause, ...]:
    """The causes that may have silenced this source (delivered in `formats`; empty: any)
    between `start` and `end`, those scoped to its own subscription first, then by time."""
    found = [
        c
        for c in causes
        if (start - before <= c.time or LASTING & set(c.catalogue))
        and c.time <= end
        and _blinds(c, kind, source_id, formats)
    ]
    return tuple(sorted(found, key=lambda c: (not _scoped(c), c.time)))


def _scoped(cause: Cause) -> bool:
    return any(BLINDS.get(code, (frozenset(), False, frozenset()))[1] for code in cause.catalogue)


def causes_from(alerts: Iterable[Alert], rules: Iterable[CompiledRule]) -> list[Cause]:
    """The hunt's alerts whose rules claim a catalogue behaviour that can blind a source."""
    catalogue = {r.id: r.catalogue for r in rules}
    return [
        Cause(a.rule_id, a.title, a.level, a.time, a.actor, a.target, catalogue.get(a.rule_id, ()))
        for a in alerts
        if any(code in BLINDS for code in catalogue.get(a.rule_id, ()))
    ]
