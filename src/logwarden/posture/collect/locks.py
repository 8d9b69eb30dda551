"""Management locks (azure-mgmt-resource-locks 1.x, split out of azure-mgmt-resource): every
lock in a subscription, at any scope under it, in one listing."""

from __future__ import annotations

from azure.mgmt.resource.locks import ManagementLockClient

from logwarden.posture.collect.base import Recorder
from logwarden.posture.snapshot.model import Kind


def read_locks(recorder: Recorder, subscription: str) -> None:
    client = ManagementLockClient(
        recorder.credential, subscription, base_url=recorder.endpoints.arm, **recorder.endpoints.client_options
    )
    scope = f"/subscriptions/{subscription}"
    recorder.read(
        Kind.locks,
        scope,
        f"{recorder.endpoints.arm}{scope}/providers/Microsoft.Authorization/locks",
        lambda hook: client.management_locks.list_at_subscription_level(raw_response_hook=hook),
    )
