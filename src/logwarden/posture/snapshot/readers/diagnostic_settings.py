"""Diagnostic settings: `az monitor diagnostic-settings list --resource R` and
`... subscription list` (flat), the ARM REST `{"value": [...]}` pages (`properties` nested),
and the Entra `GET /providers/microsoft.aadiam/diagnosticSettings` answer. One resource
model, told apart by the scope at the front of its id."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import DiagnosticSetting, Kind, LogCategory
from logwarden.posture.snapshot.readers.base import Shape, arm_type, required
from logwarden.posture.snapshot.wire import flag, flat, scope_of, text

_MARKERS = ("microsoft.insights/diagnosticsettings/", "microsoft.aadiam/diagnosticsettings/")


def _claims(obj: dict[str, Any]) -> bool:
    ident = str(obj.get("id") or "").lower()
    kind = arm_type(obj)
    return (kind.endswith("/diagnosticsettings") or any(f"/providers/{m}" in ident for m in _MARKERS)) and "logs" in obj


def _parse(obj: dict[str, Any]) -> DiagnosticSetting:
    ident = required(obj, "id")
    marker = "microsoft.aadiam" if "/providers/microsoft.aadiam/" in ident.lower() else "microsoft.insights"
    logs = []
    for entry in obj.get("logs") or []:
        if isinstance(entry, dict):
            low = flat(entry)
            logs.append(
                LogCategory(text(low, "category"), text(low, "categorygroup"), flag(low.get("enabled")) is True)
            )
    scope = scope_of(ident, marker + "/diagnosticsettings")
    return DiagnosticSetting(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        scope=scope if marker == "microsoft.insights" else "/providers/microsoft.aadiam",
        logs=tuple(logs),
        workspace_id=text(obj, "workspaceid"),
        storage_account_id=text(obj, "storageaccountid"),
        event_hub_rule_id=text(obj, "eventhubauthorizationruleid"),
        partner_id=text(obj, "marketplacepartnerid"),
    )


SHAPE = Shape(Kind.diagnostic_settings, _claims, _parse, lambda item: item.scope)
