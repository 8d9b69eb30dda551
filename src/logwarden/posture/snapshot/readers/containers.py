"""Blob containers and their immutability: `az storage container-rm list/show` or the REST
page (each container with its time-based policy), and `az storage container
immutability-policy show` (a policy on its own, read as the container it protects)."""

from __future__ import annotations

from typing import Any

from logwarden.posture.snapshot.model import Container, Kind
from logwarden.posture.snapshot.readers.base import Shape, arm_type, inner, required
from logwarden.posture.snapshot.wire import flag, parent_of, text, whole

_CONTAINERS = "microsoft.storage/storageaccounts/blobservices/containers"
_POLICY = _CONTAINERS + "/immutabilitypolicies"


def _policy_fields(policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "policy_state": text(policy, "state"),
        "policy_days": whole(policy.get("immutabilityperiodsincecreationindays")),
        "append_writes": flag(policy.get("allowprotectedappendwrites")),
        "append_writes_all": flag(policy.get("allowprotectedappendwritesall")),
    }


def _container(obj: dict[str, Any]) -> Container:
    ident = required(obj, "id")
    policy = inner(obj, "immutabilitypolicy")
    return Container(
        id=ident,
        name=text(obj, "name") or ident.rsplit("/", 1)[-1],
        account_id=parent_of(ident, "blobservices"),
        public_access=text(obj, "publicaccess"),
        legal_hold=flag(obj.get("haslegalhold")),
        version_worm=flag(inner(obj, "immutablestoragewithversioning").get("enabled")),
        **_policy_fields(policy if policy.get("state") else {}),
    )


def _policy(obj: dict[str, Any]) -> Container:
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


CONTAINERS = Shape(Kind.containers, lambda obj: arm_type(obj) == _CONTAINERS, _container, lambda item: item.account_id)
POLICIES = Shape(Kind.containers, lambda obj: arm_type(obj) == _POLICY, _policy, lambda item: item.account_id)
