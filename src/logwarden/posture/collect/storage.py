"""The storage accounts logs are written to (azure-mgmt-storage 25): account properties,
blob service properties (soft delete) and containers with their immutability policies."""

from __future__ import annotations

from azure.mgmt.storage import StorageManagementClient

from logwarden.posture.collect.base import Recorder
from logwarden.posture.snapshot.model import Kind
from logwarden.posture.snapshot.wire import resource_group, subscription_of


class Storage:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def account(self, account_id: str) -> None:
        subscription = subscription_of(account_id) or ""
        client = StorageManagementClient(
            self.recorder.credential,
            subscription,
            base_url=self.recorder.endpoints.arm,
            **self.recorder.endpoints.client_options,
        )
        group, name = resource_group(account_id), account_id.rstrip("/").rsplit("/", 1)[-1]
        base = f"{self.recorder.endpoints.arm}{account_id}"
        self.recorder.read(
            Kind.storage_accounts,
            account_id,
            base,
            lambda hook: [client.storage_accounts.get_properties(group, name, raw_response_hook=hook)],
        )
        self.recorder.read(
            Kind.blob_services,
            account_id,
            f"{base}/blobServices/default",
            lambda hook: [client.blob_services.get_service_properties(group, name, raw_response_hook=hook)],
        )
        self.recorder.read(
            Kind.containers,
            account_id,
            f"{base}/blobServices/default/containers",
            lambda hook: client.blob_containers.list(group, name, raw_response_hook=hook),
        )
