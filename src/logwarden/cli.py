"""The `logwarden` command line."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.text import Text

from logwarden.formats.files import InputError
from logwarden.ingest import IngestOptions, Ingestor, StrictStop, open_case
from logwarden.outputs.console import RichProgressDisplay, render_ingest, render_stats, to_json
from logwarden.posture.cli import posture_app
from logwarden.store.database import CaseDatabase
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


class AlertFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


def _alert_format(chosen: AlertFormat | None) -> AlertFormat:
    """The format asked for, else a table on a terminal and JSON Lines when piped."""
    return chosen or (AlertFormat.table if out.is_terminal else AlertFormat.jsonl)


def builtin_rules() -> Path:
    return Path(str(resources.files("logwarden") / "rules" / "pack"))


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


def _open_existing(db: Path) -> CaseDatabase:
    """The case database, read-only; exit 2 with the reason when there is none."""
    try:
        return open_case(db, read_only=True)
    except FileNotFoundError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from exc


@app.command()
def stats(
    db: DbOption = DEFAULT_DB,
    format: Annotated[StatsFormat, typer.Option("--format", help="table or json")] = StatsFormat.table,
) -> None:
    """What was read, per table and per source, and what was rejected."""
    case = _open_existing(db)
    with case:
        result = collect(case)
    if format is StatsFormat.json:
        sys.stdout.write(to_json(result) + "\n")
    else:
        render_stats(out, result)


RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Sigma rule files or folders (repeatable), beside the built-in pack."),
]


BuiltinOption = Annotated[
    bool, typer.Option("--builtin/--no-builtin", help="Include the built-in tamper rule pack (default), or not.")
]


PlaceholdersOption = Annotated[
    Path | None,
    typer.Option("--placeholders", help="YAML file: placeholder name -> list of values, for |expand rules."),
]


def _placeholders(path: Path | None) -> dict[str, list[str]]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        err.print(Text(f"{path}: cannot read the placeholders ({exc})"))
        raise typer.Exit(2) from exc
    if not isinstance(data, dict):
        err.print(Text(f"{path}: placeholders must be a mapping of name to a list of values"))
        raise typer.Exit(2)
    return {str(k): [str(v) for v in (vals if isinstance(vals, list) else [vals])] for k, vals in data.items()}


def _rule_paths(extra: list[Path] | None, builtin: bool) -> list[Path]:
    """The built-in pack (unless --no-builtin) and --rules; exit 2 when that is nothing."""
    paths = ([builtin_rules()] if builtin else []) + list(extra or [])
    if not paths:
        err.print("No rules: give rules with --rules, or leave out --no-builtin.", markup=False)
        raise typer.Exit(2)
    return paths


def _load_rules(extra: list[Path] | None, placeholders: Path | None, builtin: bool = True) -> list[Any]:
    from logwarden.detectors.sigma.rules import load

    return load(_rule_paths(extra, builtin), _placeholders(placeholders))


@app.command()
def hunt(
    paths: Annotated[list[Path] | None, typer.Argument(help="Exports to ingest first (optional).")] = None,
    db: DbOption = DEFAULT_DB,
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    placeholders: PlaceholdersOption = None,
    format: Annotated[AlertFormat | None, typer.Option("--format", help="table (on a terminal), jsonl, csv")] = None,
) -> None:
    """Run Sigma rules over the case database; one alert per matching record (or correlated burst)."""
    from logwarden.detectors.sigma.hunt import hunt as run_hunt
    from logwarden.outputs.alerts import write_csv, write_jsonl, write_table

    compiled = _load_rules(rules, placeholders, builtin)
    for rule in compiled:
        if rule.error:
            err.print(Text(f"rule skipped: {rule.source}: {rule.title}: {rule.error}"), style="yellow")
    if paths:
        with open_case(db) as case, Ingestor(case, IngestOptions()) as ingestor:
            ingestor.ingest(list(paths))
    case = _open_existing(db)
    chosen = _alert_format(format)
    with case:
        alerts = run_hunt(case, compiled)
        if chosen is AlertFormat.jsonl:
            n = write_jsonl(sys.stdout, alerts)
        elif chosen is AlertFormat.csv:
            n = write_csv(sys.stdout, alerts)
        else:
            n = write_table(out, alerts)
    usable = sum(1 for r in compiled if r.runs)
    err.print(f"{n:,} alerts from {usable:,} rules ({len(compiled) - usable:,} skipped)")


AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help="Judge as of this UTC moment (ISO 8601, e.g. 2026-05-01T00:00Z); default: the newest event."
    ),
]
BudgetOption = Annotated[
    str | None, typer.Option("--budget", help="False alarms allowed across all sources, e.g. 1/week (default), 2/day.")
]
SilenceConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML: expected sources, groups, class limits, schedules, maintenance windows."),
]


def _working(message: str) -> contextlib.AbstractContextManager[object]:
    """A spinner on a terminal while long work runs; nothing when piped."""
    return err.status(message) if err.is_terminal else contextlib.nullcontext()


PostureOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--posture",
        help="A posture snapshot or hand exports (repeatable): the sources its settings say should log are expected.",
    ),
]


def _silence_config(config: Path | None, budget: str | None, posture: list[Path] | None = None) -> Any:
    """The silence configuration file with --budget over it and the sources a posture snapshot
    says should log; exit 2 with the reason when the file is bad."""
    from logwarden.detectors.silence.config import ConfigError, load_config

    try:
        settings = load_config(config)
        settings = settings.with_budget(budget) if budget else settings
    except (ConfigError, ValueError) as exc:
        err.print(Text(str(exc)))
        raise typer.Exit(2) from exc
    if posture:
        from logwarden.detectors.silence.expected import expected_sources
        from logwarden.posture.snapshot.load import load as load_snapshot

        snapshot = load_snapshot(list(posture))
        for problem in snapshot.problems:
            err.print(Text(f"posture: {problem}"), style="yellow")
        promised = expected_sources(snapshot)
        err.print(Text(f"{len(promised):,} sources expected from the posture settings"))
        settings = settings.expecting(promised)
    return settings


def _moment(case: CaseDatabase, at: str | None) -> datetime:
    """--at as UTC, or the newest event of the case; exit 2 when neither exists."""
    from logwarden.detectors.silence.sources import newest

    if at:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            err.print(Text(f"--at {at!r}: not an ISO 8601 time"))
            raise typer.Exit(2) from exc
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    found = newest(case)
    if found is None:
        err.print("The case holds no events: nothing to judge.")
        raise typer.Exit(2)
    return found


def _judge_silence(
    db: Path,
    at: str | None,
    budget: str | None,
    config: Path | None,
    explain: bool,
    rules: list[Path] | None,
    posture: list[Path] | None = None,
) -> tuple[Any, Any]:
    """Open the case, read the configuration, optionally hunt for the tamper events that
    explain a silence, and judge every source."""
    from logwarden.detectors.silence.explain import causes_from
    from logwarden.detectors.silence.judge import judge
    from logwarden.detectors.silence.sources import observe

    settings = _silence_config(config, budget, posture)
    with _open_existing(db) as case:
        moment = _moment(case, at)
        causes = []
        if explain:
            from logwarden.detectors.sigma.hunt import hunt as run_hunt

            with _working("Hunting for the tamper events that explain a silence..."):
                compiled = _load_rules(rules, None)
                causes = causes_from(run_hunt(case, compiled), compiled)
        with _working(f"Judging every source as of {moment:%Y-%m-%d %H:%M}Z..."):
            return judge(observe(case, moment, settings.budget_per_day), moment, settings, causes), settings


@app.command()
def silence(
    db: DbOption = DEFAULT_DB,
    at: AtOption = None,
    budget: BudgetOption = None,
    config: SilenceConfigOption = None,
    explain: Annotated[
        bool, typer.Option("--explain/--no-explain", help="Name the tamper alerts (rule pack) behind each silence.")
    ] = True,
    rules: RulesOption = None,
    posture: PostureOption = None,
    format: Annotated[AlertFormat | None, typer.Option("--format", help="table (on a terminal), jsonl, csv")] = None,
) -> None:
    """Sources that stopped (SILENT), thinned out (THINNED), lag (LATE) or never came (NEVER_SEEN),
    each judged against its own rhythm, with the tamper events that explain it."""
    from logwarden.outputs.silence import write_alert_table, write_csv, write_jsonl

    result, settings = _judge_silence(db, at, budget, config, explain, rules, posture)
    chosen = _alert_format(format)
    if chosen is AlertFormat.jsonl:
        write_jsonl(sys.stdout, result.alerts)
    elif chosen is AlertFormat.csv:
        write_csv(sys.stdout, result.alerts)
    else:
        write_alert_table(out, result.alerts, settings.maintenance)
    live = [a for a in result.alerts if not a.suppressed and a.state not in ("TOO_QUIET",)]
    quiet = sum(a.state == "TOO_QUIET" for a in result.alerts)
    err.print(
        f"{len(live):,} silence alerts as of {result.at:%Y-%m-%d %H:%M}Z; {result.watched:,} sources watched, "
        f"{quiet:,} too quiet to watch; budget {result.budget}"
    )


@app.command()
def sources(
    db: DbOption = DEFAULT_DB,
    at: AtOption = None,
    budget: BudgetOption = None,
    config: SilenceConfigOption = None,
    format: Annotated[AlertFormat | None, typer.Option("--format", help="table (on a terminal), jsonl, csv")] = None,
) -> None:
    """The inventory of log sources: each one's rhythm, how fast a stop would be told, its state."""
    from logwarden.outputs.silence import write_csv, write_jsonl, write_source_table

    result, _ = _judge_silence(db, at, budget, config, False, None)
    chosen = _alert_format(format)
    if chosen is AlertFormat.jsonl:
        write_jsonl(sys.stdout, result.sources)
    elif chosen is AlertFormat.csv:
        write_csv(sys.stdout, result.sources, sources=True)
    else:
        write_source_table(out, result.sources)


