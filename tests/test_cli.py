"""The command line as a user runs it: exit codes, summaries, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED_DATA
from logwarden.cli import app

runner = CliRunner(env={"COLUMNS": "250"})


def test_example_ingests_cleanly_and_prints_stats(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--example", "--db", str(tmp_path / "example.duckdb")])
    assert result.exit_code == 0, result.output
    assert "16 stored, 0 rejected" in result.output
    for heading in ("Tables", "Sources", "Files (read = stored + rejected)"):
        assert heading in result.output


def test_exit_code_one_when_anything_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"time": "2026-01-01T00:00:00Z", "operationName": "X/Y", "category": "Administrative"\n')
    result = runner.invoke(app, ["ingest", str(bad), "--db", str(tmp_path / "case.duckdb")])
    assert result.exit_code == 1
    assert "rejected" in result.output and "line 1" in result.output and "invalid-json" in result.output


def test_strict_stops_with_exit_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{oops\n")
    result = runner.invoke(app, ["ingest", str(bad), "--db", str(tmp_path / "case.duckdb"), "--strict"])
    assert result.exit_code == 1
    assert "stopped (--strict)" in result.output


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    assert runner.invoke(app, ["ingest", "--db", str(tmp_path / "c.duckdb")]).exit_code == 2
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "c.duckdb")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    no_db = runner.invoke(app, ["stats", "--db", str(tmp_path / "absent.duckdb")])
    assert no_db.exit_code == 2 and "no case database" in no_db.output


def test_stats_json_adds_up(tmp_path: Path) -> None:
    db = str(tmp_path / "case.duckdb")
    source = SHARED_DATA / "activity" if SHARED_DATA.exists() else None
    args = ["ingest", str(source), "--db", db] if source else ["ingest", "--example", "--db", db]
    runner.invoke(app, args)
    result = runner.invoke(app, ["stats", "--db", db, "--format", "json"])
    assert result.exit_code == 0
    stats = json.loads(result.output)
    for f in stats["files"]:
        assert f["read"] == f["stored"] + f["rejected"]
    assert sum(t["rows"] for t in stats["tables"]) == sum(f["stored"] for f in stats["files"])
    assert sum(r["records"] for r in stats["rejects"]) == sum(f["rejected"] for f in stats["files"])


def test_log_text_is_not_rich_markup(tmp_path: Path) -> None:
    # A caller-controlled value shaped like Rich markup must print as itself.
    f = tmp_path / "[bold red]evil[blink].json"
    f.write_text("{oops\n")
    result = runner.invoke(app, ["ingest", str(f), "--db", str(tmp_path / "case.duckdb")])
    assert "[bold red]evil[blink].json" in result.output


def test_a_blob_tree_lists_only_the_files_that_need_a_look(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    record = '{"time": "2026-01-01T%02d:00:00Z", "operationName": "X/Y/WRITE", "category": "Administrative"}\n'
    for hour in range(60):
        (tree / f"h={hour:02d}.json").write_text(record % (hour % 24) + " " * hour)
    (tree / "h=99.json").write_text(record % 0 + "{oops\n")
    db = str(tmp_path / "case.duckdb")
    result = runner.invoke(app, ["ingest", str(tree), "--db", db])
    assert result.exit_code == 1
    assert "h=99.json" in result.output and "h=00.json" not in result.output
    assert "60 more files" in result.output and "61 stored, 1 rejected" in result.output
    again = runner.invoke(app, ["ingest", str(tree), "--db", db])
    assert again.exit_code == 0 and "61 more files" in again.output and "skipped" in again.output
    assert "h=99.json" not in again.output


def test_progress_follows_reading_while_small_files_finish_later() -> None:
    import io

    from rich.console import Console

    from logwarden.ingest import FileResult
    from logwarden.outputs.console import RichProgressDisplay

    display = RichProgressDisplay(Console(file=io.StringIO(), force_terminal=True))
    display.start(total_files=2, total_bytes=300)
    display.file_started("a.json", 100)
    display.bytes_read(150)  # sniffing reads the start twice: never more than the file
    display.file_started("b.json", 200)
    display.bytes_read(50)
    task = display._bar.tasks[0]
    assert task.completed == 150 and task.fields["files"] == "0/2"
    display.file_done(FileResult("a.json", size=100))
    assert task.completed == 150 and task.fields["files"] == "1/2"
    display.bytes_read(150)
    display.file_done(FileResult("b.json", size=200))
    assert task.completed == 300 and task.fields["files"] == "2/2"


@pytest.mark.slow
def test_demo_is_the_readme_first_command(tmp_path: Path) -> None:
    """`logwarden demo`: the exports, the case and the report, and a second run into the same
    folder refused rather than mixed in."""
    out = tmp_path / "demo"
    done = runner.invoke(app, ["demo", "--out", str(out), "--days", "7"])
    assert done.exit_code == 0, done.output
    assert (out / "report.html").stat().st_size > 10_000
    assert any((out / "exports").rglob("PT1H.json")) and (out / "case.duckdb").exists()
    assert "0 rejected" in done.output
    again = runner.invoke(app, ["demo", "--out", str(out)])
    assert again.exit_code == 2 and "already holds a demo" in again.output
