"""The HTML case report: one self-contained page, safe to open although every log string in it
is attacker-controlled. No browser here: the page's structure, its CSP and its data are
checked by parsing it; a browser test checks that nothing runs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from logwarden.detectors.investigation import Actor, Blind, Finding, Investigation, Row, investigate
from logwarden.detectors.sigma.coverage import Behaviour, Coverage, CoveringRule
from logwarden.detectors.sigma.hunt import Alert
from logwarden.detectors.sigma.rules import load
from logwarden.detectors.silence.config import SilenceConfig
from logwarden.detectors.silence.explain import Cause
from logwarden.detectors.silence.judge import Judgement, SilenceAlert, SourceState
from logwarden.ingest import IngestOptions, Ingestor, open_case
from logwarden.outputs import report
from logwarden.outputs.report import clean, render, script_json, write_report
from logwarden.store.stats import FileCount, RejectCount, SourceCount, Stats

EXAMPLE = Path(str(resources.files("logwarden") / "examples" / "exports"))
PACK = Path(str(resources.files("logwarden") / "rules" / "pack"))
TEMPLATE = Path(str(resources.files("logwarden") / "outputs" / "templates" / "report.html.j2"))

SCRIPT_CLOSE = "</script><script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
RLO = "\u202e"
EVIL = f"{SCRIPT_CLOSE}{IMG}{JS_URL} mallory{RLO}moc.nozama@"


class Page(HTMLParser):
    """Every tag with its attributes, and each script's text, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.texts: list[str] = []
        self._script: dict[str, str | None] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.texts.append(data)

    def json_block(self, block_id: str) -> object:
        (text,) = [text for attrs, text in self.scripts if attrs.get("id") == block_id]
        assert attrs_of(self, block_id).get("type") == "application/json"
        return json.loads(text)

    @property
    def app(self) -> str:
        (text,) = [text for attrs, text in self.scripts if "type" not in attrs]
        return text


def attrs_of(page: Page, element_id: str) -> dict[str, str | None]:
    (attrs,) = [a for _, a in page.tags if a.get("id") == element_id]
    return attrs


def decode(rle: list[int], hours: int) -> list[int]:
    out: list[int] = []
    for v in rle:
        out.extend([0] * -v if v < 0 else [v])
    assert len(out) == hours
    return out


