"""Azure Monitor posture: Activity Log, Entra and resource diagnostic settings, Key Vault
logging, activity log alerts and Sentinel health."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from logwarden.posture.checks.common import (
    inventoried,
    judged_per_scope,
    listed,
    missing,
    no_subscription,
    read_at,
    settings_at,
    subscriptions,
)
from logwarden.posture.checks.engine import Options, Outcome, Verdict, check
from logwarden.posture.snapshot.model import (
    ENTRA_SCOPE,
    SENTINEL_HEALTH,
    ActivityLogAlert,
    AlertCondition,
    DiagnosticCategory,
    DiagnosticSetting,
    Kind,
    Reading,
    Resource,
    Snapshot,
)
from logwarden.posture.snapshot.wire import parent_of, same_id, subscription_of, type_of

ACTIVITY_CATEGORIES = ("Administrative", "Security", "Policy", "Alert")
ENTRA_CATEGORIES = (
    "AuditLogs",
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
)
GRAPH_ACTIVITY = "MicrosoftGraphActivityLogs"

# CIS Azure v6.0 6.1.2.1-6.1.2.10, then the tamper catalogue's logging-infrastructure operations
ALERT_OPERATIONS = (
    "Microsoft.Authorization/policyAssignments/write",
    "Microsoft.Authorization/policyAssignments/delete",
    "Microsoft.Network/networkSecurityGroups/write",
    "Microsoft.Network/networkSecurityGroups/delete",
    "Microsoft.Security/securitySolutions/write",
    "Microsoft.Security/securitySolutions/delete",
    "Microsoft.Sql/servers/firewallRules/write",
    "Microsoft.Sql/servers/firewallRules/delete",
    "Microsoft.Network/publicIPAddresses/write",
    "Microsoft.Network/publicIPAddresses/delete",
    "Microsoft.Insights/diagnosticSettings/delete",
    "Microsoft.OperationalInsights/workspaces/delete",
    "Microsoft.OperationalInsights/workspaces/purge/action",
    "Microsoft.Authorization/locks/delete",
    "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/delete",
    "Microsoft.Storage/storageAccounts/delete",
    "Microsoft.EventHub/namespaces/eventhubs/delete",
)
SERVICE_HEALTH = "ServiceHealth"  # CIS 6.1.2.11: category, not operation


def _sends(setting: DiagnosticSetting) -> bool:
    return bool(setting.destinations())


@check("azure-activity-log-exported")
def activity_log_exported(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    if not subscriptions(snap):
        yield no_subscription()
    for sub in subscriptions(snap):
        found, ok, bad = settings_at(snap, sub)
        unknown = judged_per_scope(sub, ok + bad, "the subscription's diagnostic settings")
        if unknown:
            yield unknown
        elif found:
            names = [f"{s.name} -> {listed(s.destinations(), 2) or 'no destination'}" for s in found]
            yield Outcome(sub, Verdict.passed, listed(names), tuple(ok))
        else:
            yield Outcome(
                sub,
                Verdict.failed,
                "no Activity Log diagnostic setting",
                tuple(ok),
                {"subscription": subscription_of(sub) or sub},
            )


@check("azure-activity-log-categories")
def activity_log_categories(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    if not subscriptions(snap):
        yield no_subscription()
    wanted = {c.lower(): c for c in ACTIVITY_CATEGORIES}
    for sub in subscriptions(snap):
        found, ok, bad = settings_at(snap, sub)
        unknown = judged_per_scope(sub, ok + bad, "the subscription's diagnostic settings")
        if unknown:
            yield unknown
            continue
        complete = [s for s in found if _sends(s) and set(wanted) <= s.enabled_categories()]
        if complete:
            yield Outcome(
                sub, Verdict.passed, f"{complete[0].name} exports {', '.join(ACTIVITY_CATEGORIES)}", tuple(ok)
            )
            continue
        gaps = [
            f"{s.name} lacks {', '.join(wanted[c] for c in sorted(set(wanted) - s.enabled_categories()))}"
            + ("" if _sends(s) else " and has no destination")
            for s in found
        ]
        fill = {"subscription": subscription_of(sub) or sub, "setting": found[0].name if found else "<new setting>"}
        yield Outcome(sub, Verdict.failed, "; ".join(gaps) or "no Activity Log diagnostic setting", tuple(ok), fill)


def _exists(destination: str, ids: set[str], complete: set[str]) -> bool | None:
    target = destination.rstrip("/").lower()
    if "/authorizationrules/" in target:  # an Event Hubs rule lives in its namespace
        target = parent_of(target, "authorizationrules")
    if target in ids:
        return True
    sub = subscription_of(target)
    return False if sub and f"/subscriptions/{sub}" in complete else None


@check("azure-diagnostic-destination-exists")
def destination_exists(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    ids, complete = inventoried(snap)
    for setting, reading in snap.items(Kind.diagnostic_settings, DiagnosticSetting):
        targets = [d for d in (setting.workspace_id, setting.storage_account_id, setting.event_hub_rule_id) if d]
        subject = f"{setting.scope or ENTRA_SCOPE} :: {setting.name}"
        fill = {"setting": setting.name, "scope": setting.scope}
        if not targets:
            verdict = Verdict.unknown if setting.partner_id else Verdict.failed
            why = "a partner solution, which the snapshot cannot see" if setting.partner_id else "no destination"
            yield Outcome(subject, verdict, why, (reading,), fill)
            continue
        states = {t: _exists(t, ids, complete) for t in targets}
        gone = [t for t, s in states.items() if s is False]
        unclear = [t for t, s in states.items() if s is None]
        if gone:
            yield Outcome(subject, Verdict.failed, f"sends to {listed(gone)}, which does not exist", (reading,), fill)
        elif unclear:
            yield Outcome(
                subject,
                Verdict.unknown,
                f"{listed(unclear)} is outside the snapshot's inventory: cannot tell whether it exists",
                (reading,),
            )
        else:
            yield Outcome(subject, Verdict.passed, f"sends to {listed(targets)}", (reading,))


def _entra(snap: Snapshot, categories: tuple[str, ...]) -> Iterator[Outcome]:
    found, ok, bad = settings_at(snap, ENTRA_SCOPE)
    unknown = judged_per_scope("Entra ID", ok + bad, "Entra's diagnostic settings")
    if unknown:
        yield unknown
        return
    offered = {
        c.name.lower()
        for c, _ in snap.items(Kind.diagnostic_categories, DiagnosticCategory)
        if c.scope.lower() == ENTRA_SCOPE
    }
    wanted = [c for c in categories if not offered or c.lower() in offered]
    if not wanted:
        yield Outcome(
            "Entra ID", Verdict.not_applicable, f"the tenant offers none of {', '.join(categories)}", tuple(ok)
        )
        return
    exported = {c for s in found if _sends(s) for c in s.enabled_categories()}
    lacking = [c for c in wanted if c.lower() not in exported]
    names = listed([s.name for s in found]) or "no setting"
    if lacking:
        yield Outcome("Entra ID", Verdict.failed, f"{names}: {', '.join(lacking)} not exported", tuple(ok))
    else:
        yield Outcome("Entra ID", Verdict.passed, f"{names}: {', '.join(wanted)} exported", tuple(ok))


@check("azure-entra-diagnostic-setting")
def entra_diagnostic_setting(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    yield from _entra(snap, ENTRA_CATEGORIES)


@check("azure-entra-graph-activity")
def entra_graph_activity(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    yield from _entra(snap, (GRAPH_ACTIVITY,))


def _resources(snap: Snapshot, kind: str | None = None) -> list[tuple[Resource, Reading]]:
    return [(r, reading) for r, reading in snap.items(Kind.inventory, Resource) if kind is None or r.type == kind]


def _supports_settings(snap: Snapshot, resource_id: str) -> bool | None:
    readings = [r for r in snap.at(Kind.diagnostic_categories, resource_id) if r.ok]
    if not readings:
        return None
    return any(
        isinstance(c, DiagnosticCategory) and (c.kind or "Logs").lower() == "logs" for r in readings for c in r.items
    )


def _logged_resources(snap: Snapshot) -> list[tuple[str, str, str, tuple[Reading, ...]]]:
    """Each resource that may have resource logs: id, name, type and the readings that name
    it. The inventory's, and the sub-resources whose settings were read although no
    inventory lists them (a storage account's blob, queue, table and file services keep their
    own diagnostic settings)."""
    found: dict[str, tuple[str, str, str, tuple[Reading, ...]]] = {
        r.id.lower(): (r.id, r.name, r.type, (reading,)) for r, reading in _resources(snap)
    }
    for kind in (Kind.diagnostic_settings, Kind.diagnostic_categories):
        for reading in snap.of(kind):
            scope = reading.scope.rstrip("/")
            low = scope.lower()
            at = low.rfind("/providers/")
            if low.startswith("/subscriptions/") and at > 0 and not low.endswith(SENTINEL_HEALTH.lower()):
                name = "/".join(scope[at + len("/providers/") :].split("/")[2:])  # st/blobServices/default
                found.setdefault(low, (scope, name, type_of(scope), ()))
    return [found[k] for k in sorted(found)]


@check("azure-resource-logging")
def resource_logging(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    if not any(r.ok for r in snap.of(Kind.inventory)):
        yield missing("resources", "the resource inventory (`az resource list`, or collect)")
    passed: dict[str, list[str]] = defaultdict(list)
    unclear: dict[str, list[str]] = defaultdict(list)
    for ident, name, kind, evidence in _logged_resources(snap):
        sub = f"/subscriptions/{subscription_of(ident)}"
        found, ok, _ = settings_at(snap, ident)
        if any(_sends(s) for s in found):
            passed[sub].append(name)
            continue
        supported = _supports_settings(snap, ident)
        if supported is False:
            continue  # the resource type has no resource logs
        if ok and supported:
            why = f"{kind} offers resource logs; no setting sends them"
            yield Outcome(ident, Verdict.failed, why, (*evidence, *ok), {"resource": ident})
        else:
            unclear[sub].append(name)
    for sub in sorted(set(passed) | set(unclear)):
        if passed[sub]:
            said = f"{len(passed[sub])} resources send resource logs: {listed(passed[sub], 5)}"
            yield Outcome(sub, Verdict.passed, said)
        if unclear[sub]:
            said = (
                f"{len(unclear[sub])} resources whose diagnostic settings or supported categories are not in "
                f"the snapshot: {listed(unclear[sub], 5)}"
            )
            yield Outcome(sub, Verdict.unknown, said)


def _vault_logged(setting: DiagnosticSetting) -> bool:
    return _sends(setting) and (
        "auditevent" in setting.enabled_categories() or bool({"audit", "alllogs"} & setting.enabled_groups())
    )


@check("azure-keyvault-logging")
def keyvault_logging(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    vaults = {r.id.lower(): r.id for r, _ in _resources(snap, "microsoft.keyvault/vaults")}
    for setting, _ in snap.items(Kind.diagnostic_settings, DiagnosticSetting):
        if "/providers/microsoft.keyvault/vaults/" in setting.scope.lower():
            vaults.setdefault(setting.scope.lower(), setting.scope)
    if not vaults:
        inventory = snap.of(Kind.inventory)
        if any(r.ok for r in inventory):
            yield Outcome("key vaults", Verdict.not_applicable, "no key vault in the inventory")
        else:
            yield missing("key vaults", "the resource inventory")
        return
    for vault in sorted(vaults.values()):
        found, ok, bad = settings_at(snap, vault)
        unknown = judged_per_scope(vault, ok + bad, "the vault's diagnostic settings")
        if unknown:
            yield unknown
        elif any(_vault_logged(s) for s in found):
            yield Outcome(vault, Verdict.passed, "AuditEvent (or the audit / allLogs group) exported", tuple(ok))
        else:
            yield Outcome(
                vault,
                Verdict.failed,
                "no setting exports AuditEvent or the audit / allLogs group",
                tuple(ok),
                {"resource": vault},
            )


def _watches(alert: ActivityLogAlert, field: str, value: str, subscription: str) -> bool:
    """Enabled, scoped to the whole subscription (an alert scoped to one resource group misses
    the rest), and matching `field == value` in allOf or in an anyOf group inside it."""

    def hit(conditions: tuple[AlertCondition, ...]) -> bool:
        return any(c.field == field and c.equals == value for c in conditions)

    whole = not alert.scopes or any(same_id(s, subscription) for s in alert.scopes)
    return alert.enabled and whole and (hit(alert.all_of) or any(hit(group) for group in alert.any_of))


@check("azure-activity-log-alerts")
def activity_log_alerts(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    if not subscriptions(snap):
        yield no_subscription()
    for sub in subscriptions(snap):
        read = read_at(snap, Kind.activity_log_alerts, sub, ActivityLogAlert, "the subscription's activity log alerts")
        if isinstance(read, Outcome):
            yield read
            continue
        alerts, ok = read.items, read.readings
        wanted = [("operationname", op) for op in ALERT_OPERATIONS] + [("category", SERVICE_HEALTH)]
        covered = []
        for field, value in wanted:
            if any(_watches(a, field, value.lower(), sub) for a in alerts):
                covered.append(value)
            else:
                label = value if field == "operationname" else f"category {value}"
                yield Outcome(
                    f"{sub} :: {label}",
                    Verdict.failed,
                    f"no enabled alert on {label}",
                    ok,
                    {"subscription": subscription_of(sub) or sub, "operation": value},
                )
        if covered:
            yield Outcome(sub, Verdict.passed, f"alerts on {listed(covered, 20)}", ok)


def _sentinel_workspace(snap: Snapshot, solution: Resource) -> str | None:
    """The workspace a SecurityInsights(<workspace>) solution runs on: Resource Graph names it
    (properties.workspaceResourceId); `az resource list` gives only the name, matched to the
    one workspace of that name in the same subscription."""
    name = solution.name
    if not (name.lower().startswith("securityinsights(") and name.endswith(")")):
        return None
    if solution.workspace_id:
        return solution.workspace_id
    wanted = name[len("securityinsights(") : -1].lower()
    found = {
        r.id
        for r, _ in _resources(snap, "microsoft.operationalinsights/workspaces")
        if r.name.lower() == wanted and r.subscription_id == solution.subscription_id
    }
    return found.pop() if len(found) == 1 else None


@check("azure-sentinel-health")
def sentinel_health(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    if not any(r.ok for r in snap.of(Kind.inventory)):
        yield missing("Sentinel workspaces", "the resource inventory (which workspaces run Sentinel)")
        return
    solutions = _resources(snap, "microsoft.operationsmanagement/solutions")
    workspaces = sorted({ws for r, _ in solutions if (ws := _sentinel_workspace(snap, r))})
    if not workspaces:
        yield Outcome("Sentinel workspaces", Verdict.not_applicable, "no workspace in the inventory runs Sentinel")
    for ws in workspaces:
        found, ok, bad = settings_at(snap, ws + SENTINEL_HEALTH)
        unknown = judged_per_scope(ws, ok + bad, "the SentinelHealth diagnostic setting")
        if unknown:
            yield unknown
        elif any(_sends(s) and (s.enabled_categories() or s.enabled_groups()) for s in found):
            yield Outcome(ws, Verdict.passed, f"{listed([s.name for s in found])} sends SentinelHealth", tuple(ok))
        else:
            yield Outcome(ws, Verdict.failed, "no diagnostic setting on SentinelHealth", tuple(ok), {"workspace": ws})
