"""One collection: who am I, which subscriptions, then every setting the checks read.
Read-only calls only; every answer, failure included, goes into the snapshot."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version

from azure.core.credentials import TokenCredential

from logwarden.posture.collect.base import ARM_SCOPE, Endpoints, Recorder, identity_of
from logwarden.posture.collect.entra import read_entra
from logwarden.posture.collect.exchange import read_exchange
from logwarden.posture.collect.graph import read_licences
from logwarden.posture.collect.locks import read_locks
from logwarden.posture.collect.loganalytics import LogAnalytics
from logwarden.posture.collect.monitor import Monitor
from logwarden.posture.collect.resourcegraph import ResourceGraph
from logwarden.posture.collect.storage import Storage
from logwarden.posture.snapshot.file import SnapshotFile
from logwarden.posture.snapshot.model import SENTINEL_HEALTH, TENANT_SCOPE, Kind
from logwarden.posture.snapshot.wire import subscription_of

STORAGE_SERVICES = ("blobServices", "queueServices", "tableServices", "fileServices")
EXCHANGE_KINDS = (
    Kind.admin_audit_log_config,
    Kind.organization_config,
    Kind.audit_bypass,
    Kind.ual_retention_policies,
)


def _destinations(bodies: list[object]) -> set[str]:
    """Storage accounts named by diagnostic settings or data export rules (wire JSON)."""
    found: set[str] = set()
    for obj in bodies:
        props = obj.get("properties") if isinstance(obj, dict) else None
        if not isinstance(props, dict):
            continue
        account = props.get("storageAccountId")
        destination = props.get("destination")
        if isinstance(destination, dict) and "/microsoft.storage/" in str(destination.get("resourceId", "")).lower():
            account = destination["resourceId"]
        if account:
            found.add(str(account))
    return found


def collect(
    credential: TokenCredential,
    endpoints: Endpoints | None = None,
    only: list[str] | None = None,
    tenant: str | None = None,
    m365: bool = True,
    say: Callable[[str], None] = lambda _: None,
    workers: int = 4,
) -> SnapshotFile:
    """Read every setting the checks need. `only` limits Azure to these subscriptions;
    `tenant` is needed for Exchange (taken from the token when not given); `workers` reads
    that many resources' diagnostic settings at a time."""
    where = endpoints or Endpoints()
    token = credential.get_token(ARM_SCOPE).token  # fails here, clearly, when no credential works
    identity, token_tenant = identity_of(token)
    recorder = Recorder(credential, where, identity)
    started = datetime.now(UTC)

    say("Listing subscriptions and resources (Azure Resource Graph)...")
    graph = ResourceGraph(recorder)
    subscriptions = graph.subscriptions(only)
    resources = graph.inventory(subscriptions) if subscriptions else []

    storage_ids: set[str] = set()
    for n, sub in enumerate(subscriptions, 1):
        say(f"Subscription {n}/{len(subscriptions)} {sub}: Activity Log, alerts, locks, workspaces...")
        monitor = Monitor(recorder, sub)
        storage_ids |= _destinations(monitor.activity_log_settings())
        monitor.alerts()
        read_locks(recorder, sub)
        analytics = LogAnalytics(recorder, sub)
        for workspace in analytics.workspaces():
            storage_ids |= _destinations(analytics.details(str(workspace["id"])))
            storage_ids |= _destinations(monitor.resource_settings(str(workspace["id"]) + SENTINEL_HEALTH))
        scopes = []
        for resource in resources:
            if subscription_of(str(resource.get("id", ""))) == sub:
                scopes.append(str(resource["id"]))
                if str(resource.get("type", "")).lower() == "microsoft.storage/storageaccounts":
                    # a storage account's data-plane logs are set per service, which no inventory lists
                    scopes.extend(f"{resource['id']}/{service}/default" for service in STORAGE_SERVICES)
        # one or two calls per resource: side by side, within ARM's read limits (a 429 waits its Retry-After)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i, settings in enumerate(pool.map(monitor.resource_settings, scopes), 1):
                storage_ids |= _destinations(settings)
                if i % 25 == 0:
                    say(f"Subscription {n}/{len(subscriptions)} {sub}: diagnostic settings {i}/{len(scopes)}")

    say("Entra ID diagnostic settings...")
    storage_ids |= _destinations(read_entra(recorder))
    storage = Storage(recorder)
    for n, account in enumerate(sorted(storage_ids, key=str.lower), 1):
        say(f"Log storage account {n}/{len(storage_ids)}...")
        storage.account(account)
    chosen_tenant = tenant or token_tenant
    if not m365:
        for kind in (*EXCHANGE_KINDS, Kind.subscribed_skus):
            recorder.skip(kind, TENANT_SCOPE, where.exchange, "Microsoft 365 skipped (--no-m365)")
    elif chosen_tenant is None:
        for kind in EXCHANGE_KINDS:
            recorder.skip(kind, TENANT_SCOPE, where.exchange, "no tenant id: give --tenant-id")
        read_licences(recorder)
    else:
        say("Microsoft 365: audit configuration (Exchange admin API) and licences (Graph)...")
        read_exchange(recorder, chosen_tenant)
        read_licences(recorder)
    return SnapshotFile(started, identity, f"logwarden {version('logwarden')}", recorder.readings)
