"""Posture findings as a terminal table, one JSON document or CSV.

Subjects and evidence carry names read from the tenant (resource, setting, mailbox names),
which whoever controls the tenant chooses: the table prints them as plain text with hidden
and control characters shown as markers, JSON escapes them, and CSV cells that a spreadsheet
would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from logwarden.outputs.alerts import iso_utc, neutralise
from logwarden.outputs.report import clean
from logwarden.posture.checks.engine import Finding, Verdict, summary
from logwarden.posture.snapshot.model import Provenance

COLUMNS = (
    "check",
    "verdict",
    "severity",
    "subject",
    "evidence",
    "title",
    "references",
    "beyond_cis",
    "fix",
    "read",
)
_STYLE = {Verdict.failed: "bold red", Verdict.unknown: "yellow", Verdict.passed: "green", Verdict.not_applicable: "dim"}


def _provenance(p: Provenance) -> dict[str, Any]:
    return {
        "source": p.source,
        "read_at": iso_utc(p.read_at) if p.read_at else None,
        "endpoint": p.endpoint,
        "api_version": p.api_version,
        "identity": p.identity,
        "session": p.session.value if p.session else None,
    }


def _describe(p: Provenance) -> str:
    """One line: which file or call, when, as whom, through which Exchange session."""
    parts = [p.source]
    if p.endpoint:
        parts.append(p.endpoint + (f"?api-version={p.api_version}" if p.api_version else ""))
    if p.read_at:
        parts.append(iso_utc(p.read_at))
    if p.identity:
        parts.append(f"as {p.identity}")
    if p.session:
        parts.append(f"via {p.session.value}")
    return "; ".join(parts)


def _cells(found: Finding) -> dict[str, Any]:
    return {
        "check": found.check.id,
        "verdict": found.verdict.value,
        "severity": found.check.severity,
        "subject": found.subject,
        "evidence": found.evidence,
        "title": found.check.title,
        "references": list(found.check.references),
        "beyond_cis": found.check.beyond_cis,
        "fix": found.fix,
        "read": [_provenance(p) for p in found.provenance],
    }


def write_json(out: IO[str], findings: Sequence[Finding], problems: Sequence[str]) -> None:
    document = {"summary": summary(findings), "findings": [_cells(f) for f in findings], "problems": list(problems)}
    out.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")


def write_csv(out: IO[str], findings: Sequence[Finding]) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for found in findings:
        cells = _cells(found)
        cells["references"] = "; ".join(cells["references"])
        cells["read"] = " | ".join(_describe(p) for p in found.provenance)
        writer.writerow([neutralise(cells[name]) for name in COLUMNS])


def write_table(console: Console, findings: Sequence[Finding], problems: Sequence[str]) -> None:
    table = Table(title="Logging posture", title_justify="left", show_lines=True)
    for name in ("check", "verdict", "subject", "evidence", "fix"):
        table.add_column(name, overflow="fold")
    for found in findings:
        reference = f"\n{found.check.references[0]}" if found.check.references else ""
        table.add_row(
            Text(found.check.id + reference),
            Text(f"{found.verdict.value} ({found.check.severity})", style=_STYLE[found.verdict]),
            Text(clean(found.subject)),
            Text(clean(found.evidence)),
            Text(clean(found.fix)),
        )
    console.print(table)
    for problem in problems:
        console.print(Text(f"not read: {clean(problem)}", style="yellow"))
    counts = summary(findings)
    console.print(Text(", ".join(f"{n} {verdict}" for verdict, n in counts.items())))
