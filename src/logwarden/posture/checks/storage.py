"""Where logs are kept: the storage accounts and workspaces that diagnostic settings and
data exports write to. Immutability, soft delete, public access and delete locks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from logwarden.posture.checks.common import inventoried, listed, missing, read_at, read_one
from logwarden.posture.checks.engine import Options, Outcome, Verdict, check
from logwarden.posture.snapshot.model import (
    BlobService,
    Container,
    DataExport,
    DiagnosticSetting,
    Kind,
    Lock,
    Reading,
    Snapshot,
    StorageAccount,
    Workspace,
)
from logwarden.posture.snapshot.wire import resource_group, subscription_of

_LOCKING = {"cannotdelete", "readonly"}
T = TypeVar("T")


def log_accounts(snap: Snapshot) -> list[str]:
    """The storage accounts logs are written to (diagnostic settings, data exports)."""
    found: dict[str, str] = {}
    for setting, _ in snap.items(Kind.diagnostic_settings, DiagnosticSetting):
        if setting.storage_account_id:
            found.setdefault(setting.storage_account_id.lower(), setting.storage_account_id)
    for export, _ in snap.items(Kind.data_exports, DataExport):
        if export.destination and "/microsoft.storage/storageaccounts/" in export.destination.lower():
            found.setdefault(export.destination.lower(), export.destination)
    return [found[k] for k in sorted(found)]


def _none(snap: Snapshot) -> Iterator[Outcome]:
    if any(r.ok for r in snap.of(Kind.diagnostic_settings)):
        yield Outcome("log storage", Verdict.not_applicable, "no diagnostic setting or data export writes to storage")
    else:
        yield missing("log storage", "any diagnostic setting (which storage accounts receive logs)")


def _per_account(
    snap: Snapshot, accounts: list[str], kind: Kind, cls: type[T], what: str
) -> Iterator[Outcome | tuple[str, T, tuple[Reading, ...]]]:
    """For each account, its one object of `kind` with the readings behind it, or the
    outcome that says why there is none."""
    if not accounts:
        yield from _none(snap)
    for account in accounts:
        read = read_one(snap, kind, account, cls, what)
        yield read if isinstance(read, Outcome) else (account, *read)


def _merged(snap: Snapshot, account: str) -> tuple[list[Container], list[Reading]]:
    """The account's containers, a container listing and an immutability policy read on
    its own folded into one."""
    readings = [r for r in snap.at(Kind.containers, account) if r.ok]
    merged: dict[str, Container] = {}
    for reading in readings:
        for item in reading.items:
            if not isinstance(item, Container):
                continue
            known = merged.get(item.id.lower())
            if known is None:
                merged[item.id.lower()] = item
                continue
            fields = {k: getattr(item, k) if getattr(item, k) is not None else v for k, v in vars(known).items()}
            merged[item.id.lower()] = Container(**fields)
    return list(merged.values()), readings


def _immutable(container: Container) -> bool:
    return (container.policy_state or "").lower() == "locked" and bool(
        container.append_writes or container.append_writes_all
    )


@check("azure-log-storage-immutable")
def log_storage_immutable(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    accounts = log_accounts(snap)
    if not accounts:
        yield from _none(snap)
    for account in accounts:
        containers, readings = _merged(snap, account)
        fill = {"name": account.rsplit("/", 1)[-1], "container": "insights-activity-logs"}
        if not readings:
            yield missing(account, "the account's containers and their immutability policies")
            continue
        logs = [c for c in containers if c.name.lower().startswith("insights-")]
        if not logs:
            yield Outcome(
                account, Verdict.unknown, "no insights-* container yet: nothing written to judge", tuple(readings)
            )
            continue
        weak = [c for c in logs if not _immutable(c)]
        if not weak:
            yield Outcome(
                account,
                Verdict.passed,
                f"{listed([f'{c.name} ({c.policy_days} d)' for c in logs])}: locked time-based policy with "
                "protected append writes",
                tuple(readings),
            )
            continue
        said = []
        for c in weak:
            if c.policy_state is None:
                said.append(
                    f"{c.name}: no time-based retention policy"
                    + (" (version-level WORM on; its policy is not in the snapshot)" if c.version_worm else "")
                    + (" (a legal hold keeps what it holds until it is cleared)" if c.legal_hold else "")
                )
            elif (c.policy_state or "").lower() != "locked":
                said.append(f"{c.name}: policy {c.policy_state} (an unlocked policy can be deleted)")
            else:
                said.append(f"{c.name}: locked, but append writes not allowed (diagnostic settings cannot write)")
        unclear = all(c.policy_state is None and c.version_worm for c in weak)
        verdict = Verdict.unknown if unclear else Verdict.failed
        yield Outcome(account, verdict, "; ".join(said), tuple(readings), {**fill, "container": weak[0].name})


@check("azure-log-storage-soft-delete")
def log_storage_soft_delete(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    what = "the account's blob service properties"
    for got in _per_account(snap, log_accounts(snap), Kind.blob_services, BlobService, what):
        if isinstance(got, Outcome):
            yield got
            continue
        account, service, ok = got
        fill = {"name": account.rsplit("/", 1)[-1]}
        gaps = [
            what
            for what, on in (
                ("blob soft delete", service.delete_retention),
                ("container soft delete", service.container_delete_retention),
            )
            if not on
        ]
        if gaps:
            yield Outcome(account, Verdict.failed, f"{' and '.join(gaps)} off", ok, fill)
        else:
            days = f" ({service.delete_retention_days} days)" if service.delete_retention_days else ""
            versions = "; blob versioning on" if service.versioning else ""
            yield Outcome(account, Verdict.passed, f"blob and container soft delete on{days}{versions}", ok)


@check("azure-log-storage-private")
def log_storage_private(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    what = "the storage account's properties"
    for got in _per_account(snap, log_accounts(snap), Kind.storage_accounts, StorageAccount, what):
        if isinstance(got, Outcome):
            yield got
            continue
        account, found, readings = got
        containers, container_readings = _merged(snap, account)
        public = [c.name for c in containers if (c.public_access or "none").lower() != "none"]
        evidence = tuple(readings) + tuple(container_readings)
        fill = {"resource": found.id}
        if found.allow_blob_public_access:
            yield Outcome(
                account,
                Verdict.failed,
                "allowBlobPublicAccess = true" + (f"; public containers: {listed(public)}" if public else ""),
                evidence,
                fill,
            )
        elif found.allow_blob_public_access is None:
            yield Outcome(account, Verdict.unknown, "allowBlobPublicAccess is not in the snapshot", evidence)
        else:
            network = f"; public network access {found.public_network_access}" if found.public_network_access else ""
            network += f", default action {found.default_action}" if found.default_action else ""
            yield Outcome(account, Verdict.passed, f"allowBlobPublicAccess = false{network}", evidence)


def _activity_accounts(snap: Snapshot) -> list[str]:
    """The storage accounts that subscription (Activity Log) diagnostic settings write to."""
    found: dict[str, str] = {}
    for setting, _ in snap.items(Kind.diagnostic_settings, DiagnosticSetting):
        is_subscription = setting.scope.rstrip("/").count("/") == 2  # /subscriptions/<id>
        if setting.storage_account_id and is_subscription:
            found.setdefault(setting.storage_account_id.lower(), setting.storage_account_id)
    return [found[k] for k in sorted(found)]


@check("azure-activity-log-storage-cmk")
def activity_log_storage_cmk(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    what = "the storage account's properties"
    for got in _per_account(snap, _activity_accounts(snap), Kind.storage_accounts, StorageAccount, what):
        if isinstance(got, Outcome):
            yield got
            continue
        account, found, readings = got
        source = found.key_source or ""
        fill = {"name": found.name, "resource group": resource_group(found.id)}
        if source.lower() == "microsoft.keyvault":
            yield Outcome(account, Verdict.passed, "encryption.keySource = Microsoft.Keyvault", readings)
        elif source:
            yield Outcome(account, Verdict.failed, f"encryption.keySource = {source} (a platform key)", readings, fill)
        else:
            yield Outcome(account, Verdict.unknown, "encryption.keySource is not in the snapshot", readings)


def _covers(lock: Lock, resource_id: str) -> bool:
    scope = lock.scope.rstrip("/").lower()
    target = resource_id.rstrip("/").lower()
    return lock.level.lower() in _LOCKING and (target == scope or target.startswith(scope + "/"))


@check("azure-log-infrastructure-locked")
def log_infrastructure_locked(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    targets = {a.lower(): a for a in log_accounts(snap)}
    for setting, _ in snap.items(Kind.diagnostic_settings, DiagnosticSetting):
        if setting.workspace_id:
            targets.setdefault(setting.workspace_id.lower(), setting.workspace_id)
    for ws, _ in snap.items(Kind.workspaces, Workspace):
        targets.setdefault(ws.id.lower(), ws.id)
    if not targets:
        yield missing("log infrastructure", "any workspace, or diagnostic setting naming one")
    ids, complete = inventoried(snap)
    for key in sorted(targets):
        target = targets[key]
        sub = f"/subscriptions/{subscription_of(target)}"
        if sub in complete and key not in ids:
            continue  # deleted: azure-diagnostic-destination-exists says so
        read = read_at(snap, Kind.locks, sub, Lock, "the subscription's locks", subject=target)
        if isinstance(read, Outcome):
            yield read
            continue
        ok = read.readings
        locks = [lock for lock in read.items if _covers(lock, target)]
        if locks:
            yield Outcome(
                target, Verdict.passed, listed([f"{lock.level} lock {lock.name} on {lock.scope}" for lock in locks]), ok
            )
        else:
            yield Outcome(
                target,
                Verdict.failed,
                "no CanNotDelete or ReadOnly lock on it, its resource group or subscription",
                ok,
                {"resource": target},
            )
