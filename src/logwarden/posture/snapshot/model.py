"""A posture snapshot: settings as read, each reading with how, when and by whom it was made.

A reading is about one scope (a subscription, a resource, the tenant) and one kind of
setting. Its status says whether the answer can be trusted: only an `ok` reading says
anything about the setting; `denied`, `failed` and a reading that is missing altogether
leave a check unable to tell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from logwarden.posture.snapshot.wire import same_id


class Kind(StrEnum):
    subscriptions = "subscriptions"
    inventory = "inventory"
    diagnostic_settings = "diagnostic_settings"
    diagnostic_categories = "diagnostic_categories"
    workspaces = "workspaces"
    tables = "tables"
    data_exports = "data_exports"
    storage_accounts = "storage_accounts"
    blob_services = "blob_services"
    containers = "containers"
    locks = "locks"
    activity_log_alerts = "activity_log_alerts"
    admin_audit_log_config = "admin_audit_log_config"
    organization_config = "organization_config"
    audit_bypass = "audit_bypass"
    ual_retention_policies = "ual_retention_policies"
    subscribed_skus = "subscribed_skus"


class Status(StrEnum):
    ok = "ok"
    denied = "denied"
    failed = "failed"
    not_collected = "not_collected"


class ExchangeSession(StrEnum):
    """Where an Exchange setting was read: it matters for `UnifiedAuditLogIngestionEnabled`,
    which Security & Compliance PowerShell always reports as False."""

    exchange_online = "exchange-online"
    security_compliance = "security-compliance"


ENTRA_SCOPE = "/providers/microsoft.aadiam"
# the resource under a workspace whose diagnostic setting turns Sentinel health monitoring on
SENTINEL_HEALTH = "/providers/Microsoft.SecurityInsights/settings/SentinelHealth"
TENANT_SCOPE = "tenant"


@dataclass(frozen=True)
class Provenance:
    """How a value was read: by `collect` (endpoint, api-version, identity, time) or from a
    hand export (its file; time and identity only when the export itself says)."""

    source: str
    read_at: datetime | None = None
    endpoint: str | None = None
    api_version: str | None = None
    identity: str | None = None
    session: ExchangeSession | None = None


@dataclass(frozen=True)
class Reading:
    kind: Kind
    scope: str
    status: Status
    items: tuple[Any, ...]
    provenance: Provenance
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.ok


T = TypeVar("T")


@dataclass
class Snapshot:
    readings: list[Reading] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def of(self, kind: Kind) -> list[Reading]:
        return [r for r in self.readings if r.kind is kind]

    def at(self, kind: Kind, scope: str) -> list[Reading]:
        """The readings of `kind` about exactly `scope` (ids compare case-insensitively)."""
        return [r for r in self.readings if r.kind is kind and same_id(r.scope, scope)]

    def items(self, kind: Kind, cls: type[T]) -> Iterator[tuple[T, Reading]]:
        """Every item of `kind` from an ok reading, with the reading it came from."""
        for reading in self.of(kind):
            if reading.ok:
                for item in reading.items:
                    if isinstance(item, cls):
                        yield item, reading


# The settings, normalised from whichever spelling they were read in.


@dataclass(frozen=True)
class Subscription:
    id: str
    name: str | None


@dataclass(frozen=True)
class Resource:
    id: str
    type: str
    name: str
    subscription_id: str | None
    workspace_id: str | None = None  # a Sentinel (SecurityInsights) solution's workspace


@dataclass(frozen=True)
class LogCategory:
    category: str | None
    group: str | None
    enabled: bool


@dataclass(frozen=True)
class DiagnosticSetting:
    id: str
    name: str
    scope: str
    logs: tuple[LogCategory, ...]
    workspace_id: str | None
    storage_account_id: str | None
    event_hub_rule_id: str | None
    partner_id: str | None

    def destinations(self) -> list[str]:
        return [d for d in (self.workspace_id, self.storage_account_id, self.event_hub_rule_id, self.partner_id) if d]

    def enabled_categories(self) -> set[str]:
        return {c.category.lower() for c in self.logs if c.enabled and c.category}

    def enabled_groups(self) -> set[str]:
        return {c.group.lower() for c in self.logs if c.enabled and c.group}


@dataclass(frozen=True)
class DiagnosticCategory:
    scope: str
    name: str
    kind: str | None  # Logs or Metrics


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    retention_days: int | None
    daily_quota_gb: float | None
    ingestion_status: str | None


@dataclass(frozen=True)
class Table:
    id: str
    name: str
    workspace_id: str
    retention_days: int | None
    total_retention_days: int | None
    plan: str | None


@dataclass(frozen=True)
class DataExport:
    id: str
    name: str
    workspace_id: str
    enabled: bool | None
    tables: tuple[str, ...]
    destination: str | None


@dataclass(frozen=True)
class StorageAccount:
    id: str
    name: str
    allow_blob_public_access: bool | None
    public_network_access: str | None
    default_action: str | None
    key_source: str | None
    version_worm: bool | None


@dataclass(frozen=True)
class BlobService:
    id: str
    account_id: str
    delete_retention: bool | None
    delete_retention_days: int | None
    container_delete_retention: bool | None
    versioning: bool | None


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    account_id: str
    public_access: str | None
    policy_state: str | None  # Locked / Unlocked; None when no time-based policy is shown
    policy_days: int | None
    append_writes: bool | None
    append_writes_all: bool | None
    legal_hold: bool | None
    version_worm: bool | None


@dataclass(frozen=True)
class Lock:
    id: str
    name: str
    scope: str
    level: str


@dataclass(frozen=True)
class AlertCondition:
    field: str
    equals: str


@dataclass(frozen=True)
class ActivityLogAlert:
    id: str
    name: str
    enabled: bool
    scopes: tuple[str, ...]
    all_of: tuple[AlertCondition, ...]
    any_of: tuple[tuple[AlertCondition, ...], ...]  # each an anyOf group inside allOf


@dataclass(frozen=True)
class AdminAuditLogConfig:
    organisation: str | None
    ual_enabled: bool | None
    first_opt_in: datetime | None
    when_changed: datetime | None


@dataclass(frozen=True)
class OrganizationConfig:
    name: str | None
    audit_disabled: bool | None


@dataclass(frozen=True)
class BypassAssociation:
    identity: str
    enabled: bool | None


@dataclass(frozen=True)
class RetentionPolicy:
    name: str
    duration: str | None
    enabled: bool | None
    record_types: tuple[str, ...]
    operations: tuple[str, ...]
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class SubscribedSku:
    part_number: str | None
    plans: tuple[str, ...]  # service plans provisioned (Success) or pending activation
