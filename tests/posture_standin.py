"""A local HTTPS stand-in for ARM, Microsoft Graph and Exchange's admin API that replays
recorded answers, for the `posture collect` tests. The bodies are hand-written from
../shared/reference/silence-and-posture.md part B and the services' REST shapes (one made-up
tenant: Contoso, subscription 1111... readable, subscription 5555... not).

TLS with a throwaway self-signed certificate, so the Azure SDK's bearer-token policy runs
exactly as in production (it refuses plain http) and the clients are told to trust that
certificate only through their transport's `connection_verify`."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from logwarden.posture.checks.monitor import ENTRA_CATEGORIES, GRAPH_ACTIVITY

TENANT = "22222222-2222-2222-2222-222222222222"
SUB = "11111111-1111-1111-1111-111111111111"
DENIED_SUB = "55555555-5555-5555-5555-555555555555"
S = f"/subscriptions/{SUB}"
RG = f"{S}/resourceGroups/logs-rg"
WS = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/law-sec"
ST = f"{RG}/providers/Microsoft.Storage/storageAccounts/stlogarchive"
KV = f"{S}/resourceGroups/app-rg/providers/Microsoft.KeyVault/vaults/kv-prod"
KV_DEV = f"{S}/resourceGroups/app-rg/providers/Microsoft.KeyVault/vaults/kv-dev"
NIC = f"{S}/resourceGroups/app-rg/providers/Microsoft.Network/networkInterfaces/vm1-nic"
SOLUTION = f"{RG}/providers/Microsoft.OperationsManagement/solutions/SecurityInsights(law-sec)"
HEALTH = f"{WS}/providers/Microsoft.SecurityInsights/settings/SentinelHealth"
QUEUES = f"{ST}/queueServices/default"
ENTRA_EXPORTED = (*ENTRA_CATEGORIES, GRAPH_ACTIVITY)  # every category the checks want, all exported


def fake_jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


class FakeCredential:
    """A TokenCredential that hands out an unsigned token naming a user, and remembers the
    scopes it was asked for."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        claims = {"upn": "analyst@contoso.example", "tid": TENANT, "aud": scopes[0] if scopes else ""}
        return AccessToken(fake_jwt(claims), int(time.time()) + 3600)


def _setting(scope: str, name: str, logs: list[tuple[str, bool]], **destinations: str) -> dict[str, Any]:
    return {
        "id": f"{scope}/providers/microsoft.insights/diagnosticSettings/{name}",
        "name": name,
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {
            **destinations,
            "logs": [
                {"category": c, "categoryGroup": None, "enabled": on, "retentionPolicy": {"enabled": False, "days": 0}}
                for c, on in logs
            ],
            "metrics": [],
        },
    }


