"""A case's investigation as one self-contained HTML page, for an analyst who has never used
logwarden: the verdict first, then every source's volume hour by hour with its silences and
the tamper events that caused them, the alerts with their original records, what was read
and what the rule pack covers.

The page must open offline and stay safe to open although nearly every string in it comes
from the logs, i.e. from whoever tampered with them. So:
- the template is rendered with autoescaping, and `_finalize` passes every interpolated string
  through `clean` first: nothing from a log reaches the markup unescaped;
- what the page's script needs is embedded as JSON in `<script type="application/json">`
  blocks with `<`, `>`, `&`, U+2028 and U+2029 written as \\uXXXX, so no value can end the
  block; the script builds the DOM from it with createElement/textContent/setAttribute only;
- a Content-Security-Policy allows no network access at all and no script but the page's
  own, by its hash, so even an injection that slipped through could not run.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from logwarden.detectors.investigation import Investigation
from logwarden.detectors.silence.explain import Cause
from logwarden.detectors.silence.judge import LEVELS, SilenceAlert, level_rank
from logwarden.outputs.paths import common_folder, under

# A record longer than this is cut in the page: one alert's record is evidence to read, not a
# way to make the report as large as the case.
RAW_LIMIT = 64 * 1024
# The original records the page carries in all, the most severe alerts' first: a noisy rule's
# thousands of low alerts stay listed, each with its file and line, without their records.
RAW_BUDGET = 4_000_000
# Files listed in the ledger besides those with a problem (each with one is always listed).
FILES_LISTED = 200
# The verdict names this many actions per actor and this many blind sources; the rest are in
# the alerts table.
VERDICT_ACTIONS = 8
VERDICT_ACTORS = 10
VERDICT_BLIND = 12

STATE_WORDS = {
    "SILENT": "Source went silent",
    "THINNED": "Source thinned out",
    "LATE": "Records arrived late",
    "NEVER_SEEN": "Expected source never seen",
}

# Characters that change how the text around them is laid out, or that cannot be seen:
# bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and marks
# (U+200E, U+200F, U+061C) let a log value make "moc.otnoc@yrellam" read as something else or
# drag the text after it (the page's own words, the next cell) into its order; zero-width and
# other invisible characters, controls, tag characters and line/paragraph separators hide
# what a value really is. Each is replaced with a visible marker such as ⟨U+202E⟩, so the
# analyst sees that it was there and the page keeps its order. Lone surrogates (not valid
# text, and unencodable) become U+FFFD.
_HIDDEN_RANGES = (
    (0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x61C, 0x61C), (0x115F, 0x1160),
    (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0xE0000, 0xE007F),
)  # fmt: skip
# A translation table rather than a pattern: no regular expression runs over log text, and
# a lone surrogate (which no UTF-8 regex engine accepts) is just another key.
_MARKERS: dict[int, str] = {
    **{code: f"\u27e8U+{code:04X}\u27e9" for lo, hi in _HIDDEN_RANGES for code in range(lo, hi + 1)},
    **{code: "\ufffd" for code in range(0xD800, 0xE000)},
}


def clean(text: str) -> str:
    """`text` with every layout-changing or invisible character shown as a marker."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")  # a record's line ends, not a hidden character
    return text.translate(_MARKERS)


