"""A small REST client for the settings no Python SDK covers (Entra diagnostic settings,
Graph licences, Exchange's admin API), built from azure-core's own policies: bearer tokens
from azure-identity (https only), retries that honour 429 `Retry-After`, paging by
`nextLink` / `@odata.nextLink`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    CustomHookPolicy,
    HeadersPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.rest import HttpRequest

_MAX_PAGES = 1000  # a service that keeps answering with a nextLink must not hold collect forever


class RestReader:
    def __init__(self, credential: TokenCredential, scope: str, base_url: str, **options: Any) -> None:
        self.client: PipelineClient[HttpRequest, Any] = PipelineClient(
            base_url,
            policies=[
                HeadersPolicy(**options),
                UserAgentPolicy(sdk_moniker="logwarden-posture", **options),
                RetryPolicy(**options),
                BearerTokenCredentialPolicy(credential, scope, **options),
                CustomHookPolicy(**options),
            ],
            **options,
        )

    def pages(
        self,
        method: str,
        url: str,
        hook: Callable[[PipelineResponse[Any, Any]], None],
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[Any]:
        """The objects of every page (`value`), following next links; raises
        HttpResponseError on any answer that is not a success."""
        next_url: str | None = url
        for _ in range(_MAX_PAGES):
            if next_url is None:
                return
            request = HttpRequest(method, next_url, json=body, headers=headers)
            response = self.client.send_request(request, raw_response_hook=hook)
            if response.status_code >= 300:
                raise HttpResponseError(response=response)
            document = response.json()
            if isinstance(document, dict) and isinstance(document.get("value"), list):
                yield from document["value"]
                following = document.get("nextLink") or document.get("@odata.nextLink")
                next_url = str(following) if following else None
            else:
                yield document
                next_url = None
        raise HttpResponseError(message=f"{url}: more than {_MAX_PAGES} pages")
