"""Helpers the checks share: what to say when the snapshot cannot tell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from logwarden.posture.checks.engine import Outcome, Verdict
from logwarden.posture.snapshot.model import (
    DiagnosticSetting,
    Kind,
    Reading,
    Resource,
    Snapshot,
    Status,
    StorageAccount,
    Subscription,
    Workspace,
)
from logwarden.posture.snapshot.wire import subscription_of

T = TypeVar("T")
TENANT = "tenant"

_WHY = {
    Status.denied: "the identity that collected the snapshot may not read it",
    Status.failed: "reading it failed",
    Status.not_collected: "it was not collected",
}


def unreadable(subject: str, reading: Reading, what: str) -> Outcome:
    """Unknown, because the one reading of `what` is not ok."""
    detail = f" ({reading.detail})" if reading.detail else ""
    return Outcome(subject, Verdict.unknown, f"{what}: {_WHY.get(reading.status, reading.status)}{detail}", (reading,))


def missing(subject: str, what: str) -> Outcome:
    return Outcome(subject, Verdict.unknown, f"not in the snapshot: {what}")


def listed(values: list[str], most: int = 8) -> str:
    shown = ", ".join(values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def subscriptions(snap: Snapshot) -> list[str]:
    """Every subscription the snapshot knows of, as `/subscriptions/<id>` (lower case)."""
    found: set[str] = set()
    for item, _ in snap.items(Kind.subscriptions, Subscription):
        found.add(item.id.lower())
    for reading in snap.readings:
        sub = subscription_of(reading.scope)
        if sub:
            found.add(f"/subscriptions/{sub}")
    return sorted(found)


def no_subscription() -> Outcome:
    return missing("subscriptions", "any subscription (give `az account list`, or collect)")


def settings_at(snap: Snapshot, scope: str) -> tuple[list[DiagnosticSetting], list[Reading], list[Reading]]:
    """The diagnostic settings read for `scope`, the ok readings they came from, and the
    readings that failed."""
    readings = snap.at(Kind.diagnostic_settings, scope)
    ok = [r for r in readings if r.ok]
    found = [s for r in ok for s in r.items if isinstance(s, DiagnosticSetting)]
    return found, ok, [r for r in readings if not r.ok]


def inventoried(snap: Snapshot) -> tuple[set[str], set[str]]:
    """The ids of every resource the snapshot shows exists (lower case), and the
    subscriptions whose inventory was read in full."""
    ids = {r.id.rstrip("/").lower() for r, _ in snap.items(Kind.inventory, Resource)}
    ids |= {w.id.rstrip("/").lower() for w, _ in snap.items(Kind.workspaces, Workspace)}
    ids |= {a.id.rstrip("/").lower() for a, _ in snap.items(Kind.storage_accounts, StorageAccount)}
    complete = {r.scope.lower() for r in snap.of(Kind.inventory) if r.ok}
    return ids, complete


def judged_per_scope(subject: str, readings: list[Reading], what: str) -> Outcome | None:
    """Unknown when no reading of `what` for the subject is ok; None when one is."""
    if any(r.ok for r in readings):
        return None
    if readings:
        return unreadable(subject, readings[0], what)
    return missing(subject, what)


@dataclass(frozen=True)
class Found(Generic[T]):
    """The items of one kind read for a scope, and the ok readings they came from."""

    items: list[T]
    readings: tuple[Reading, ...]


def read_at(snap: Snapshot, kind: Kind, scope: str, cls: type[T], what: str, subject: str = "") -> Found[T] | Outcome:
    """What the snapshot read of `kind` for `scope`, or the unknown outcome (named after
    `subject`, by default the scope) when nothing of it was read."""
    readings = snap.at(kind, scope)
    unknown = judged_per_scope(subject or scope, readings, what)
    if unknown:
        return unknown
    ok = tuple(r for r in readings if r.ok)
    return Found([item for r in ok for item in r.items if isinstance(item, cls)], ok)


def read_one(
    snap: Snapshot, kind: Kind, scope: str, cls: type[T], what: str
) -> tuple[T, tuple[Reading, ...]] | Outcome:
    """The one object of `kind` read for `scope` (an account's properties), or unknown."""
    read = read_at(snap, kind, scope, cls, what)
    if isinstance(read, Outcome):
        return read
    if not read.items:
        return Outcome(scope, Verdict.unknown, f"{what}: the answer was empty", read.readings)
    return read.items[0], read.readings


def tenant_readings(snap: Snapshot, kind: Kind, what: str) -> tuple[list[Outcome], list[Reading]]:
    """The unknown outcomes for a tenant-wide setting that was not read (or not at all), and
    the ok readings of it."""
    readings = snap.of(kind)
    if not readings:
        return [missing(TENANT, what)], []
    return [unreadable(TENANT, r, what) for r in readings if not r.ok], [r for r in readings if r.ok]
