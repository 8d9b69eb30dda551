"""The report in a real browser: Debian's Chromium, driven by Playwright (`.ci/run` installs
both). Hostile records must stay text, nothing may run but the page's own script, and the
report must show what an analyst needs.

The hostile events are hand-made (tests/fixtures/hostile/, see its README); every payload in
them sets `window.__pwned`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from typer.testing import CliRunner

from conftest import FIXTURES
from logwarden.cli import app
from logwarden.ingest import IngestOptions, Ingestor, open_case

pytestmark = pytest.mark.slow

HOSTILE = FIXTURES / "hostile"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: `.ci/run` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # As root (CI) Chromium refuses its sandbox; the page is ours and offline anyway.
        launched = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


def _report(tmp_path: Path, *inputs: Path, at: str | None = None) -> Path:
    db, out = tmp_path / "case.duckdb", tmp_path / "report.html"
    with open_case(db) as case, Ingestor(case, IngestOptions()) as ingestor:
        assert ingestor.ingest(list(inputs)).ok
    args = ["report", "--db", str(db), "--out", str(out)] + (["--at", at] if at else [])
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    return out


def _open(browser: Browser, report: Path) -> tuple[Page, list[str], list[str]]:
    """The report loaded with every request but the file itself refused and recorded, and
    every dialog and console error recorded."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    events: list[str] = []

    def refuse(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url != report.as_uri():
            requests.append(url)
            route.abort()  # type: ignore[attr-defined]
        else:
            route.continue_()  # type: ignore[attr-defined]

    page.route("**/*", refuse)
    page.on("dialog", lambda dialog: (events.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("console", lambda message: events.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: events.append(f"page error: {error}"))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    return page, requests, events


def test_hostile_records_stay_text(browser: Browser, tmp_path: Path) -> None:
    report = _report(tmp_path, HOSTILE / "activity.jsonl", HOSTILE / "ual.json")
    page, requests, events = _open(browser, report)
    # Open every alert, so each record and its fields are in the DOM too.
    rows = page.locator("#al-table tbody tr")
    for i in range(rows.count()):
        rows.nth(i).click()
    page.locator("#tl-zoom").select_option(index=1)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned === undefined")
    assert requests == []
    assert not [e for e in events if e.startswith(("dialog", "page error", "console error"))], events
    text = page.locator("body").inner_text()
    # The payloads are shown, as text.
    assert "<script>window.__pwned=1</script>mallory@contoso.com" in text
    assert "javascript:alert(1)" in text
    # No element came from a log: only the page's own script, and no handler attributes.
    assert page.locator("script").count() == len(page.locator("script[type='application/json']").all()) + 1
    assert page.evaluate(
        "[...document.querySelectorAll('*')].every(e => [...e.attributes].every(a => !a.name.startsWith('on')))"
    )
    assert page.locator("img, iframe, svg[onload], a[href^='javascript:' i]").count() == 0
    # A direction override from a log is shown as a marker, never applied.
    assert "\u202e" not in text and "U+202E" in text


def test_the_report_shows_the_verdict_timeline_and_alerts(browser: Browser, tmp_path: Path) -> None:
    report = _report(tmp_path, HOSTILE / "activity.jsonl", HOSTILE / "ual.json")
    page, _, _ = _open(browser, report)
    for section in ("#verdict", "#timeline", "#alerts", "#sources", "#ledger", "#coverage"):
        assert page.locator(section).is_visible(), section
    assert "2 actions" in page.locator("#verdict").inner_text()
    assert page.locator("#al-table tbody tr").count() == 2
    page.locator("#al-q").fill("Unified Audit Log")
    assert page.locator("#al-table tbody tr:visible").count() == 1
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_the_demo_report_shows_the_intrusion(browser: Browser, tmp_path: Path) -> None:
    """`logwarden demo`, end to end, then its report in the browser: the verdict names the
    intruder and the blinded sources, the timeline draws every source with the silenced ones
    marked, and the screenshot is the page an analyst sees first."""
    from datetime import UTC, datetime

    from logwarden.synthetic.tenant import write_tenant

    end = datetime(2026, 11, 27, tzinfo=UTC)
    tenant = write_tenant(tmp_path / "exports", end=end)
    report = _report(tmp_path, tenant.out, at=end.isoformat())
    page, requests, events = _open(browser, report)
    assert requests == [] and not [e for e in events if "error" in e], events
    verdict = page.locator("#verdict")
    assert verdict.is_visible()
    intruder = tenant.intrusion[0].actor
    assert intruder in verdict.inner_text()
    assert "SILENT" in verdict.inner_text() and "critical" in verdict.inner_text()
    rows = page.locator("#tl-body > *")
    assert rows.count() >= 10
    page.locator("#tl-only").check()
    page.wait_for_timeout(200)
    assert 0 < page.locator("#tl-body > *:visible").count() < rows.count()
    shot = tmp_path / "demo.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
