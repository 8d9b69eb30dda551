"""A made-up tenant's audit-log exports, written exactly as the real exports look.

`write_tenant(out)` writes the folder an investigator would have collected from "Contoso Demo"
(`contoso-demo.example`): two weeks of Activity Log, Entra audit, sign-in and unified audit log
records with the rhythms of a real tenant, routine changes that look like tampering, and a
scripted intrusion that switches logging off. `logwarden demo`, the tests and the benchmarks
(through `scale`) all use it.

API::

    tenant = write_tenant(out, days=14, seed=1, end=None, scale=1.0)
    tenant.intrusion      # the tamper steps (Step), each with the catalogue id a rule must alert on
    tenant.look_alikes    # routine changes that resemble tampering and must not be alerted
    tenant.silent         # silence-watch source ids that go quiet for good
    tenant.thinned        # source ids that thin out
    tenant.tables         # records written per logwarden table; tenant.records is their sum

`end` is when the exports were pulled (default: the start of the current UTC hour); the window is
`[end - days, end)` and the intrusion begins at 21:37 UTC three days before `end`'s date. The same
seed, end, days and scale give the same bytes. `scale` multiplies every rate, keeping the same
people and resources: about 50,000 records at 1.0 (a few seconds to write), a million at 20.
Records are held serialised until written, about 2.5 KB of memory each.

The folder (docs/demo.md tells the story and gives the intrusion's timeline):

- `insights-activity-logs/resourceId=/SUBSCRIPTIONS/<ID>/y=/m=/d=/h=/m=00/PT1H.json`: the prod
  and shared-services subscriptions' Activity Log as their diagnostic settings wrote it to the
  log storage account (format a: JSON Lines, filed by the hour a record arrived).
- `eventhub-capture/evhns-contoso-demo-logs/insights-activity-logs/<partition>/Y/M/D/h/m/s.avro`:
  the dev subscription's Activity Log, streamed to an event hub by its diagnostic setting and
  written by Event Hubs Capture (format a records in `{"records": [...]}` message bodies, Avro).
- `graph/directoryAudits/page-NNNN.json`: the Entra audit log from Microsoft Graph (format d1),
  newest first as Graph pages it.
- `log-analytics/law-contoso-demo-sentinel/signins-YYYY-MM-DD.json`: interactive and
  non-interactive sign-ins queried from the SOC workspace, one query API response a day (format c).
- `m365/management-activity-api/Audit.{Exchange,SharePoint}/<created>_<id>.json`: content blobs of
  the Office 365 Management Activity API (format e1).
- `m365/purview/AuditSearch_AzureActiveDirectory_<from>_<to>[_N].csv`: the Entra workload of the
  unified audit log from a Purview audit search export (format e2).

Addresses are from the documentation ranges (RFC 5737, RFC 3849), names end in `.example`, and
identifiers are made up, except well-known Microsoft application ids (Azure portal, Azure CLI,
Exchange REST PowerShell, Microsoft Graph, ...).
"""

from __future__ import annotations

import csv
import io
import math
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import orjson

from logwarden.synthetic.streams import HOUR, Rhythm, event_times

Record = dict[str, Any]
# When it happened and when it reached the export (ticks), what a writer routes it by, and the
# record as JSON: held serialised, it takes less memory than as a dict.
Row = tuple[int, int, str, bytes]
Schedule = Rhythm | Callable[[np.random.Generator], list[int]]

TENANT_ID = "5f8c2e1a-7b3d-4a9e-8c6f-1d2e3f4a5b6c"
DOMAIN = "contoso-demo.example"
# A real tenant's initial domain ends in .onmicrosoft.com; this one can never name a real tenant.
ORG_DOMAIN = "contosodemo.onmicrosoft.example"
MANAGEMENT_GROUP = "mg-contoso-demo"
SUBSCRIPTIONS = {
    "prod": "8d2f6a1c-4b7e-4c3a-9e51-2f0b7c6d9a14",
    "dev": "3b9e1d7f-6a2c-4f85-b3d0-7c1e9a4f2b68",
    "shared-services": "c5a7e2b9-1d4f-4e6a-8b3c-9f2d1e7a5c03",
}
_SHORT = {"prod": "prod", "dev": "dev", "shared-services": "shared"}
WORKSPACE_NAME = "law-contoso-demo-sentinel"
WORKSPACE_ID = "e2b7c4d9-3f1a-4e8b-a6c2-5d9f0e1b3a74"  # its customerId: the TenantId column of its tables
WORKSPACE = (
    f"/subscriptions/{SUBSCRIPTIONS['shared-services']}/resourceGroups/rg-soc"
    f"/providers/Microsoft.OperationalInsights/workspaces/{WORKSPACE_NAME}"
)
EVENT_HUB_NAMESPACE = "evhns-contoso-demo-logs"
ACTIVITY_EXPORT = "export-activity-log"  # every subscription's Activity Log diagnostic setting

# Well-known Microsoft application ids.
AZURE_PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
EXCHANGE_POWERSHELL = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
SHAREPOINT_ONLINE = "00000003-0000-0ff1-ce00-000000000000"
MICROSOFT_OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
MICROSOFT_TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
DEVICE_REGISTRATION = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"
_ROLE_IDS = {"Owner": "8e3af657a8ff443ca75c2fe8c4bcb635", "Contributor": "b24988ac618042a0ab8820f7382dd24c"}

ATTACKER_IP = "203.0.113.66"
OFFICE_IPS = ("198.51.100.10", "198.51.100.11", "2001:db8:10::2a", "2001:db8:10::5c")
HOME_IPS = tuple(f"192.0.2.{n}" for n in range(12, 120, 7))
AZURE_IPS = tuple(f"192.0.2.{n}" for n in range(150, 200, 5))
SAAS_IPS = ("198.51.100.201", "198.51.100.202")

# Set-AdminAuditLogConfig takes up to 60 minutes to apply.
_UAL_APPLY_S = (30 * 60, 60 * 60)
# The daily cap the intruder sets, against the workspace's usual daily ingestion.
_CAP_GB, _USUAL_GB = 0.3, 1.4
_CAP_RESET_HOUR = 7  # UTC: when the workspace's daily quota starts afresh
_CAPTURE_WINDOW_S = 900
_PARTITIONS = 2
_PURVIEW_ROWS = 50_000
_GRAPH_PAGE = 1000
_TICKS = 10_000_000  # .NET ticks (100 ns) a second: Azure writes up to seven fractional digits
_DAY_TICKS = 86400 * _TICKS
_SYNC_AGENT = "Microsoft SkyDriveSync 24.211.1020.0001 ship; Windows NT 10.0 (26100)"
_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@dataclass(frozen=True)
class Step:
    """One action of the intrusion, or a routine change that looks like one."""

    at: datetime
    actor: str  # as the logs name it: a UPN, or a service principal's object id
    ip: str
    action: str  # what was done, in words
    operation: str  # the operation as logged
    catalogue: str  # the tamper-catalogue behaviour (for a look-alike: the one it resembles)
    effect: str  # what goes quiet or thin, and when ("none: ..." for a look-alike)
    target: str  # what it was done to


@dataclass(frozen=True)
class Tenant:
    out: Path
    start: datetime
    end: datetime
    subscriptions: dict[str, str]  # name -> id
    tenant_id: str
    intrusion: tuple[Step, ...]
    look_alikes: tuple[Step, ...]
    files: tuple[Path, ...]
    records: int
    tables: dict[str, int]  # records per logwarden table
    silent: tuple[str, ...]  # silence-watch source ids that go quiet for good
    thinned: tuple[str, ...]  # source ids that thin out


def write_tenant(
    out: Path, *, days: int = 14, seed: int = 1, end: datetime | None = None, scale: float = 1.0
) -> Tenant:
    """Write the tenant's export folder at `out` (created if missing) and describe it.

    `out` must be empty: logwarden ingests a whole folder, and an earlier tenant's files left in
    it would be read as part of this one."""
    if days < 7:
        # The silence watch learns a source's rhythm from 72 hours of history before the intrusion.
        raise ValueError(f"days must be at least 7 (the intrusion is three days before the end), not {days}")
    if not 0 < scale < math.inf:
        raise ValueError(f"scale must be a positive number, not {scale}")
    if end is None:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    elif end.utcoffset() != timedelta(0):
        raise ValueError(f"end must be a timezone-aware UTC datetime, not {end!r}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: write the demo tenant to a new or empty folder")
    world = _World(seed, end.astimezone(UTC) - timedelta(days=days), end.astimezone(UTC), scale)
    world.generate()
    return world.write(out)


# --- time -------------------------------------------------------------------------------------


def _ticks(moment: datetime) -> int:
    return round(moment.timestamp() * _TICKS)


