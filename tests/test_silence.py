"""The silence watch: configuration, explanation by tamper alerts, calendars, maintenance,
groups, lateness, the CLI, and the real two-month Exchange sample.

The synthetic cases here are simulation data (logwarden.synthetic.streams), stored with a
ledger entry that says so; the statistics of detection delays and false alarms are in
test_silence_simulation.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import SHARED_DATA
from logwarden.cli import app
from logwarden.detectors.silence.config import (
    ConfigError,
    Group,
    Maintenance,
    SilenceConfig,
    glob,
    load_config,
    parse_budget,
    parse_duration,
)
from logwarden.detectors.silence.explain import Cause, explain
from logwarden.detectors.silence.judge import Judgement, judge
from logwarden.detectors.silence.sources import newest, observe
from logwarden.ingest import IngestOptions, Ingestor, open_case
from logwarden.store.database import CaseDatabase
from logwarden.synthetic.streams import RHYTHMS, Stop, event_times, write_activity

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
END = START + timedelta(weeks=4)
STOP = START + timedelta(weeks=3, days=2, hours=10, minutes=7)
STOPPED = "0b1c2d3e-0000-4000-8000-000000000001"
STEADY = "0b1c2d3e-0000-4000-8000-000000000002"
LAGGING = "0b1c2d3e-0000-4000-8000-000000000003"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseDatabase]:
    """Three busy subscriptions over four weeks: one stops for good, one keeps going, one
    keeps going but its records arrive hours late for a day."""
    rng = np.random.default_rng(7)
    busy = RHYTHMS["busy"]
    streams = {
        STOPPED: event_times(busy, START, END, rng, stops=(Stop(STOP),)),
        STEADY: event_times(busy, START, END, rng),
        LAGGING: event_times(busy, START, END, rng),
    }
    lag = rng.uniform(20, 60, len(streams[LAGGING]))
    late = (streams[LAGGING] >= (STOP - timedelta(days=1)).timestamp()) & (streams[LAGGING] < STOP.timestamp())
    lag[late] = 4 * 3600.0
    db = open_case(tmp_path_factory.mktemp("silence") / "case.duckdb")
    write_activity(db, streams, lag_s={LAGGING: lag})
    yield db
    db.close()


def _judge(case: CaseDatabase, config: SilenceConfig | None = None, causes: tuple[Cause, ...] = ()) -> Judgement:
    return judge(observe(case, END), END, config or SilenceConfig(), causes)


def _silent(result: Judgement, sub: str) -> list[object]:
    return [a for a in result.alerts if a.state == "SILENT" and a.source == f"activity:{sub}"]


def test_a_stopped_subscription_is_silent_once_and_ongoing(case: CaseDatabase) -> None:
    result = _judge(case)
    (alert,) = _silent(result, STOPPED)
    assert alert.end is None and alert.start is not None and alert.detected is not None
    assert alert.start <= STOP and alert.detected - STOP < timedelta(minutes=20)
    assert alert.level == "high" and not alert.causes
    assert "expected" in alert.evidence and "alpha=" in alert.evidence
    # The steady one may show the odd short improbable gap (the budget allows about one per
    # source over these four weeks), never a lasting silence.
    assert all(a.end is not None and a.end - a.start < timedelta(hours=1) for a in _silent(result, STEADY))
    states = {s.id: s.state for s in result.sources}
    assert states[f"activity:{STOPPED}"] == "SILENT" and states[f"activity:{STEADY}"] == "OK"


def test_a_tamper_alert_on_that_subscription_explains_it_and_raises_it(case: CaseDatabase) -> None:
    deleted = Cause(
        "rule-a1",
        "Activity Log diagnostic setting deleted",
        "high",
        STOP - timedelta(minutes=2),
        "mallory@contoso.example",
        f"/subscriptions/{STOPPED}/providers/microsoft.insights/diagnosticSettings/toLA",
        ("A1",),
    )
    elsewhere = Cause(
        "rule-a1", "Activity Log diagnostic setting deleted", "high", STOP, "mallory@contoso.example",
        "/subscriptions/11111111-2222-4333-8444-555555555555/providers/microsoft.insights/diagnosticSettings/x",
        ("A1",),
    )  # fmt: skip
    ual_off = Cause("rule-k1", "UAL off", "critical", STOP, "mallory", None, ("K1",))
    result = _judge(case, causes=(deleted, elsewhere, ual_off))
    (alert,) = _silent(result, STOPPED)
    assert alert.causes == (deleted,)
    assert alert.level == "critical"


def test_explanation_matches_scope_kind_and_time() -> None:
    t = datetime(2026, 1, 1, 12, tzinfo=UTC)
    sub = "0b1c2d3e-0000-4000-8000-0000000000aa"
    a1 = Cause("r", "diag deleted", "high", t, None, f"/SUBSCRIPTIONS/{sub.upper()}/providers/x", ("A1",))
    k1 = Cause("r", "UAL off", "high", t, None, None, ("K1",))
    purge = Cause("r", "workspace purge", "high", t, None, "/subscriptions/other/x", ("B2",))
    alerting = Cause("r", "alert rule deleted", "high", t, None, None, ("D1",))
    causes = (a1, k1, purge, alerting)
    window = (t + timedelta(hours=1), t + timedelta(hours=5), timedelta(hours=6))
    assert explain(causes, "activity", f"activity:{sub}", *window) == (a1, purge)
    assert explain(causes, "activity_provider", f"activity_provider:{sub}/MICROSOFT.COMPUTE", *window) == (a1, purge)
    assert explain(causes, "activity", "activity:0b1c2d3e-0000-4000-8000-0000000000bb", *window) == (purge,)
    assert explain(causes, "ual", "ual:contoso/Exchange", *window) == (k1, purge)
    # Too long before the gap, or after it: not the cause.
    late = (t - timedelta(hours=8), t - timedelta(hours=7), timedelta(hours=6))
    assert explain(causes, "ual", "ual:contoso/Exchange", *late) == ()
    early = (t + timedelta(hours=7), t + timedelta(hours=9), timedelta(hours=6))
    assert explain(causes, "ual", "ual:contoso/Exchange", *early) == ()


def test_a_maintenance_window_suppresses_only_what_lies_inside_it(case: CaseDatabase) -> None:
    inside = Maintenance(STOP - timedelta(hours=1), END, "migration", "j.doe", (glob("activity:*"),), ("activity:*",))
    result = _judge(case, SilenceConfig(maintenance=(inside,)))
    (alert,) = _silent(result, STOPPED)
    assert alert.suppressed and "j.doe" in alert.note and "migration" in alert.note
    # A window that ends before the silence does: the silence began inside but went on.
    short = Maintenance(STOP - timedelta(hours=1), STOP + timedelta(hours=2), "x", "y", (glob("*"),), ("*",))
    (alert,) = _silent(_judge(case, SilenceConfig(maintenance=(short,))), STOPPED)
    assert not alert.suppressed


def test_a_redundant_path_that_kept_speaking_keeps_the_member_quiet(case: CaseDatabase) -> None:
    group = Group("two exports", (f"activity:{STOPPED}", f"activity:{STEADY}"))
    assert not _silent(_judge(case, SilenceConfig(groups=(group,))), STOPPED)


def test_an_expected_source_never_seen_is_reported(case: CaseDatabase) -> None:
    config = SilenceConfig(expected=("ual:*", f"activity:{STEADY}"), source="silence.toml")
    never = [a for a in _judge(case, config).alerts if a.state == "NEVER_SEEN"]
    assert [a.source for a in never] == ["ual:*"]
    assert "silence.toml" in never[0].evidence


def test_hours_of_lag_far_above_the_usual_are_late(case: CaseDatabase) -> None:
    result = _judge(case)
    late = [a for a in result.alerts if a.state == "LATE"]
    assert [a.source for a in late] == [f"activity:{LAGGING}"]
    (alert,) = late
    assert alert.start is not None and alert.end is not None
    assert abs(alert.start - (STOP - timedelta(days=1))) <= timedelta(hours=1)
    assert abs(alert.end - STOP) <= timedelta(hours=1)
    assert "usual lag" in alert.evidence
    # A live watcher saw no arrivals for hours, but the events came: back-filled, not lost.
    (filled,) = [a for a in _silent(result, LAGGING) if a.backfilled]
    assert filled.level == "low" and filled.start is not None and filled.start >= STOP - timedelta(days=1, hours=1)


def test_judging_earlier_sees_only_what_had_arrived(case: CaseDatabase) -> None:
    before = STOP - timedelta(hours=2)
    result = judge(observe(case, before), before, SilenceConfig())
    assert not _silent(result, STOPPED)
    assert newest(case) is not None and newest(case) <= END  # type: ignore[operator]


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "silence.toml"
    path.write_text(
        """
