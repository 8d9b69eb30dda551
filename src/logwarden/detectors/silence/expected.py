"""What the logging posture says should be logging, as the silence watch's expected sources.

A diagnostic setting that sends a subscription's Activity Log, Entra's audit or sign-in logs,
or a resource's logs somewhere, and a unified audit log that is switched on, each promise a
source: one the case never saw is NEVER_SEEN (the export left it out, or it never logged).
A setting with no destination, or no enabled category, promises nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from logwarden.posture.snapshot.model import ENTRA_SCOPE, AdminAuditLogConfig, DiagnosticSetting, Kind, Snapshot

# Activity Log categories that hold control-plane operations (the silence watch's subject).
_ACTIVITY = {"administrative", "security", "policy", "alert"}
_ENTRA = {"auditlogs": "entra:*", "signinlogs": "signin:*"}
_ALL_LOGS = {"alllogs", "audit"}


def expected_sources(snapshot: Snapshot) -> list[tuple[str, str]]:
    """(source id or glob, why it is expected), each source once."""
    found: dict[str, str] = {}
    for source, why in _promised(snapshot):
        found.setdefault(source, why)
    return sorted(found.items())


def _promised(snapshot: Snapshot) -> Iterator[tuple[str, str]]:
    for setting, reading in snapshot.items(Kind.diagnostic_settings, DiagnosticSetting):
        if not setting.destinations():
            continue
        why = f"diagnostic setting {setting.name!r} of {setting.scope} ({reading.provenance.source})"
        scope = setting.scope.rstrip("/").lower()
        categories = setting.enabled_categories()
        parts = scope.split("/")
        if len(parts) == 3 and parts[1] == "subscriptions":
            if categories & _ACTIVITY:
                yield f"activity:{parts[2]}", why
        elif scope == ENTRA_SCOPE:
            for category, source in _ENTRA.items():
                if category in categories:
                    yield source, why
        elif setting.enabled_groups() & _ALL_LOGS:
            yield f"resource:{scope}/*", why
        else:
            for category in sorted(c.category for c in setting.logs if c.enabled and c.category):
                yield f"resource:{scope}/{category}", why
    for config, reading in snapshot.items(Kind.admin_audit_log_config, AdminAuditLogConfig):
        if config.ual_enabled:
            organisation = config.organisation or "the tenant"
            yield "ual:*", f"unified audit log ingestion on for {organisation} ({reading.provenance.source})"
