"""The tamper-catalogue coverage table, on a terminal or as Markdown for the docs."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from logwarden.detectors.sigma.coverage import Coverage


def _public(item: Coverage) -> str:
    return ", ".join(f"{name} {codes}" for name, codes in item.behaviour.public.items()) or "none"


def _rules(item: Coverage) -> list[str]:
    return [f"{r.title} ({r.level}; tests {r.positives}+/{r.negatives}-)" for r in item.rules]


def _summary(items: list[Coverage]) -> str:
    covered = sum(1 for i in items if i.rules)
    public = sum(1 for i in items if i.behaviour.public)
    return f"{covered} of {len(items)} behaviours covered by the pack; public rule sets touch {public}"


def render_coverage(console: Console, items: list[Coverage]) -> None:
    table = Table(title="Tamper catalogue coverage", title_justify="left")
    for name in ("id", "tier", "behaviour", "logwarden rules", "public rule sets"):
        table.add_column(name)
    for item in items:
        rules = "\n".join(_rules(item)) or "-"
        table.add_row(
            *(Text(x) for x in (item.behaviour.id, item.behaviour.tier, item.behaviour.behaviour, rules)),
            Text(_public(item)),
        )
    console.print(table)
    console.print(_summary(items))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def coverage_markdown(items: list[Coverage]) -> str:
    lines = [
        "| ID | tier | behaviour | logwarden rules (level; positive+/negative- test cases) | public rule sets |",
        "|---|---|---|---|---|",
    ]
    for item in items:
        rules = "<br>".join(_cell(r) for r in _rules(item)) or "—"
        lines.append(
            f"| {item.behaviour.id} | {item.behaviour.tier} | {_cell(item.behaviour.behaviour)} | {rules} "
            f"| {_cell(_public(item))} |"
        )
    return "\n".join(lines) + f"\n\n{_summary(items)}.\n"
