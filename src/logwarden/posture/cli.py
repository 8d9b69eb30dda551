"""`logwarden posture`: collect the logging settings live, or judge a snapshot offline."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from logwarden.posture.snapshot.model import ExchangeSession

if TYPE_CHECKING:
    from collections.abc import Callable

    from azure.core.credentials import TokenCredential

    from logwarden.posture.collect.base import Endpoints

posture_app = typer.Typer(
    help="Is logging switched on everywhere, kept long enough, kept where it cannot be altered?",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


class PostureFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def connect() -> tuple[TokenCredential, Endpoints]:
    """The user's Azure credential (az login, managed identity, environment) and the public
    cloud's endpoints."""
    from azure.identity import DefaultAzureCredential

    from logwarden.posture.collect.base import Endpoints

    return DefaultAzureCredential(), Endpoints()


@contextlib.contextmanager
def _progress(first: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on a terminal; silence when piped."""
    if not err.is_terminal:
        yield lambda _: None
        return
    with err.status(first) as status:
        yield lambda message: status.update(Text(message))


@posture_app.command("collect")
def collect_command(
    out_dir: Annotated[Path, typer.Option("--out", help="The folder to write the snapshot into.")],
    subscription: Annotated[
        list[str] | None, typer.Option("--subscription", help="Only this subscription id (repeatable).")
    ] = None,
    tenant_id: Annotated[
        str | None, typer.Option("--tenant-id", help="Tenant for the Exchange settings (default: the token's).")
    ] = None,
    m365: Annotated[bool, typer.Option("--m365/--no-m365", help="Read the Microsoft 365 audit settings too.")] = True,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=16, help="Resources whose diagnostic settings are read at a time.")
    ] = 4,
) -> None:
    """Read the logging settings with your Azure credentials (read-only calls) into a snapshot
    folder: every answer as the service sent it, with when, where and as whom it was read."""
    from azure.core.exceptions import ClientAuthenticationError

    from logwarden.posture.collect.run import collect
    from logwarden.posture.snapshot.file import write_snapshot

    credential, endpoints = connect()
    try:
        with _progress("Signing in...") as say:
            snap = collect(credential, endpoints, subscription, tenant_id, m365, say, workers)
    except ClientAuthenticationError as exc:
        err.print(Text(f"cannot sign in to Azure: {' '.join(str(exc).split())[:500]}"))
        raise typer.Exit(2) from exc
    path = write_snapshot(out_dir, snap)
    statuses: dict[str, int] = {}
    for reading in snap.readings:
        statuses[reading.status.value] = statuses.get(reading.status.value, 0) + 1
    counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    err.print(Text(f"{path}: {len(snap.readings)} readings ({counts}) as {snap.identity or 'unknown identity'}"))


@posture_app.command("check")
def check_command(
    paths: Annotated[list[Path], typer.Argument(help="Snapshot folders and hand-exported JSON files.")],
    format: Annotated[
        PostureFormat | None, typer.Option("--format", help="table (on a terminal), json (when piped), csv")
    ] = None,
    min_retention_days: Annotated[
        int, typer.Option("--min-retention-days", min=1, help="Workspace and table retention at least this.")
    ] = 90,
    min_audit_retention_days: Annotated[
        int, typer.Option("--min-audit-retention-days", min=1, help="Microsoft 365 audit retention at least this.")
    ] = 365,
    exchange_session: Annotated[
        ExchangeSession | None,
        typer.Option(
            "--exchange-session",
            help="Where hand-exported Exchange settings were read; a False UnifiedAuditLogIngestionEnabled "
            "proves the log off only from exchange-online.",
        ),
    ] = None,
) -> None:
    """Judge a snapshot: each check passes, fails, or is unknown when the snapshot cannot
    tell. Exit 1 when a check fails, 2 when nothing could be read."""
    from logwarden.outputs.posture import write_csv, write_json, write_table
    from logwarden.posture.checks.engine import Options, Verdict, run
    from logwarden.posture.snapshot.load import load

    snapshot = load(paths, exchange_session)
    if not snapshot.readings:
        for problem in snapshot.problems:
            err.print(Text(problem))
        err.print("Nothing to judge: no setting was read from the files given.")
        raise typer.Exit(2)
    findings = run(snapshot, Options(min_retention_days, min_audit_retention_days))
    chosen = format or (PostureFormat.table if out.is_terminal else PostureFormat.json)
    if chosen is PostureFormat.json:
        write_json(sys.stdout, findings, snapshot.problems)
    elif chosen is PostureFormat.csv:
        write_csv(sys.stdout, findings)
    else:
        write_table(out, findings, snapshot.problems)
    if chosen is not PostureFormat.table:
        for problem in snapshot.problems:
            err.print(Text(f"not read: {problem}"))
    raise typer.Exit(1 if any(f.verdict is Verdict.failed for f in findings) else 0)


@posture_app.command("list")
def list_command() -> None:
    """Every check: id, severity, references and title."""
    from logwarden.posture.checks.engine import catalogue

    for info in catalogue():
        refs = "; ".join(info.references) or ("beyond CIS" if info.beyond_cis else "")
        out.print(
            Text(f"{info.id:<36} {info.severity:<9} {info.title}" + (f"  [{refs}]" if refs else "")), soft_wrap=True
        )
