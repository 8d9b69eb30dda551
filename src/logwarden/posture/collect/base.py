"""What every adapter shares: where the services are, how an answer is recorded, and what a
failed call means (403: the identity may not read it; the snapshot then says "denied",
which the checks report as unknown, never as off)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline import PipelineResponse

from logwarden.posture.snapshot.file import RawReading
from logwarden.posture.snapshot.model import ExchangeSession, Kind, Status

ARM_SCOPE = "https://management.azure.com/.default"
# ARM's answer for a resource type that has no diagnostic settings (CIS 6.1.4: "error = not supported")
UNSUPPORTED = "ResourceTypeNotSupported"
Hook = Callable[[PipelineResponse[Any, Any]], None]


@dataclass(frozen=True)
class Endpoints:
    """The services' base URLs, and options for every client (tests point these at a local
    stand-in; production keeps the defaults, all https)."""

    arm: str = "https://management.azure.com"
    graph: str = "https://graph.microsoft.com"
    exchange: str = "https://outlook.office365.com"
    client_options: dict[str, Any] = field(default_factory=dict)


def wire(model: Any) -> Any:
    """An SDK model as the service sent it (REST names, `properties` nested). The msrest-style
    models (monitor 6, locks, resource graph) serialise; the newer ones (loganalytics 14,
    storage 25) are mappings of the wire JSON already. Plain JSON passes through."""
    if hasattr(model, "serialize"):
        return model.serialize(keep_readonly=True)
    if hasattr(model, "as_dict"):
        return model.as_dict()
    return model


def identity_of(token: str) -> tuple[str | None, str | None]:
    """Who a bearer token speaks for, and its tenant, from its claims. Only to label the
    snapshot's provenance: the token is not verified here (the service verifies it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None, None
    if not isinstance(claims, dict):
        return None, None
    who = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username")
    if not who and claims.get("appid"):
        who = f"app {claims['appid']}"
    if not who and claims.get("oid"):
        who = f"object {claims['oid']}"
    tenant = claims.get("tid")
    return (str(who) if who else None), (str(tenant) if tenant else None)


class Recorder:
    """Runs each read, turns its outcome into a RawReading and keeps it."""

    def __init__(self, credential: TokenCredential, endpoints: Endpoints, identity: str | None) -> None:
        self.credential = credential
        self.endpoints = endpoints
        self.identity = identity
        self.readings: list[RawReading] = []

    def read(
        self,
        kind: Kind,
        scope: str,
        endpoint: str,
        call: Callable[[Hook], Iterable[Any]],
        session: ExchangeSession | None = None,
    ) -> list[Any]:
        """Run `call` (given a hook that hears every response) and record what came back.
        `endpoint` names the call when no response came at all. Returns the objects read
        (empty when the read failed)."""
        urls: list[str] = []

        def hook(response: PipelineResponse[Any, Any]) -> None:
            urls.append(response.http_request.url)

        started = datetime.now(UTC)
        status, detail, body = Status.ok, "", []
        try:
            body = [wire(item) for item in call(hook)]
        except HttpResponseError as exc:
            status = Status.denied if exc.status_code in (401, 403) else Status.failed
            code = f"HTTP {exc.status_code}: " if exc.status_code else ""
            detail = code + " ".join(str(exc.message or exc).split())[:300]
            if getattr(exc.error, "code", None) == UNSUPPORTED:
                status = Status.ok  # a true answer: this resource type has no diagnostic settings at all
        except (AzureError, ValueError) as exc:  # ValueError: an answer that is not the JSON it should be
            status, detail = Status.failed, " ".join(str(exc).split())[:300]
        url = urlsplit(urls[0] if urls else endpoint)
        api = parse_qs(url.query).get("api-version", [None])[0]
        self.readings.append(
            RawReading(
                kind=kind,
                scope=scope,
                status=status,
                body=body,
                endpoint=f"{url.scheme}://{url.netloc}{url.path}",
                api_version=api,
                read_at=started,
                identity=self.identity,
                session=session,
                detail=detail,
            )
        )
        return body

    def skip(self, kind: Kind, scope: str, endpoint: str, why: str) -> None:
        """Record that a setting was not collected, and why."""
        self.readings.append(
            RawReading(
                kind, scope, Status.not_collected, [], endpoint, None, datetime.now(UTC), self.identity, detail=why
            )
        )
