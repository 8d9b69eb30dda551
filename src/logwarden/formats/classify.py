"""Compile the record formats into the SQL that sorts and maps a batch in bulk.

A batch arrives in the store as Arrow columns (`text`, `line`, `rec`, `wrapper`,
`fileid`).
Each record is parsed once for the keys that tell formats apart, assigned the first
format whose predicate holds and given its event time; then parsed once more for
every key and nested path its format's columns read, and inserted into that
format's Sentinel table. Records no format claims, or without a readable time,
come back to Python for repair or a precise reject reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import re2

from logwarden.formats.records import FORMATS
from logwarden.formats.records.base import RecordFormat, json_path
from logwarden.store.database import STORED_SCHEMA
from logwarden.store.sql import sql_str
from logwarden.store.tables import INT, JSON, RAW_COLUMN, TABLES, TS

BATCH_VIEW = "lw_batch"
STAGE = "lw_stage"

_KEY_REF = re2.compile(r'r\."((?:[^"]|"")+)"')
_PATH_REF = re2.compile(r"""lw_path\(r\."((?:[^"]|"")+)", '((?:[^']|'')*)'\)""")
_OBJ_REF = re2.compile(r"""lw_obj\(r\."((?:[^"]|"")+)", '((?:[^']|'')*)'\)""")
_PATH_LITERAL = re2.compile(r"'(\$[^']*)'")
_PATH_STEP = re2.compile(r'\.(?:"([^"]*)"|([A-Za-z0-9_]+))')


def _unquote(identifier: str) -> str:
    return identifier.replace('""', '"')


def vocabulary(fmt: RecordFormat) -> dict[str, str]:
    """Lower-cased key -> spelling, for every key name the format reads at any depth."""
    sql = " ".join([fmt.match, fmt.time, *fmt.columns.values()])
    names = _keys_in(sql)
    for literal in _PATH_LITERAL.findall(sql):
        names.extend(quoted or bare for quoted, bare in _PATH_STEP.findall(literal))
    out: dict[str, str] = {}
    for name in names:
        out.setdefault(name.lower(), name)
    return out


def _typed(expr: str, kind: str) -> str:
    if kind == TS:
        return f"lw_ts({expr})"
    if kind == INT:
        return f"TRY_CAST({expr} AS BIGINT)"
    if kind == JSON:
        return expr
    return f"CAST({expr} AS VARCHAR)"


