"""Storage accounts: `az storage account show` (flat) or the ARM REST body. Rows of the same
type without their settings (`az resource list`) belong to the inventory."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Kind, StorageAccount
from logwarden.posture.snapshot.readers.base import Shape, inner, of_type, required
from logwarden.posture.snapshot.wire import flag, text


def _parse(obj: dict[str, Any]) -> StorageAccount:
    ident = required(obj, "id")
    return StorageAccount(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        allow_blob_public_access=flag(obj.get("allowblobpublicaccess")),
        public_network_access=text(obj, "publicnetworkaccess"),
        default_action=text(inner(obj, "networkacls", "networkruleset"), "defaultaction"),
        key_source=text(inner(obj, "encryption"), "keysource"),
        version_worm=flag(inner(obj, "immutablestoragewithversioning").get("enabled")),
    )


SHAPE = Shape(
    Kind.storage_accounts,
    of_type("microsoft.storage/storageaccounts", "allowblobpublicaccess", "encryption", "primaryendpoints"),
    _parse,
    lambda item: item.id,
)
