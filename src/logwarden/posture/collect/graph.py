"""Microsoft Graph: the tenant's licences (`subscribedSkus`), to know whether audit records
can be kept past Audit (Standard)'s 180 days."""

from __future__ import annotations

from logwarden.posture.collect.base import Recorder
from logwarden.posture.collect.rest import RestReader
from logwarden.posture.snapshot.model import TENANT_SCOPE, Kind


def read_licences(recorder: Recorder) -> None:
    base = recorder.endpoints.graph
    rest = RestReader(
        recorder.credential, "https://graph.microsoft.com/.default", base, **recorder.endpoints.client_options
    )
    url = f"{base}/v1.0/subscribedSkus"
    recorder.read(Kind.subscribed_skus, TENANT_SCOPE, url, lambda hook: list(rest.pages("GET", url, hook)))
