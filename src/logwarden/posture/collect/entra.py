"""Entra ID diagnostic settings. No SDK covers them (the monitor SDK's `resource_uri` would
add `/providers/Microsoft.Insights`); Maester and Monkey365 call this REST path too."""

from __future__ import annotations

from functools import partial
from typing import Any

from logwarden.posture.collect.base import ARM_SCOPE, Hook, Recorder
from logwarden.posture.collect.rest import RestReader
from logwarden.posture.snapshot.model import ENTRA_SCOPE, Kind

API_VERSION = "2017-04-01-preview"


def read_entra(recorder: Recorder) -> list[Any]:
    """Entra's diagnostic settings (returned) and the categories the tenant offers."""
    rest = RestReader(recorder.credential, ARM_SCOPE, recorder.endpoints.arm, **recorder.endpoints.client_options)
    found: dict[Kind, list[Any]] = {}
    for kind, what in (
        (Kind.diagnostic_settings, "diagnosticSettings"),
        (Kind.diagnostic_categories, "diagnosticSettingsCategories"),
    ):
        url = f"{recorder.endpoints.arm}{ENTRA_SCOPE}/{what}?api-version={API_VERSION}"
        found[kind] = recorder.read(kind, ENTRA_SCOPE, url, partial(_all, rest, url))
    return found[Kind.diagnostic_settings]


def _all(rest: RestReader, url: str, hook: Hook) -> list[Any]:
    return list(rest.pages("GET", url, hook))