@app.command()
def report(
    db: DbOption = DEFAULT_DB,
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    at: AtOption = None,
    budget: BudgetOption = None,
    config: SilenceConfigOption = None,
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
) -> None:
    """One self-contained HTML file: the verdict, every source's timeline with its silences and
    the tamper events behind them, the alerts with their records, the ingest ledger and the
    rule pack's coverage. Opens offline."""
    _write_report(db, out_file, at, budget, config, rules, builtin)


def _write_report(
    db: Path,
    out_file: Path,
    at: str | None = None,
    budget: str | None = None,
    config: Path | None = None,
    rules: list[Path] | None = None,
    builtin: bool = True,
) -> None:
    from logwarden.detectors.investigation import investigate
    from logwarden.outputs.report import write_report

    settings = _silence_config(config, budget)
    compiled = _load_rules(rules, None, builtin)
    with _open_existing(db) as case:
        moment = _moment(case, at)
        with _working("Hunting, and judging every source..."):
            found = investigate(case, compiled, settings, moment)
    write_report(found, out_file)
    blind = len(found.blind)
    err.print(
        f"{out_file}: {len(found.findings):,} tamper alerts, {blind:,} sources impaired, "
        f"{len(found.rows):,} sources on the timeline, as of {found.at:%Y-%m-%d %H:%M}Z"
    )


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="A new or empty folder for the demo.")] = Path(
        "logwarden-demo"
    ),
    days: Annotated[int, typer.Option(help="Days of logs (at least 7).")] = 14,
    seed: Annotated[int, typer.Option(help="Another seed, another tenant history.")] = 1,
) -> None:
    """A made-up tenant, end to end: writes its exports in the real formats (two weeks of routine
    work, look-alikes of tampering, and a scripted intrusion that switches logging off; the story
    is in docs/demo.md), then ingests them, hunts, judges every source's silence and writes the
    report. OUT/exports/, OUT/case.duckdb, OUT/report.html."""
    from logwarden.synthetic.tenant import write_tenant

    exports, db, report_file = out_dir / "exports", out_dir / "case.duckdb", out_dir / "report.html"
    if db.exists() or (exports.exists() and any(exports.iterdir())):
        err.print(Text(f"{out_dir} already holds a demo: give another --out, or delete it"))
        raise typer.Exit(2)
    try:
        with _working("Writing the demo tenant's exports..."):
            tenant = write_tenant(exports, days=days, seed=seed)
    except ValueError as exc:
        err.print(Text(str(exc)))
        raise typer.Exit(2) from exc
    err.print(Text(f"{exports}: {tenant.records:,} records in {len(tenant.files):,} files"))
    with open_case(db) as case:
        progress = RichProgressDisplay(err) if err.is_terminal else None
        with Ingestor(case, IngestOptions(), progress) as ingestor:
            ingested = ingestor.ingest([exports])
    err.print(Text(f"{db}: {ingested.stored:,} records stored, {ingested.rejected:,} rejected"))
    _write_report(db, report_file, at=tenant.end.isoformat())
    out.print(Text(f"Open {report_file} in a browser. What happened in this tenant: docs/demo.md."))