def _cleaned(value: Any) -> Any:
    """`value` with `clean` applied to every string in it (arrays of counts are left as they are)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(data: Any) -> Markup:
    """`data` as JSON that can sit inside a <script> element: no `</script>`, `<!--` or
    `<script` can appear in it, so it can only end where the page ends it. These characters
    only ever occur inside JSON strings, where \\uXXXX means the same."""
    text = orjson.dumps(_cleaned(data), option=orjson.OPT_SERIALIZE_NUMPY).decode()
    return Markup(text.translate(_SCRIPT_UNSAFE))  # noqa: S704 - escaped for a script data block just above


def _finalize(value: Any) -> Any:
    # Markup is either the page's own script or `script_json`'s output, both already safe.
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return clean(value)
    return value


def _csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(str(script).encode("utf-8")).digest()).decode("ascii")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("logwarden", "outputs/templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["csp_hash"] = _csp_hash
    return env


def render(investigation: Investigation) -> str:
    """The investigation as one HTML page."""
    return _environment().get_template("report.html.j2").render(_context(investigation))


def write_report(investigation: Investigation, path: Path) -> None:
    # Bytes, not text: a platform's newline translation must not touch the hashed script.
    path.write_bytes(render(investigation).encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# What the template shows, worked out here so that the template only lays it out.


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _ts(value: datetime | None) -> int | None:
    return None if value is None else math.floor(_utc(value).timestamp())


def _when(value: datetime | None, missing: str = "") -> str:
    return _utc(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else missing


def _duration(hours: float | None) -> str:
    if hours is None or not math.isfinite(hours):
        return "an unknown time"
    if hours < 1:
        return f"{max(hours * 60, 1):.0f} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.1f} days ({hours:.0f} h)"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _rle(counts: tuple[int, ...]) -> np.ndarray:
    """Counts per hour with each run of zeros of 2 or more written as minus its length: most
    sources are quiet most hours, and the page carries every source's every hour."""
    values = np.asarray(counts, dtype=np.int64)
    if values.size == 0:
        return values
    zero = values == 0
    edges = np.flatnonzero(np.diff(zero.astype(np.int8))) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [values.size]))
    long_zero = zero[starts] & (ends - starts >= 2)
    if not long_zero.any():
        return values
    parts: list[np.ndarray] = []
    for begin, end, runs in zip(starts.tolist(), ends.tolist(), long_zero.tolist(), strict=True):
        parts.append(np.array([begin - end], np.int64) if runs else values[begin:end])
    return np.concatenate(parts)


def _scale(counts: tuple[int, ...]) -> int:
    """The count a row's darkest colour stands for: its busy hours (the 99th percentile of the
    hours with records), so that one burst does not wash out the rest of the row."""
    values = np.asarray(counts, dtype=np.int64)
    values = values[values > 0]
    return int(np.ceil(np.percentile(values, 99))) if values.size else 0


@dataclass
class _Index:
    """Where each alert, silence window and cause sits in the page's data."""

    alerts: list[dict[str, Any]]
    windows: list[dict[str, Any]]
    window_of: dict[SilenceAlert, int]
    causes: list[dict[str, Any]]
    cause_of: dict[Cause, int]
    finding_of: dict[tuple[str, int | None, str | None, str | None], int]


def _cause_key(
    rule_id: str, time: datetime, actor: str | None, target: str | None
) -> tuple[str, int | None, str | None, str | None]:
    return (rule_id, _ts(time), actor, target)


def _records(inv: Investigation) -> list[tuple[str | None, int]]:
    """Each finding's record as the page carries it, and how many characters of it were left
    out (-1: all of it, the budget being spent)."""
    order = sorted(range(len(inv.findings)), key=lambda i: (-level_rank(inv.findings[i].alert.level), i))
    out: list[tuple[str | None, int]] = [(f.raw, 0) for f in inv.findings]
    spent = 0
    for i in order:
        raw = inv.findings[i].raw
        if raw is None:
            continue
        if spent >= RAW_BUDGET:
            out[i] = (None, -1)
        elif len(raw) > RAW_LIMIT:
            out[i] = (raw[:RAW_LIMIT], len(raw) - RAW_LIMIT)
        spent += min(len(raw), RAW_LIMIT)
    return out