budget = "2/day"
thinned_ratio = 0.5
[classes.activity]
max_delay = "6h"
latency = "2m"
[[expected]]
source = "activity:abc"
[[groups]]
name = "pair"
members = ["activity:a", "activity:b"]
[[schedules]]
sources = ["ual:*"]
days = "mon-fri"
hours = "08:00-18:00"
timezone = "Europe/Berlin"
holidays = [2026-12-25]
[[maintenance]]
start = 2026-05-01T00:00:00Z
end = 2026-05-01T06:00:00Z
reason = "migration"
author = "j.doe"
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.budget_per_day == 2 and config.thinned_ratio == 0.5
    assert config.limits("activity").max_delay == timedelta(hours=6)
    assert config.limits("ual").latency == timedelta(hours=24)  # the unified audit log's default
    assert config.expected == ("activity:abc",) and config.groups[0].members == ("activity:a", "activity:b")
    (schedule,) = config.schedules
    assert schedule.covers("ual:contoso/Exchange") and not schedule.covers("activity:x")
    monday_9_berlin = datetime(2026, 5, 4, 7, tzinfo=UTC)
    christmas = datetime(2026, 12, 25, 9, tzinfo=UTC)
    assert schedule.on([monday_9_berlin, monday_9_berlin.replace(hour=20), christmas]) == [True, False, False]
    assert config.maintenance[0].covers("anything")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('budget = "often"', "not a budget"),
        ("[[maintenance]]\nstart = 2026-05-01T00:00:00Z\nend = 2026-05-01T06:00:00Z\nreason = 'x'", "author"),
        (
            "[[maintenance]]\nstart = 2026-05-01T00:00:00\nend = 2026-05-02T00:00:00\nreason='x'\nauthor='y'",
            "time zone",
        ),
        ("[[schedules]]\ndays = 'someday'", "days"),
        ("colour = 'blue'", "unknown setting"),
        ("budget = ", "cannot read"),
    ],
)
def test_bad_config_names_the_file_and_the_fault(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_durations_and_budgets() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_budget("1/week") == pytest.approx(1 / 7)
    assert parse_budget("3/month") == pytest.approx(0.1)
    for bad in ("", "5", "1h 2x"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert glob("activity:*").fullmatch("activity:a.b") and not glob("activity:a.b").fullmatch("activity:aXb")


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exchange") / "case.duckdb"
    with open_case(path) as db, Ingestor(db, IngestOptions()) as ingestor:
        ingestor.ingest([SHARED_DATA / "m365" / "msticpy_demo_exchange_data.csv"])
    return path


def test_the_real_exchange_sample(exchange: Path) -> None:
    """Two months of one tenant's Exchange admin activity (1,334 records, 2020-03-24 to
    2020-05-22). The export has no tenant or workload column, so it is one source.

    Its rhythm: admin work in sessions (a cmdlet writes a dozen records within seconds, one
    arrival; arrivals themselves come a couple at a time), with natural gaps of up to 5.4
    days. A stop would be told after about a day at a typical hour, so it is watched. Two
    things are reported, and nothing else:
    - the 5.4-day silence from 9 to 15 April: the longest of the two months by far, with no
      gap of its size before or after it (the gaps of one to three days recur, so they are
      the source's rhythm and not reported), about 1 in 400 million by the rest of its rhythm;
    - 6 to 8 May, 50 hours at 12% of the usual volume (8 records where 67 were expected), a
      quiet spell among busy weeks.
    Two over 8.4 weeks, within the default budget of one false alarm a week.
    """
    with CaseDatabase(exchange, read_only=True) as db:
        at = newest(db)
        assert at is not None
        result = judge(observe(db, at), at, SilenceConfig())
    (state,) = result.sources
    assert state.id == "ual:(tenant)/?" and state.events == 1334 and state.state == "OK"
    assert state.arrivals_per_day < 0.5 * state.per_day  # a dozen records per cmdlet run
    assert state.typical_delay_h is not None and 12 < state.typical_delay_h < 48
    silent, thinned = (a for a in result.alerts if a.state in ("SILENT", "THINNED"))
    assert (silent.state, silent.start, silent.end) == (
        "SILENT",
        datetime(2020, 4, 9, 18, 15, 12, tzinfo=UTC),
        datetime(2020, 4, 15, 3, 13, 51, tzinfo=UTC),
    )
    assert silent.probability is not None and silent.threshold is not None
    assert silent.probability < 1e-6 < silent.threshold
    assert (thinned.state, thinned.start, thinned.end) == (
        "THINNED",
        datetime(2020, 5, 6, 3, tzinfo=UTC),
        datetime(2020, 5, 8, 5, tzinfo=UTC),
    )
    assert thinned.observed == 8 and thinned.expected is not None and 60 < thinned.expected < 75
    assert len([a for a in result.alerts if a.state != "TOO_QUIET"]) == 2


def test_cli_silence_and_sources(exchange: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["silence", "--db", str(exchange), "--format", "jsonl"])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert rows and {r["state"] for r in rows} <= {"SILENT", "THINNED"}
    assert all(r["source"] == "ual:(tenant)/?" and r["budget"] == "1/week" for r in rows)
    tight = runner.invoke(app, ["silence", "--db", str(exchange), "--format", "jsonl", "--budget", "1/month"])
    tight_rows = [json.loads(x) for x in tight.stdout.splitlines() if x.startswith("{")]
    alpha = {r["threshold"] for r in rows if r["state"] == "SILENT"}
    assert len(tight_rows) <= len(rows)
    assert all(r["threshold"] < min(alpha) for r in tight_rows if r["state"] == "SILENT")
    csv_out = runner.invoke(app, ["sources", "--db", str(exchange), "--format", "csv"])
    assert csv_out.exit_code == 0 and csv_out.stdout.splitlines()[0].startswith("id,kind,title,state")
    table = runner.invoke(app, ["silence", "--db", str(exchange), "--format", "table", "--no-explain"])
    assert table.exit_code == 0 and "Silence" in table.stdout
    bad = runner.invoke(app, ["silence", "--db", str(exchange), "--at", "yesterday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    missing = runner.invoke(app, ["sources", "--db", str(exchange.parent / "none.duckdb")])
    assert missing.exit_code == 2


def test_the_pack_explains_a_silence_end_to_end(tmp_path: Path) -> None:
    """A busy subscription (synthetic) goes quiet right after the rule pack's own hand-made
    A1 case deletes its Activity Log diagnostic setting: `silence` names that alert as the
    cause and makes the silence critical."""
    sub = "b7e4c2d1-5a3f-4e9b-8c7d-1f2e3a4b5c6d"
    deleted = datetime(2026, 3, 2, 10, 4, 17, tzinfo=UTC)
    fixture = (
        Path(__file__).resolve().parents[1]
        / "src/logwarden/rules/pack/diagnostic_settings/A1_activity_log_export_deleted/positive/deleted.json"
    )
    path = tmp_path / "case.duckdb"
    rng = np.random.default_rng(3)
    with open_case(path) as db:
        stream = event_times(RHYTHMS["busy"], deleted - timedelta(weeks=3), deleted + timedelta(days=1), rng,
                             stops=(Stop(deleted),))  # fmt: skip
        write_activity(db, {sub: stream})
        with Ingestor(db, IngestOptions()) as ingestor:
            assert ingestor.ingest([fixture]).ok
    # Every event in the case is older than the deletion, so "now" is given: a day later.
    at = (deleted + timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")
    done = CliRunner().invoke(app, ["silence", "--db", str(path), "--format", "jsonl", "--at", at])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    (silent,) = [r for r in rows if r["state"] == "SILENT" and r["source"] == f"activity:{sub}" and r["end"] is None]
    assert silent["level"] == "critical"
    (cause,) = silent["causes"]
    assert "A1" in cause["catalogue"] and cause["actor"] == "mallory@contoso.com"


def test_fields_from_logs_are_text_in_every_output() -> None:
    from io import StringIO

    from rich.console import Console

    from logwarden.detectors.silence.judge import SilenceAlert, SourceState
    from logwarden.outputs.silence import write_alert_table, write_csv, write_source_table

    key = '=HYPERLINK("http://x")[bold red]<script>'
    when = datetime(2026, 1, 1, tzinfo=UTC)
    alert = SilenceAlert("SILENT", f"ual:{key}", "high", when, None, when, 20.0, 0.0, 1e-6, 1e-5, "gap", "1/week")
    state = SourceState(f"ual:{key}", "ual", "t", when, when, 5, 1.0, 1.0, "-", 1.0, None, None, None, "LEARNING")
    buffer = StringIO()
    write_csv(buffer, [alert])
    write_csv(buffer, [state], sources=True)
    assert ',"ual:=HYPERLINK' in buffer.getvalue()  # not at a cell start: a spreadsheet shows it as text
    plain = SourceState(key, "ual", "t", when, when, 5, 1.0, 1.0, "-", 1.0, None, None, None, "LEARNING")
    buffer = StringIO()
    write_csv(buffer, [plain], sources=True)
    assert "\n\"'=HYPERLINK" in buffer.getvalue()
    console = Console(file=StringIO(), width=300, color_system=None)
    write_alert_table(console, [alert], [])
    write_source_table(console, [state])
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "[bold red]<script>" in shown


@pytest.mark.parametrize(("days", "demoted"), [("mon", True), ("thu", False)])
def test_a_schedule_demotes_a_silence_only_outside_its_hours(case: CaseDatabase, days: str, demoted: bool) -> None:
    """The stop is on a Wednesday morning and lasts until the judgement on Monday 00:00 UTC.
    Watched on Mondays 08-18 only, none of the gap fell in watched hours: demoted, not dropped.
    Watched on Thursdays, the silence went on through a whole watched day: it stands."""
    toml = f'[[schedules]]\nsources = ["activity:*"]\ndays = "{days}"\nhours = "08:00-18:00"\n'
    path = Path(case.path).parent / f"schedule-{days}.toml"
    path.write_text(toml, encoding="utf-8")
    (alert,) = _silent(_judge(case, load_config(path)), STOPPED)
    assert alert.level == ("medium" if demoted else "high")
    assert ("outside the source's schedule" in alert.note) is demoted


def test_a_record_dated_after_the_ingest_does_not_move_now(tmp_path: Path) -> None:
    """Event times come from the logs: one record claiming 2099 must not make every source
    look silent until then."""
    rng = np.random.default_rng(11)
    times = event_times(RHYTHMS["busy"], START, START + timedelta(days=5), rng)
    future = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())
    with open_case(tmp_path / "case.duckdb") as db:
        write_activity(db, {STEADY: np.append(times, future)})
        assert newest(db) == datetime.fromtimestamp(int(times[-1]), UTC)


def test_a_narrower_silence_is_folded_only_into_the_same_gap() -> None:
    """A subscription's ongoing silence is listed under its table's alert when the table went
    silent with it, not under a short table gap that merely overlaps it."""
    from logwarden.detectors.silence.judge import SilenceAlert, _collapse

    def silent(source: str, start: datetime, end: datetime | None) -> SilenceAlert:
        return SilenceAlert("SILENT", source, "high", start, end, start, 20.0, 0.0, 1e-9, 1e-6, "gap", "1/week")

    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    parents: dict[str, str | None] = {f"activity:{STOPPED}": "table:AzureActivity", "table:AzureActivity": None}
    short = silent("table:AzureActivity", t + timedelta(hours=1), t + timedelta(hours=1, minutes=5))
    stopped = silent(f"activity:{STOPPED}", t, None)
    assert {a.source: a.covers for a in _collapse([short, stopped], parents)} == {
        "table:AzureActivity": (),
        f"activity:{STOPPED}": (),
    }
    whole = silent("table:AzureActivity", t + timedelta(minutes=2), None)
    (folded,) = _collapse([whole, stopped], parents)
    assert folded.source == "table:AzureActivity" and folded.covers == (f"activity:{STOPPED}",)


def test_sources_the_posture_settings_promise_are_expected(exchange: Path) -> None:
    """Hand-made posture exports (tests/fixtures/posture/hand) and the real ScubaGear settings:
    the subscription's Activity Log, Entra's audit and sign-in logs and a Key Vault's audit log
    are sent somewhere, so the case should hold them; it holds only the unified audit log."""
    hand = Path(__file__).parent / "fixtures" / "posture" / "hand"
    postures = ["--posture", str(hand), "--posture", str(SHARED_DATA / "config")]
    done = CliRunner().invoke(app, ["silence", "--db", str(exchange), "--format", "jsonl", "--no-explain", *postures])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    never = {r["source"]: r["evidence"] for r in rows if r["state"] == "NEVER_SEEN"}
    vault = "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/app-rg/providers/microsoft.keyvault"
    assert sorted(never) == [
        "activity:11111111-1111-1111-1111-111111111111",
        "entra:*",
        f"resource:{vault}/vaults/kv-prod/AuditEvent",
        "signin:*",
    ]
    assert never["activity:11111111-1111-1111-1111-111111111111"].startswith("diagnostic setting 'to-law' of")
    assert "5 sources expected from the posture settings" in done.output


def test_an_unreadable_posture_file_is_named_and_the_rest_still_counts(exchange: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    hand = Path(__file__).parent / "fixtures" / "posture" / "hand" / "az_diagnostic_settings_subscription_list.json"
    args = ["silence", "--db", str(exchange), "--format", "jsonl", "--no-explain"]
    done = CliRunner().invoke(app, [*args, "--posture", str(tmp_path / "broken.json"), "--posture", str(hand)])
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert f"posture: {tmp_path / 'broken.json'}: not JSON" in said
    assert "1 sources expected from the posture settings" in said
