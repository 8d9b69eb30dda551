"""Exchange Online settings through the admin API's InvokeCommand, the REST transport the
ExchangeOnlineManagement module itself uses (Monkey365 calls it too). It is undocumented:
an answer other than a success is recorded as failed or denied, which the checks report as
unknown. A read here is an Exchange Online read, so a False `UnifiedAuditLogIngestionEnabled`
from it is trustworthy (Security & Compliance PowerShell always says False)."""

from __future__ import annotations

from functools import partial
from typing import Any

from logwarden.posture.collect.base import Hook, Recorder
from logwarden.posture.collect.rest import RestReader
from logwarden.posture.snapshot.model import TENANT_SCOPE, ExchangeSession, Kind

SCOPE = "https://outlook.office365.com/.default"
CMDLETS: tuple[tuple[Kind, str, dict[str, Any]], ...] = (
    (Kind.admin_audit_log_config, "Get-AdminAuditLogConfig", {}),
    (Kind.organization_config, "Get-OrganizationConfig", {}),
    (Kind.audit_bypass, "Get-MailboxAuditBypassAssociation", {"ResultSize": "Unlimited"}),
)


def read_exchange(recorder: Recorder, tenant: str) -> None:
    base = recorder.endpoints.exchange
    rest = RestReader(recorder.credential, SCOPE, base, **recorder.endpoints.client_options)
    url = f"{base}/adminapi/beta/{tenant}/InvokeCommand"
    for kind, cmdlet, parameters in CMDLETS:
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}
        recorder.read(
            kind,
            TENANT_SCOPE,
            url,
            partial(_invoke, rest, url, body),
            session=ExchangeSession.exchange_online,
        )
    recorder.skip(
        Kind.ual_retention_policies,
        TENANT_SCOPE,
        url,
        "Get-UnifiedAuditLogRetentionPolicy runs only in Security & Compliance PowerShell: export it with "
        "`Connect-IPPSSession; Get-UnifiedAuditLogRetentionPolicy | ConvertTo-Json` and give the file to "
        "`logwarden posture check` beside the snapshot",
    )


def _invoke(rest: RestReader, url: str, body: dict[str, Any], hook: Hook) -> list[Any]:
    return list(rest.pages("POST", url, hook, body=body))
