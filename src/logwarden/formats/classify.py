"""Compile the record formats into the SQL that sorts and maps a batch in bulk.

A batch arrives in the store as Arrow columns (`text`, `line`, `rec`, `wrapper`).
Each record is parsed once into a struct of its top-level keys, assigned the first
format whose predicate holds, given its event time, and inserted into that
format's Sentinel table. Records no format claims, or without a readable time,
come back to Python for repair or a precise reject reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import re2

from logwarden.formats.records import FORMATS
from logwarden.formats.records.base import RecordFormat, json_path, sql_str
from logwarden.store.tables import INT, JSON, RAW_COLUMN, TABLES, TS

BATCH_VIEW = "lw_batch"
STAGE = "lw_stage"

_KEY_REF = re2.compile(r'r\."((?:[^"]|"")+)"')
_PATH_REF = re2.compile(r"""lw_path\(r\."((?:[^"]|"")+)", '((?:[^']|'')*)'\)""")
_PATH_LITERAL = re2.compile(r"'(\$[^']*)'")
_PATH_STEP = re2.compile(r'\.(?:"([^"]*)"|([A-Za-z0-9_]+))')


def repr_sql(literal: str) -> str:
    """A path literal as the marker carried it (already escaped for SQL)."""
    return f"'{literal}'"


def _unquote(identifier: str) -> str:
    return identifier.replace('""', '"')


def _top_level_keys(fmt: RecordFormat) -> list[str]:
    sql = " ".join([fmt.match, fmt.time, *fmt.columns.values()])
    return [_unquote(m) for m in _KEY_REF.findall(sql)]


def vocabulary(fmt: RecordFormat) -> dict[str, str]:
    """Lower-cased key -> spelling, for every key name the format reads at any depth."""
    sql = " ".join([fmt.match, fmt.time, *fmt.columns.values()])
    names = _top_level_keys(fmt)
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
        """Every top-level key any format reads, and its (1-based) slot in `r`."""
        names: dict[str, int] = {}
        for fmt in self.formats:
            for name in _top_level_keys(fmt):
                names.setdefault(name, len(names) + 1)
        return names

    def _bind(self, sql: str, paths: dict[tuple[str, str], str] | None = None) -> str:
        """Resolve key and path markers: keys to slots of `r`, paths to `paths` or a parse each."""

        def one_path(m: Any) -> str:
            found = (paths or {}).get((_unquote(m.group(1)), m.group(2)))
            return found or f"try(json_extract_string(r.\"{m.group(1)}\", '{m.group(2)}'))"

        # `r` is a list (DuckDB struct fields cannot differ only in case, and `Level` and
        # `level` are different keys here), so key references become list slots.
        return _KEY_REF.sub(lambda m: f"r[{self.keys[_unquote(m.group(1))]}]", _PATH_REF.sub(one_path, sql))

    @cached_property
    def stage_sql(self) -> str:
        matches = " ".join(f"WHEN {self._bind(f.match)} THEN {i}" for i, f in enumerate(self.formats))
        times = " ".join(f"WHEN {i} THEN {self._bind(f.time)}" for i, f in enumerate(self.formats))
        paths = "[" + ", ".join(sql_str(json_path(k)) for k in self.keys) + "]"
        return (
            f"CREATE OR REPLACE TEMP TABLE {STAGE} AS "
            f"SELECT *, lw_ts(t_raw) AS t FROM ("
            f"  SELECT *, CASE fid {times} END AS t_raw FROM ("
            f"    SELECT text, line, rec, wrapper, r, CASE WHEN r IS NULL THEN NULL {matches} END AS fid"
            f"    FROM (SELECT *, try(json_extract_string(text, {paths})) AS r FROM {BATCH_VIEW})"
            f"  )"
            f")"
        )

    def insert_sql(self, fid: int) -> str:
        fmt = self.formats[fid]
        table = TABLES[fmt.table]
        unknown = set(fmt.columns) - set(table.column_names)
        if unknown:
            raise ValueError(f"format {fmt.code} maps to columns {sorted(unknown)} that {table.name} lacks")
        # Every path below one key is read in one parse of that key: `p<slot>` is the list.
        wanted: dict[str, list[str]] = {}
        for name, literal in _PATH_REF.findall(" ".join(fmt.columns.values())):
            found = wanted.setdefault(_unquote(name), [])
            if literal not in found:
                found.append(literal)
        paths: dict[tuple[str, str], str] = {}
        extracts = []
        for name, literals in wanted.items():
            slot = self.keys[name]
            extracts.append(f"try(json_extract_string(r[{slot}], [{', '.join(map(repr_sql, literals))}])) AS p{slot}")
            for i, literal in enumerate(literals, start=1):
                paths[(name, literal)] = f"p{slot}[{i}]"
        selects = ['t AS "TimeGenerated"']
        for column, expr in fmt.columns.items():
            selects.append(f'{_typed(self._bind(expr, paths), table.column_type(column))} AS "{column}"')
        selects += [
            'CAST(? AS INTEGER) AS "_FileId"',
            'line AS "_Line"',
            'rec AS "_Record"',
            f'coalesce(wrapper, {sql_str(fmt.code)}) AS "_Format"',
            f'text AS "{RAW_COLUMN}"',
        ]
        source = f"(SELECT *{''.join(', ' + e for e in extracts)} FROM {STAGE} WHERE fid = {fid} AND t IS NOT NULL)"
        return f'INSERT INTO "{table.name}" BY NAME SELECT {", ".join(selects)} FROM {source}'



    @property
    def present_sql(self) -> str:
        return f"SELECT fid, count(*) FROM {STAGE} WHERE fid IS NOT NULL AND t IS NOT NULL GROUP BY fid"

    @property
    def leftovers_sql(self) -> str:
        return f"SELECT text, line, rec, wrapper, fid, t_raw FROM {STAGE} WHERE fid IS NULL OR t IS NULL"


PLAN = Plan(FORMATS)
