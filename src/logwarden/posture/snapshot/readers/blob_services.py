"""Blob service properties: `az storage account blob-service-properties show` or the REST body
(soft delete for blobs and containers, versioning)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import BlobService, Kind
from logwarden.posture.snapshot.readers.base import Shape, arm_type, inner, required
from logwarden.posture.snapshot.wire import flag, parent_of, whole


def _parse(obj: dict[str, Any]) -> BlobService:
    ident = required(obj, "id")
    deletes = inner(obj, "deleteretentionpolicy")
    return BlobService(
        id=ident,
        account_id=parent_of(ident, "blobservices"),
        delete_retention=flag(deletes.get("enabled")),
        delete_retention_days=whole(deletes.get("days")),
        container_delete_retention=flag(inner(obj, "containerdeleteretentionpolicy").get("enabled")),
        versioning=flag(obj.get("isversioningenabled")),
    )


SHAPE = Shape(
    Kind.blob_services,
    lambda obj: arm_type(obj) == "microsoft.storage/storageaccounts/blobservices",
    _parse,
    lambda item: item.account_id,
)
