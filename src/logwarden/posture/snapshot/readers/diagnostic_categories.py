"""The categories a resource offers for diagnostic settings: `az monitor diagnostic-settings
categories list --resource R`, or the REST `diagnosticSettingsCategories` page (Entra's too).
An empty answer means the resource type has no diagnostic settings at all."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import DiagnosticCategory, Kind
from logwarden.posture.snapshot.readers.base import Shape, arm_type, required
from logwarden.posture.snapshot.wire import scope_of, text


def _claims(obj: dict[str, Any]) -> bool:
    ident = str(obj.get("id") or "").lower()
    return arm_type(obj).endswith("/diagnosticsettingscategories") or "/diagnosticsettingscategories/" in ident


def _parse(obj: dict[str, Any]) -> DiagnosticCategory:
    ident = required(obj, "id")
    aad = "/providers/microsoft.aadiam/" in ident.lower()
    scope = "/providers/microsoft.aadiam" if aad else scope_of(ident, "microsoft.insights/diagnosticsettingscategories")
    return DiagnosticCategory(scope, text(obj, "name") or ident.rsplit("/", 1)[-1], text(obj, "categorytype"))


SHAPE = Shape(Kind.diagnostic_categories, _claims, _parse, lambda item: item.scope)