def _moment(ticks: int) -> datetime:
    return datetime.fromtimestamp(ticks // _TICKS, UTC) + timedelta(microseconds=ticks % _TICKS // 10)


def _text(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _iso7(ticks: int, zone: str = "Z") -> str:
    """`2026-11-20T10:04:16.5530921Z`, as the Activity Log and Entra write it."""
    seconds, fraction = divmod(ticks, _TICKS)
    return f"{_text(seconds)}.{fraction:07d}{zone}"


def _iso_trimmed(ticks: int) -> str:
    """`2026-11-20T10:04:16.553Z`: Log Analytics trims trailing zeros (and the dot if none is left)."""
    seconds, fraction = divmod(ticks, _TICKS)
    digits = f"{fraction:07d}".rstrip("0")
    return f"{_text(seconds)}.{digits}Z" if digits else f"{_text(seconds)}Z"


def _ual_time(ticks: int) -> str:
    """`2026-11-20T10:04:16`: CreationTime has no zone and no fraction."""
    return _text(ticks // _TICKS)


def _capture_time(ticks: int) -> str:
    """`11/20/2026 10:04:16 AM`: how Event Hubs Capture writes EnqueuedTimeUtc."""
    t = time.gmtime(ticks // _TICKS)
    noon = "PM" if t.tm_hour >= 12 else "AM"
    return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} {t.tm_hour % 12 or 12}:{t.tm_min:02d}:{t.tm_sec:02d} {noon}"


# --- randomness and rhythms ---------------------------------------------------------------------


def _rng(seed: int, label: str) -> np.random.Generator:
    """One generator per stream: adding a stream never shifts another's draws."""
    return np.random.default_rng([seed, zlib.crc32(label.encode())])


class _Ids:
    """Random-looking GUIDs (version 4), drawn in bulk."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._hex = ""
        self._at = 0

    def guid(self) -> str:
        if self._at == len(self._hex):
            self._hex, self._at = self._rng.bytes(16 * 4096).hex(), 0
        h = self._hex[self._at : self._at + 32]
        self._at += 32
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def hex(self, n: int) -> str:
        return self.guid().replace("-", "")[:n].upper()


def _times(rhythm: Rhythm, start: datetime, end: datetime, rng: np.random.Generator) -> list[int]:
    """Event ticks of a stream with this rhythm, with the sub-second part real logs have."""
    seconds = event_times(rhythm, start, end, rng)
    fractions = rng.integers(0, _TICKS, seconds.size)
    return (seconds * _TICKS + fractions).tolist()  # type: ignore[no-any-return]


def _when(schedule: Schedule, start: datetime, end: datetime, rng: np.random.Generator) -> list[int]:
    return schedule(rng) if callable(schedule) else _times(schedule, start, end, rng)


def _daily(
    start: datetime,
    end: datetime,
    at: Sequence[tuple[int, int]],
    rng: np.random.Generator,
    *,
    weekdays: bool = False,
    jitter_s: int = 240,
) -> list[int]:
    """Ticks of a job scheduled at (hour, minute) UTC every day (or weekday), each run a little late."""
    out = []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if not weekdays or day.weekday() < 5:
            for hour, minute in at:
                moment = _ticks(day + timedelta(hours=hour, minutes=minute)) + int(rng.integers(0, jitter_s * _TICKS))
                if _ticks(start) <= moment < _ticks(end):
                    out.append(moment)
        day += timedelta(days=1)
    return out


def _every(start: datetime, end: datetime, period_s: int, rng: np.random.Generator, jitter_s: int = 50) -> list[int]:
    """Ticks of a job run every `period_s` seconds from a random phase, each run a little late."""
    first = _ticks(start) + int(rng.integers(0, period_s * _TICKS))
    stop = _ticks(end)
    runs = [t + int(rng.integers(0, jitter_s * _TICKS)) for t in range(first, stop, period_s * _TICKS)]
    return [t for t in runs if t < stop]


def _scaled(rhythm: Rhythm, scale: float) -> Rhythm:
    return replace(rhythm, per_hour=rhythm.per_hour * scale)


def _office(name: str, per_hour: float) -> Rhythm:
    """People: Monday to Friday, 08:00-18:00 in Berlin (07:00-17:00 UTC in winter)."""
    return Rhythm(name, per_hour, hours=(7, 17), weekdays_only=True, daily_amplitude=0.3)


def _always(name: str, per_hour: float, burst: float = 1.0, spread_s: float = 0.0, swing: float = 0.0) -> Rhythm:
    """Automation and devices: around the clock, `swing` for what follows people's day."""
    return Rhythm(name, per_hour, burst_mean=burst, burst_spread_s=spread_s, daily_amplitude=swing)


# --- people and principals ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Principal:
    name: str
    oid: str
    appid: str  # a user's client application; a service principal's own application id
    kind: str  # User, ServicePrincipal
    role: str  # the RBAC role its Activity Log evidence names
    upn: str = ""  # users only
    puid: str = ""  # users only: the unified audit log's UserKey for them
    mi_resource: str = ""  # managed identities only: their resource id (the xms_mirid claim)

    @property
    def caller(self) -> str:
        """How the Activity Log (and Sentinel's Caller) names it: a UPN, else the object id."""
        return self.upn or self.oid


_FIRST = (
    "Alina", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hannah", "Ivan", "Julia", "Kai", "Lena",
    "Marco", "Nina", "Oskar", "Paula", "Quentin", "Rosa", "Simon", "Tara", "Uwe", "Vera", "Willi", "Yara",
    "Zoe", "Emil", "Ida", "Leon", "Maja", "Noah", "Ella", "Jan", "Lina", "Tim", "Sara", "Paul",
)  # fmt: skip
_LAST = (
    "Bauer", "Becker", "Braun", "Frank", "Graf", "Hahn", "Hartmann", "Horn", "Jung", "Kaiser", "Klein", "Koch",
    "Krause", "Lang", "Lorenz", "Maier", "Neumann", "Otto", "Peters", "Roth", "Schulz", "Vogel", "Walter", "Wolf",
)  # fmt: skip


class _People:
    """Everyone who acts in the tenant. Identities do not depend on the seed: docs/demo.md names them."""

    def __init__(self) -> None:
        ids = _Ids(np.random.default_rng(20261128))
        self.ids = ids
        self.jonas = self._user("Jonas", "Weber", "Owner")  # platform admin, Global Administrator: compromised
        self.anna = self._user("Anna", "Keller")  # Microsoft 365 and Exchange admin
        self.lukas = self._user("Lukas", "Hoffmann", "Owner", AZURE_CLI)  # security engineer
        self.sophie = self._user("Sophie", "Wagner")  # helpdesk lead
        self.admins = (self.jonas, self.anna, self.lukas, self.sophie)
        self.staff = tuple(self._user(_FIRST[n], _LAST[(n * 7) % len(_LAST)]) for n in range(len(_FIRST)))
        self.humans = self.admins + self.staff
        self.home_ip = {p.oid: HOME_IPS[n % len(HOME_IPS)] for n, p in enumerate(self.humans)}
        self.iac = self._app("sp-iac-pipeline", "Owner")
        self.backup = self._app("Backup Management Service")
        self.provisioning = self._app("Contoso HR Provisioning")
        self.crm = self._app("Contoso CRM Mail Connector")
        self.backup_saas = self._app("Contoso Cloud Backup")
        self.device_registration = _Principal(
            "Device Registration Service", ids.guid(), DEVICE_REGISTRATION, "ServicePrincipal", ""
        )
        self.policy = self._managed("mi-policy-remediation", "shared-services", "rg-governance")
        self.automation = self._managed("mi-automation-ops", "shared-services", "rg-automation")
        self.aks = {
            sub: self._managed(f"aks-contoso-demo-{sub}-agentpool", sub, f"rg-aks-{sub}") for sub in ("prod", "dev")
        }
        self.dns = self._managed("mi-private-dns-sync", "shared-services", "rg-connectivity")
        self.functions = tuple(
            self._managed(name, sub, group)
            for name, sub, group in (
                ("func-orders-prod", "prod", "rg-app-prod"),
                ("func-billing-prod", "prod", "rg-app-prod"),
                ("func-reports-prod", "prod", "rg-app-prod"),
                ("func-test-dev", "dev", "rg-app-dev"),
                ("func-logship", "shared-services", "rg-logging"),
            )
        )
        self.sync = _Principal(
            "On-Premises Directory Synchronization Service Account", ids.guid(), ids.guid(), "User", "",
            f"sync_dc01_{ids.hex(12).lower()}@{ORG_DOMAIN}", "1003" + ids.hex(12),
        )  # fmt: skip

    def _user(self, first: str, last: str, role: str = "Contributor", appid: str = AZURE_PORTAL) -> _Principal:
        upn = f"{first}.{last}@{DOMAIN}".lower()
        return _Principal(f"{first} {last}", self.ids.guid(), appid, "User", role, upn, "1003" + self.ids.hex(12))

    def _app(self, name: str, role: str = "Contributor") -> _Principal:
        return _Principal(name, self.ids.guid(), self.ids.guid(), "ServicePrincipal", role)

    def _managed(self, name: str, sub: str, group: str) -> _Principal:
        resource = (
            f"/subscriptions/{SUBSCRIPTIONS[sub]}/resourcegroups/{group}"
            f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        )
        return _Principal(
            name, self.ids.guid(), self.ids.guid(), "ServicePrincipal", "Contributor", mi_resource=resource
        )


# --- the Activity Log (format a) -------------------------------------------------------------------


def _resource(sub: str, group: str | None, path: str) -> str:
    scope = f"/subscriptions/{SUBSCRIPTIONS[sub]}"
    return f"{scope}/resourceGroups/{group}/providers/{path}" if group else f"{scope}/providers/{path}"


def _json(value: Any) -> bytes:
    """A record serialised to be held until it is written. Copied, because the bytes orjson
    returns keep its working buffer, several times the record's size."""
    return bytes(memoryview(orjson.dumps(value)))


def _compact(value: Any) -> str:
    """JSON as Azure writes it inside a string: no spaces."""
    return orjson.dumps(value).decode()


def _diagnostic_body(logs: list[Record]) -> str:
    return _compact({"properties": {"workspaceId": WORKSPACE, "logs": logs}})


def _workspace_body(retention: int, cap_gb: float) -> str:
    return _compact(
        {
            "location": "westeurope",
            "properties": {
                "sku": {"name": "PerGB2018"},
                "retentionInDays": retention,
                "workspaceCapping": {"dailyQuotaGb": cap_gb},
                "publicNetworkAccessForIngestion": "Enabled",
                "publicNetworkAccessForQuery": "Enabled",
            },
        }
    )


@dataclass(frozen=True)
class _ArmJob:
    """A kind of routine ARM operation: who does it, on which resources, how often."""

    sub: str
    actor: str  # "staff", "admin", or the name of a principal of _People
    operation: str  # canonical case, e.g. Microsoft.Compute/virtualMachineScaleSets/write
    resources: tuple[str, ...]
    when: Schedule
    asynchronous: bool = False  # logged Start, Accept, then Success minutes later


class _Arm:
    """Activity Log records as a subscription's diagnostic setting exports them."""

    def __init__(self, ids: _Ids, rng: np.random.Generator) -> None:
        self.ids = ids
        self.rng = rng

    def operation(
        self,
        at: int,
        actor: _Principal,
        ip: str,
        operation: str,
        resource: str,
        *,
        body: str | None = None,
        asynchronous: bool = False,
        created: bool = False,
        accepted: bool = False,
    ) -> list[tuple[int, Record]]:
        """An operation's records, under one correlation id: Start, then Success (or Accept, for work
        that goes on after the call returns); an asynchronous one has Accept in between."""
        correlation = self.ids.guid()
        kind = operation.rsplit("/", 1)[1].capitalize()
        kind = kind if kind in ("Write", "Delete") else "Action"
        out = [(at, self.record(at, actor, ip, operation, resource, correlation, kind, "Start", "Started.", body))]
        done = at + int(self.rng.uniform(0.3, 4.0) * _TICKS)
        if accepted or asynchronous:
            accept = ("Accept", "Accepted.Accepted", body if accepted else None, "Accepted")
            out.append((done, self.record(done, actor, ip, operation, resource, correlation, kind, *accept)))
            if accepted:
                return out
            done += int(self.rng.uniform(40, 190) * _TICKS)
        status = "Created" if created else ("NoContent" if kind == "Delete" else "OK")
        succeeded = ("Success", f"Succeeded.{status}", body, status)
        out.append((done, self.record(done, actor, ip, operation, resource, correlation, kind, *succeeded)))
        return out

    def record(
        self,
        at: int,
        actor: _Principal,
        ip: str,
        operation: str,
        resource: str,
        correlation: str,
        kind: str,
        result: str,
        signature: str,
        body: str | None = None,
        status: str | None = None,
        event_category: str = "Administrative",
    ) -> Record:
        sub = resource.split("/")[2]
        # Azure Monitor logs its own operations with a lower-case provider.
        action = operation.replace("Microsoft.Insights/", "microsoft.insights/", 1)
        properties: Record = {
            "eventCategory": event_category,
            "entity": resource,
            "message": action,
            "hierarchy": f"{TENANT_ID}/{MANAGEMENT_GROUP}/{sub}",
        }
        if body is not None:
            properties["requestbody"] = body
        if status is not None:
            properties["statusCode"] = status
            properties["serviceRequestId"] = self.ids.guid()
        evidence = {
            "role": actor.role,
            "roleAssignmentScope": f"/subscriptions/{sub}",
            "roleAssignmentId": f"{zlib.crc32((actor.oid + sub).encode()):08x}" * 4,
            "roleDefinitionId": _ROLE_IDS[actor.role],
            "principalId": actor.oid.replace("-", ""),
            "principalType": actor.kind,
        }
        return {
            "time": _iso7(at),
            "resourceId": resource.upper(),
            "operationName": action.upper(),
            "category": kind,
            "resultType": result,
            "resultSignature": signature,
            "durationMs": 0,
            "callerIpAddress": ip,
            "correlationId": correlation,
            "identity": {
                "authorization": {"scope": resource, "action": action, "evidence": evidence},
                "claims": _claims(at, actor, ip),
            },
            "level": "Information",
            "location": "global",
            "properties": properties,
        }


def _claims(at: int, actor: _Principal, ip: str) -> Record:
    issued = at // _TICKS - 600 - zlib.crc32(actor.oid.encode()) % 2400
    claims: Record = {
        "aud": "https://management.core.windows.net/",
        "iss": f"https://sts.windows.net/{TENANT_ID}/",
        "iat": str(issued),
        "nbf": str(issued),
        "exp": str(issued + 4400),
        "appid": actor.appid,
        "ipaddr": ip,
        "http://schemas.microsoft.com/identity/claims/objectidentifier": actor.oid,
        "http://schemas.microsoft.com/identity/claims/tenantid": TENANT_ID,
        "ver": "1.0",
    }
    if actor.kind != "User":
        claims |= {"appidacr": "2", "idtyp": "app"}
        if actor.mi_resource:
            claims["xms_mirid"] = actor.mi_resource
        return claims
    first, _, last = actor.name.partition(" ")
    return claims | {
        "http://schemas.microsoft.com/claims/authnclassreference": "1",
        "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
        "appidacr": "0",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": first,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": last,
        "name": actor.name,
        "puid": actor.puid,
        "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": actor.upn,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": actor.upn,
    }


def _arm_jobs(people: _People, start: datetime, end: datetime, scale: float) -> list[_ArmJob]:
    """Routine control-plane work: Compute, Network and Storage kept busy by automation around the
    clock; Key Vault, Authorization and Insights changed now and then by people and pipelines."""

    def at(*times: tuple[int, int], weekdays: bool = False, jitter_s: int = 240) -> Schedule:
        return lambda rng: _daily(start, end, times, rng, weekdays=weekdays, jitter_s=jitter_s)

    def every(period_s: int) -> Schedule:
        copies = max(1, round(scale))
        return lambda rng: sorted(t for _ in range(copies) for t in _every(start, end, period_s, rng))

    jobs: list[_ArmJob] = []
    for sub, busy in (("prod", 1.0), ("dev", 0.6)):
        nodes = f"mc_rg-aks-{sub}_aks-contoso-demo-{sub}_westeurope"
        aks = people.aks[sub].name
        pools = tuple(
            _resource(sub, nodes, f"Microsoft.Compute/virtualMachineScaleSets/aks-{pool}-vmss")
            for pool in ("system-31415926", "user-27182818", "batch-16180339")
        )
        lb = _resource(sub, nodes, "Microsoft.Network/loadBalancers/kubernetes")
        nsg = _resource(sub, nodes, f"Microsoft.Network/networkSecurityGroups/aks-agentpool-{sub}-nsg")
        jobs += [
            # The cluster autoscaler and node upgrades: all day, busier in the afternoon.
            _ArmJob(sub, aks, "Microsoft.Compute/virtualMachineScaleSets/write", pools,
                    _scaled(_always("autoscale", 3.0 * busy, 2.0, 90, 0.5), scale)),
            _ArmJob(sub, aks, "Microsoft.Network/loadBalancers/write", (lb,),
                    _scaled(_always("lb", 0.8 * busy, 1.5, 30), scale)),
            _ArmJob(sub, aks, "Microsoft.Network/networkSecurityGroups/write", (nsg,),
                    _scaled(_always("nsg", 0.4 * busy), scale)),
        ]  # fmt: skip
    automation = people.automation.name
    for n in range(1, 7):
        # Batch workers started before the business day and deallocated after it by a runbook.
        vm = (_resource("prod", "rg-batch-prod", f"Microsoft.Compute/virtualMachines/vm-batch-prod-{n:02d}"),)
        jobs += [
            _ArmJob("prod", automation, "Microsoft.Compute/virtualMachines/start/action", vm,
                    at((5, 0), weekdays=True), asynchronous=True),
            _ArmJob("prod", automation, "Microsoft.Compute/virtualMachines/deallocate/action", vm,
                    at((19, 0), weekdays=True), asynchronous=True),
        ]  # fmt: skip
    for n in range(1, 11):
        vm = (_resource("dev", "rg-app-dev", f"Microsoft.Compute/virtualMachines/vm-dev-{n:02d}"),)
        jobs.append(
            _ArmJob("dev", automation, "Microsoft.Compute/virtualMachines/deallocate/action", vm, at((18, 30)),
                    asynchronous=True)
        )  # fmt: skip
    backup = people.backup.name
    for n in range(1, 9):
        snapshot = (_resource("prod", "rg-app-prod", f"Microsoft.Compute/snapshots/snap-vm-app-prod-{n:02d}-osdisk"),)
        item = _resource(
            "shared-services",
            "rg-backup",
            "Microsoft.RecoveryServices/vaults/rsv-contoso-demo-weu/backupFabrics/Azure/protectionContainers/"
            f"iaasvmcontainerv2;rg-app-prod;vm-app-prod-{n:02d}/protectedItems/vm;iaasvmcontainerv2;rg-app-prod;"
            f"vm-app-prod-{n:02d}",
        )
        # Azure Backup starts a scheduled job within two hours of the policy's time.
        jobs += [
            _ArmJob("prod", backup, "Microsoft.Compute/snapshots/write", snapshot, at((1, 0), jitter_s=7200)),
            _ArmJob("prod", backup, "Microsoft.Compute/snapshots/delete", snapshot, at((3, 0), jitter_s=7200)),
            _ArmJob("shared-services", backup,
                    "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/backup/action",
                    (item,), at((0, 0), jitter_s=7200), asynchronous=True),
        ]  # fmt: skip
    for function in people.functions:
        _, _, sub_id, _, group = function.mi_resource.split("/")[:5]
        sub = next(name for name, known in SUBSCRIPTIONS.items() if known == sub_id)
        account = _resource(sub, group, f"Microsoft.Storage/storageAccounts/st{function.name.replace('-', '')}")
        # A function app reads its storage keys on every cold start and timer run.
        jobs.append(
            _ArmJob(sub, function.name, "Microsoft.Storage/storageAccounts/listKeys/action", (account,), every(1800))
        )
    zones = tuple(
        _resource(
            "shared-services",
            "rg-connectivity",
            f"Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net/A/{n}",
        )
        for n in ("stordersprod01", "stbillingprod01", "streportsprod01", "stcontosodemologs")
    )
    jobs.append(
        _ArmJob("shared-services", people.dns.name, "Microsoft.Network/privateDnsZones/A/write", zones,
                _scaled(_always("dns", 1.2, 1.5, 20), scale))
    )  # fmt: skip
    for sub, rate in (("prod", 1.0), ("dev", 2.5), ("shared-services", 0.4)):
        short = _SHORT[sub]
        group = "rg-connectivity" if sub == "shared-services" else f"rg-app-{short}"
        if sub != "shared-services":
            cluster = _resource(
                sub, f"rg-aks-{short}", f"Microsoft.ContainerService/managedClusters/aks-contoso-demo-{short}"
            )
            jobs.append(
                _ArmJob(sub, "staff", "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
                        (cluster,), _scaled(_office("kubectl", 0.9 * rate), scale))
            )  # fmt: skip
        jump = _resource(sub, group, f"Microsoft.Compute/virtualMachines/vm-{short}-jump-01")
        rule = _resource(
            sub, group, f"Microsoft.Network/networkSecurityGroups/nsg-{short}-app/securityRules/allow-https"
        )
        assignments = tuple(
            _resource(
                sub, None, f"Microsoft.Authorization/roleAssignments/{uuid.uuid5(uuid.NAMESPACE_URL, sub + str(n))}"
            )
            for n in range(6)
        )
        policy = _resource(
            sub, f"rg-security-{short}", f"Microsoft.KeyVault/vaults/kv-contoso-demo-{short}/accessPolicies/add"
        )
        jobs += [
            _ArmJob(sub, "staff", "Microsoft.Compute/virtualMachines/restart/action", (jump,),
                    _scaled(_office("restart", 0.08 * rate), scale), asynchronous=True),
            _ArmJob(sub, "staff", "Microsoft.Network/networkSecurityGroups/securityRules/write", (rule,),
                    _scaled(_office("nsg-rule", 0.06 * rate), scale)),
            _ArmJob(sub, "admin", "Microsoft.Authorization/roleAssignments/write", assignments,
                    _scaled(_office("rbac", 0.012 * rate), scale)),
            _ArmJob(sub, "admin", "Microsoft.KeyVault/vaults/accessPolicies/write", (policy,),
                    _scaled(_office("kv", 0.01 * rate), scale)),
        ]  # fmt: skip
    return jobs


def _pipeline_pools() -> dict[str, list[str]]:
    """What the IaC pipeline's Terraform runs touch, per subscription."""
    prod, dev, shared = (partial(_resource, sub) for sub in ("prod", "dev", "shared-services"))
    return {
        "prod": [
            *(prod("rg-app-prod", f"Microsoft.Network/networkInterfaces/nic-vm-app-prod-{n:02d}") for n in range(1, 9)),
            *(prod("rg-app-prod", f"Microsoft.Compute/virtualMachines/vm-app-prod-{n:02d}") for n in range(1, 9)),
            prod("rg-app-prod", "Microsoft.Network/networkSecurityGroups/nsg-prod-app"),
            prod("rg-app-prod", "Microsoft.Network/routeTables/rt-prod-app"),
            prod(
                "rg-data-prod",
                "Microsoft.Storage/storageAccounts/stordersprod01/blobServices/default/containers/orders",
            ),
            prod("rg-security-prod", "Microsoft.KeyVault/vaults/kv-contoso-demo-prod"),
        ],
        "dev": [
            *(dev("rg-app-dev", f"Microsoft.Network/networkInterfaces/nic-vm-dev-{n:02d}") for n in range(1, 11)),
            *(dev("rg-app-dev", f"Microsoft.Web/sites/app-web-dev-{n}") for n in range(1, 4)),
            dev("rg-app-dev", "Microsoft.Network/networkSecurityGroups/nsg-dev-app"),
            dev("rg-app-dev", "Microsoft.Resources/deployments/app-web-dev"),
            dev("rg-security-dev", "Microsoft.KeyVault/vaults/kv-contoso-demo-dev"),
        ],
        "shared-services": [
            shared("rg-connectivity", "Microsoft.Network/virtualNetworks/vnet-hub-weu"),
            shared("rg-connectivity", "Microsoft.Network/firewallPolicies/afwp-hub-weu/ruleCollectionGroups/rcg-apps"),
            shared("rg-connectivity", "Microsoft.Network/routeTables/rt-hub-weu"),
        ],
    }


# --- Entra ID -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Directory:
    """A kind of Entra audit activity."""

    activity: str
    category: str
    service: str
    operation_type: str
    target_type: str
    actor: str  # staff, admin, self (the target user), sync, provisioning, device
    when: Schedule
    ual: str = ""  # its name in the unified audit log's AzureActiveDirectory workload, if it goes there


def _directory_jobs(start: datetime, end: datetime, scale: float) -> list[_Directory]:
    def batches(runs: Callable[[np.random.Generator], list[int]], size: float) -> Schedule:
        def draw(rng: np.random.Generator) -> list[int]:
            moments = runs(rng)
            sizes = rng.poisson(size * scale, len(moments)).tolist()
            return sorted(
                t + k * int(rng.uniform(0.5, 3) * _TICKS) for t, n in zip(moments, sizes, strict=True) for k in range(n)
            )

        return draw

    # Entra Connect syncs every 30 minutes and exports whatever changed on premises; HR
    # provisioning runs once a weekday morning.
    sync = batches(lambda rng: _every(start, end, 1800, rng, 40), 1.5)
    hr = batches(lambda rng: _daily(start, end, [(6, 0)], rng, weekdays=True, jitter_s=600), 6)
    return [
        _Directory("Update user", "UserManagement", "Core Directory", "Update", "User", "sync", sync, "Update user."),
        _Directory("Update group", "GroupManagement", "Core Directory", "Update", "Group", "sync",
                   _scaled(_always("sync-group", 0.4, 2.0, 30), scale), "Update group."),
        _Directory("Add member to group", "GroupManagement", "Core Directory", "Assign", "User", "provisioning", hr,
                   "Add member to group."),
        _Directory("Update device", "Device", "Core Directory", "Update", "Device", "device",
                   _scaled(_always("device", 1.2, swing=0.6), scale), "Update device."),
        _Directory("Register device", "Device", "Core Directory", "Add", "Device", "device",
                   _scaled(_office("register", 0.15), scale), "Add device."),
        _Directory("Reset user password", "UserManagement", "Core Directory", "Reset", "User", "admin",
                   _scaled(_office("reset", 0.5), scale), "Reset user password."),
        _Directory("Add member to group", "GroupManagement", "Core Directory", "Assign", "User", "admin",
                   _scaled(_office("group", 0.7), scale), "Add member to group."),
        _Directory("Update user", "UserManagement", "Core Directory", "Update", "User", "admin",
                   _scaled(_office("user", 0.5), scale), "Update user."),
        _Directory("Add member to role completed (PIM activation)", "RoleManagement", "PIM", "Assign", "Role",
                   "admin", _scaled(_office("pim", 0.3), scale)),
        _Directory("Add app role assignment to service principal", "ApplicationManagement", "Core Directory",
                   "Assign", "ServicePrincipal", "admin", _scaled(_office("app-role", 0.1), scale),
                   "Add app role assignment to service principal."),
        # Entra's own spelling: an en dash, and a trailing space.
        _Directory("Update application \u2013 Certificates and secrets management ", "ApplicationManagement",
                   "Core Directory", "Update", "Application", "admin", _scaled(_office("secret", 0.04), scale)),
        _Directory("Consent to application", "ApplicationManagement", "Core Directory", "Assign", "ServicePrincipal",
                   "staff", _scaled(_office("consent", 0.05), scale), "Consent to application."),
        _Directory("User registered security info", "UserManagement", "Authentication Methods", "Add", "User",
                   "self", _scaled(_office("mfa-registration", 0.2), scale)),
        _Directory("Change password (self-service)", "UserManagement", "Self-service Password Management",
                   "Update", "User", "self", _scaled(_office("sspr", 0.15), scale), "Change user password."),
        _Directory("Update conditional access policy", "Policy", "Conditional Access", "Update", "Policy", "admin",
                   _scaled(_office("ca", 0.02), scale)),
    ]  # fmt: skip


_TARGET_NAMES = {
    "Group": "SG-Sales-DE",
    "Role": "Global Reader",
    "ServicePrincipal": "Contoso Expenses",
    "Application": "contoso-billing-api",
    "Policy": "Require MFA for admins",
}


# --- the unified audit log -----------------------------------------------------------------------

_Parameters = Callable[[str, str], list[Record]]
_EXCHANGE_CMDLETS: tuple[tuple[str, _Parameters], ...] = (
    ("Add-MailboxPermission", lambda who, target: [
        {"Name": "Identity", "Value": target}, {"Name": "User", "Value": who},
        {"Name": "AccessRights", "Value": "FullAccess"}, {"Name": "InheritanceType", "Value": "All"}]),
    ("Add-DistributionGroupMember", lambda who, target: [
        {"Name": "Identity", "Value": "Team Sales DE"}, {"Name": "Member", "Value": target}]),
    ("Set-CalendarProcessing", lambda who, target: [
        {"Name": "Identity", "Value": "Room-Berlin-3.07"}, {"Name": "AutomateProcessing", "Value": "AutoAccept"}]),
    ("New-MailContact", lambda who, target: [
        {"Name": "Name", "Value": "Partner Support"},
        {"Name": "ExternalEmailAddress", "Value": "help@partner.example"}]),
    ("Set-Mailbox", lambda who, target: [
        {"Name": "Identity", "Value": target},
        {"Name": "ProhibitSendQuota", "Value": "99 GB (106,300,440,576 bytes)"}]),
    ("Set-MailboxFolderPermission", lambda who, target: [
        {"Name": "Identity", "Value": f"{target}:\\Calendar"}, {"Name": "User", "Value": "Default"},
        {"Name": "AccessRights", "Value": "LimitedDetails"}]),
)  # fmt: skip
_FILES = ("Quarterly report.xlsx", "Roadmap.pptx", "Meeting notes.docx", "Invoice 2291.pdf", "Budget.xlsx",
          "Architecture.vsdx", "Onboarding.docx", "Contract draft.docx")  # fmt: skip
_SITES = ("sales", "engineering", "finance", "hr", "it")
_SUBJECTS = ("Re: Quarterly planning", "Invoice", "Lunch?", "Release notes", "Meeting")
_SERVER = "AM0PR02MB5521 (15.20.8207.017)"
_SYSTEM = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)"
_AUDIT_CONFIG = f"{ORG_DOMAIN}\\Admin Audit Log Settings"
_UAL_WORKLOADS = ("AzureActiveDirectory", "Exchange", "OneDrive", "SharePoint")


def _sid(oid: str) -> str:
    return f"S-1-5-21-{zlib.crc32(oid.encode())}-{zlib.crc32(oid[::-1].encode())}-1006"


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class _Out:
    """Records per export before they are written."""

    arm: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    entra: list[Row] = field(default_factory=list)
    ual: list[Row] = field(default_factory=list)
    signins: list[Row] = field(default_factory=list)


class _World:
    def __init__(self, seed: int, start: datetime, end: datetime, scale: float) -> None:
        self.seed = seed
        self.start = start
        self.end = end
        self.scale = scale
        self.people = _People()
        self.ids = _Ids(_rng(seed, "ids"))
        self.arm = _Arm(self.ids, _rng(seed, "arm"))
        self.lag = _rng(seed, "lag")
        self.out = _Out()
        self.by_name = {
            p.name: p
            for p in (self.people.iac, self.people.backup, self.people.policy, self.people.automation, self.people.dns)
        }
        self.by_name |= {p.name: p for p in (*self.people.aks.values(), *self.people.functions)}
        # The intrusion begins at 21:37 UTC (22:37 in Berlin) on the day three days before the end.
        day = (end - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.t0 = day + timedelta(hours=21, minutes=37, seconds=12.4172)
        rng = _rng(seed, "intrusion")
        self.ual_stops = self.t0 + timedelta(seconds=float(rng.uniform(*_UAL_APPLY_S)))
        self.intrusion: tuple[Step, ...] = ()
        self.look_alikes: tuple[Step, ...] = ()
        self.export_deleted = 0  # ticks: when the prod Activity Log export's delete succeeded
        self.capped = 0  # when the daily cap was set
        self.purged = (0, 0)  # when the purge ran, and the oldest sign-in it erased
        self.signin_columns: tuple[str, ...] = ()

    def generate(self) -> None:
        self._intrusion()
        self._look_alikes()
        self._activity()
        self._directory()
        self._mail_and_files()
        self._signins()

    def _ip(self, who: _Principal, rng: np.random.Generator) -> str:
        if who.kind != "User":
            return AZURE_IPS[zlib.crc32(who.oid.encode()) % len(AZURE_IPS)]
        if rng.random() < 0.6:
            return OFFICE_IPS[int(rng.integers(len(OFFICE_IPS)))]
        return self.people.home_ip[who.oid]

    def _actor(self, key: str, rng: np.random.Generator) -> _Principal:
        if key == "staff":
            return self.people.staff[int(rng.integers(len(self.people.staff)))]
        if key == "admin":
            return self.people.admins[int(rng.integers(len(self.people.admins)))]
        return self.by_name[key]

    # -- the story --

    def _intrusion(self) -> None:
        jonas, t0 = self.people.jonas, self.t0
        prod = (
            f"/subscriptions/{SUBSCRIPTIONS['prod']}/providers/microsoft.insights/diagnosticSettings/{ACTIVITY_EXPORT}"
        )
        at = [t0 + timedelta(minutes=m, seconds=s) for m, s in ((0, 0), (6, 41.3), (13, 5.8), (19, 22.6), (27, 48.0))]
        ticks = [_ticks(a) for a in at]
        applies = (self.ual_stops - t0).seconds // 60
        self.intrusion = (
            Step(at[0], jonas.caller, ATTACKER_IP, "switched the unified audit log off",
                 "Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $false", "K1",
                 f"every unified audit log workload stops {applies} min later", _AUDIT_CONFIG),
            Step(at[1], jonas.caller, ATTACKER_IP, "deleted the prod subscription's Activity Log export",
                 "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "A1",
                 "the prod subscription's Activity Log blobs stop right after it", prod),
            Step(at[2], jonas.caller, ATTACKER_IP,
                 f"cut the SOC workspace's retention to 30 days and set a {_CAP_GB} GB daily cap",
                 "MICROSOFT.OPERATIONALINSIGHTS/WORKSPACES/WRITE", "B3",
                 "the sign-ins exported from the workspace thin out: each day stops when the cap is reached",
                 WORKSPACE),
            Step(at[3], jonas.caller, ATTACKER_IP, "purged the account's sign-ins from the SOC workspace",
                 "MICROSOFT.OPERATIONALINSIGHTS/WORKSPACES/PURGE/ACTION", "B2",
                 "the account's sign-ins of the day before are gone from the sign-in export", WORKSPACE),
            Step(at[4], jonas.caller, ATTACKER_IP, "exempted the account from mailbox auditing",
                 "Set-MailboxAuditBypassAssociation -AuditBypassEnabled $true", "K3",
                 "its mailbox access goes unaudited (and the unified audit log is about to stop)", jonas.upn),
        )  # fmt: skip
        rng = _rng(self.seed, "intrusion-ual")
        params = [{"Name": "UnifiedAuditLogIngestionEnabled", "Value": "False"}]
        self._exchange_admin(ticks[0], jonas, ATTACKER_IP, "Set-AdminAuditLogConfig", _AUDIT_CONFIG, params, rng)
        deleted = self.arm.operation(ticks[1], jonas, ATTACKER_IP, "Microsoft.Insights/diagnosticSettings/delete", prod)
        self.export_deleted = deleted[-1][0]
        self._arm("prod", deleted)
        write = "Microsoft.OperationalInsights/workspaces/write"
        body = _workspace_body(30, _CAP_GB)
        self._arm("shared-services", self.arm.operation(ticks[2], jonas, ATTACKER_IP, write, WORKSPACE, body=body))
        self.capped = ticks[2]
        self.purged = (ticks[3], _ticks(t0 - timedelta(days=1)))
        filters = [
            {"column": "UserPrincipalName", "operator": "==", "value": jonas.upn},
            {"column": "TimeGenerated", "operator": ">", "value": _ual_time(self.purged[1])},
        ]
        body = _compact({"table": "SigninLogs", "filters": filters})
        purge = "Microsoft.OperationalInsights/workspaces/purge/action"
        self._arm(
            "shared-services",
            self.arm.operation(ticks[3], jonas, ATTACKER_IP, purge, WORKSPACE, body=body, accepted=True),
        )
        params = [{"Name": "Identity", "Value": jonas.upn}, {"Name": "AuditBypassEnabled", "Value": "True"}]
        self._exchange_admin(ticks[4], jonas, ATTACKER_IP, "Set-MailboxAuditBypassAssociation", jonas.oid, params, rng)

    def _look_alikes(self) -> None:
        rng = _rng(self.seed, "look-alikes")
        iac, policy, anna = self.people.iac, self.people.policy, self.people.anna
        iac_ip, policy_ip = self._ip(iac, rng), self._ip(policy, rng)

        def weekday(days_back: int, hour: int, minute: int) -> datetime:
            """A working day about `days_back` days before the end, inside the window."""
            back = min(days_back, (self.end - self.start).days - 1)
            day = (self.end - timedelta(days=back)).replace(hour=hour, minute=minute, second=0, microsecond=0)
            step = timedelta(days=-1)
            while day.weekday() >= 5:
                day += step
                if day < self.start:
                    day, step = day + timedelta(days=1), timedelta(days=1)
            return day + timedelta(seconds=float(rng.uniform(0, 59)))

        # The pipeline replaces a Key Vault's diagnostic setting: delete, then the same setting again.
        vault = _resource("prod", "rg-security-prod", "Microsoft.KeyVault/vaults/kv-contoso-demo-prod")
        setting = f"{vault}/providers/microsoft.insights/diagnosticSettings/kv-to-law"
        replaced = weekday(6, 10, 14)
        rewritten = replaced + timedelta(seconds=float(rng.uniform(35, 80)))
        body = _diagnostic_body(
            [{"categoryGroup": "audit", "enabled": True}, {"categoryGroup": "allLogs", "enabled": False}]
        )
        delete, write = "Microsoft.Insights/diagnosticSettings/delete", "Microsoft.Insights/diagnosticSettings/write"
        self._arm("prod", self.arm.operation(_ticks(replaced), iac, iac_ip, delete, setting))
        self._arm("prod", self.arm.operation(_ticks(rewritten), iac, iac_ip, write, setting, body=body, created=True))
        # A new storage account, then Azure Policy's DeployIfNotExists gives it a diagnostic setting.
        account = _resource("dev", "rg-app-dev", "Microsoft.Storage/storageAccounts/stdevscratch07")
        created = weekday(9, 13, 52)
        creator = self.people.staff[3]
        new = "Microsoft.Storage/storageAccounts/write"
        self._arm(
            "dev",
            self.arm.operation(_ticks(created), creator, OFFICE_IPS[1], new, account, created=True, asynchronous=True),
        )
        evaluated = _ticks(created + timedelta(minutes=float(rng.uniform(12, 20))))
        dine = "Microsoft.Authorization/policies/deployIfNotExists/action"
        check = self.arm.record(evaluated, policy, policy_ip, dine, account, self.ids.guid(), "Policy", "Success",
                                "Succeeded.", event_category="Policy")  # fmt: skip
        self._arm("dev", [(evaluated, check)])
        remediated = _moment(evaluated) + timedelta(seconds=float(rng.uniform(20, 40)))
        by_policy = f"{account}/providers/microsoft.insights/diagnosticSettings/setByPolicy"
        body = _diagnostic_body([{"categoryGroup": "allLogs", "enabled": True}])
        self._arm(
            "dev", self.arm.operation(_ticks(remediated), policy, policy_ip, write, by_policy, body=body, created=True)
        )
        # The monthly audit baseline: an admin makes sure the unified audit log is on.
        baseline = weekday(8, 8, 56)
        params = [{"Name": "UnifiedAuditLogIngestionEnabled", "Value": "True"}]
        self._exchange_admin(
            _ticks(baseline), anna, OFFICE_IPS[0], "Set-AdminAuditLogConfig", _AUDIT_CONFIG, params, rng
        )
        # The pipeline re-applies the SOC workspace as declared: 180 days, no cap.
        reapplied = weekday(5, 7, 31)
        workspace = "Microsoft.OperationalInsights/workspaces/write"
        body = _workspace_body(180, -1)
        self._arm(
            "shared-services", self.arm.operation(_ticks(reapplied), iac, iac_ip, workspace, WORKSPACE, body=body)
        )
        self.look_alikes = (
            Step(replaced, iac.caller, iac_ip, "the IaC pipeline replaced the prod Key Vault's diagnostic setting",
                 "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE, then /WRITE", "A1",
                 "none: the same caller wrote the setting again within two minutes", setting),
            Step(remediated, policy.caller, policy_ip,
                 "Azure Policy (DeployIfNotExists) gave a new storage account a diagnostic setting",
                 "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE", "A2",
                 "none: the setting enables every log category", by_policy),
            Step(baseline, anna.caller, OFFICE_IPS[0], "an admin re-applied the audit baseline: unified audit log on",
                 "Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true", "K1",
                 "none: it switches auditing on", _AUDIT_CONFIG),
            Step(reapplied, iac.caller, iac_ip, "the IaC pipeline re-applied the SOC workspace (180 days, no cap)",
                 "MICROSOFT.OPERATIONALINSIGHTS/WORKSPACES/WRITE", "B3",
                 "none: retention above 90 days and no daily cap", WORKSPACE),
        )  # fmt: skip

    # -- Activity Log --

    def _arm(self, sub: str, records: Iterable[tuple[int, Record]]) -> None:
        for at, record in records:
            # A diagnostic setting delivers a record a minute or two after the event.
            arrival = at + int(self.lag.lognormal(math.log(95), 0.5) * _TICKS)
            self.out.arm[sub].append((at, arrival, "", _json(record)))

    def _activity(self) -> None:
        for n, job in enumerate(_arm_jobs(self.people, self.start, self.end, self.scale)):
            rng = _rng(self.seed, f"arm-{n}-{job.operation}")
            for at in _when(job.when, self.start, self.end, rng):
                who = self._actor(job.actor, rng)
                resource = job.resources[int(rng.integers(len(job.resources)))]
                ip = self._ip(who, rng)
                self._arm(
                    job.sub, self.arm.operation(at, who, ip, job.operation, resource, asynchronous=job.asynchronous)
                )
        self._pipelines()
        self._health()

    def _pipelines(self) -> None:
        """Terraform runs of the IaC pipeline: on weekdays, each touching a handful of resources."""
        iac = self.people.iac
        for sub, pool in _pipeline_pools().items():
            per_hour = {"prod": 0.25, "dev": 0.6, "shared-services": 0.08}[sub]
            rng = _rng(self.seed, f"pipeline-{sub}")
            for run in _times(_scaled(_office(f"pipeline-{sub}", per_hour), self.scale), self.start, self.end, rng):
                touched = rng.choice(len(pool), size=min(len(pool), 2 + int(rng.poisson(5))), replace=False)
                at = run
                for i in sorted(touched.tolist()):
                    resource = pool[i]
                    parts = resource.split("/providers/", 1)[1].split("/")
                    # The provider and the resource type names, without the instance names.
                    operation = "/".join([parts[0], *parts[1::2]]) + "/write"
                    self._arm(sub, self.arm.operation(at, iac, self._ip(iac, rng), operation, resource))
                    at += int(rng.uniform(2, 25) * _TICKS)

    def _health(self) -> None:
        """Resource health events: a few a week, logged by the platform, with no caller."""
        for sub in SUBSCRIPTIONS:
            rng = _rng(self.seed, f"health-{sub}")
            short = _SHORT[sub]
            for at in _times(_scaled(_always("health", 0.02), self.scale), self.start, self.end, rng):
                name = f"vm-{short}-{int(rng.integers(1, 9)):02d}"
                vm = _resource(sub, f"rg-app-{short}", f"Microsoft.Compute/virtualMachines/{name}")
                correlation = self.ids.guid()
                for offset, event in ((0, "Activated"), (int(rng.uniform(300, 2400)), "Resolved")):
                    down = event == "Activated"
                    health = {
                        "title": "Rebooted by the platform" if down else "Available",
                        "details": "",
                        "currentHealthStatus": "Unavailable" if down else "Available",
                        "previousHealthStatus": "Available" if down else "Unavailable",
                        "type": "Downtime",
                        "cause": "PlatformInitiated",
                    }
                    record = {
                        "time": _iso7(at + offset * _TICKS),
                        "resourceId": vm.upper(),
                        "correlationId": correlation,
                        "operationName": f"Microsoft.Resourcehealth/healthevent/{event}/action",
                        "level": "Information",
                        "resultType": event,
                        "category": "ResourceHealth",
                        "properties": {"eventCategory": "ResourceHealth", "eventProperties": health},
                    }
                    self._arm(sub, [(at + offset * _TICKS, record)])

    # -- Entra ID --

    def _directory(self) -> None:
        people = self.people
        for n, job in enumerate(_directory_jobs(self.start, self.end, self.scale)):
            rng = _rng(self.seed, f"entra-{n}-{job.activity}")
            for at in _when(job.when, self.start, self.end, rng):
                target = people.humans[int(rng.integers(len(people.humans)))]
                ip: str | None = None
                if job.actor in ("provisioning", "device"):
                    app = people.provisioning if job.actor == "provisioning" else people.device_registration
                    initiated: Record = {
                        "app": {
                            "appId": app.appid,
                            "displayName": app.name,
                            "servicePrincipalId": app.oid,
                            "servicePrincipalName": None,
                        },
                        "user": None,
                    }
                    ual_actor = f"ServicePrincipal_{app.oid}"
                else:
                    who = {"sync": people.sync, "self": target}.get(job.actor) or self._actor(job.actor, rng)
                    ip = OFFICE_IPS[0] if who is people.sync else self._ip(who, rng)
                    initiated = {"app": None, "user": _graph_user(who, ip)}
                    ual_actor = who.upn
                audit = self._audit(at, job, initiated, target, rng)
                # Graph lists a change a few minutes after it was made.
                listed = at + int(self.lag.lognormal(math.log(150), 0.6) * _TICKS)
                self.out.entra.append((at, listed, "", _json(audit)))
                if job.ual:
                    self._ual_directory(at, job, ual_actor, ip, target, audit)

    def _audit(
        self, at: int, job: _Directory, initiated: Record, target: _Principal, rng: np.random.Generator
    ) -> Record:
        correlation = self.ids.guid()
        resource: Record = {
            "id": target.oid,
            "displayName": None,
            "type": job.target_type,
            "userPrincipalName": target.upn,
            "groupType": None,
            "modifiedProperties": _modified(job, rng),
        }
        if job.target_type != "User":
            name = f"LT-{self.ids.hex(6)}" if job.target_type == "Device" else _TARGET_NAMES[job.target_type]
            resource |= {"id": self.ids.guid(), "displayName": name, "userPrincipalName": None}
        return {
            "id": f"Directory_{correlation}_{self.ids.hex(5)}_{int(rng.integers(10**7, 10**8))}",
            "category": job.category,
            "correlationId": correlation,
            "result": "success",
            "resultReason": "",
            "activityDisplayName": job.activity,
            "activityDateTime": _iso7(at, "+00:00"),
            "loggedByService": job.service,
            "operationType": job.operation_type,
            "initiatedBy": initiated,
            "userAgent": None,
            "targetResources": [resource],
            "additionalDetails": [{"key": "User-Agent", "value": _AGENT}] if initiated["user"] else [],
        }

    # -- the unified audit log --

    def _ual(self, at: int, record: Record) -> None:
        # A record becomes available from half an hour to several hours after the action.
        available = at + int(self.lag.lognormal(math.log(45 * 60), 0.7) * _TICKS)
        self.out.ual.append((at, available, record["Workload"], _json(record)))

    def _ual_base(
        self, at: int, operation: str, record_type: int, workload: str, user: str, key: str, ip: str, object_id: str
    ) -> Record:
        return {
            "CreationTime": _ual_time(at),
            "Id": self.ids.guid(),
            "Operation": operation,
            "OrganizationId": TENANT_ID,
            "RecordType": record_type,
            "ResultStatus": "Succeeded",
            "UserKey": key,
            "UserType": 0,
            "Version": 1,
            "Workload": workload,
            "ClientIP": ip,
            "ObjectId": object_id,
            "UserId": user,
        }

    def _exchange_admin(
        self,
        at: int,
        who: _Principal,
        ip: str,
        cmdlet: str,
        object_id: str,
        parameters: list[Record],
        rng: np.random.Generator,
    ) -> None:
        record = self._ual_base(at, cmdlet, 1, "Exchange", who.upn, who.puid, ip, object_id)
        server = f"AM{int(rng.integers(10))}PR0{int(rng.integers(1, 9))}MB{int(rng.integers(1000, 9999))}"
        record |= {
            "ResultStatus": "True",
            "UserType": 2,
            "AppId": EXCHANGE_POWERSHELL,
            "ClientAppId": "",
            "ExternalAccess": False,
            "OrganizationName": ORG_DOMAIN,
            "OriginatingServer": f"{server} (15.20.8207.017)",
            "Parameters": parameters,
            "SessionId": self.ids.guid(),
        }
        self._ual(at, record)

    def _mail_and_files(self) -> None:
        people = self.people
        streams = (
            ("mail-read", _office("mail-read", 55.0)),
            ("mail-read-night", _always("mail-read-night", 3.0, swing=0.8)),
            ("mail-send", _office("mail-send", 18.0)),
            # Phones: some mail is sent and tidied away in the evening and at weekends.
            ("mail-send-night", _always("mail-send-night", 1.0, swing=0.8)),
            ("mail-delete", _office("mail-delete", 9.0)),
            ("crm", _always("crm", 6.0, 3.0, 20)),
            ("exchange-admin", _office("exchange-admin", 0.5)),
            ("exchange-system", _always("exchange-system", 0.25)),
            ("sharepoint", _office("sharepoint", 40.0)),
            ("sharepoint-backup", _always("sharepoint-backup", 8.0, 4.0, 60)),
            ("onedrive", _office("onedrive", 16.0)),
            # Sync clients on laptops left on keep OneDrive busy at night and at weekends.
            ("onedrive-sync", _always("onedrive-sync", 2.0, 2.0, 30, 0.6)),
            ("logon", _office("logon", 14.0)),
            ("logon-night", _always("logon-night", 1.5, swing=0.8)),
        )
        for name, rhythm in streams:
            rng = _rng(self.seed, f"ual-{name}")
            for at in _times(_scaled(rhythm, self.scale), self.start, self.end, rng):
                who = people.humans[int(rng.integers(len(people.humans)))]
                ip = self._ip(who, rng)
                if name.startswith("mail-read"):
                    self._ual(at, self._mailbox_access(at, who, who, ip, rng))
                elif name == "crm":
                    self._ual(at, self._mailbox_access(at, people.crm, who, SAAS_IPS[0], rng))
                elif name in ("mail-send", "mail-send-night", "mail-delete"):
                    self._ual(at, self._mail_item(at, who, ip, name != "mail-delete" and rng.random() < 0.7, rng))
                elif name == "exchange-admin":
                    admin = (people.anna, people.sophie)[int(rng.integers(2))]
                    cmdlet, parameters = _EXCHANGE_CMDLETS[int(rng.integers(len(_EXCHANGE_CMDLETS)))]
                    params = parameters(admin.upn, who.upn)
                    self._exchange_admin(at, admin, self._ip(admin, rng), cmdlet, who.upn, params, rng)
                elif name == "exchange-system":
                    self._ual(at, self._service_cmdlet(at, who))
                elif name in ("sharepoint", "onedrive", "onedrive-sync"):
                    self._ual(at, self._file(at, who, ip, name != "sharepoint", rng, sync=name == "onedrive-sync"))
                elif name == "sharepoint-backup":
                    self._ual(at, self._file(at, people.backup_saas, SAAS_IPS[1], False, rng))
                else:
                    self._ual(at, self._logon(at, who, ip, rng))

    def _service_cmdlet(self, at: int, who: _Principal) -> Record:
        record = self._ual_base(at, "Set-Mailbox", 1, "Exchange", _SYSTEM, _SYSTEM, "", who.upn)
        record |= {
            "ResultStatus": "True",
            "UserType": 3,
            "AppId": "",
            "ClientAppId": "",
            "ExternalAccess": True,
            "OrganizationName": ORG_DOMAIN,
            "OriginatingServer": _SERVER,
            "Parameters": [
                {"Name": "Identity", "Value": who.oid},
                {"Name": "RetentionPolicy", "Value": "Default MRM Policy"},
            ],
        }
        return record

    def _mailbox_access(self, at: int, who: _Principal, owner: _Principal, ip: str, rng: np.random.Generator) -> Record:
        app = who.kind != "User"
        record = self._ual_base(at, "MailItemsAccessed", 50, "Exchange", owner.upn if app else who.upn,
                                owner.puid if app else who.puid, ip, "")  # fmt: skip
        items = [{"InternetMessageId": f"<{self.ids.hex(24)}@{DOMAIN}>"} for _ in range(int(rng.integers(1, 4)))]
        record |= {
            "AppId": who.appid if app else MICROSOFT_OFFICE,
            "ClientAppId": who.appid if app else "",
            "ClientIPAddress": ip,
            "ClientInfoString": "Client=REST;Client=RESTSystem;;" if app else "Client=OWA;Action=ViaProxy",
            "ExternalAccess": False,
            "InternalLogonType": 0,
            "LogonType": 2 if app else 0,
            "LogonUserSid": _sid(who.oid),
            "MailboxGuid": owner.oid,
            "MailboxOwnerSid": _sid(owner.oid),
            "MailboxOwnerUPN": owner.upn,
            "OperationProperties": [
                {"Name": "MailAccessType", "Value": "Bind"},
                {"Name": "IsThrottled", "Value": "False"},
            ],
            "OrganizationName": ORG_DOMAIN,
            "OriginatingServer": _SERVER + "\r\n",
            "Folders": [{"FolderItems": items, "Id": "LgAAAAB" + self.ids.hex(20), "Path": "\\Inbox"}],
            "OperationCount": len(items),
        }
        return record

    def _mail_item(self, at: int, who: _Principal, ip: str, sent: bool, rng: np.random.Generator) -> Record:
        operation = "Send" if sent else "MoveToDeletedItems"
        record = self._ual_base(at, operation, 2, "Exchange", who.upn, who.puid, ip, "")
        folder = {"Id": "LgAAAAB" + self.ids.hex(20), "Path": "\\Sent Items" if sent else "\\Inbox"}
        item = {
            "Id": "RgAAAAB" + self.ids.hex(24),
            "InternetMessageId": f"<{self.ids.hex(24)}@{DOMAIN}>",
            "ParentFolder": folder,
            "Subject": _SUBJECTS[int(rng.integers(len(_SUBJECTS)))],
        }
        record |= {
            "AppId": MICROSOFT_OFFICE,
            "ClientAppId": "",
            "ClientIPAddress": ip,
            "ClientInfoString": "Client=OWA;Action=ViaProxy",
            "ExternalAccess": False,
            "InternalLogonType": 0,
            "LogonType": 0,
            "LogonUserSid": _sid(who.oid),
            "MailboxGuid": who.oid,
            "MailboxOwnerSid": _sid(who.oid),
            "MailboxOwnerUPN": who.upn,
            "OrganizationName": ORG_DOMAIN,
            "OriginatingServer": _SERVER + "\r\n",
        }
        if sent:
            record["Item"] = item
        else:
            deleted = {"Id": "LgAAAAB" + self.ids.hex(20), "Path": "\\Deleted Items"}
            record |= {"AffectedItems": [item], "Folder": folder, "DestFolder": deleted}
        return record

    def _file(
        self, at: int, who: _Principal, ip: str, onedrive: bool, rng: np.random.Generator, sync: bool = False
    ) -> Record:
        app = who.kind != "User"
        name = _FILES[int(rng.integers(len(_FILES)))]
        operation = ("FileAccessed", "FileAccessed", "FilePreviewed", "FileModified", "FileUploaded")[
            int(rng.integers(5))
        ]
        if sync:
            operation = ("FileSyncDownloadedFull", "FileSyncUploadedFull")[int(rng.integers(2))]
        if onedrive:
            site = f"https://contosodemo-my.sharepoint.example/personal/{who.upn.replace('.', '_').replace('@', '_')}/"
            folder = "Documents"
        else:
            site = f"https://contosodemo.sharepoint.example/sites/{_SITES[int(rng.integers(len(_SITES)))]}/"
            folder = "Shared Documents"
        if app:
            operation = "FileAccessed"
        user, key = (
            (f"app@{ORG_DOMAIN}", who.appid) if app else (who.upn, f"i:0h.f|membership|{who.puid.lower()}@live.com")
        )
        record = self._ual_base(
            at, operation, 6, "OneDrive" if onedrive else "SharePoint", user, key, ip, f"{site}{folder}/{name}"
        )
        del record["ResultStatus"]  # SharePoint file operations have none
        record |= {
            "CorrelationId": self.ids.guid(),
            "EventSource": "SharePoint",
            "ItemType": "File",
            "ListId": self.ids.guid(),
            "ListItemUniqueId": self.ids.guid(),
            "Site": self.ids.guid(),
            "UserAgent": "Contoso Cloud Backup/4.2" if app else (_SYNC_AGENT if sync else _AGENT),
            "WebId": self.ids.guid(),
            "SourceFileExtension": name.rsplit(".", 1)[1],
            "SiteUrl": site,
            "SourceFileName": name,
            "SourceRelativeUrl": folder,
            "ApplicationDisplayName": who.name if app else "Microsoft Office Online",
            "GeoLocation": "EUR",
            "IsManagedDevice": not app,
        }
        if app:
            record["AppAccessContext"] = {"ClientAppId": who.appid, "ClientAppName": who.name}
        return record

    def _logon(self, at: int, who: _Principal, ip: str, rng: np.random.Generator, failed: bool | None = None) -> Record:
        failed = bool(rng.random() < 0.04) if failed is None else failed
        resource = MICROSOFT_OFFICE if rng.random() < 0.5 else SHAREPOINT_ONLINE
        operation = "UserLoginFailed" if failed else "UserLoggedIn"
        record = self._ual_base(at, operation, 15, "AzureActiveDirectory", who.upn, who.oid, ip, resource)
        record |= {
            "ResultStatus": "Failed" if failed else "Success",
            "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [
                {"Name": "ResultStatusDetail", "Value": "Success" if failed else "Redirect"},
                {"Name": "UserAgent", "Value": _AGENT},
                {"Name": "RequestType", "Value": "Login:login" if failed else "OAuth2:Authorize"},
            ],
            "ModifiedProperties": [],
            "Actor": [{"ID": who.oid, "Type": 0}, {"ID": who.upn, "Type": 5}],
            "ActorContextId": TENANT_ID,
            "ActorIpAddress": ip,
            "InterSystemsId": self.ids.guid(),
            "IntraSystemId": self.ids.guid(),
            "SupportTicketId": "",
            "Target": [{"ID": resource, "Type": 0}],
            "TargetContextId": TENANT_ID,
            "ApplicationId": resource,
            "DeviceProperties": [{"Name": "OS", "Value": "Windows10"}, {"Name": "BrowserType", "Value": "Edge"}],
            "ErrorNumber": "50126" if failed else "0",
        }
        if failed:
            record["LogonError"] = "InvalidUserNameOrPassword"
        return record

    def _ual_directory(
        self, at: int, job: _Directory, actor: str, ip: str | None, target: _Principal, audit: Record
    ) -> None:
        """The same directory change, as the unified audit log's AzureActiveDirectory workload records it."""
        record = self._ual_base(at, job.ual, 8, "AzureActiveDirectory", actor, actor, ip or "", target.upn)
        changes = audit["targetResources"][0]["modifiedProperties"]
        record |= {
            "ResultStatus": "Success",
            "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [{"Name": "extendedAuditEventCategory", "Value": job.target_type}],
            "ModifiedProperties": [
                {"Name": p["displayName"], "NewValue": p["newValue"] or "", "OldValue": p["oldValue"] or ""}
                for p in changes
            ],
            "Actor": [{"ID": actor, "Type": 5}],
            "ActorContextId": TENANT_ID,
            "InterSystemsId": audit["correlationId"],
            "IntraSystemId": self.ids.guid(),
            "SupportTicketId": "",
            "Target": [{"ID": f"{job.target_type}_{target.oid}", "Type": 2}, {"ID": target.upn, "Type": 5}],
            "TargetContextId": TENANT_ID,
        }
        if ip is None:
            del record["ClientIP"]  # an app's change has no client address
        self._ual(at, record)

    # -- sign-ins, as the SOC workspace holds them --

    def _signins(self) -> None:
        humans = self.people.humans
        for name, rhythm, interactive in (
            ("interactive", _office("sign-in", 9.0), True),
            ("interactive-night", _always("sign-in-night", 0.4, swing=0.8), True),
            ("non-interactive", _always("token-refresh", 60.0, 2.0, 10, 0.7), False),
        ):
            rng = _rng(self.seed, f"signin-{name}")
            for at in _times(_scaled(rhythm, self.scale), self.start, self.end, rng):
                who = humans[int(rng.integers(len(humans)))]
                self._signin(at, who, self._ip(who, rng), interactive, rng)
        # The intruder signs in with Jonas' stolen session; the unified audit log still records it.
        rng = _rng(self.seed, "signin-intruder")
        at = _ticks(self.t0 - timedelta(minutes=11, seconds=24))
        self._signin(at, self.people.jonas, ATTACKER_IP, True, rng)
        self._ual(at, self._logon(at, self.people.jonas, ATTACKER_IP, rng, failed=False))

    def _signin(self, at: int, who: _Principal, ip: str, interactive: bool, rng: np.random.Generator) -> None:
        failed = interactive and rng.random() < 0.05
        apps = (
            ("Microsoft Office", MICROSOFT_OFFICE, "Office 365 Exchange Online"),
            ("Microsoft Teams", MICROSOFT_TEAMS, "Microsoft Teams Services"),
            ("Azure Portal", AZURE_PORTAL, "Windows Azure Service Management API"),
            ("Office 365 Exchange Online", EXCHANGE_ONLINE, "Office 365 Exchange Online"),
        )
        app, app_id, resource = apps[int(rng.integers(4 if interactive else 2))]
        abroad = ip == ATTACKER_IP
        office = ip in OFFICE_IPS
        location = {
            "city": "Amsterdam" if abroad else ("Berlin" if office else "Potsdam"),
            "state": "North Holland" if abroad else ("Berlin" if office else "Brandenburg"),
            "countryOrRegion": "NL" if abroad else "DE",
        }
        status: Record = {"errorCode": 0}
        if failed:
            status = {
                "errorCode": 50126,
                "failureReason": "Invalid username or password or Invalid on premise username or password.",
            }
        networks = [{"networkType": "trustedNamedNetwork", "networkNames": ["Berlin office"]}] if office else []
        device = {"deviceId": "", "operatingSystem": "Windows10", "browser": "Edge 131.0.0", "isCompliant": not abroad}
        row: Record = {
            "TenantId": WORKSPACE_ID,
            "SourceSystem": "Azure AD",
            "TimeGenerated": _iso_trimmed(at),
            "ResourceId": f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam",
            "OperationName": "Sign-in activity",
            "OperationVersion": "1.0",
            "Category": "SignInLogs" if interactive else "NonInteractiveUserSignInLogs",
            "ResultType": str(status["errorCode"]),
            "ResultSignature": "None",
            "ResultDescription": status.get("failureReason", ""),
            "DurationMs": 0,
            "CorrelationId": self.ids.guid(),
            "Resource": "Microsoft.aadiam",
            "ResourceGroup": "Microsoft.aadiam",
            "ResourceProvider": "Microsoft.aadiam",
            "Identity": who.name,
            "Level": "4",
            "Location": location["countryOrRegion"],
            "AppDisplayName": app,
            "AppId": app_id,
            "AuthenticationRequirement": "multiFactorAuthentication" if interactive else "singleFactorAuthentication",
            "ClientAppUsed": "Browser" if interactive else "Mobile Apps and Desktop clients",
            "ConditionalAccessStatus": "notApplied" if failed else "success",
            "CreatedDateTime": _iso_trimmed(at),
            "DeviceDetail": _compact(device),
            "Id": self.ids.guid(),
            "IPAddress": ip,
            "IsInteractive": interactive,
            "IsRisky": False,
            "LocationDetails": _compact(location),
            "NetworkLocationDetails": _compact(networks),
            "ResourceDisplayName": resource,
            "RiskDetail": "none",
            "RiskLevelAggregated": "none",
            "RiskLevelDuringSignIn": "none",
            "RiskState": "none",
            "Status": _compact(status),
            "TokenIssuerType": "AzureAD",
            "UserAgent": _AGENT,
            "UserDisplayName": who.name,
            "UserId": who.oid,
            "UserPrincipalName": who.upn,
            "AADTenantId": TENANT_ID,
            "UserType": "Member",
            "Type": "SigninLogs" if interactive else "AADNonInteractiveUserSignInLogs",
        }
        # Log Analytics ingests a sign-in a few minutes after it happened.
        ingested = at + int(self.lag.lognormal(math.log(240), 0.4) * _TICKS)
        self.signin_columns = self.signin_columns or tuple(row)
        self.out.signins.append((at, ingested, who.upn, _json(list(row.values()))))

    # -- what the tampering did to the exports --

    def _cut(self) -> None:
        end = _ticks(self.end)
        for sub, rows in self.out.arm.items():
            # Nothing after the delete reaches the prod subscription's export.
            last = self.export_deleted if sub == "prod" else end
            self.out.arm[sub] = [r for r in rows if r[0] <= last and r[1] < end]
        self.out.entra = [r for r in self.out.entra if r[1] < end]
        stops = _ticks(self.ual_stops)
        self.out.ual = [r for r in self.out.ual if r[0] < stops and r[1] < end]
        self.out.signins = self._capped([r for r in self.out.signins if r[1] < end])

    def _capped(self, rows: list[Row]) -> list[Row]:
        """The sign-ins the workspace kept: the purge erased the account's that were there when it
        ran; the daily cap, once set, drops everything ingested after the day's quota is spent."""
        purged, oldest = self.purged
        upn = self.people.jonas.upn
        rows = sorted(
            (r for r in rows if not (oldest < r[0] and r[1] <= purged and r[2] == upn)),
            key=lambda r: r[1],
        )
        before = [r[1] for r in rows if r[1] < self.capped]
        days = max((before[-1] - before[0]) / _DAY_TICKS, 1.0) if before else 1.0
        # Sign-ins are most of what the workspace ingests, so they spend the quota in step with it.
        quota = len(before) / days * _CAP_GB / _USUAL_GB
        spent: dict[int, int] = defaultdict(int)
        kept = []
        for row in rows:
            day = (row[1] - _CAP_RESET_HOUR * HOUR * _TICKS) // _DAY_TICKS
            spent[day] += 1
            if row[1] < self.capped or spent[day] <= quota:
                kept.append(row)
        return kept

    # -- writing --

    def write(self, out: Path) -> Tenant:
        self._cut()
        out.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        for sub in ("prod", "shared-services"):
            files += _write_blobs(out / "insights-activity-logs", SUBSCRIPTIONS[sub], self.out.arm[sub])
        hub = out / "eventhub-capture" / EVENT_HUB_NAMESPACE / "insights-activity-logs"
        files += _write_capture(hub, self.out.arm["dev"], _rng(self.seed, "capture"))
        files += _write_graph(out / "graph" / "directoryAudits", self.out.entra)
        files += _write_signins(out / "log-analytics" / WORKSPACE_NAME, self.signin_columns, self.out.signins)
        m365 = out / "m365"
        entra_workload = [r for r in self.out.ual if r[2] == "AzureActiveDirectory"]
        others = [r for r in self.out.ual if r[2] != "AzureActiveDirectory"]
        files += _write_management_api(m365 / "management-activity-api", others, _rng(self.seed, "content"), self.ids)
        files += _write_purview(m365 / "purview", entra_workload, self.start, self.end)
        tables = {
            "AzureActivity": sum(len(rows) for rows in self.out.arm.values()),
            "AuditLogs": len(self.out.entra),
            "SigninLogs": len(self.out.signins),
            "OfficeActivity": len(self.out.ual),
        }
        organisation = TENANT_ID.lower()
        return Tenant(
            out=out,
            start=self.start,
            end=self.end,
            subscriptions=dict(SUBSCRIPTIONS),
            tenant_id=TENANT_ID,
            intrusion=self.intrusion,
            look_alikes=self.look_alikes,
            files=tuple(sorted(files)),
            records=sum(tables.values()),
            tables=tables,
            silent=(f"activity:{SUBSCRIPTIONS['prod']}", *(f"ual:{organisation}/{w}" for w in _UAL_WORKLOADS)),
            thinned=(f"signin:{organisation}",),
        )


def _graph_user(who: _Principal, ip: str | None) -> Record:
    return {
        "id": who.oid,
        "displayName": None,
        "userPrincipalName": who.upn,
        "ipAddress": ip,
        "userType": None,
        "homeTenantId": None,
        "homeTenantName": None,
    }


def _modified(job: _Directory, rng: np.random.Generator) -> list[Record]:
    if job.activity == "Update user":
        name = ("Department", "JobTitle", "TelephoneNumber", "Manager")[int(rng.integers(4))]
        return [
            {"displayName": name, "oldValue": '["Sales"]', "newValue": '["Sales DE"]'},
            {"displayName": "Included Updated Properties", "oldValue": None, "newValue": f'"{name}"'},
        ]
    if job.activity == "Add member to group":
        return [
            {"displayName": "Group.DisplayName", "oldValue": None, "newValue": '"SG-Sales-DE"'},
            {"displayName": "Group.WellKnownObject", "oldValue": None, "newValue": None},
        ]
    return []


# --- writers -----------------------------------------------------------------------------------------


def _write_blobs(container: Path, subscription: str, rows: list[Row]) -> list[Path]:
    """One JSON Lines blob per arrival hour, records in the order they arrived."""
    by_hour: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    for _, arrival, _, record in rows:
        by_hour[arrival // (HOUR * _TICKS)].append((arrival, record))
    files = []
    for hour, items in sorted(by_hour.items()):
        t = time.gmtime(hour * HOUR)
        day = f"y={t.tm_year}/m={t.tm_mon:02d}/d={t.tm_mday:02d}/h={t.tm_hour:02d}/m=00"
        path = container / "resourceId=" / "SUBSCRIPTIONS" / subscription.upper() / day / "PT1H.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        items.sort(key=lambda item: item[0])
        path.write_bytes(b"".join(record + b"\n" for _, record in items))
        files.append(path)
    return files


# The schema Event Hubs Capture writes with its "Avro" encoding (no compression).
CAPTURE_SCHEMA: Record = {
    "type": "record",
    "name": "EventData",
    "namespace": "Microsoft.ServiceBus.Messaging",
    "fields": [
        {"name": "SequenceNumber", "type": "long"},
        {"name": "Offset", "type": "string"},
        {"name": "EnqueuedTimeUtc", "type": "string"},
        {"name": "SystemProperties", "type": {"type": "map", "values": ["long", "double", "string", "bytes"]}},
        {"name": "Properties", "type": {"type": "map", "values": ["long", "double", "string", "bytes", "null"]}},
        {"name": "Body", "type": ["null", "bytes"]},
    ],
}


def _write_capture(hub: Path, rows: list[Row], rng: np.random.Generator) -> list[Path]:
    """Event Hubs Capture files: one message per diagnostic-settings batch (what arrived within ten
    seconds), one file per partition and capture window, named after the window's start."""
    schema = fastavro.parse_schema(CAPTURE_SCHEMA)
    phase = [int(rng.integers(0, _CAPTURE_WINDOW_S)) * _TICKS for _ in range(_PARTITIONS)]
    batches: dict[int, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r[1]):
        batches[row[1] // (10 * _TICKS)].append(row)
    windows: dict[tuple[int, int], list[tuple[int, bytes]]] = defaultdict(list)
    for _, members in sorted(batches.items()):
        partition = int(rng.integers(_PARTITIONS))
        enqueued = members[-1][1] + int(rng.uniform(0.05, 0.9) * _TICKS)
        window = (enqueued - phase[partition]) // (_CAPTURE_WINDOW_S * _TICKS)
        body = b'{"records":[' + b",".join(r[3] for r in members) + b"]}"
        windows[(partition, window)].append((enqueued, body))
    files = []
    sequence = [0] * _PARTITIONS
    offset = [0] * _PARTITIONS
    for (partition, window), messages in sorted(windows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        opened = time.gmtime((window * _CAPTURE_WINDOW_S * _TICKS + phase[partition]) // _TICKS)
        when = f"{opened.tm_year}/{opened.tm_mon:02d}/{opened.tm_mday:02d}/{opened.tm_hour:02d}/{opened.tm_min:02d}"
        path = hub / str(partition) / when / f"{opened.tm_sec:02d}.avro"
        path.parent.mkdir(parents=True, exist_ok=True)
        records = []
        for enqueued, body in messages:
            records.append(
                {
                    "SequenceNumber": sequence[partition],
                    "Offset": str(offset[partition]),
                    "EnqueuedTimeUtc": _capture_time(enqueued),
                    "SystemProperties": {},
                    "Properties": {},
                    "Body": body,
                }
            )
            sequence[partition] += 1
            offset[partition] += len(body) + 280  # the AMQP envelope around each body
        with path.open("wb") as fh:
            fastavro.writer(fh, schema, records, codec="null", sync_marker=rng.bytes(16))
        files.append(path)
    return files


def _write_graph(folder: Path, rows: list[Row]) -> list[Path]:
    """Graph directoryAudits pages as a script saved them: newest first, one page a file."""
    newest_first = [r[3] for r in sorted(rows, key=lambda r: r[0], reverse=True)]
    context = b'{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits","value":['
    files = []
    for n, lo in enumerate(range(0, len(newest_first), _GRAPH_PAGE), 1):
        page = context + b",".join(newest_first[lo : lo + _GRAPH_PAGE]) + b"]"
        if lo + _GRAPH_PAGE < len(newest_first):
            skip = f"{zlib.crc32(str(lo).encode()):08x}"
            page += b',"@odata.nextLink":' + orjson.dumps(
                f"https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$skiptoken={skip}"
            )
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"page-{n:04d}.json"
        path.write_bytes(page + b"}")
        files.append(path)
    return files


_COLUMN_TYPES = {
    "TimeGenerated": "datetime",
    "CreatedDateTime": "datetime",
    "DurationMs": "long",
    "IsInteractive": "bool",
    "IsRisky": "bool",
    "DeviceDetail": "dynamic",
    "LocationDetails": "dynamic",
    "NetworkLocationDetails": "dynamic",
    "Status": "dynamic",
}


def _write_signins(folder: Path, names: tuple[str, ...], rows: list[Row]) -> list[Path]:
    """One query API response a day, of `union SigninLogs, AADNonInteractiveUserSignInLogs`."""
    by_day: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
    for at, _, _, row in rows:
        by_day[_ual_time(at)[:10]].append((at, row))
    columns = orjson.dumps([{"name": n, "type": _COLUMN_TYPES.get(n, "string")} for n in names])
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for day, items in sorted(by_day.items()):
        items.sort(key=lambda item: item[0])
        table = b'{"name":"PrimaryResult","columns":' + columns + b',"rows":[' + b",".join(r for _, r in items) + b"]}"
        path = folder / f"signins-{day}.json"
        path.write_bytes(b'{"tables":[' + table + b"]}")
        files.append(path)
    return files


def _write_management_api(root: Path, rows: list[Row], rng: np.random.Generator, ids: _Ids) -> list[Path]:
    """Content blobs as a collector saved them: per content type, one JSON array per three hours in
    which records became available, in no particular order (the API does not sort them)."""
    blobs: dict[tuple[str, int], list[bytes]] = defaultdict(list)
    for _, available, workload, record in rows:
        content = "Audit.Exchange" if workload == "Exchange" else "Audit.SharePoint"
        blobs[(content, available // (3 * HOUR * _TICKS))].append(record)
    files = []
    for (content, block), records in sorted(blobs.items()):
        folder = root / content
        folder.mkdir(parents=True, exist_ok=True)
        created = time.strftime("%Y%m%d%H%M%S", time.gmtime(block * 3 * HOUR))
        path = folder / f"{created}_{ids.guid().replace('-', '')}.json"
        path.write_bytes(b"[" + b",".join(records[i] for i in rng.permutation(len(records)).tolist()) + b"]")
        files.append(path)
    return files


def _write_purview(folder: Path, rows: list[Row], start: datetime, end: datetime) -> list[Path]:
    """A Purview audit search export: BOM, CRLF, newest first, at most 50,000 rows a file."""
    newest_first = sorted(rows, key=lambda r: r[0], reverse=True)
    header = (
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames"
    )
    stem = f"AuditSearch_AzureActiveDirectory_{start:%Y-%m-%d}_{end:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for n, lo in enumerate(range(0, len(newest_first), _PURVIEW_ROWS), 1):
        text = io.StringIO()
        text.write(header + "\r\n")
        writer = csv.writer(text, lineterminator="\r\n")
        for at, _, _, data in newest_first[lo : lo + _PURVIEW_ROWS]:
            record = orjson.loads(data)
            # CreationDate comes quoted, with seven zero digits and a trailing space.
            text.write(f'{record["Id"]},"{_ual_time(at)}.0000000Z ",')
            writer.writerow([record["RecordType"], record["Operation"], record["UserId"], data.decode(), "", ""])
        path = folder / (f"{stem}.csv" if n == 1 else f"{stem}_{n}.csv")
        path.write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode())
        files.append(path)
    return files
