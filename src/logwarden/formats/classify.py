"""Compile the record formats into the SQL that sorts and maps a batch in bulk.

A batch arrives in the store as Arrow columns (`text`, `line`, `rec`, `wrapper`).
Each record is parsed once for the keys that tell formats apart, assigned the first
format whose predicate holds and given its event time; then parsed once more for
every key and nested path its format's columns read, and inserted into that
format's Sentinel table. Records no format claims, or without a readable time,
come back to Python for repair or a precise reject reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import re2

from logwarden.formats.records import FORMATS
from logwarden.formats.records.base import RecordFormat, json_path, sql_str
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


@dataclass(frozen=True)
class Plan:
    formats: tuple[RecordFormat, ...]

    @cached_property
    def keys(self) -> dict[str, int]:
        """The top-level keys that decide a record's format and time, and their slot in `r`."""
        names: dict[str, int] = {}
        for fmt in self.formats:
            for name in _keys_in(f"{fmt.match} {fmt.time}"):
                names.setdefault(name, len(names) + 1)
        return names

    @cached_property
    def stage_sql(self) -> str:
        # `r` is a list (DuckDB struct fields cannot differ only in case, and `Level` and
        # `level` are different keys here), filled by one parse of each record.
        slots = {(name, "$"): f"r[{slot}]" for name, slot in self.keys.items()}
        matches = " ".join(f"WHEN {_bind(f.match, slots)} THEN {i}" for i, f in enumerate(self.formats))
        times = " ".join(f"WHEN {i} THEN {_bind(f.time, slots)}" for i, f in enumerate(self.formats))
        paths = ", ".join(sql_str(json_path(k)) for k in self.keys)
        return (
            f"SELECT text, line, rec, wrapper, fid, t_raw, lw_ts(t_raw) AS t FROM ("
            f"  SELECT *, CASE fid {times} END AS t_raw FROM ("
            f"    SELECT *, CASE WHEN r IS NULL THEN NULL {matches} END AS fid"
            f"    FROM (SELECT *, try(json_extract_string(text, [{paths}])) AS r FROM {BATCH_VIEW})"
            f"  )"
            f")"
        )

    def insert_sql(self, fid: int) -> str:
        fmt = self.formats[fid]
        table = TABLES[fmt.table]
        unknown = set(fmt.columns) - set(table.column_names)
        if unknown:
            raise ValueError(f"format {fmt.code} maps to columns {sorted(unknown)} that {table.name} lacks")
        # Every text value the columns read comes out of one parse of the record (`v`), every
        # JSON value out of one more (`o`): JSON stays JSON, with no re-validation or re-encoding.
        sql = " ".join(fmt.columns.values())
        texts = _slots([(_unquote(n), lit) for n, lit in _PATH_REF.findall(sql)] + [
            (n, "$") for n in _keys_in(_OBJ_REF.sub("", _PATH_REF.sub("", sql)))
        ], "v")
        objects = _slots([(_unquote(n), lit) for n, lit in _OBJ_REF.findall(sql)], "o")
        selects = ['t AS "TimeGenerated"']
        for column, expr in fmt.columns.items():
            bound = _bind(expr, texts.slots, objects.slots)
            selects.append(f'{_typed(bound, table.column_type(column))} AS "{column}"')
        selects += [
            'CAST(? AS INTEGER) AS "_FileId"',
            'line AS "_Line"',
            'rec AS "_Record"',
            f'coalesce(wrapper, {sql_str(fmt.code)}) AS "_Format"',
            f'text AS "{RAW_COLUMN}"',
        ]
        extracts = texts.select("json_extract_string") + objects.select("json_extract")
        source = f"(SELECT *{extracts} FROM {STAGE} WHERE fid = {fid} AND t IS NOT NULL)"
        return f'INSERT INTO "{table.name}" BY NAME SELECT {", ".join(selects)} FROM {source}'

    @property
    def present_sql(self) -> str:
        return f"SELECT fid, count(*) FROM {STAGE} WHERE fid IS NOT NULL AND t IS NOT NULL GROUP BY fid"

    @property
    def leftovers_sql(self) -> str:
        return f"SELECT text, line, rec, wrapper, fid, t_raw FROM {STAGE} WHERE fid IS NULL OR t IS NULL"


@dataclass
class _Slots:
    """Full JSON paths read in one call, and the list slot each (key, path) lands in."""

    name: str
    paths: list[str]
    slots: dict[tuple[str, str], str]

    def select(self, function: str) -> str:
        if not self.paths:
            return ""
        return f", try({function}(text, [{', '.join(sql_str(p) for p in self.paths)}])) AS {self.name}"


def _slots(refs: list[tuple[str, str]], name: str) -> _Slots:
    out = _Slots(name, [], {})
    for key, literal in refs:
        full = json_path(key) + literal[1:]
        if full not in out.paths:
            out.paths.append(full)
        out.slots[(key, literal)] = f"{name}[{out.paths.index(full) + 1}]"
    return out


def _keys_in(sql: str) -> list[str]:
    return [_unquote(m) for m in _KEY_REF.findall(sql)]


def _bind(sql: str, slots: dict[tuple[str, str], str], objects: dict[tuple[str, str], str] | None = None) -> str:
    """Replace key, path and object markers with the list slots that hold their values."""
    sql = _OBJ_REF.sub(lambda m: (objects or {})[(_unquote(m.group(1)), m.group(2))], sql)
    sql = _PATH_REF.sub(lambda m: slots[(_unquote(m.group(1)), m.group(2))], sql)
    return _KEY_REF.sub(lambda m: slots[(_unquote(m.group(1)), "$")], sql)


PLAN = Plan(FORMATS)
