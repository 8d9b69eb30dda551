"""The log storage account: `az storage account show`, `az storage account
blob-service-properties show`, `az storage container-rm list/show` and `az storage container
immutability-policy show`, or their REST bodies. Four resource types, one account."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import BlobService, Container, Kind, StorageAccount
from logwarden.posture.snapshot.readers.base import Shape, arm_type, of_type, required
from logwarden.posture.snapshot.wire import flag, flat, parent_of, text, whole

_CONTAINERS = "microsoft.storage/storageaccounts/blobservices/containers"
_POLICY = _CONTAINERS + "/immutabilitypolicies"


def _inner(obj: dict[str, Any], name: str) -> dict[str, Any]:
    value = obj.get(name)
    return flat(value) if isinstance(value, dict) else {}


def _account(obj: dict[str, Any]) -> StorageAccount:
    ident = required(obj, "id")
    worm = _inner(obj, "immutablestoragewithversioning")
    return StorageAccount(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        allow_blob_public_access=flag(obj.get("allowblobpublicaccess")),
        public_network_access=text(obj, "publicnetworkaccess"),
        default_action=text(_inner(obj, "networkruleset"), "defaultaction"),
        key_source=text(_inner(obj, "encryption"), "keysource"),
        version_worm=flag(worm.get("enabled")),
    )


def _blob_service(obj: dict[str, Any]) -> BlobService:
    ident = required(obj, "id")
    deletes = _inner(obj, "deleteretentionpolicy")
    containers = _inner(obj, "containerdeleteretentionpolicy")
    return BlobService(
        id=ident,
        account_id=parent_of(ident, "blobservices"),
        delete_retention=flag(deletes.get("enabled")),
        delete_retention_days=whole(deletes.get("days")),
        container_delete_retention=flag(containers.get("enabled")),
        versioning=flag(obj.get("isversioningenabled")),
    )


def _policy_fields(policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "policy_state": text(policy, "state"),
        "policy_days": whole(policy.get("immutabilityperiodsincecreationindays")),
        "append_writes": flag(policy.get("allowprotectedappendwrites")),
        "append_writes_all": flag(policy.get("allowprotectedappendwritesall")),
    }


def _container(obj: dict[str, Any]) -> Container:
    ident = required(obj, "id")
    policy = _inner(obj, "immutabilitypolicy")
    fields = _policy_fields(policy) if policy.get("state") else dict.fromkeys(_policy_fields({}))
    return Container(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        account_id=parent_of(ident, "blobservices"),
        public_access=text(obj, "publicaccess"),
        legal_hold=flag(obj.get("haslegalhold")),
        version_worm=flag(_inner(obj, "immutablestoragewithversioning").get("enabled")),
        **fields,
    )


def _policy(obj: dict[str, Any]) -> Container:
    """An immutability policy on its own, as the container it protects."""
    container = parent_of(required(obj, "id"), "immutabilitypolicies")
    return Container(
        id=container,
        name=container.rsplit("/", 1)[-1],
        account_id=parent_of(container, "blobservices"),
        public_access=None,
        legal_hold=None,
        version_worm=None,
        **_policy_fields(obj),
    )


ACCOUNTS = Shape(
    Kind.storage_accounts,
    of_type("microsoft.storage/storageaccounts", "allowblobpublicaccess", "encryption", "primaryendpoints"),
    _account,
    lambda item: item.id,
)
BLOB_SERVICES = Shape(
    Kind.blob_services,
    lambda obj: arm_type(obj) == "microsoft.storage/storageaccounts/blobservices",
    _blob_service,
    lambda item: item.account_id,
)
CONTAINERS = Shape(Kind.containers, lambda obj: arm_type(obj) == _CONTAINERS, _container, lambda item: item.account_id)
POLICIES = Shape(Kind.containers, lambda obj: arm_type(obj) == _POLICY, _policy, lambda item: item.account_id)
