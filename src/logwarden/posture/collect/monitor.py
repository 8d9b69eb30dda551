"""Azure Monitor (azure-mgmt-monitor 6.x: diagnostic settings exist only as api-version
2021-05-01-preview, which 7.0 dropped): subscription, resource and Sentinel-health diagnostic
settings, the categories a resource offers, and activity log alerts."""

from __future__ import annotations

from typing import Any

from azure.mgmt.monitor import MonitorManagementClient

from logwarden.posture.collect.base import Recorder
from logwarden.posture.snapshot.model import Kind


class Monitor:
    def __init__(self, recorder: Recorder, subscription: str) -> None:
        self.recorder = recorder
        self.subscription = subscription
        self.scope = f"/subscriptions/{subscription}"
        self.client = MonitorManagementClient(
            recorder.credential, subscription, base_url=recorder.endpoints.arm, **recorder.endpoints.client_options
        )

    def _url(self, scope: str, what: str) -> str:
        return f"{self.recorder.endpoints.arm}{scope}/providers/Microsoft.Insights/{what}"

    def activity_log_settings(self) -> list[Any]:
        return self.recorder.read(
            Kind.diagnostic_settings,
            self.scope,
            self._url(self.scope, "diagnosticSettings"),
            lambda hook: self.client.subscription_diagnostic_settings.list(raw_response_hook=hook),
        )

    def alerts(self) -> None:
        self.recorder.read(
            Kind.activity_log_alerts,
            self.scope,
            self._url(self.scope, "activityLogAlerts"),
            lambda hook: self.client.activity_log_alerts.list_by_subscription_id(raw_response_hook=hook),
        )

    def resource_settings(self, resource_id: str) -> list[Any]:
        """The resource's diagnostic settings; when it has none, also the categories it
        offers (none means it has no resource logs, so the missing setting is no gap)."""
        uri = resource_id.lstrip("/")  # the SDK's URL template puts its own slash before it
        settings = self.recorder.read(
            Kind.diagnostic_settings,
            resource_id,
            self._url(resource_id, "diagnosticSettings"),
            lambda hook: self.client.diagnostic_settings.list(resource_uri=uri, raw_response_hook=hook),
        )
        if not settings:
            self.recorder.read(
                Kind.diagnostic_categories,
                resource_id,
                self._url(resource_id, "diagnosticSettingsCategories"),
                lambda hook: self.client.diagnostic_settings_category.list(resource_uri=uri, raw_response_hook=hook),
            )
        return settings
