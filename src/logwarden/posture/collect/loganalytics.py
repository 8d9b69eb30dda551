"""Log Analytics (azure-mgmt-loganalytics 14, where every field moved under `.properties`;
12 and 13 were flat). The adapter records the wire JSON, so neither the snapshot nor the
checks depend on which model layout the installed SDK has."""

from __future__ import annotations

from typing import Any

from azure.mgmt.loganalytics import LogAnalyticsManagementClient

from logwarden.posture.collect.base import Recorder
from logwarden.posture.snapshot.model import Kind
from logwarden.posture.snapshot.wire import resource_group


class LogAnalytics:
    def __init__(self, recorder: Recorder, subscription: str) -> None:
        self.recorder = recorder
        self.scope = f"/subscriptions/{subscription}"
        self.client = LogAnalyticsManagementClient(
            recorder.credential, subscription, base_url=recorder.endpoints.arm, **recorder.endpoints.client_options
        )

    def workspaces(self) -> list[dict[str, Any]]:
        found = self.recorder.read(
            Kind.workspaces,
            self.scope,
            f"{self.recorder.endpoints.arm}{self.scope}/providers/Microsoft.OperationalInsights/workspaces",
            lambda hook: self.client.workspaces.list(raw_response_hook=hook),
        )
        return [w for w in found if isinstance(w, dict) and w.get("id")]

    def details(self, workspace_id: str) -> list[Any]:
        """The workspace's tables, and its data export rules (returned)."""
        group, name = resource_group(workspace_id), workspace_id.rstrip("/").rsplit("/", 1)[-1]
        self.recorder.read(
            Kind.tables,
            workspace_id,
            f"{self.recorder.endpoints.arm}{workspace_id}/tables",
            lambda hook: self.client.tables.list_by_workspace(group, name, raw_response_hook=hook),
        )
        return self.recorder.read(
            Kind.data_exports,
            workspace_id,
            f"{self.recorder.endpoints.arm}{workspace_id}/dataExports",
            lambda hook: self.client.data_exports.list_by_workspace(group, name, raw_response_hook=hook),
        )