@dataclass(frozen=True, eq=False)
class Plan:
    formats: tuple[RecordFormat, ...]

    @cached_property
    def keys(self) -> list[tuple[str, str]]:
        """The top-level keys that decide a record's format and time, as (key, `$`) references."""
        refs: list[tuple[str, str]] = []
        for fmt in self.formats:
            refs += [(name, "$") for name in _keys_in(f"{fmt.match} {fmt.time}") if (name, "$") not in refs]
        return refs

    @cache  # noqa: B019 - one Plan lives as long as the process; few distinct `expected` sets
    def layout(self, expected: frozenset[int]) -> dict[tuple[str, str], int]:
        """Slot in `r` of each reference the stage reads: the deciding keys, and everything
        the `expected` formats' columns read, so that their inserts need no second parse.

        `r` is a list, not a struct: DuckDB struct fields cannot differ only in case, and
        `Level` and `level` are different keys here.
        """
        refs = list(self.keys)
        for fid in sorted(expected):
            refs += _refs_in(" ".join(self.formats[fid].columns.values()))
        return _slots(refs)

    @cache  # noqa: B019
    def stage_sql(self, expected: frozenset[int] = frozenset()) -> str:
        layout = self.layout(expected)
        slots = {ref: f"r[{slot}]" for ref, slot in layout.items()}
        matches = " ".join(f"WHEN {_bind(f.match, slots)} THEN {i}" for i, f in enumerate(self.formats))
        times = " ".join(f"WHEN {i} THEN {_bind(f.time, slots)}" for i, f in enumerate(self.formats))
        paths = ", ".join(sql_str(p) for p in _full_paths(layout))
        carried = ", r" if expected else ""
        return (
            f"SELECT text, line, rec, wrapper, fileid, fid, t_raw, lw_ts(t_raw) AS t{carried} FROM ("
            f"  SELECT *, CASE fid {times} END AS t_raw FROM ("
            f"    SELECT *, CASE WHEN r IS NULL THEN NULL {matches} END AS fid"
            f"    FROM (SELECT *, try(json_extract_string(text, [{paths}])) AS r FROM {BATCH_VIEW})"
            f"  )"
            f")"
        )

    @cache  # noqa: B019
    def insert_sql(self, fid: int, expected: frozenset[int] = frozenset(), direct: bool = False) -> str:
        """Store format `fid`'s records from the stage, or with `direct` straight from the batch.

        The direct form classifies as it inserts, for a batch expected to hold `fid` only: if
        it stores every record there is no stage at all.
        """
        fmt = self.formats[fid]
        table = TABLES[fmt.table]
        unknown = set(fmt.columns) - set(table.column_names)
        if unknown:
            raise ValueError(f"format {fmt.code} maps to columns {sorted(unknown)} that {table.name} lacks")
        refs = _refs_in(" ".join(fmt.columns.values()))
        if fid in expected:
            # The stage already read all of it.
            layout, values, extract = self.layout(expected), "r", ""
        else:
            # Everything the columns read, at any depth, comes out of one more parse of the record.
            layout, values = _slots(refs), "v"
            paths = ", ".join(sql_str(p) for p in _full_paths(layout))
            extract = f", try(json_extract_string(text, [{paths}])) AS v"
        slots = {ref: f"{values}[{layout[ref]}]" for ref in refs}
        selects = ['t AS "TimeGenerated"']
        for column, expr in fmt.columns.items():
            selects.append(f'{_typed(_bind(expr, slots), table.column_type(column))} AS "{column}"')
        selects += [
            'fileid AS "_FileId"',
            'line AS "_Line"',
            'rec AS "_Record"',
            f'coalesce(wrapper, {sql_str(fmt.code)}) AS "_Format"',
            f'text AS "{RAW_COLUMN}"',
        ]
        stage = f"({self.stage_sql(expected)})" if direct else STAGE
        source = f"(SELECT *{extract} FROM {stage} WHERE fid = {fid} AND t IS NOT NULL)"
        return f'INSERT INTO {STORED_SCHEMA}."{table.name}" BY NAME SELECT {", ".join(selects)} FROM {source}'

    @property
    def present_sql(self) -> str:
        """Records in the stage to store, by format and input file."""
        return f"SELECT fid, fileid, count(*) FROM {STAGE} WHERE fid IS NOT NULL AND t IS NOT NULL GROUP BY ALL"

    @property
    def leftovers_sql(self) -> str:
        return f"SELECT text, line, rec, wrapper, fileid, fid, t_raw FROM {STAGE} WHERE fid IS NULL OR t IS NULL"


def _refs_in(sql: str) -> list[tuple[str, str]]:
    """(key, path below it) for every key, path and object marker in `sql`; `$` is the key itself."""
    refs = [(_unquote(name), literal) for name, literal in _PATH_REF.findall(sql) + _OBJ_REF.findall(sql)]
    refs += [(name, "$") for name in _keys_in(_OBJ_REF.sub("", _PATH_REF.sub("", sql)))]
    return refs


def _slots(refs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """1-based list slots for references, one slot per distinct full JSON path."""
    by_path: dict[str, int] = {}
    return {(name, lit): by_path.setdefault(json_path(name) + lit[1:], len(by_path) + 1) for name, lit in refs}


def _full_paths(layout: dict[tuple[str, str], int]) -> list[str]:
    """The full JSON path of each slot, in slot order."""
    paths: dict[int, str] = {}
    for (name, literal), slot in layout.items():
        paths.setdefault(slot, json_path(name) + literal[1:])
    return [paths[i] for i in sorted(paths)]


def _keys_in(sql: str) -> list[str]:
    return [_unquote(m) for m in _KEY_REF.findall(sql)]


def _bind(sql: str, slots: dict[tuple[str, str], str]) -> str:
    """Replace key, path and object markers with the list slots that hold their values."""
    # An object arrives as its JSON text; lw_json makes it a JSON value again.
    sql = _OBJ_REF.sub(lambda m: f"lw_json({slots[(_unquote(m.group(1)), m.group(2))]})", sql)
    sql = _PATH_REF.sub(lambda m: slots[(_unquote(m.group(1)), m.group(2))], sql)
    return str(_KEY_REF.sub(lambda m: slots[(_unquote(m.group(1)), "$")], sql))


PLAN = Plan(FORMATS)