def _index(inv: Investigation, root: str) -> _Index:
    index = _Index([], [], {}, [], {}, {})
    for finding, (raw, cut) in zip(inv.findings, _records(inv), strict=True):
        a = finding.alert
        index.finding_of.setdefault(_cause_key(a.rule_id, a.time, a.actor, a.target), len(index.alerts))
        index.alerts.append(
            {
                "k": "tamper",
                "t": _ts(a.time),
                "lv": a.level,
                "ti": a.title,
                "ac": a.actor,
                "ip": a.ip,
                "tg": a.target,
                "op": a.operation,
                "oc": a.outcome,
                "de": a.detail,
                "rule": a.rule_id,
                "tags": list(a.tags),
                "tb": a.table,
                "f": a.file,
                "fs": under(a.file, root),
                "ln": a.line,
                "rc": a.record,
                "raw": raw,
                "cut": cut,
            }
        )
    shown = [a for a in inv.silence.alerts if a.state != "TOO_QUIET"]
    extra = [w for row in inv.rows for w in row.windows]
    for alert in [*shown, *extra]:
        if alert in index.window_of:
            continue
        index.window_of[alert] = len(index.windows)
        index.windows.append(
            {
                "st": alert.state,
                "lv": alert.level,
                "src": alert.source,
                "a": _ts(alert.start),
                "b": _ts(alert.end),
                "det": _ts(alert.detected),
                "exp": alert.expected,
                "obs": alert.observed,
                "p": alert.probability,
                "thr": alert.threshold,
                "ev": alert.evidence,
                "bud": alert.budget,
                "bf": alert.backfilled,
                "cov": list(alert.covers),
                "note": alert.note,
                "sup": alert.suppressed,
                "cz": [_cause(index, c) for c in alert.causes],
                "ai": None,
            }
        )
    titles = {row.source: row.title for row in inv.rows}
    for alert in shown:
        w = index.window_of[alert]
        index.windows[w]["ai"] = len(index.alerts)
        causes = [index.causes[c] for c in index.windows[w]["cz"]]
        index.alerts.append(
            {
                "k": alert.state,
                "t": _ts(alert.start or alert.detected),
                "lv": alert.level,
                "ti": f"{STATE_WORDS.get(alert.state, alert.state)}: {titles.get(alert.source, alert.source)}",
                "ac": ", ".join(dict.fromkeys(c["ac"] or "?" for c in causes)),
                "tg": alert.source,
                "w": w,
                "sup": alert.suppressed,
            }
        )
    return index


def _cause(index: _Index, cause: Cause) -> int:
    if cause not in index.cause_of:
        index.cause_of[cause] = len(index.causes)
        index.causes.append(
            {
                "t": _ts(cause.time),
                "ti": cause.title,
                "lv": cause.level,
                "ac": cause.actor,
                "tg": cause.target,
                "rule": cause.rule_id,
                "cat": list(cause.catalogue),
                "ai": index.finding_of.get(_cause_key(cause.rule_id, cause.time, cause.actor, cause.target)),
            }
        )
    return index.cause_of[cause]


def _timeline(inv: Investigation, index: _Index) -> dict[str, Any]:
    return {
        "start": _ts(inv.start),
        "hours": inv.hours,
        "at": _ts(inv.at),
        "rows": [
            {
                "s": row.source,
                "ti": row.title,
                "st": row.state,
                "mx": max(row.counts, default=0),
                "sc": _scale(row.counts),
                "n": sum(row.counts),
                "c": _rle(row.counts),
                "w": [index.window_of[w] for w in row.windows],
                "m": [_cause(index, c) for c in row.marks],
            }
            for row in inv.rows
        ],
        "windows": index.windows,
        "causes": index.causes,
    }