rules_app = typer.Typer(help="The Sigma rules logwarden runs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(posture_app, name="posture")


@rules_app.command("list")
def rules_list(
    rules: RulesOption = None, builtin: BuiltinOption = True, placeholders: PlaceholdersOption = None
) -> None:
    """Every rule: id, level, table and title."""
    for rule in _load_rules(rules, placeholders, builtin):
        state = rule.table or ("correlation" if rule.query else "ERROR")
        out.print(Text(f"{rule.id}  {rule.level:<13} {state:<16} {rule.title}"), soft_wrap=True)


@rules_app.command("check")
def rules_check(
    rules: RulesOption = None, builtin: BuiltinOption = True, placeholders: PlaceholdersOption = None
) -> None:
    """Compile every rule; name each one that cannot run, and why. Exit 1 if any cannot."""
    compiled = _load_rules(rules, placeholders, builtin)
    bad = [r for r in compiled if r.error]
    for rule in bad:
        out.print(Text(f"{rule.source}: {rule.title or rule.id}: {rule.error}"), soft_wrap=True)
    out.print(f"{len(compiled) - len(bad):,} rules compile, {len(bad):,} do not")
    raise typer.Exit(1 if bad else 0)


@rules_app.command("show")
def rules_show(
    rule_id: str, rules: RulesOption = None, builtin: BuiltinOption = True, placeholders: PlaceholdersOption = None
) -> None:
    """One rule: its source file, table and the SQL it runs (values shown as bound parameters)."""
    from logwarden.detectors.sigma.compiler import link

    for rule in _load_rules(rules, placeholders, builtin):
        if rule.id == rule_id or rule.title == rule_id:
            out.print(Text(f"{rule.title}\nid: {rule.id}\nlevel: {rule.level}\ntags: {' '.join(rule.tags)}"))
            out.print(Text(f"source: {rule.source}\ntable: {rule.table}"))
            if rule.predicate:
                sql = link(rule.predicate.sql)
                out.print(Text(f"WHERE {sql}\nparameters: {rule.predicate.params!r}"))
            if rule.query:
                out.print(Text(f"{rule.query.sql}\nparameters: {rule.query.params!r}"))
            if rule.error:
                out.print(Text(f"error: {rule.error}"))
            return
    err.print(Text(f"no rule with id or title {rule_id!r}"))
    raise typer.Exit(2)


class CoverageFormat(StrEnum):
    table = "table"
    markdown = "markdown"


@rules_app.command("coverage")
def rules_coverage(
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    format: Annotated[CoverageFormat, typer.Option("--format", help="table or markdown")] = CoverageFormat.table,
) -> None:
    """The tamper catalogue: per behaviour, the rules covering it (with their test cases) and the
    public rule sets that do."""
    from logwarden.detectors.sigma.coverage import coverage
    from logwarden.outputs.coverage import coverage_markdown, render_coverage

    items = coverage(_load_rules(rules, None, builtin))
    if format is CoverageFormat.markdown:
        sys.stdout.write(coverage_markdown(items))
    else:
        render_coverage(out, items)


export_app = typer.Typer(help="The detections for Microsoft Sentinel.", no_args_is_help=True)
app.add_typer(export_app, name="export")


class SentinelFormat(StrEnum):
    yaml = "yaml"
    arm = "arm"
    both = "both"


def _analytic_rules(rules: list[Path] | None, placeholders: Path | None, builtin: bool) -> Any:
    from logwarden.detectors.sentinel.analytics import export

    return export(_rule_paths(rules, builtin), _placeholders(placeholders))


@export_app.command("sentinel")
def export_sentinel(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the rule files and the ARM template.")] = Path(
        "sentinel"
    ),
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    placeholders: PlaceholdersOption = None,
    format: Annotated[
        SentinelFormat, typer.Option("--format", help="yaml (one analytic rule per file), arm (one template), both")
    ] = SentinelFormat.both,
    silence: Annotated[
        bool, typer.Option("--silence", help="Also the silence watch, with thresholds learned from --db.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    at: AtOption = None,
    budget: BudgetOption = None,
    config: SilenceConfigOption = None,
    posture: PostureOption = None,
) -> None:
    """Sigma rules (the built-in pack and --rules) as Sentinel scheduled analytic rules: one YAML
    file per rule in the Azure-Sentinel repository's format, an ARM template deploying them all
    (`az deployment group create --template-file azuredeploy.json --parameters workspace=NAME`),
    and a page per rule with its test events."""
    from logwarden.outputs.sentinel import write_sentinel

    found = _analytic_rules(rules, placeholders, builtin)
    chosen = list(found.rules)
    if silence:
        from logwarden.detectors.silence.watch import watch_rules

        judgement, settings = _judge_silence(db, at, budget, config, False, None, posture)
        watch, left_out = watch_rules(judgement, settings)
        for reason in left_out:
            err.print(Text(f"silence watch leaves out {reason}"), style="yellow")
        if not watch:
            err.print("The case has no source the silence watch can follow.")
        chosen += watch
    written = write_sentinel(
        chosen,
        out_dir,
        yaml_files=format is not SentinelFormat.arm,
        arm=format is not SentinelFormat.yaml,
    )
    for skipped in found.skipped:
        err.print(Text(f"not exported: {skipped.source}: {skipped.title}: {skipped.reason}"), style="yellow")
    summary = f"{len(chosen):,} analytic rules, {len(found.skipped):,} rules not exported"
    err.print(Text(f"{summary}; {len(written):,} files in {out_dir}"))


@export_app.command("kql")
def export_kql(
    rule_id: Annotated[str, typer.Argument(help="The rule's id or title.")],
    rules: RulesOption = None,
    builtin: BuiltinOption = True,
    placeholders: PlaceholdersOption = None,
) -> None:
    """One rule's KQL query, as the Sentinel export writes it."""
    found = _analytic_rules(rules, placeholders, builtin)
    for rule in found.rules:
        if rule_id in (rule.id, rule.name):
            sys.stdout.write(rule.query + "\n")
            return
    for skipped in found.skipped:
        if rule_id in (skipped.id, skipped.title):
            err.print(Text(f"{skipped.source}: {skipped.title}: not exported: {skipped.reason}"))
            raise typer.Exit(1)
    err.print(Text(f"no exported rule with id or title {rule_id!r}"))
    raise typer.Exit(2)


def main() -> None:
    app()