def assert_inert(html: str) -> Page:
    """The page loads nothing, runs nothing but its own script, and has no handler attribute."""
    page = Page(html)
    scripts = [attrs for attrs, _ in page.scripts]
    assert scripts == [
        {"type": "application/json", "id": "lw-timeline"},
        {"type": "application/json", "id": "lw-alerts"},
        {},
    ]
    assert html.count("<script") == 3 and html.lower().count("</script") == 3
    for tag, attrs in page.tags:
        assert tag not in ("img", "iframe", "object", "embed", "link", "base", "form", "frame", "audio", "video"), tag
        if tag == "meta" and "http-equiv" in attrs:
            assert attrs["http-equiv"] == "Content-Security-Policy"  # never a refresh
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcset", "action", "formaction", "xlink:href", "poster", "background"), (
                tag,
                name,
            )
            if name == "href":
                assert value is not None and value.startswith("#"), value
            if name not in ("title", "data-v"):  # text a browser never follows or runs
                assert "javascript:" not in (value or "").lower(), (tag, name, value)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1 and csp[0] is not None
    digest = base64.b64encode(hashlib.sha256(page.app.encode("utf-8")).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in csp[0].split(";"))
    assert directives == {
        "default-src": "'none'",
        "style-src": "'unsafe-inline'",
        "script-src": f"'sha256-{digest}'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    # The CSP must come before anything it governs.
    assert html.index("Content-Security-Policy") < html.index("<style>") < html.index("<script")
    return page


# ---------------------------------------------------------------------------------------------
# The example case, investigated for real.


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Investigation:
    db = open_case(tmp_path_factory.mktemp("report") / "case.duckdb")
    try:
        with Ingestor(db, IngestOptions()) as ingestor:
            ingestor.ingest([EXAMPLE])
        return investigate(db, load([PACK]), SilenceConfig())
    finally:
        db.close()


def test_example_report_is_one_inert_self_contained_page(example: Investigation, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report(example, out)
    html = out.read_bytes().decode("utf-8")
    assert html.startswith("<!doctype html>")
    assert len(html.encode()) < 1_000_000
    assert_inert(html)


def test_example_report_says_what_was_found(example: Investigation) -> None:
    html = render(example)
    page = assert_inert(html)
    verdict = html.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert "Logging was tampered with" in verdict
    for actor in example.actors:
        assert actor.name in verdict
    assert "203.0.113.45" in verdict and "could not be watched for silence" in verdict

    timeline = page.json_block("lw-timeline")
    assert isinstance(timeline, dict)
    assert timeline["hours"] == example.hours and len(timeline["rows"]) == len(example.rows) > 0
    for row, data in zip(example.rows, timeline["rows"], strict=True):
        assert data["s"] == row.source and data["mx"] == max(row.counts)
        assert decode(data["c"], example.hours) == list(row.counts)

    alerts = page.json_block("lw-alerts")
    assert isinstance(alerts, dict)
    tamper = [a for a in alerts["alerts"] if a["k"] == "tamper"]
    assert len(tamper) == len(example.findings) > 0
    for finding, item in zip(example.findings, tamper, strict=True):
        assert (item["rule"], item["ac"], item["tg"], item["f"], item["ln"], item["rc"]) == (
            finding.alert.rule_id,
            finding.alert.actor,
            finding.alert.target,
            finding.alert.file,
            finding.alert.line,
            finding.alert.record,
        )
        assert item["t"] == int(finding.alert.time.timestamp())
        assert item["raw"] == finding.raw and item["raw"]
    # Sources, ledger and coverage are in the markup itself, readable without the script.
    text = " ".join(page.texts)
    for state in example.silence.sources:
        assert state.id in text
    assert "AuditLog_2026-03-02.csv" in text and "No record was rejected" in text
    for item in example.coverage:
        assert item.behaviour.behaviour in text


# ---------------------------------------------------------------------------------------------
# A hostile case, built by hand: every field a log can set holds markup, a script URL and a
# direction override.

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _alert(**kw: object) -> Alert:
    fields: dict[str, object] = {
        "rule_id": "ccbe06d0-0245-4702-bc12-642db2eb0896",
        "title": "Activity Log Export or SIEM Workspace Diagnostic Setting Deleted",
        "level": "critical",
        "tags": ("attack.defense-evasion",),
        "time": T0 + timedelta(hours=30, minutes=4),
        "actor": EVIL,
        "ip": f"203.0.113.45{RLO}",
        "target": f"/subscriptions/b7e4c2d1-5a3f-4e9b-8c7d-1f2e3a4b5c6d/{EVIL}",
        "operation": EVIL,
        "table": "AzureActivity",
        "file": f"/evidence/{EVIL}/PT1H.json",
        "line": 7,
        "record": None,
        "outcome": EVIL,
        "detail": EVIL,
    }
    fields.update(kw)
    return Alert(**fields)  # type: ignore[arg-type]


def _hostile() -> Investigation:
    tamper = _alert()
    low = _alert(level="low", title="Something Minor", time=T0 + timedelta(hours=2), file=None, line=None)
    cause = Cause(tamper.rule_id, tamper.title, tamper.level, tamper.time, tamper.actor, tamper.target, ("A1",))
    source = f"activity:b7e4c2d1-5a3f-4e9b-8c7d-1f2e3a4b5c6d{EVIL}"
    silent = SilenceAlert(
        "SILENT",
        source,
        "critical",
        T0 + timedelta(hours=31),
        None,
        T0 + timedelta(hours=40),
        30.0,
        0.0,
        1e-9,
        1e-3,
        f"gap of 17 h {EVIL}",
        "1/week",
        False,
        (cause,),
        (f"activity_provider:{EVIL}",),
        EVIL,
    )
    quiet = replace(silent, state="TOO_QUIET", level="info", source=f"ual:{EVIL}", start=None, causes=(), covers=())
    hours = 48
    counts = tuple([5, 0, 0, 3, *([7] * 27), *([0] * 17)])
    # An override written as a JSON escape, too: it must stay six characters, never be decoded.
    raw = json.dumps({"caller": EVIL, "note": "<!--<script>"}, ensure_ascii=False)[:-1] + ', "escaped": "\\u202e"}'

    state = SourceState(
        source, "activity", "Activity Log of a subscription", T0, T0 + timedelta(hours=31), 200, 100.0, 50.0,
        f"rhythm {EVIL}", 1.0, 3.0, 2.0, 5.0, "SILENT",
    )  # fmt: skip
    return Investigation(
        at=T0 + timedelta(hours=47, minutes=30),
        start=T0,
        hours=hours,
        blind=[Blind(source, "Activity Log of a subscription", silent, 16.5)],
        actors=[Actor(EVIL, tamper.time, tamper.time, (tamper,), (tamper.ip or "",))],
        rows=[Row(source, "Activity Log of a subscription", "SILENT", counts, (silent,), (cause,))],
        findings=[Finding(tamper, raw), Finding(low, f"not json {EVIL}\r\nsecond line")],
        silence=Judgement(T0 + timedelta(hours=47), "1/week", 1, [silent, quiet], [state]),
        ledger=Stats(
            [SourceCount("AzureActivity", "", 200, T0, T0 + timedelta(hours=31))],
            [],
            [FileCount(1, f"/evidence/{EVIL}/PT1H.json", EVIL, "stored", 200, 199, 1, EVIL)],
            [RejectCount(EVIL, 1, EVIL)],
        ),
        coverage=[Coverage(Behaviour("A1", EVIL, "P1", {EVIL: EVIL}), (CoveringRule(EVIL, "high", EVIL, 1, 1),))],
    )


def test_hostile_strings_are_only_ever_text() -> None:
    html = render(_hostile())
    page = assert_inert(html)
    assert RLO not in html and "\u27e8U+202E\u27e9" in html
    # Markup from the logs shows as text, in the verdict, the tables and the titles.
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    text = "".join(page.texts)
    assert clean(EVIL) in text  # the analyst can read what the attacker wrote
    assert not re.search(r"<img\b", html, re.I)  # and no onerror= attribute: see assert_inert
    # Outside the markup, the data blocks give the script the same strings back, cleaned.
    alerts = page.json_block("lw-alerts")
    timeline = page.json_block("lw-timeline")
    assert isinstance(alerts, dict) and isinstance(timeline, dict)
    first = alerts["alerts"][0]
    assert first["ac"] == clean(EVIL) and first["tg"].endswith(clean(EVIL))
    assert json.loads(first["raw"])["caller"] == clean(EVIL)
    assert "\\u202e" in first["raw"]  # an escape in the record stays as written: not decoded into an override
    assert alerts["alerts"][1]["raw"] == clean(f"not json {EVIL}\nsecond line")
    (silence,) = [a for a in alerts["alerts"] if a["k"] == "SILENT"]
    assert silence["ac"] == clean(EVIL)  # the cause's actor
    window = timeline["windows"][silence["w"]]
    assert window["ev"] == clean(f"gap of 17 h {EVIL}") and window["cz"] == timeline["rows"][0]["m"] == [0]
    assert timeline["causes"][0]["ai"] == 0  # the marker opens the tamper alert
    assert all(a["k"] != "TOO_QUIET" for a in alerts["alerts"])
    assert decode(timeline["rows"][0]["c"], 48) == list(_hostile().rows[0].counts)
    # The blocks cannot be closed or commented out from inside.
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/json":
            assert not re.search(r"[<>&\u2028\u2029]", body)


def test_verdict_names_actor_source_and_cause() -> None:
    html = render(_hostile())
    verdict = html.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert "Logging was impaired: 1 tamper action by 1 actor, and 1 source went blind" in verdict
    assert "explained by" in verdict and "since 2026-03-02 07:00 UTC" in verdict and "16 h" in verdict
    assert "1 more alert of low or informational level is listed" in verdict


def test_nothing_found_says_so() -> None:
    quiet = _hostile()
    quiet.findings, quiet.actors, quiet.blind = [], [], []
    quiet.silence = Judgement(quiet.at, "1/week", 1, [], [replace(quiet.silence.sources[0], state="OK")])
    quiet.rows = [replace(quiet.rows[0], windows=(), marks=())]
    html = render(quiet)
    assert_inert(html)
    assert "No tampering found and no source went silent." in html
    assert "No alerts" in html


def test_an_empty_case_renders() -> None:
    empty = Investigation(T0, T0, 1, [], [], [], [], Judgement(T0, "1/week", 0), Stats([], [], [], []))
    html = render(empty)
    page = assert_inert(html)
    assert "No tampering found and no source went silent." in html
    assert page.json_block("lw-alerts") == {"alerts": []}


def test_records_beyond_the_budget_are_left_to_the_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "RAW_BUDGET", 10)
    monkeypatch.setattr(report, "RAW_LIMIT", 8)
    case = _hostile()
    case.findings = [
        Finding(replace(f.alert, level=level), "0123456789abc")
        for f, level in zip(case.findings * 2, ["low", "critical", "high", "info"], strict=True)
    ]
    alerts = Page(render(case)).json_block("lw-alerts")
    assert isinstance(alerts, dict)
    carried = [(a["lv"], a["raw"], a["cut"]) for a in alerts["alerts"] if a["k"] == "tamper"]
    # The most severe record first, cut to the limit; then the budget is spent.
    assert carried == [("low", None, -1), ("critical", "01234567", 5), ("high", "01234567", 5), ("info", None, -1)]


def test_clean_marks_what_would_reorder_or_hide_text() -> None:
    assert clean("abc\u202eexe.txt") == "abc\u27e8U+202E\u27e9exe.txt"
    for char in "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\ufeff\x1b\u2028\U000e0041":
        assert char not in clean(f"a{char}b") and "\u27e8U+" in clean(f"a{char}b")
    assert clean("a\ud800b") == "a\ufffdb"
    assert clean("line\r\nnext\ttab") == "line\nnext\ttab"
    assert clean("שלום alice@contoso.com é 日本") == "שלום alice@contoso.com é 日本"


def test_script_json_cannot_leave_its_block() -> None:
    text = str(script_json({"a": "</script><!--<script>&\u2028\u2029", "b": [1, None]}))
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"a": "</script><!--<script>&\u27e8U+2028\u27e9\u27e8U+2029\u27e9", "b": [1, None]}


