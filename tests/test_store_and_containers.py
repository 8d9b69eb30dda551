"""The case database's guarantees (idempotent re-ingest, no half files, provenance) and
the containers an export arrives in (folders, .gz, .zip, UTF-16, BOM, envelopes)."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from conftest import HANDMADE, IngestFn, rows
from logwarden import ingest as ingest_module
from logwarden.formats.framing import documents, jsonl
from logwarden.ingest import Ingestor
from logwarden.store.database import CaseDatabase
from logwarden.synthetic.tenant import CAPTURE_SCHEMA

RECORD = {
    "time": "2026-03-02T10:15:56.3Z",
    "resourceId": "/SUBSCRIPTIONS/B7E4C2D1-5A3F-4E9B-8C7D-1F2E3A4B5C6D/RESOURCEGROUPS/RG"
    "/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV",
    "operationName": "MICROSOFT.KEYVAULT/VAULTS/WRITE",
    "category": "Write",
    "resultType": "Success",
}


def lines(n: int, start: int = 0) -> bytes:
    return b"".join(
        json.dumps({**RECORD, "correlationId": f"id-{i}"}).encode() + b"\n" for i in range(start, start + n)
    )


def count(case: CaseDatabase, table: str = "AzureActivity") -> int:
    return int(rows(case, f'SELECT count(*) AS n FROM "{table}"')[0]["n"])


def test_same_file_twice_stores_nothing_new(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    f = tmp_path / "PT1H.json"
    f.write_bytes(lines(5))
    ingest(f)
    again = ingest(f)
    assert again.files[0].status == "skipped" and again.stored == 0
    copy = tmp_path / "copy-elsewhere.json"  # same bytes under another name: found by hash
    copy.write_bytes(f.read_bytes())
    third = ingest(copy)
    assert third.files[0].status == "skipped" and "already ingested as file 1" in third.files[0].message
    assert count(case) == 5
    assert rows(case, "SELECT count(*) AS n FROM IngestFiles")[0]["n"] == 1


@pytest.mark.parametrize("grouped", [True, False], ids=["small-files-grouped", "one-file-at-a-time"])
def test_interrupted_ingest_leaves_no_half_file(
    tmp_path: Path, case: CaseDatabase, monkeypatch: pytest.MonkeyPatch, grouped: bool
) -> None:
    from logwarden.loader import LoaderPool

    if not grouped:
        monkeypatch.setattr(ingest_module, "SMALL_FILE_BYTES", 0)
    f = tmp_path / "PT1H.json"
    f.write_bytes(lines(3000))
    original = LoaderPool.submit
    calls = {"n": 0}

    def interrupt_on_second_batch(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jsonl, "BATCH_BYTES", 64 << 10)
    monkeypatch.setattr(LoaderPool, "submit", interrupt_on_second_batch)
    with Ingestor(case) as ingestor, pytest.raises(KeyboardInterrupt):
        ingestor.ingest([f])
    assert calls["n"] == 2
    assert count(case) == 0
    assert rows(case, 'SELECT count(*) AS n FROM lw."AzureActivity"')[0]["n"] == 0
    assert rows(case, "SELECT count(*) AS n FROM IngestFiles")[0]["n"] == 0
    monkeypatch.undo()
    with Ingestor(case) as ingestor:
        report = ingestor.ingest([f])
    assert report.stored == 3000 and count(case) == 3000


def test_small_files_stored_together_keep_their_own_accounts(
    tmp_path: Path, ingest: IngestFn, case: CaseDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A group closes every 250 rows here and groups are finished two at a time, so the folder
    # is stored in several groups and finished in several steps.
    monkeypatch.setattr(ingest_module, "GROUP_ROWS", 250)
    monkeypatch.setattr(ingest_module, "SETTLE_ROWS", 500)
    tree = tmp_path / "hours"
    tree.mkdir()
    for hour in range(12):
        (tree / f"h={hour:02d}.json").write_bytes(lines(40 + hour, start=1000 * hour))
    (tree / "h=03z-copy.json").write_bytes((tree / "h=03.json").read_bytes())
    (tree / "h=05.json").write_bytes(lines(10, 5000) + b"{broken\n" + lines(5, 5010))
    (tree / "h=07.json").write_bytes(b"")
    (tree / "h=08.json").write_bytes(lines(20, 8000) + b'{"time": "2026-03-02", "hello": 1}\n')
    report = ingest(tree)
    by_name = {Path(f.path).name: f for f in report.files}
    assert [Path(f.path).name for f in report.files] == sorted(by_name)  # input order
    assert by_name["h=03z-copy.json"].status == "skipped"
    assert f"already ingested as file {by_name['h=03.json'].file_id}" in by_name["h=03z-copy.json"].message
    assert (by_name["h=05.json"].stored, by_name["h=05.json"].rejected) == (15, 1)
    assert by_name["h=05.json"].status == "partial" and by_name["h=05.json"].first_rejects[0][0].line == 11
    assert by_name["h=07.json"].status == "empty"
    assert (by_name["h=08.json"].stored, by_name["h=08.json"].rejected) == (20, 1)
    assert by_name["h=11.json"].stored == 51 and by_name["h=11.json"].status == "stored"
    # What each file's result says is what the store and the ledger hold for it.
    stored = rows(
        case,
        "SELECT f.Path, f.RowsStored, f.RecordsRejected, (SELECT count(*) FROM AzureActivity a "
        "WHERE a._FileId = f.FileId) AS n, (SELECT sum(c.Rows) FROM IngestCounts c WHERE c.FileId = f.FileId) AS c "
        "FROM IngestFiles f",
    )
    assert len(stored) == 12  # the copy is only in the report
    for r in stored:
        result = by_name[Path(str(r["Path"])).name]
        assert r["n"] == r["RowsStored"] == result.stored == (r["c"] or 0)
        assert r["RecordsRejected"] == result.rejected
    assert count(case) == report.stored == sum(40 + h for h in range(12)) - 45 - 47 - 48 + 15 + 20


def test_a_small_gzip_that_expands_a_lot_is_read_on_its_own(
    tmp_path: Path, ingest: IngestFn, case: CaseDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scaled down: past 64 KB of text an input leaves its group (a gzip bomb would, at 32 MB).
    monkeypatch.setattr(ingest_module, "MAX_GROUPED_BYTES", 64 << 10)
    monkeypatch.setattr(jsonl, "BATCH_BYTES", 16 << 10)
    (tmp_path / "a.json").write_bytes(lines(5))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(lines(2000, 100) + b"{broken\n", 9))
    (tmp_path / "c.json").write_bytes(lines(5, 5000) + b"{broken\n")
    assert (tmp_path / "b.json.gz").stat().st_size < 64 << 10
    report = ingest(tmp_path)
    assert [(Path(f.path).name, f.stored, f.rejected, f.status) for f in report.files] == [
        ("a.json", 5, 0, "stored"),
        ("b.json.gz", 2000, 1, "partial"),
        ("c.json", 5, 1, "partial"),
    ]
    assert len({f.file_id for f in report.files}) == 3
    assert rows(case, "SELECT count(*) AS n FROM IngestRejects")[0]["n"] == 2
    assert rows(case, "SELECT count(*) AS n FROM IngestFiles")[0]["n"] == 3
    assert count(case) == 2010


@pytest.mark.parametrize(("limit", "value"), [("GROUP_BYTES", 2000), ("GROUP_FILES", 2)])
def test_groups_close_on_held_rejects_and_file_count(
    tmp_path: Path, ingest: IngestFn, monkeypatch: pytest.MonkeyPatch, limit: str, value: int
) -> None:
    # Rejects found while reading (here: lines that are not UTF-8) are held until the group is
    # stored; a folder of mostly garbage stores few rows, yet they must not grow without bound.
    monkeypatch.setattr(ingest_module, limit, value)
    submitted: list[int] = []
    original = Ingestor._submit

    def counting(self: Ingestor, group, storing):  # type: ignore[no-untyped-def]
        submitted.append(len(group.members))
        original(self, group, storing)

    monkeypatch.setattr(Ingestor, "_submit", counting)
    for k in range(5):
        junk = b"".join(b'{"bad": "\xc3\x28 %d %d"}\n' % (k, i) for i in range(10))
        (tmp_path / f"junk{k}.json").write_bytes(lines(1, k) + junk)
    report = ingest(tmp_path)
    assert (report.stored, report.rejected) == (5, 50)
    assert max(submitted) <= 2 and sum(submitted) == 5


def test_small_and_large_inputs_each_reported_once_in_order(
    tmp_path: Path, ingest: IngestFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "SMALL_FILE_BYTES", 4096)
    sizes = {"a.json": 2, "b.json": 3, "c.json": 40, "d.json": 4, "e.json": 50}
    for start, (name, n) in enumerate(sizes.items()):
        (tmp_path / name).write_bytes(lines(n, 1000 * start))
    report = ingest(tmp_path)
    assert [(Path(f.path).name, f.stored) for f in report.files] == list(sizes.items())


def test_interrupt_while_a_group_is_read_leaves_no_trace(
    tmp_path: Path, case: CaseDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.json").write_bytes(lines(5) + b"{broken\n")
    (tmp_path / "b.json").write_bytes(lines(5, 100))
    (tmp_path / "c.json").write_bytes(lines(5, 200))
    original = ingest_module.frame_file
    opened: list[int] = []

    def interrupt_on_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(1)
        if len(opened) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "frame_file", interrupt_on_third)
    with Ingestor(case) as ingestor, pytest.raises(KeyboardInterrupt):
        ingestor.ingest([tmp_path])
    for ledger in ("IngestFiles", "IngestRejects", "IngestCounts"):
        assert rows(case, f"SELECT count(*) AS n FROM {ledger}")[0]["n"] == 0
    assert rows(case, 'SELECT count(*) AS n FROM lw."AzureActivity"')[0]["n"] == 0
    monkeypatch.undo()
    with Ingestor(case) as ingestor:
        report = ingestor.ingest([tmp_path])
    assert (report.stored, report.rejected) == (15, 1) and count(case) == 15


def test_provenance_points_back_to_the_bytes(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    f = tmp_path / "PT1H.json"
    f.write_bytes(lines(3))
    ingest(f)
    r = rows(
        case,
        "SELECT f.Path, a._Line, a._Format, a._Raw FROM AzureActivity a JOIN IngestFiles f ON f.FileId = a._FileId "
        "WHERE a.CorrelationId = 'id-1'",
    )[0]
    assert r["Path"] == str(f) and r["_Line"] == 2 and r["_Format"] == "a"
    assert r["_Raw"].encode() == f.read_bytes().splitlines()[1]


def test_gzip_zip_and_nested_folders(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    tree = tmp_path / "insights-activity-logs/resourceId=/SUBSCRIPTIONS/B7/y=2026/m=03/d=02"
    (tree / "h=10/m=00").mkdir(parents=True)
    (tree / "h=10/m=00/PT1H.json").write_bytes(lines(2))
    (tree / "h=11/m=00").mkdir(parents=True)
    (tree / "h=11/m=00/PT1H.json").write_bytes(gzip.compress(lines(3, 10)))  # gzip with no .gz name
    with zipfile.ZipFile(tmp_path / "download.zip", "w") as z:
        z.writestr("a/PT1H.json", lines(4, 20))
        z.writestr("b/PT1H.json.gz", gzip.compress(lines(1, 30)))
    report = ingest(tmp_path)
    assert report.stored == 10 and report.ok
    members = sorted(f.path.split("!", 1)[1] for f in report.files if "!" in f.path)
    assert members == ["a/PT1H.json", "b/PT1H.json.gz"]
    assert count(case) == 10


def test_utf16_powershell_output_and_bom(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    doc = json.dumps([RECORD, {**RECORD, "correlationId": "x"}], indent=4)
    (tmp_path / "out-file.json").write_bytes(b"\xff\xfe" + doc.encode("utf-16-le"))
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({**RECORD, "correlationId": "y"}).encode())
    report = ingest(tmp_path)
    assert report.stored == 3 and report.ok


def test_event_hub_messages_one_per_line(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    # A forwarder that writes each Event Hub message body on its own line.
    f = tmp_path / "capture.jsonl"
    f.write_text(
        json.dumps({"records": [RECORD, {**RECORD, "correlationId": "b"}]})
        + "\n"
        + json.dumps({"records": [RECORD]})
        + "\n"
    )
    report = ingest(f)
    assert report.stored == 3 and report.ok
    assert rows(case, "SELECT _Line, _Record FROM AzureActivity ORDER BY _Line, _Record") == [
        {"_Line": 1, "_Record": 1},
        {"_Line": 1, "_Record": 2},
        {"_Line": 2, "_Record": None},
    ]


def test_large_documents_are_streamed(tmp_path: Path, case: CaseDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "STREAM_ABOVE", 1024)
    streamed = []
    original = documents._frame_streaming
    monkeypatch.setattr(documents, "_frame_streaming", lambda *a: streamed.append(1) or original(*a))
    f = tmp_path / "records.json"
    f.write_text(
        json.dumps({"records": [{**RECORD, "correlationId": str(i), "durationMs": 1.5} for i in range(50)]}, indent=1)
    )
    with Ingestor(case) as ingestor:
        report = ingestor.ingest([f])
    assert report.stored == 50 and report.ok and streamed
    assert rows(case, "SELECT min(_Record) AS a, max(_Record) AS b FROM AzureActivity") == [{"a": 1, "b": 50}]


def test_keys_in_any_case(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    shouting = {k.upper(): v for k, v in RECORD.items()}
    f = tmp_path / "upper.json"
    f.write_text(json.dumps(shouting) + "\n")
    report = ingest(f)
    assert report.stored == 1
    (r,) = rows(case, "SELECT OperationNameValue, ResourceGroup FROM AzureActivity")
    assert r == {"OperationNameValue": "MICROSOFT.KEYVAULT/VAULTS/WRITE", "ResourceGroup": "RG"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-10-24T00:13:46.3554259Z", "2019-10-24 00:13:46.355425+00"),
        ("2019-10-18T15:30:51.0273716+00:00", "2019-10-18 15:30:51.027371+00"),
        ("2021-01-01T01:00:00+02:00", "2020-12-31 23:00:00+00"),
        ("2020-02-07T20:49:49", "2020-02-07 20:49:49+00"),
        ("2022-12-12 22:19:00.123456789", "2022-12-12 22:19:00.123456+00"),
        ("/Date(1618327011162)/", "2021-04-13 15:16:51.162+00"),
        ("1618327011162", "2021-04-13 15:16:51.162+00"),
        ("2026-01-24T06:54:24.0000000Z ", "2026-01-24 06:54:24+00"),
        ("4/28/2021, 2:32:14.029 PM", None),
    ],
)
def test_time_forms(case: CaseDatabase, value: str, expected: str | None) -> None:
    (got,) = case.con.execute("SELECT CAST(lw_ts(?) AS VARCHAR)", [value]).fetchone()
    assert got == expected


def test_parameters_by_name_never_by_position(case: CaseDatabase) -> None:
    params = json.dumps(
        [
            {"Name": "DomainController", "Value": ""},
            {"Name": "Identity", "Value": "x"},
            {"Name": "UnifiedAuditLogIngestionEnabled", "Value": "False"},
        ]
    )
    got = case.con.execute(
        "SELECT lw_param(?, 'unifiedauditlogingestionenabled'), lw_param(?, 'Missing')", [params, params]
    ).fetchone()
    assert got == ("False", None)


def test_concatenated_powershell_pages(ingest: IngestFn, case: CaseDatabase) -> None:
    report = ingest(HANDMADE / "b_powershell_concatenated.json")
    assert report.stored == 3
    assert [r["_Record"] for r in rows(case, "SELECT _Record FROM AzureActivity ORDER BY 1")] == [1, 2, 3]


def test_crash_mid_file_is_invisible_then_cleaned(tmp_path: Path) -> None:
    """A process killed mid-file leaves committed slices behind: hidden, then removed on the next open."""
    from logwarden.ingest import open_case

    db_path = tmp_path / "case.duckdb"
    db = open_case(db_path)
    file_id = db.begin_file("/exports/PT1H.json")
    db.run(
        'INSERT INTO lw."AzureActivity" ("TimeGenerated", "OperationNameValue", "_FileId", "_Raw") '
        "VALUES (now(), 'X', ?, '{}')",
        [file_id],
    )
    assert count(db) == 0  # committed, but not shown: the file is still `ingesting`
    assert rows(db, 'SELECT count(*) AS n FROM lw."AzureActivity"')[0]["n"] == 1
    db.con.close()  # the crash: no finish_file, no abandon_file

    reopened = open_case(db_path)
    assert reopened.recovered == ["/exports/PT1H.json"]
    assert rows(reopened, 'SELECT count(*) AS n FROM lw."AzureActivity"')[0]["n"] == 0
    assert rows(reopened, "SELECT count(*) AS n FROM IngestFiles")[0]["n"] == 0
    reopened.close()


def test_big_files_commit_in_slices(tmp_path: Path, case: CaseDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    import logwarden.loader as loader_module

    monkeypatch.setattr(jsonl, "BATCH_BYTES", 64 << 10)
    monkeypatch.setattr(loader_module, "ROWS_PER_COMMIT", 500)
    commits = []
    original = loader_module.Loader.commit
    monkeypatch.setattr(loader_module.Loader, "commit", lambda self: commits.append(1) or original(self))
    f = tmp_path / "PT1H.json"
    f.write_bytes(lines(5000))
    with Ingestor(case) as ingestor:
        report = ingestor.ingest([f])
    assert report.stored == 5000 and len(commits) >= 5
    assert count(case) == 5000


def test_event_hubs_capture_avro(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    """Hand-made capture file in the documented Event Hubs Capture schema (no public sample)."""
    import fastavro

    schema = CAPTURE_SCHEMA
    bodies = [
        json.dumps({"records": [RECORD, {**RECORD, "correlationId": "two"}]}).encode(),
        b"not json at all",
        json.dumps({"records": [{**RECORD, "correlationId": "three"}]}).encode(),
    ]
    messages = [
        {
            "SequenceNumber": i,
            "Offset": str(i * 1000),
            "EnqueuedTimeUtc": "3/2/2026 10:16:01 AM",
            "SystemProperties": {},
            "Properties": {},
            "Body": body,
        }
        for i, body in enumerate(bodies)
    ]
    f = tmp_path / "ns" / "insights-operational-logs" / "0" / "2026" / "03" / "02" / "10" / "15" / "00.avro"
    f.parent.mkdir(parents=True)
    with f.open("wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), messages, codec="deflate")
    (result,) = ingest(f).files
    assert (result.container, result.stored, result.rejected) == ("avro", 3, 1)
    assert result.first_rejects[0][0].record == 2 and result.first_rejects[0][1] == "invalid-json"
    assert [r["_Record"] for r in rows(case, "SELECT _Record FROM AzureActivity ORDER BY _Record")] == [1, 1, 3]
