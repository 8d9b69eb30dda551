"""Microsoft 365 audit posture: the unified audit log switch, mailbox auditing, bypasses and
how long audit records are kept."""

from __future__ import annotations

from collections.abc import Iterator

from logwarden.outputs.alerts import iso_utc
from logwarden.posture.checks.common import TENANT, listed, missing, tenant_readings
from logwarden.posture.checks.engine import Options, Outcome, Verdict, check
from logwarden.posture.snapshot.model import (
    AdminAuditLogConfig,
    BypassAssociation,
    ExchangeSession,
    Kind,
    OrganizationConfig,
    Reading,
    RetentionPolicy,
    Snapshot,
    SubscribedSku,
)

STANDARD_RETENTION_DAYS = 180  # Audit (Standard)
_DURATIONS = {
    "sevendays": 7,
    "onemonth": 30,
    "threemonths": 90,
    "sixmonths": 180,
    "ninemonths": 270,
    "twelvemonths": 365,
    "threeyears": 3 * 365,
    "fiveyears": 5 * 365,
    "sevenyears": 7 * 365,
    "tenyears": 10 * 365,
}


def _ual(config: AdminAuditLogConfig, reading: Reading) -> Outcome:
    subject = config.organisation or TENANT
    session = reading.provenance.session
    if config.ual_enabled is True:
        return Outcome(subject, Verdict.passed, "UnifiedAuditLogIngestionEnabled = True", (reading,))
    if config.ual_enabled is None:
        return Outcome(subject, Verdict.unknown, "UnifiedAuditLogIngestionEnabled is missing or unreadable", (reading,))
    note = " UnifiedAuditLogFirstOptInDate is empty: it may never have been on." if config.first_opt_in is None else ""
    if config.when_changed:  # a recent change to a False is what an intruder leaves
        note += f" The configuration last changed {iso_utc(config.when_changed)}."
    if session is ExchangeSession.exchange_online:
        return Outcome(
            subject, Verdict.failed, "UnifiedAuditLogIngestionEnabled = False (Exchange Online)." + note, (reading,)
        )
    where = (
        "it was read through Security & Compliance PowerShell, where it always reads False"
        if session is ExchangeSession.security_compliance
        else "the export does not say whether Exchange Online or Security & Compliance PowerShell read it, "
        "and the latter always reads False"
    )
    return Outcome(
        subject,
        Verdict.unknown,
        f"UnifiedAuditLogIngestionEnabled = False, but the snapshot cannot tell: {where}. Read it again in an "
        "Exchange Online session (or with `logwarden posture collect`), or pass --exchange-session exchange-online "
        "if that is where it came from." + note,
        (reading,),
    )


@check("m365-ual-enabled")
def ual_enabled(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    unknown, readings = tenant_readings(snap, Kind.admin_audit_log_config, "Get-AdminAuditLogConfig")
    yield from unknown
    for reading in readings:
        configs = [c for c in reading.items if isinstance(c, AdminAuditLogConfig)]
        if not configs:
            yield Outcome(TENANT, Verdict.unknown, "Get-AdminAuditLogConfig returned nothing", (reading,))
        for config in configs:
            yield _ual(config, reading)


@check("m365-mailbox-audit-default")
def mailbox_audit_default(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    unknown, readings = tenant_readings(snap, Kind.organization_config, "Get-OrganizationConfig")
    yield from unknown
    for reading in readings:
        for config in reading.items:
            if not isinstance(config, OrganizationConfig):
                continue
            subject = config.name or TENANT
            if config.audit_disabled is None:
                yield Outcome(subject, Verdict.unknown, "AuditDisabled is missing or unreadable", (reading,))
            else:
                verdict = Verdict.failed if config.audit_disabled else Verdict.passed
                yield Outcome(subject, verdict, f"AuditDisabled = {config.audit_disabled}", (reading,))


@check("m365-no-audit-bypass")
def no_audit_bypass(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    unknown, readings = tenant_readings(snap, Kind.audit_bypass, "Get-MailboxAuditBypassAssociation")
    yield from unknown
    for reading in readings:
        associations = [a for a in reading.items if isinstance(a, BypassAssociation)]
        bypassing = [a for a in associations if a.enabled]
        for association in bypassing:
            fill = {"identity": association.identity}
            yield Outcome(association.identity, Verdict.failed, "AuditBypassEnabled = True", (reading,), fill)
        unclear = [a.identity for a in associations if a.enabled is None]
        if unclear:
            yield Outcome(TENANT, Verdict.unknown, f"AuditBypassEnabled unreadable for {listed(unclear)}", (reading,))
        elif not bypassing:
            said = f"{len(associations)} associations, none with AuditBypassEnabled"
            yield Outcome(TENANT, Verdict.passed, said, (reading,))


def _days(policy: RetentionPolicy) -> int:
    return _DURATIONS.get((policy.duration or "").lower(), 0)


@check("m365-audit-retention")
def audit_retention(snap: Snapshot, options: Options) -> Iterator[Outcome]:
    minimum = options.min_audit_retention_days
    if minimum <= STANDARD_RETENTION_DAYS:
        yield Outcome(TENANT, Verdict.passed, f"Audit (Standard) keeps {STANDARD_RETENTION_DAYS} days >= {minimum}")
        return
    usable = [r for r in snap.of(Kind.subscribed_skus) if r.ok]
    licences = [s for r in usable for s in r.items if isinstance(s, SubscribedSku)]
    premium: bool | None = None
    if usable:
        premium = any("M365_ADVANCED_AUDITING" in s.plans for s in licences)
    if premium is False:
        yield Outcome(
            TENANT,
            Verdict.failed,
            f"no licence with M365_ADVANCED_AUDITING ({listed([s.part_number or '?' for s in licences]) or 'none'}): "
            f"Audit (Standard) keeps {STANDARD_RETENTION_DAYS} days, "
            f"under the minimum of {minimum}",
            tuple(usable),
        )
        return
    policies = [r for r in snap.of(Kind.ual_retention_policies) if r.ok]
    if not policies:
        yield missing(TENANT, "Get-UnifiedAuditLogRetentionPolicy")
        return
    active = [p for r in policies for p in r.items if isinstance(p, RetentionPolicy) and p.enabled is not False]
    long_enough = [p for p in active if _days(p) >= minimum]
    wide = [p for p in long_enough if not (p.record_types or p.operations or p.user_ids)]
    evidence = ", ".join(f"{p.name}: {p.duration}" for p in active) or "no enabled retention policy"
    readings = tuple(policies) + tuple(usable)
    if not long_enough:
        yield Outcome(TENANT, Verdict.failed, f"{evidence}; none keeps records {minimum} days", readings)
    elif premium is None:
        yield Outcome(
            TENANT,
            Verdict.unknown,
            f"{evidence}; the licences (Graph subscribedSkus) are not in the snapshot, and a policy longer than "
            f"{STANDARD_RETENTION_DAYS} days needs Audit (Premium)",
            readings,
        )
    elif not wide:
        yield Outcome(
            TENANT,
            Verdict.failed,
            f"{evidence}; the policies long enough cover only some record types, operations or users",
            readings,
        )
    else:
        yield Outcome(TENANT, Verdict.passed, f"{evidence}; Audit (Premium) licensed", readings)
