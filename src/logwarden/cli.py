"""The `logwarden` command line."""

from __future__ import annotations

import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from logwarden.formats.files import InputError
from logwarden.ingest import IngestOptions, Ingestor, StrictStop, open_case
from logwarden.outputs.console import RichProgressDisplay, render_ingest, render_stats, to_json
from logwarden.store.stats import collect

app = typer.Typer(
    help="Find where Azure and Microsoft 365 logging was switched off, cut short, purged or went quiet.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

DEFAULT_DB = Path("logwarden.duckdb")
DbOption = Annotated[Path, typer.Option("--db", help="The case database (a DuckDB file).")]


class DateOrderChoice(StrEnum):
    mdy = "mdy"
    dmy = "dmy"


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


def example_folder() -> Path:
    return Path(str(resources.files("logwarden") / "examples" / "exports"))


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files and folders (walked recursively).")] = None,
    db: DbOption = DEFAULT_DB,
    example: Annotated[
        bool, typer.Option("--example", help="Ingest the small example that ships inside logwarden.")
    ] = False,
    date_order: Annotated[
        DateOrderChoice | None,
        typer.Option(help="Day/month order of culture-formatted CSV dates, when the file cannot prove it."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first rejected record or unreadable file.")
    ] = False,
) -> None:
    """Read exported Azure / Microsoft 365 logs into the case database.

    Exit code 0 when every record went in, 1 when anything was rejected or a file could
    not be read (all else is still stored), 2 on a usage error.
    """
    targets = list(paths or [])
    if example:
        targets.append(example_folder())
    if not targets:
        err.print("Nothing to ingest: give files or folders, or --example.")
        raise typer.Exit(2)
    options = IngestOptions(date_order=date_order.value if date_order else None, strict=strict)
    with open_case(db) as case:
        progress = RichProgressDisplay(err) if err.is_terminal else None
        try:
            with Ingestor(case, options, progress) as ingestor:
                report = ingestor.ingest(targets)
        except InputError as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(2) from exc
        except StrictStop as exc:
            err.print(f"stopped (--strict): {exc}", markup=False)
            raise typer.Exit(1) from exc
        render_ingest(out, report)
        if example:
            render_stats(out, collect(case))
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def stats(
    db: DbOption = DEFAULT_DB,
    format: Annotated[StatsFormat, typer.Option("--format", help="table or json")] = StatsFormat.table,
) -> None:
    """What was read, per table and per source, and what was rejected."""
    try:
        case = open_case(db, read_only=True)
    except FileNotFoundError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    with case:
        result = collect(case)
    if format is StatsFormat.json:
        sys.stdout.write(to_json(result) + "\n")
    else:
        render_stats(out, result)


def main() -> None:
    app()
