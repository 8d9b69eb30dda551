"""Formats with no public sample, read from hand-made fixtures (tests/fixtures/handmade).

The fixtures were written from ../shared/reference/formats.md, not exported from a
tenant; expected.json gives, for specific records, the Sentinel column values a
correct normaliser produces.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from conftest import HANDMADE, IngestFn, rows
from logwarden.store.database import CaseDatabase

CHECKS: list[dict[str, Any]] = json.loads((HANDMADE / "expected.json").read_text(encoding="utf-8"))


def _value(case: CaseDatabase, table: str, column: str, where: dict[str, str]) -> Any:
    if column.startswith("Parameters."):
        expr, params = "lw_param(Parameters, ?)", [column.split(".", 1)[1]]
    elif "." in column:
        top, rest = column.split(".", 1)
        expr, params = f'"{top}" ->> ?', ["$." + rest]
    else:
        expr, params = f'"{column}"', []
    cond = " AND ".join(f'"{k}" = ?' for k in where)
    got = case.con.execute(f'SELECT {expr} FROM "{table}" WHERE {cond}', params + list(where.values())).fetchall()
    assert len(got) == 1, f"{where} selects {len(got)} rows"
    return got[0][0]


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


@pytest.mark.parametrize(
    "check",
    CHECKS,
    ids=lambda c: f"{c['file'].split('/')[-1]}:{json.dumps(c.get('record', {}).get('where'))}",
)
def test_handmade_record(ingest: IngestFn, case: CaseDatabase, check: dict[str, Any]) -> None:
    report = ingest(HANDMADE / check["file"])
    (result,) = report.files
    if check.get("error") == "ambiguous":
        assert result.stored == 0
        assert dict(result.reasons) == {"ambiguous-date": check["count"]}
        assert "--date-order" in result.first_rejects[0][2]
        return
    assert result.rejected == 0, result.first_rejects
    assert result.stored == check["count"]
    assert {t for t, _ in result.counts} == {check["table"]}
    record = check["record"]
    for column, expected in record["expect"].items():
        got = _iso(_value(case, check["table"], column, record["where"]))
        assert got == expected, f"{column}: {got!r} != {expected!r}"


def test_ambiguous_dates_resolved_by_option(ingest: IngestFn, case: CaseDatabase) -> None:
    report = ingest(HANDMADE / "c_azureactivity_ambiguous_dates.csv", date_order="dmy")
    assert report.rejected == 0 and report.stored == 2
    times = [r["TimeGenerated"] for r in rows(case, "SELECT TimeGenerated FROM AzureActivity ORDER BY 1")]
    assert all(t.month == 4 and t.day == 3 for t in times)


def test_blob_tree_folder(ingest: IngestFn, case: CaseDatabase) -> None:
    report = ingest(HANDMADE / "a_blob_tree")
    assert [f.container for f in report.files] == ["jsonl", "json"]
    assert report.stored == 5 and report.rejected == 0
    # The old {"records": [...]} form keeps each record's index in the envelope.
    assert rows(case, "SELECT _Line, _Record FROM AzureActivity WHERE _Record IS NOT NULL ORDER BY _Record") == [
        {"_Line": None, "_Record": 1},
        {"_Line": None, "_Record": 2},
    ]


def test_every_handmade_file_is_checked() -> None:
    files = {p.relative_to(HANDMADE).as_posix() for p in HANDMADE.rglob("*") if p.is_file()}
    files -= {"README.md", "expected.json"}
    assert files == {c["file"] for c in CHECKS}
