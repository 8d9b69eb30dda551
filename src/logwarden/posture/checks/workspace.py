"""Log Analytics posture beyond CIS: retention, per-table retention, the daily cap and data
export rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from logwarden.posture.checks.common import Found, listed, missing, read_at
from logwarden.posture.checks.engine import Options, Outcome, Verdict, check
from logwarden.posture.snapshot.model import DataExport, Kind, Reading, Snapshot, Table, Workspace
from logwarden.posture.snapshot.wire import resource_group

T = TypeVar("T")
_STOPPED = {"overquota", "subscriptionsuspended", "forceoff"}  # RespectQuota is the normal state


def workspaces(snap: Snapshot) -> list[tuple[Workspace, Reading]]:
    """Each workspace once (the last reading of it wins: hand exports may repeat one)."""
    found = {w.id.lower(): (w, r) for w, r in snap.items(Kind.workspaces, Workspace)}
    return [found[k] for k in sorted(found)]


def _none(snap: Snapshot) -> Iterator[Outcome]:
    if snap.of(Kind.workspaces):
        yield Outcome("workspaces", Verdict.not_applicable, "no Log Analytics workspace in the snapshot")
    else:
        yield missing("workspaces", "Log Analytics workspaces")


def _fill(ws: Workspace) -> dict[str, str]:
    return {"workspace": ws.id, "name": ws.name, "resource group": resource_group(ws.id)}


@check("azure-workspace-retention")
def workspace_retention(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    found = workspaces(snap)
    if not found:
        yield from _none(snap)
    for ws, reading in found:
        days = ws.retention_days
        if days is None:
            yield Outcome(ws.id, Verdict.unknown, "retentionInDays is not in the snapshot", (reading,))
        elif days < options.min_retention_days:
            fill = {**_fill(ws), "days": str(options.min_retention_days)}
            yield Outcome(
                ws.id, Verdict.failed, f"retention {days} days < {options.min_retention_days}", (reading,), fill
            )
        else:
            yield Outcome(ws.id, Verdict.passed, f"retention {days} days", (reading,))


def _per_workspace(
    snap: Snapshot, kind: Kind, cls: type[T], what: str
) -> Iterator[Outcome | tuple[Workspace, Reading, Found[T]]]:
    """For each workspace, what was read of `kind` under it, or the outcome that says why
    nothing was."""
    found = workspaces(snap)
    if not found:
        yield from _none(snap)
    for ws, ws_reading in found:
        read = read_at(snap, kind, ws.id, cls, what)
        yield read if isinstance(read, Outcome) else (ws, ws_reading, read)


def _kept(table: Table, workspace_days: int | None) -> int | None:
    """Days a table keeps its rows in all (interactive plus long-term)."""
    if table.total_retention_days is not None and table.total_retention_days > 0:
        return table.total_retention_days
    if table.retention_days is not None and table.retention_days > 0:
        return table.retention_days
    return workspace_days


def _plan(table: Table) -> str:
    """A plan other than Analytics, named: Basic and Auxiliary tables query less and differently."""
    return f", {table.plan} plan" if table.plan and table.plan.lower() != "analytics" else ""


@check("azure-table-retention")
def table_retention(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    for got in _per_workspace(snap, Kind.tables, Table, "the workspace's tables"):
        if isinstance(got, Outcome):
            yield got
            continue
        ws, ws_reading, read = got
        tables, ok = read.items, read.readings
        short = sorted(
            (t for t in tables if (_kept(t, ws.retention_days) or 0) < options.min_retention_days), key=lambda t: t.name
        )
        if short:
            shown = [f"{t.name} ({_kept(t, ws.retention_days)} d{_plan(t)})" for t in short]
            fill = {"table": short[0].id, "days": str(options.min_retention_days)}
            yield Outcome(
                ws.id,
                Verdict.failed,
                f"{len(short)} of {len(tables)} tables keep data under "
                f"{options.min_retention_days} days: {listed(shown)}",
                (ws_reading, *ok),
                fill,
            )
        else:
            yield Outcome(
                ws.id,
                Verdict.passed,
                f"{len(tables)} tables keep data {options.min_retention_days} days or more",
                (ws_reading, *ok),
            )


@check("azure-workspace-daily-cap")
def daily_cap(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    found = workspaces(snap)
    if not found:
        yield from _none(snap)
    for ws, reading in found:
        status = (ws.ingestion_status or "").lower()
        if ws.daily_quota_gb is not None and ws.daily_quota_gb >= 0:
            stopped = f"; ingestion status {ws.ingestion_status}" if status in _STOPPED else ""
            yield Outcome(ws.id, Verdict.failed, f"daily cap {ws.daily_quota_gb:g} GB{stopped}", (reading,), _fill(ws))
        elif status in _STOPPED:
            yield Outcome(ws.id, Verdict.failed, f"ingestion status {ws.ingestion_status}", (reading,), _fill(ws))
        elif ws.daily_quota_gb is None and not status:
            yield Outcome(ws.id, Verdict.unknown, "workspaceCapping is not in the snapshot", (reading,))
        else:
            yield Outcome(ws.id, Verdict.passed, "no daily cap (dailyQuotaGb -1)", (reading,))


@check("azure-workspace-data-export")
def data_export(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    for got in _per_workspace(snap, Kind.data_exports, DataExport, "the workspace's data export rules"):
        if isinstance(got, Outcome):
            yield got
            continue
        ws, _, read = got
        rules, ok = read.items, read.readings
        live = [e for e in rules if e.enabled is not False]
        if live:
            shown = [f"{e.name}: {len(e.tables)} tables -> {e.destination}" for e in live]
            yield Outcome(ws.id, Verdict.passed, listed(shown), ok)
        else:
            why = f"{len(rules)} rules, all disabled" if rules else "no data export rule"
            yield Outcome(ws.id, Verdict.failed, why, ok, _fill(ws))