def test_page_script_builds_the_dom_without_html_sinks() -> None:
    template = TEMPLATE.read_text(encoding="utf-8")
    assert "|safe" not in template.replace(" ", "") and "autoescape false" not in template
    html = render(_hostile())
    app = Page(html).app
    assert app.isascii() and "\r" not in app
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
        'setTimeout("',
        "srcdoc",
        "http:",
        "https:",
        "fetch(",
        "XMLHttpRequest",
        "import(",
    ):
        assert sink not in app, sink
    for attribute in re.findall(r"setAttribute\(\s*\"([^\"]+)\"", app):
        assert attribute in {"data-i", "title", "tabindex", "aria-expanded", "aria-sort", "colspan", "type", "class"}


@pytest.mark.slow
def test_large_case_stays_compact() -> None:
    """2,000 sources over 1,500 hours: the counts, compacted, make a page of a few MB."""
    base = _hostile()
    hours = 1500
    rows = []
    for i in range(2000):
        busy = i % 4 == 0
        counts = tuple((h * 7 + i) % 50 + 1 if busy else (1 if (h + i) % 9 == 0 else 0) for h in range(hours))
        rows.append(Row(f"entra:tenant/{i}", "Entra audit log of a tenant, one category", "OK", counts, (), ()))
    big = replace(base, hours=hours, rows=rows)
    html = render(big)
    assert len(html.encode()) < 6_000_000
    timeline = Page(html).json_block("lw-timeline")
    assert isinstance(timeline, dict) and len(timeline["rows"]) == 2000
    assert decode(timeline["rows"][5]["c"], hours) == list(rows[5].counts)
