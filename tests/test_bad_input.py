"""The bad-input corpus: every case gives a clear message naming the file, the line or
record and the reason, the rest still goes in, and read = stored + rejected.

The inputs are built here from a few valid hand-made records, so each case differs
from a good file by exactly the damage under test.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from conftest import IngestFn, rows
from logwarden.store.database import CaseDatabase

GOOD = {
    "time": "2026-03-02T10:15:56.3Z",
    "resourceId": "/SUBSCRIPTIONS/B7E4C2D1-5A3F-4E9B-8C7D-1F2E3A4B5C6D"
    "/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/LAW",
    "operationName": "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
    "category": "Delete",
    "resultType": "Success",
    "callerIpAddress": "203.0.113.45",
    "correlationId": "0b2d4f6a-8c0e-4b2d-a4f6-a8c0e2b4d6f8",
    "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "alice@contoso.com"}},
}


def good_line(i: int) -> bytes:
    return json.dumps({**GOOD, "correlationId": f"00000000-0000-0000-0000-{i:012d}"}).encode()


def jsonl(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def one(report):  # type: ignore[no-untyped-def]
    (result,) = report.files
    assert result.read == result.stored + result.rejected
    return result


def test_malformed_json_lines(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    f = tmp_path / "PT1H.json"
    f.write_bytes(
        jsonl(
            good_line(1),
            b'{"time": "2026-03-02T10:16:00Z", "resourceId": ',
            good_line(3),
            b"not json",
            good_line(5),
        )
    )
    r = one(ingest(f))
    assert (r.stored, r.rejected) == (3, 2)
    assert dict(r.reasons) == {"invalid-json": 2}
    assert [(w.line, reason) for w, reason, _ in r.first_rejects] == [
        (2, "invalid-json"),
        (4, "invalid-json"),
    ]
    assert "unexpected end of data" in r.first_rejects[0][2]
    assert r.status == "partial"
    assert [x["_Line"] for x in rows(case, "SELECT _Line FROM AzureActivity ORDER BY 1")] == [1, 3, 5]


def test_first_line_damaged_is_still_json_lines(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "first-broken.json"
    f.write_bytes(jsonl(b'{"time": "2026-03-02T10:16:00Z", "resourceId":', good_line(2), good_line(3)))
    r = one(ingest(f))
    assert (r.container, r.stored, r.rejected) == ("jsonl", 2, 1)
    assert r.first_rejects[0][0].line == 1


def test_truncated_gzip_keeps_what_came_before(tmp_path: Path, ingest: IngestFn) -> None:
    # Distinct ids keep the stream from compressing into one deflate block, as real blobs do.
    data = gzip.compress(jsonl(*(good_line(i * 7919 % 10**12) for i in range(20000))))
    f = tmp_path / "PT1H.json.gz"
    f.write_bytes(data[: len(data) // 2])
    r = one(ingest(f))
    assert 0 < r.stored < 20000
    assert r.reasons["truncated"] == 1
    truncated = next(m for _, reason, m in r.first_rejects if reason == "truncated")
    assert "compressed stream is truncated" in truncated


def test_csv_with_broken_quote(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "export.csv"
    f.write_text(
        "TimeGenerated,UserId,ClientIP,Operation,Parameters\n"
        '2020-04-18T04:50:30Z,a@contoso.com,,Set-Mailbox,"[]"\n'
        '2020-04-18T04:50:31Z,b@contoso.com,,Set-Mailbox,"[{""Name"": ""Identity""}]\n'
        "2020-04-18T04:50:32Z,c@contoso.com,,Set-Mailbox,[]\n",
        encoding="utf-8",
    )
    r = one(ingest(f))
    assert r.stored == 1
    assert dict(r.reasons) == {"csv-error": 1}
    where, _, message = r.first_rejects[0]
    assert where.line == 3 and "broken CSV" in message


def test_csv_row_with_wrong_field_count(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "export.csv"
    f.write_text(
        "TimeGenerated,UserId,ClientIP,Operation,Parameters\n"
        "2020-04-18T04:50:30Z,a@contoso.com,,Set-Mailbox,[]\n"
        "2020-04-18T04:50:31Z,b@contoso.com,Set-Mailbox\n",
        encoding="utf-8",
    )
    r = one(ingest(f))
    assert (r.stored, r.rejected) == (1, 1)
    assert "3 fields where the header has 5" in r.first_rejects[0][2]


def test_unknown_shape_lists_its_keys(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "cloudtrail.json"
    f.write_text(json.dumps({"Records": [{"eventTime": "2026-01-01T00:00:00Z", "eventName": "StopLogging"}]}))
    r = one(ingest(f))
    assert (r.stored, r.rejected) == (0, 1)
    assert r.first_rejects[0][1] == "unknown-shape"
    assert "eventName, eventTime" in r.first_rejects[0][2]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, ingest: IngestFn, content: bytes) -> None:
    f = tmp_path / "empty.json"
    f.write_bytes(content)
    report = ingest(f)
    r = one(report)
    assert (r.status, r.read) == ("empty", 0)
    assert r.message == "the file is empty"
    assert not report.ok  # an empty export is worth a look: exit code 1


def test_binary_garbage(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "blob.bin"
    f.write_bytes(bytes(range(256)) * 64)
    r = one(ingest(f))
    assert r.status == "unreadable"
    assert "binary content" in r.message


def test_text_that_is_neither_json_nor_csv(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello there\nnothing to see\n")
    r = one(ingest(f))
    assert r.status == "unreadable" and "neither JSON nor a CSV" in r.message


def test_invalid_utf8_line(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "latin1.json"
    f.write_bytes(jsonl(good_line(1), b'{"time": "2026-03-02T10:16:00Z", "caller": "J\xe9r\xf4me"}', good_line(3)))
    r = one(ingest(f))
    assert (r.stored, r.rejected) == (2, 1)
    assert r.first_rejects[0][:2][1] == "not-utf8" and r.first_rejects[0][0].line == 2


def test_missing_and_unreadable_times(tmp_path: Path, ingest: IngestFn) -> None:
    no_time = dict(GOOD)
    del no_time["time"]
    bad_time = {**GOOD, "time": "yesterday at noon"}
    f = tmp_path / "times.json"
    f.write_bytes(jsonl(json.dumps(no_time).encode(), json.dumps(bad_time).encode(), good_line(3)))
    r = one(ingest(f))
    assert dict(r.reasons) == {"missing-time": 1, "bad-time": 1}
    messages = {reason: m for _, reason, m in r.first_rejects}
    assert "(time)" in messages["missing-time"]
    assert "yesterday at noon" in messages["bad-time"]


def test_document_broken_in_the_middle(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "records.json"
    f.write_text('{"records": [\n' + json.dumps(GOOD) + ",\n" + json.dumps(GOOD)[:-20] + "\n]}")
    r = one(ingest(f))
    assert r.stored == 0 and r.rejected == 1
    assert r.first_rejects[0][0].line == 3 and "rest of the file" in r.first_rejects[0][2]


@pytest.mark.slow
def test_fifty_megabyte_single_line(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    big = {**GOOD, "properties": {"requestbody": "x" * (50 << 20)}}
    f = tmp_path / "huge.json"
    f.write_bytes(jsonl(good_line(1), json.dumps(big).encode(), b'{"broken": ' + b"y" * (50 << 20), good_line(4)))
    r = one(ingest(f))
    assert (r.stored, r.rejected) == (3, 1)
    assert r.first_rejects[0][0].line == 3
    assert len(r.first_rejects[0][2]) < 1000  # the message quotes, it does not copy 50 MB
    (n,) = case.con.execute("SELECT length(_Raw) FROM AzureActivity WHERE _Line = 2").fetchone()
    assert n > 50 << 20


def test_other_files_still_go_in(tmp_path: Path, ingest: IngestFn) -> None:
    (tmp_path / "a.json").write_bytes(jsonl(good_line(1)))
    (tmp_path / "b.bin").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "c.json").write_bytes(b"")
    (tmp_path / "d.json").write_bytes(jsonl(good_line(2), b"{oops"))
    report = ingest(tmp_path)
    assert [f.status for f in report.files] == ["stored", "unreadable", "empty", "partial"]
    assert report.stored == 2 and report.rejected == 1 and not report.ok


def test_strict_stops_at_first_problem(tmp_path: Path, ingest: IngestFn, case: CaseDatabase) -> None:
    from logwarden.ingest import StrictStop

    (tmp_path / "a.json").write_bytes(jsonl(good_line(1), b"{oops", good_line(3)))
    (tmp_path / "b.json").write_bytes(jsonl(good_line(4)))
    with pytest.raises(StrictStop, match="line 2"):
        ingest(tmp_path, strict=True)
    assert rows(case, "SELECT count(*) AS n FROM AzureActivity")[0]["n"] == 0
    assert rows(case, "SELECT count(*) AS n FROM IngestFiles")[0]["n"] == 0


def test_gzip_cut_before_any_output_is_an_unreadable_file(tmp_path: Path, ingest: IngestFn) -> None:
    f = tmp_path / "PT1H.json.gz"
    f.write_bytes(gzip.compress(jsonl(good_line(1), good_line(2)))[:20])
    r = one(ingest(f))
    assert r.status == "unreadable" and "not a readable gzip stream" in r.message


def test_zip_with_a_corrupt_member_and_gz_inside(tmp_path: Path, ingest: IngestFn) -> None:
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as archive:
        archive.writestr("hour10/PT1H.json.gz", gzip.compress(jsonl(good_line(1), good_line(2))))
        archive.writestr("notes.txt", "just notes")
    report = ingest(z)
    by_name = {f.path.split("!")[1]: f for f in report.files}
    assert by_name["hour10/PT1H.json.gz"].stored == 2
    assert by_name["notes.txt"].status == "unreadable"