def _verdict(inv: Investigation, index: _Index) -> dict[str, Any]:
    serious = [f for f in inv.findings if level_rank(f.alert.level) >= level_rank("medium")]
    lesser = len(inv.findings) - len(serious)
    blind_sources = list(dict.fromkeys(b.source for b in inv.blind))
    explained = {b.source for b in inv.blind if b.alert.causes}
    critical = any(f.alert.level == "critical" for f in serious) or any(b.alert.level == "critical" for b in inv.blind)

    if serious and blind_sources:
        tone = "bad"
        headline = (
            f"Logging was impaired: {_plural(len(serious), 'tamper action')} by "
            f"{_plural(len(inv.actors), 'actor')}, and {_plural(len(blind_sources), 'source')} went blind"
        )
        if explained:
            headline += f" ({len(explained):,} of them explained by the tamper actions)."
        else:
            headline += "."
    elif blind_sources:
        tone = "bad"
        headline = f"{_plural(len(blind_sources), 'source')} went blind"
        headline += (
            f"; {len(explained):,} of them explained by tamper alerts."
            if explained
            else "; no tamper alert explains it."
        )
    elif serious:
        tone = "bad" if critical else "warn"
        headline = (
            f"Logging was tampered with: {_plural(len(serious), 'action')} by {_plural(len(inv.actors), 'actor')}. "
            "No source went silent in the data."
        )
    else:
        tone = "ok"
        headline = "No tampering found and no source went silent."

    actors = []
    for actor in inv.actors[:VERDICT_ACTORS]:
        actions = [
            {
                "when": _when(a.time),
                "lv": a.level,
                "title": a.title,
                "target": a.target,
                "outcome": a.outcome,
                "ai": index.finding_of.get(_cause_key(a.rule_id, a.time, a.actor, a.target)),
            }
            for a in actor.alerts[:VERDICT_ACTIONS]
        ]
        actors.append(
            {
                "name": actor.name,
                "addresses": list(actor.addresses),
                "first": _when(actor.first),
                "last": _when(actor.last),
                "count": len(actor.alerts),
                "actions": actions,
                "more": max(len(actor.alerts) - VERDICT_ACTIONS, 0),
                "top": max((a.level for a in actor.alerts), key=level_rank, default="info"),
            }
        )

    blind = []
    for b in inv.blind[:VERDICT_BLIND]:
        a = b.alert
        blind.append(
            {
                "source": b.source,
                "title": b.title,
                "state": a.state,
                "lv": a.level,
                "start": _when(a.start, "the start of the data"),
                "end": _when(a.end),
                "ongoing": a.end is None,
                "for": _duration(b.hours),
                "evidence": a.evidence,
                "covers": len(a.covers),
                "causes": [
                    {
                        "when": _when(c.time),
                        "title": c.title,
                        "actor": c.actor or "an unknown actor",
                        "target": c.target,
                    }
                    for c in a.causes
                ],
            }
        )

    unjudged = [s for s in inv.silence.sources if s.state in ("LEARNING", "TOO_QUIET")]
    notes = []
    if unjudged:
        learning = sum(1 for s in unjudged if s.state == "LEARNING")
        notes.append(
            f"{len(unjudged):,} of {_plural(len(inv.silence.sources), 'source')} could not be watched for silence "
            f"({learning:,} still being learned: too little history; {len(unjudged) - learning:,} too quiet): "
            "a silence there would not be noticed, so “no source went silent” does not vouch for them."
        )
    if lesser:
        notes.append(
            f"{_plural(lesser, 'more alert')} of low or informational level {'is' if lesser == 1 else 'are'} "
            "listed under Alerts."
        )
    rejected = sum(r.records for r in inv.ledger.rejects)
    if rejected:
        notes.append(f"{_plural(rejected, 'record')} could not be read at ingest: see the ingest ledger.")
    failed = sum(1 for f in inv.ledger.files if f.status != "stored")
    if failed:
        notes.append(
            f"{_plural(failed, 'file')} {'was' if failed == 1 else 'were'} not stored in full: see the ingest ledger."
        )

    return {
        "tone": tone,
        "headline": headline,
        "actors": actors,
        "actors_more": max(len(inv.actors) - VERDICT_ACTORS, 0),
        "blind": blind,
        "blind_more": max(len(inv.blind) - VERDICT_BLIND, 0),
        "notes": notes,
    }


def _ledger(inv: Investigation, root: str) -> dict[str, Any]:
    stats = inv.ledger
    problem = [f for f in stats.files if f.status != "stored" or f.rejected or f.message]
    fine = [f for f in stats.files if not (f.status != "stored" or f.rejected or f.message)]
    listed = sorted([*problem, *fine[:FILES_LISTED]], key=lambda f: f.file_id)
    return {
        "root": root,
        "files": len(stats.files),
        "read": sum(f.read for f in stats.files),
        "stored": sum(f.stored for f in stats.files),
        "rejected": sum(f.rejected for f in stats.files),
        "tables": [
            {"name": t.table, "rows": t.rows, "first": _when(t.first, "-"), "last": _when(t.last, "-")}
            for t in stats.tables
        ],
        "listed": [
            {
                "id": f.file_id,
                "path": f.path,
                "short": under(f.path, root),
                "container": f.container or "",
                "status": f.status,
                "read": f.read,
                "stored": f.stored,
                "rejected": f.rejected,
                "message": f.message or "",
                "problem": f.status != "stored" or bool(f.rejected) or bool(f.message),
            }
            for f in listed
        ],
        "unlisted": len(stats.files) - len(listed),
        "rejects": [
            {"reason": r.reason, "records": r.records, "example": (r.example or "")[:500]} for r in stats.rejects
        ],
    }