def _arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class Recorded:
    """The recorded answers, with the little state a replay needs (a 429 before the answer)."""

    base: str = ""
    requests: list[Request] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    throttled: set[str] = field(default_factory=set)

    def answer(self, req: Request) -> tuple[int, dict[str, str], Any]:
        self.requests.append(req)
        found = self._route(req)
        if found is None:
            self.unexpected.append(f"{req.method} {req.path}")
            return 404, {}, _arm_error("NotFound", f"no recording for {req.method} {req.path}")
        return found

    def _page(self, items: list[Any], path: str, page: str | None, size: int = 1) -> dict[str, Any]:
        """Items `size` at a time, each page but the last naming the next."""
        start = int(page or 0)
        body: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            body["nextLink"] = f"{self.base}{path}?api-version=2020-05-01&$skiptoken={start + size}"
        return body

    def _route(self, req: Request) -> tuple[int, dict[str, str], Any] | None:
        p, q = req.path, req.query
        ok: dict[str, str] = {"x-ms-request-id": "00000000-0000-0000-0000-000000000001"}
        if p == "/providers/Microsoft.ResourceGraph/resources" and req.method == "POST":
            return 200, ok, self._graph(req.body)
        if p == f"{S}/providers/Microsoft.Insights/diagnosticSettings":
            return (
                200,
                ok,
                {
                    "value": [
                        _setting(
                            S,
                            "to-law",
                            [("Administrative", True), ("Security", True), ("Policy", True), ("Alert", True)],
                            workspaceId=WS,
                            storageAccountId=ST,
                        )
                    ]
                },
            )
        if p.startswith(f"/subscriptions/{DENIED_SUB}/") and "OperationalInsights" not in p:
            return (
                403,
                ok,
                _arm_error(
                    "AuthorizationFailed",
                    "The client 'analyst@contoso.example' does not have "
                    "authorization to perform action 'read' over scope.",
                ),
            )
        if p == f"/subscriptions/{DENIED_SUB}/providers/Microsoft.OperationalInsights/workspaces":
            return 200, ok, {"value": []}
        if p == f"{S}/providers/Microsoft.Insights/activityLogAlerts":
            if "alerts" not in self.throttled:
                self.throttled.add("alerts")
                return 429, {"Retry-After": "1"}, _arm_error("TooManyRequests", "throttled")
            return 200, ok, {"value": [self._alert()]}
        if p == f"{S}/providers/Microsoft.Authorization/locks":
            locks = [
                {
                    "id": f"{RG}/providers/Microsoft.Authorization/locks/keep-logs",
                    "name": "keep-logs",
                    "type": "Microsoft.Authorization/locks",
                    "properties": {"level": "CanNotDelete", "notes": "logs"},
                },
                {
                    "id": f"{S}/resourceGroups/app-rg/providers/Microsoft.Authorization/locks/app-ro",
                    "name": "app-ro",
                    "type": "Microsoft.Authorization/locks",
                    "properties": {"level": "ReadOnly"},
                },
            ]
            return 200, ok, self._page(locks, p, (q.get("$skiptoken") or [None])[0])
        if p == f"{S}/providers/Microsoft.OperationalInsights/workspaces":
            return 200, ok, {"value": [self._workspace()]}
        if p == f"{WS}/tables":
            return (
                200,
                ok,
                {
                    "value": [
                        self._table("SecurityEvent", 90, 730),
                        self._table("SigninLogs", 90, 90),
                        self._table("AzureActivity", -1, -1),
                    ]
                },
            )
        if p == f"{WS}/dataExports":
            return (
                200,
                ok,
                {
                    "value": [
                        {
                            "id": f"{WS}/dataExports/to-archive",
                            "name": "to-archive",
                            "type": "Microsoft.OperationalInsights/workspaces/dataExports",
                            "properties": {
                                "dataExportId": "6c6c6c6c-0000-4000-8000-000000000001",
                                "tableNames": ["SecurityEvent", "SigninLogs"],
                                "enable": True,
                                "destination": {"resourceId": ST, "type": "StorageAccount"},
                            },
                        }
                    ]
                },
            )
        if p == f"{HEALTH}/providers/Microsoft.Insights/diagnosticSettings":
            return (
                200,
                ok,
                {
                    "value": [
                        {
                            **_setting(HEALTH, "health", [], workspaceId=WS),
                            "properties": {
                                "workspaceId": WS,
                                "logs": [{"categoryGroup": "allLogs", "category": None, "enabled": True}],
                            },
                        }
                    ]
                },
            )
        if p == f"{KV}/providers/Microsoft.Insights/diagnosticSettings":
            return 200, ok, {"value": [_setting(KV, "vault-audit", [("AuditEvent", True)], workspaceId=WS)]}
        if p.startswith(f"{NIC}/providers/Microsoft.Insights/"):
            return (
                400,
                ok,
                _arm_error(
                    "ResourceTypeNotSupported",
                    "The resource type 'microsoft.network/networkinterfaces' does not support diagnostic settings.",
                ),
            )
        for service in ("blobServices", "tableServices", "fileServices"):  # their data-plane logs sent
            scope = f"{ST}/{service}/default"
            if p == f"{scope}/providers/Microsoft.Insights/diagnosticSettings":
                logs = [("StorageRead", True), ("StorageWrite", True), ("StorageDelete", True)]
                return 200, ok, {"value": [_setting(scope, "storage-audit", logs, workspaceId=WS)]}
        if p == f"{QUEUES}/providers/Microsoft.Insights/diagnosticSettings":
            return 200, ok, {"value": []}
        if p == f"{QUEUES}/providers/Microsoft.Insights/diagnosticSettingsCategories":
            return 200, ok, {"value": self._categories(QUEUES)}
        for resource in (KV_DEV, WS, ST, SOLUTION):
            if p == f"{resource}/providers/Microsoft.Insights/diagnosticSettings":
                return 200, ok, {"value": []}
            if p == f"{resource}/providers/Microsoft.Insights/diagnosticSettingsCategories":
                return 200, ok, {"value": self._categories(resource)}
        if p == "/providers/microsoft.aadiam/diagnosticSettings":
            return (
                200,
                ok,
                {
                    "value": [
                        _setting(
                            "/providers/microsoft.aadiam",
                            "entra-to-law",
                            [(c, True) for c in ENTRA_EXPORTED],
                            workspaceId=WS,
                        )
                    ]
                },
            )
        if p == "/providers/microsoft.aadiam/diagnosticSettingsCategories":
            return (
                200,
                ok,
                {
                    "value": [
                        {
                            "id": f"/providers/microsoft.aadiam/diagnosticSettingsCategories/{c}",
                            "name": c,
                            "type": "microsoft.aadiam/diagnosticSettingsCategories",
                            "properties": {"categoryType": "Logs"},
                        }
                        for c in (*ENTRA_EXPORTED, "ProvisioningLogs")
                    ]
                },
            )
        if p == ST:
            return 200, ok, self._account()
        if p == f"{ST}/blobServices/default":
            return (
                200,
                ok,
                {
                    "id": f"{ST}/blobServices/default",
                    "name": "default",
                    "type": "Microsoft.Storage/storageAccounts/blobServices",
                    "properties": {
                        "deleteRetentionPolicy": {"enabled": True, "days": 30},
                        "containerDeleteRetentionPolicy": {"enabled": True, "days": 30},
                        "isVersioningEnabled": False,
                    },
                },
            )
        if p == f"{ST}/blobServices/default/containers":
            return 200, ok, self._containers(q)
        if p == "/v1.0/subscribedSkus":
            return (
                200,
                ok,
                {
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus",
                    "value": [
                        {
                            "skuPartNumber": "SPE_E3",
                            "skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965",
                            "servicePlans": [
                                {"servicePlanName": "EXCHANGE_S_ENTERPRISE", "provisioningStatus": "Success"}
                            ],
                        }
                    ],
                },
            )
        if p == f"/adminapi/beta/{TENANT}/InvokeCommand" and req.method == "POST":
            return self._exchange(req)
        return None

    def _graph(self, body: dict[str, Any]) -> dict[str, Any]:
        if "resourcecontainers" in body["query"]:
            asked = body.get("subscriptions") or [SUB, DENIED_SUB]  # Resource Graph answers for those asked
            rows = [
                {
                    "id": f"/subscriptions/{s}",
                    "name": n,
                    "type": "microsoft.resources/subscriptions",
                    "subscriptionId": s,
                }
                for s, n in ((SUB, "Contoso Production"), (DENIED_SUB, "Contoso Lab"))
                if s in asked
            ]
            return {
                "totalRecords": len(rows),
                "count": len(rows),
                "data": rows,
                "facets": [],
                "resultTruncated": "false",
            }
        rows = [
            {"id": WS, "name": "law-sec", "type": "microsoft.operationalinsights/workspaces"},
            {"id": ST, "name": "stlogarchive", "type": "microsoft.storage/storageaccounts"},
            {"id": KV, "name": "kv-prod", "type": "microsoft.keyvault/vaults"},
            {"id": KV_DEV, "name": "kv-dev", "type": "microsoft.keyvault/vaults"},
            {"id": NIC, "name": "vm1-nic", "type": "microsoft.network/networkinterfaces"},
            {
                "id": SOLUTION,
                "name": "SecurityInsights(law-sec)",
                "type": "microsoft.operationsmanagement/solutions",
                "workspaceResourceId": WS,
            },
        ]
        rows = [
            {**r, "location": "westeurope", "subscriptionId": SUB, "resourceGroup": r["id"].split("/")[4]} for r in rows
        ]
        token = (body.get("options") or {}).get("$skipToken")
        start = int(base64.b64decode(token)) if token else 0
        page = rows[start : start + 4]
        answer = {"totalRecords": len(rows), "count": len(page), "data": page, "facets": [], "resultTruncated": "false"}
        if start + 4 < len(rows):
            answer["$skipToken"] = base64.b64encode(str(start + 4).encode()).decode()
        return answer

    def _alert(self) -> dict[str, Any]:
        return {
            "id": f"{RG}/providers/Microsoft.Insights/activityLogAlerts/diag-delete",
            "name": "diag-delete",
            "type": "Microsoft.Insights/ActivityLogAlerts",
            "location": "Global",
            "properties": {
                "scopes": [S],
                "enabled": True,
                "condition": {
                    "allOf": [
                        {"field": "category", "equals": "Administrative"},
                        {
                            "anyOf": [
                                {"field": "operationName", "equals": "Microsoft.Insights/diagnosticSettings/delete"},
                                {"field": "operationName", "equals": "Microsoft.OperationalInsights/workspaces/delete"},
                            ]
                        },
                    ]
                },
                "actions": {"actionGroups": []},
            },
        }

    def _workspace(self) -> dict[str, Any]:
        return {
            "id": WS,
            "name": "law-sec",
            "type": "Microsoft.OperationalInsights/workspaces",
            "location": "westeurope",
            "properties": {
                "customerId": "33333333-3333-3333-3333-333333333333",
                "provisioningState": "Succeeded",
                "sku": {"name": "PerGB2018"},
                "retentionInDays": 90,
                "workspaceCapping": {"dailyQuotaGb": -1.0, "dataIngestionStatus": "RespectQuota"},
                "publicNetworkAccessForIngestion": "Enabled",
                "publicNetworkAccessForQuery": "Enabled",
            },
        }

    def _table(self, name: str, days: int, total: int) -> dict[str, Any]:
        return {
            "id": f"{WS}/tables/{name}",
            "name": name,
            "type": "Microsoft.OperationalInsights/workspaces/tables",
            "properties": {
                "retentionInDays": days,
                "totalRetentionInDays": total,
                "plan": "Analytics",
                "retentionInDaysAsDefault": days < 0,
                "totalRetentionInDaysAsDefault": total < 0,
            },
        }

    def _categories(self, resource: str) -> list[dict[str, Any]]:
        offered = {
            KV_DEV: [("AuditEvent", "Logs"), ("AllMetrics", "Metrics")],
            WS: [("Audit", "Logs")],
            ST: [("Transaction", "Metrics")],
            SOLUTION: [],
            QUEUES: [
                ("StorageRead", "Logs"),
                ("StorageWrite", "Logs"),
                ("StorageDelete", "Logs"),
                ("Transaction", "Metrics"),
            ],
        }[resource]
        return [
            {
                "id": f"{resource}/providers/microsoft.insights/diagnosticSettingsCategories/{c}",
                "name": c,
                "type": "Microsoft.Insights/diagnosticSettingsCategories",
                "properties": {"categoryType": kind, "categoryGroups": ["allLogs"] if kind == "Logs" else []},
            }
            for c, kind in offered
        ]

    def _account(self) -> dict[str, Any]:
        return {
            "id": ST,
            "name": "stlogarchive",
            "type": "Microsoft.Storage/storageAccounts",
            "location": "westeurope",
            "kind": "StorageV2",
            "sku": {"name": "Standard_GRS", "tier": "Standard"},
            "properties": {
                "allowBlobPublicAccess": False,
                "publicNetworkAccess": "Disabled",
                "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
                "encryption": {"keySource": "Microsoft.Storage", "services": {}},
                "primaryEndpoints": {"blob": "https://stlogarchive.blob.core.windows.net/"},
                "provisioningState": "Succeeded",
            },
        }

    def _containers(self, query: dict[str, list[str]]) -> dict[str, Any]:
        def container(name: str, state: str) -> dict[str, Any]:
            return {
                "id": f"{ST}/blobServices/default/containers/{name}",
                "name": name,
                "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
                "etag": '"0x8DC1"',
                "properties": {
                    "publicAccess": "None",
                    "hasImmutabilityPolicy": True,
                    "hasLegalHold": False,
                    "immutabilityPolicy": {
                        "etag": '"8dc1"',
                        "updateHistory": [],
                        "properties": {
                            "immutabilityPeriodSinceCreationInDays": 365,
                            "state": state,
                            "allowProtectedAppendWrites": True,
                        },
                    },
                },
            }

        if "$skipToken" in query or "$skiptoken" in query:
            return {"value": [container("insights-logs-auditevent", "Locked")]}
        return {
            "value": [container("insights-activity-logs", "Locked")],
            "nextLink": f"{self.base}{ST}/blobServices/default/containers?api-version=2026-09-01&$skipToken=2",
        }

    def _exchange(self, req: Request) -> tuple[int, dict[str, str], Any]:
        cmdlet = req.body["CmdletInput"]["CmdletName"]
        context = {
            "@odata.context": f"{self.base}/adminapi/beta/{TENANT}/$metadata#Collection(Exchange.GenericHashTable)"
        }
        if cmdlet == "Get-AdminAuditLogConfig":
            config = {
                "AdminAuditLogEnabled": True,
                "UnifiedAuditLogIngestionEnabled": False,
                "UnifiedAuditLogFirstOptInDate": "2021-04-13T15:16:51.162Z",
                "AdminAuditLogAgeLimit": "90.00:00:00",
                "Name": "Admin Audit Log Settings",
                "OrganizationalUnitRoot": "contoso.onmicrosoft.com",
                "WhenChangedUTC": "2026-11-02T03:14:15Z",
            }
            return 200, {}, {**context, "value": [config]}
        if cmdlet == "Get-OrganizationConfig":
            return (
                403,
                {},
                {
                    "error": {
                        "code": "Forbidden",
                        "message": "The role assigned to application isn't supported in this scenario.",
                    }
                },
            )
        if cmdlet == "Get-MailboxAuditBypassAssociation":
            if "page" in req.query:
                # names are whatever the tenant's admins (or an intruder) typed: a formula, markup, controls
                hostile = [
                    {"Identity": '=HYPERLINK("https://evil.example","open")', "AuditBypassEnabled": True},
                    {"Identity": "[bold red]svc-x[/]\u001b[2J\u202egnp.exe", "AuditBypassEnabled": True},
                ]
                return (
                    200,
                    {},
                    {**context, "value": [{"Identity": "svc-archiver", "AuditBypassEnabled": True}, *hostile]},
                )
            return (
                200,
                {},
                {
                    **context,
                    "value": [{"Identity": "Discovery Search Mailbox", "AuditBypassEnabled": False}],
                    "@odata.nextLink": f"{self.base}/adminapi/beta/{TENANT}/InvokeCommand?page=2",
                },
            )
        return 400, {}, {"error": {"code": "BadRequest", "message": f"unexpected cmdlet {cmdlet}"}}


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "standin.pem", folder / "standin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextmanager
def stand_in(folder: Path) -> Iterator[tuple[str, Path, Recorded]]:
    """The stand-in serving on 127.0.0.1 over TLS: its base URL, the certificate to trust, and
    the recording (which also logs each request)."""
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            req = Request(
                self.command,
                url.path,
                parse_qs(url.query),
                json.loads(raw) if raw else None,
                {k.lower(): v for k, v in self.headers.items()},
            )
            status, headers, body = recorded.answer(req)
            data = json.dumps(body).encode()
            self.send_response(status)
            for key, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    cert, key = _certificate(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    recorded.base = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded.base, cert, recorded
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
