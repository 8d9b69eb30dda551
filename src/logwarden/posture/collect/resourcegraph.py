"""Azure Resource Graph (azure-mgmt-resourcegraph 8): the subscriptions the identity can see
and every resource in them, one query each, paged with `$skipToken`. Diagnostic settings
are not in Resource Graph; the monitor adapter reads them per resource."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from logwarden.posture.collect.base import Recorder
from logwarden.posture.snapshot.model import TENANT_SCOPE, Kind
from logwarden.posture.snapshot.wire import subscription_of

SUBSCRIPTIONS = (
    "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' "
    "| project id, name, type, subscriptionId | order by id asc"
)
# workspaceResourceId: a Sentinel solution names its workspace there
RESOURCES = (
    "resources | project id, name, type, location, subscriptionId, resourceGroup, "
    "workspaceResourceId = tostring(properties.workspaceResourceId) | order by id asc"
)
_PAGE = 1000


class ResourceGraph:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.client = ResourceGraphClient(
            recorder.credential, base_url=recorder.endpoints.arm, **recorder.endpoints.client_options
        )

    def _rows(self, query: str, subscriptions: list[str] | None, hook: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            options = QueryRequestOptions(result_format="objectArray", top=_PAGE, skip_token=token)
            answer = self.client.resources(
                QueryRequest(subscriptions=subscriptions, query=query, options=options), raw_response_hook=hook
            )
            yield from answer.data or []
            token = answer.skip_token
            if not token:
                return

    def subscriptions(self, only: list[str] | None) -> list[str]:
        """The subscription ids to read: `only` when given, else all the identity can see."""
        endpoint = f"{self.recorder.endpoints.arm}/providers/Microsoft.ResourceGraph/resources"
        rows = self.recorder.read(
            Kind.subscriptions, TENANT_SCOPE, endpoint, lambda hook: list(self._rows(SUBSCRIPTIONS, only, hook))
        )
        found = [str(r.get("subscriptionId") or subscription_of(str(r.get("id")))) for r in rows if isinstance(r, dict)]
        return sorted({s.lower() for s in only} if only else {s.lower() for s in found if s})

    def inventory(self, subscriptions: list[str]) -> list[dict[str, Any]]:
        """Every resource, recorded as one inventory reading per subscription (an empty
        subscription too: the checks must know its inventory was read)."""
        endpoint = f"{self.recorder.endpoints.arm}/providers/Microsoft.ResourceGraph/resources"
        rows = self.recorder.read(
            Kind.inventory, "/", endpoint, lambda hook: list(self._rows(RESOURCES, subscriptions, hook))
        )
        # one query answered for every subscription: its reading is split per subscription
        whole = self.recorder.readings.pop()
        per_sub: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            sub = subscription_of(str(row.get("id", ""))) if isinstance(row, dict) else None
            if sub:
                per_sub[sub].append(row)
        for sub in subscriptions:
            self.recorder.readings.append(replace(whole, scope=f"/subscriptions/{sub}", body=per_sub.get(sub, [])))
        return [r for r in rows if isinstance(r, dict)]