def _sources(inv: Investigation) -> list[dict[str, Any]]:
    quiet = {a.source: a.evidence for a in inv.silence.alerts if a.state == "TOO_QUIET"}
    out = []
    known = {s.id for s in inv.silence.sources}
    for source, evidence in quiet.items():
        if source not in known:  # judged too quiet without a state of its own: listed all the same
            out.append(
                {
                    "id": source,
                    "title": "",
                    "state": "TOO_QUIET",
                    "first": "",
                    "last": "",
                    "events": 0,
                    "per_day": 0.0,
                    "per_day_text": "-",
                    "rhythm": "",
                    "delay": "-",
                    "delay_h": -1,
                    "note": evidence,
                }
            )
    for s in inv.silence.sources:
        delay = "-"
        if s.typical_delay_h is not None:
            typical = f"{s.typical_delay_h:.1f} h" if math.isfinite(s.typical_delay_h) else "> 6 months"
            worst = (
                f"{s.worst_delay_h:.1f} h" if s.worst_delay_h is not None and math.isfinite(s.worst_delay_h) else "-"
            )
            delay = f"{typical} / {worst}"
        out.append(
            {
                "id": s.id,
                "title": s.title,
                "state": s.state,
                "first": _when(s.first),
                "last": _when(s.last),
                "events": s.events,
                "per_day": s.per_day,
                "per_day_text": f"{s.per_day:,.1f}" if s.per_day >= 10 else f"{s.per_day:.2g}",
                "rhythm": s.rhythm,
                "delay": delay,
                "delay_h": s.typical_delay_h
                if s.typical_delay_h is not None and math.isfinite(s.typical_delay_h)
                else -1,
                "note": quiet.get(s.id, ""),
            }
        )
    return out


def _coverage(inv: Investigation) -> dict[str, Any]:
    items = [
        {
            "id": c.behaviour.id,
            "tier": c.behaviour.tier,
            "behaviour": c.behaviour.behaviour,
            "rules": [{"title": r.title, "level": r.level, "tests": f"{r.positives}+/{r.negatives}-"} for r in c.rules],
            "public": ", ".join(f"{name} {codes}" for name, codes in c.behaviour.public.items()),
        }
        for c in inv.coverage
    ]
    return {
        "rows": items,
        "covered": sum(1 for c in inv.coverage if c.rules),
        "public": sum(1 for c in inv.coverage if c.behaviour.public),
    }


def _context(inv: Investigation) -> dict[str, Any]:
    root = common_folder([f.path for f in inv.ledger.files] + [f.alert.file for f in inv.findings])
    index = _index(inv, root)
    timeline = _timeline(inv, index)
    tables = [t for t in inv.ledger.tables if t.rows]
    firsts = [t.first for t in tables if t.first]
    lasts = [t.last for t in tables if t.last]
    kinds = sorted({a["k"] for a in index.alerts}, key=lambda k: (k != "tamper", k))
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "at": _when(inv.at),
        "start": _when(inv.start),
        "hours": inv.hours,
        "records": sum(t.rows for t in inv.ledger.tables),
        "files": len(inv.ledger.files),
        "first": _when(min(firsts)) if firsts else "",
        "last": _when(max(lasts)) if lasts else "",
        "budget": inv.silence.budget,
        "verdict": _verdict(inv, index),
        "n_rows": len(inv.rows),
        "n_alerts": len(index.alerts),
        "n_tamper": len(inv.findings),
        "levels": [lv for lv in LEVELS if any(a["lv"] == lv for a in index.alerts)],
        "kinds": kinds,
        "sources": _sources(inv),
        "ledger": _ledger(inv, root),
        "coverage": _coverage(inv),
        "timeline_json": script_json(timeline),
        "alerts_json": script_json({"alerts": index.alerts}),
    }
