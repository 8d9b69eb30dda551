"""The demo tenant (logwarden.synthetic.tenant) end to end, as `logwarden demo` runs it: its
exports ingest without a reject, the rule pack alerts every intrusion step and nothing else,
and the silence watch finds the sources the intrusion blinded, with the steps as causes.

The exports are generated, not collected: see docs/demo.md for what they hold. The end-to-end
tests share one tenant (about 50,000 records): generating, ingesting and judging it takes
10-20 s, so they are marked slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import logwarden
from logwarden.detectors.sigma.hunt import Alert, hunt
from logwarden.detectors.sigma.rules import CompiledRule, load
from logwarden.detectors.silence.config import SilenceConfig
from logwarden.detectors.silence.explain import causes_from
from logwarden.detectors.silence.judge import Judgement, SilenceAlert
from logwarden.detectors.silence.judge import judge as judge_silence
from logwarden.detectors.silence.sources import observe
from logwarden.ingest import IngestOptions, Ingestor, IngestReport, open_case
from logwarden.store.database import CaseDatabase
from logwarden.synthetic.tenant import Step, Tenant, write_tenant

PACK = Path(logwarden.__file__).parent / "rules" / "pack"
# A Friday: the intrusion is on the Tuesday evening before, after ten days of history.
END = datetime(2026, 11, 27, 12, tzinfo=UTC)
# An ARM operation is alerted at its outcome, which is logged seconds after it started.
SAME_MOMENT = timedelta(seconds=10)
HOUR = timedelta(hours=1)


@dataclass
class Demo:
    tenant: Tenant
    case: CaseDatabase
    report: IngestReport
    rules: list[CompiledRule]
    alerts: list[Alert]
    judgement: Judgement


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("demo")
    tenant = write_tenant(root / "exports", seed=1, end=END)
    case = open_case(root / "case.duckdb")
    with Ingestor(case, IngestOptions()) as ingestor:
        report = ingestor.ingest([tenant.out])
    rules = load([PACK])
    alerts = list(hunt(case, rules))
    judgement = judge_silence(observe(case, tenant.end), tenant.end, SilenceConfig(), causes_from(alerts, rules))
    yield Demo(tenant, case, report, rules, alerts, judgement)
    case.close()


def _catalogue(demo: Demo, alert: Alert) -> tuple[str, ...]:
    return next(r.catalogue for r in demo.rules if r.id == alert.rule_id)


def _alerted(demo: Demo, step: Step) -> list[Alert]:
    return [a for a in demo.alerts if step.catalogue in _catalogue(demo, a) and abs(a.time - step.at) <= SAME_MOMENT]


def _covering(demo: Demo, source: str, state: str) -> list[SilenceAlert]:
    return [a for a in demo.judgement.alerts if a.state == state and (a.source == source or source in a.covers)]


@pytest.mark.slow
def test_every_record_is_stored_in_its_format(demo: Demo) -> None:
    assert demo.report.rejected == 0 and demo.report.ok
    assert demo.report.stored == demo.tenant.records
    assert 40_000 < demo.tenant.records < 150_000
    formats = {}
    for table, count in demo.tenant.tables.items():
        assert demo.case.run(f'SELECT count(*) FROM "{table}"') == [(count,)], table
        formats[table] = {f for (f,) in demo.case.run(f'SELECT DISTINCT _Format FROM "{table}"')}
    assert formats == {"AzureActivity": {"a"}, "AuditLogs": {"d1"}, "SigninLogs": {"c"}, "OfficeActivity": {"e1", "e2"}}
    containers = {c for (c,) in demo.case.run("SELECT DISTINCT Container FROM IngestFiles")}
    assert containers == {"avro", "jsonl", "json", "csv"}
    assert len(demo.tenant.files) == demo.case.run("SELECT count(*) FROM IngestFiles")[0][0]


@pytest.mark.slow
def test_the_records_lie_in_the_window_around_the_intrusion(demo: Demo) -> None:
    tenant = demo.tenant
    for table in tenant.tables:
        ((first, last),) = demo.case.run(f'SELECT min(TimeGenerated), max(TimeGenerated) FROM "{table}"')
        assert tenant.start <= first and last < tenant.end, table
    steps = [s.at for s in tenant.intrusion]
    assert steps == sorted(steps)
    # Three days before the end, with at least the 72 hours of history the silence watch learns from.
    assert timedelta(days=2) < tenant.end - steps[0] < timedelta(days=4)
    assert steps[0] - tenant.start > timedelta(hours=72)
    assert all(tenant.start < s.at < steps[0] for s in tenant.look_alikes)


@pytest.mark.slow
def test_every_intrusion_step_is_alerted_by_its_rule(demo: Demo) -> None:
    rules = {r.id: r for r in demo.rules}
    for step in demo.tenant.intrusion:
        found = _alerted(demo, step)
        assert len(found) == 1, f"{step.catalogue} {step.operation}: {[a.title for a in found]}"
        alert = found[0]
        assert (alert.actor, alert.ip) == (step.actor, step.ip), step.operation
        # At the rule's level: the operation succeeded, it was not merely attempted.
        assert alert.level == rules[alert.rule_id].level, step.operation


@pytest.mark.slow
def test_nothing_else_is_alerted_and_no_look_alike(demo: Demo) -> None:
    for step in demo.tenant.look_alikes:
        near = [a.title for a in demo.alerts if abs(a.time - step.at) <= timedelta(minutes=10)]
        assert near == [], f"look-alike {step.action}: {near}"
    assert len(demo.alerts) == len(demo.tenant.intrusion), [a.title for a in demo.alerts]


@pytest.mark.slow
def test_the_blinded_sources_go_silent_with_the_intrusion_as_cause(demo: Demo) -> None:
    tenant = demo.tenant
    steps = {s.catalogue: s for s in tenant.intrusion}
    states = {s.id: s.state for s in demo.judgement.sources}
    prod = f"activity:{tenant.subscriptions['prod']}"
    assert prod in tenant.silent
    for source in tenant.silent:
        assert states.get(source) == "SILENT", source
        ongoing = [a for a in _covering(demo, source, "SILENT") if a.end is None]
        assert len(ongoing) == 1, source
        silence = ongoing[0]
        assert silence.level == "critical", source
        # The prod subscription's export was deleted (A1); the unified audit log switched off (K1).
        step = steps["A1" if source == prod else "K1"]
        assert silence.start is not None and step.at <= silence.start < step.at + HOUR, source
        assert any(
            step.catalogue in c.catalogue and c.actor == step.actor and abs(c.time - step.at) <= SAME_MOMENT
            for c in silence.causes
        ), f"{source}: {[c.catalogue for c in silence.causes]}"


@pytest.mark.slow
def test_the_capped_sign_in_export_thins_out_from_the_cap(demo: Demo) -> None:
    cap = next(s for s in demo.tenant.intrusion if s.catalogue == "B3")
    for source in demo.tenant.thinned:
        # The cap bites at once: the day's quota was already spent when it was set, at night.
        from_the_cap = [
            a for a in _covering(demo, source, "THINNED") if a.start and cap.at - SAME_MOMENT <= a.start < cap.at + HOUR
        ]
        assert len(from_the_cap) == 1, source
        causes = from_the_cap[0].causes
        assert any("B3" in c.catalogue and c.actor == cap.actor for c in causes), [c.catalogue for c in causes]


def _blinded(tenant: Tenant, source: str) -> bool:
    """Whether the intrusion blinded this source, a part of it, or the table it belongs to."""
    prod = tenant.subscriptions["prod"]
    parts = (f"activity_provider:{prod}/", "ual_record:", "table:OfficeActivity", "table:SigninLogs")
    return source in tenant.silent or source in tenant.thinned or source.startswith(parts)


@pytest.mark.slow
def test_no_false_alarm_outside_the_intrusion(demo: Demo) -> None:
    tenant = demo.tenant
    first = tenant.intrusion[0].at

    def intrusion(alert: SilenceAlert) -> bool:
        return _blinded(tenant, alert.source) and alert.start is not None and alert.start >= first

    outside = [a for a in demo.judgement.alerts if a.state in ("SILENT", "THINNED") and not intrusion(a)]
    # A provider quiet while its subscription kept logging is reported at low, as a workload
    # change: information, not an alarm.
    alarms = [a for a in outside if a.level != "low"]
    assert [f"{a.state} {a.source} {a.start}" for a in alarms] == []
    assert all("kept logging meanwhile" in a.note for a in outside if a.level == "low")


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    end = datetime(2026, 11, 20, 6, tzinfo=UTC)
    one = write_tenant(tmp_path / "one", days=7, seed=3, end=end, scale=0.2)
    two = write_tenant(tmp_path / "two", days=7, seed=3, end=end, scale=0.2)
    assert [p.relative_to(one.out) for p in one.files] == [p.relative_to(two.out) for p in two.files]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one.files, two.files, strict=True))
    other = write_tenant(tmp_path / "other", days=7, seed=4, end=end, scale=0.2)
    assert other.records != one.records
    assert (one.start, one.end) == (end - timedelta(days=7), end)


@pytest.mark.parametrize(
    ("days", "end", "scale"),
    [(6, END, 1.0), (14, datetime(2026, 11, 27, 12), 1.0), (14, END, 0.0)],
    ids=["too-short", "naive-end", "no-scale"],
)
def test_refuses_what_it_cannot_write(tmp_path: Path, days: int, end: datetime, scale: float) -> None:
    with pytest.raises(ValueError):
        write_tenant(tmp_path, days=days, end=end, scale=scale)


def test_never_writes_over_other_files(tmp_path: Path) -> None:
    (tmp_path / "evidence.json").write_text("[]")
    with pytest.raises(FileExistsError):
        write_tenant(tmp_path, end=END)
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.json"]
