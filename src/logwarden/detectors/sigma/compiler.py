"""Compile a Sigma rule's condition into one SQL predicate with bound parameters.

The condition tree comes from pySigma after its processing (modifiers applied, lists
expanded); this walks it and emits DuckDB SQL. No value from a rule is ever written into
the SQL text: strings, patterns, regular expressions and JSON paths all travel as `?`
parameters, so quotes, backslashes, `%`, `_` or NUL in a rule change nothing but the value.

Matching follows the Sigma specification: strings compare case-insensitively unless
`|cased`, `*` and `?` are wildcards (escapable), a field holding a list matches when any
element does, `null` matches a missing or null field, keywords search the whole record.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import re2
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from logwarden.detectors.sigma.fieldmap import FieldRef, resolve
from logwarden.store.sql import sql_str
from logwarden.store.tables import FROM_RAW, RAW_COLUMN, TS, Table


class UnsupportedRule(Exception):
    pass


@dataclass
class Predicate:
    sql: str
    params: list[Any] = field(default_factory=list)


# Sigma's comparison modifiers; SQL and KQL write them alike.
COMPARE = {
    SigmaCompareExpression.CompareOperators.LT: "<",
    SigmaCompareExpression.CompareOperators.LTE: "<=",
    SigmaCompareExpression.CompareOperators.GT: ">",
    SigmaCompareExpression.CompareOperators.GTE: ">=",
}
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def _escape(pattern: str) -> str:
    """The ESCAPE clause a LIKE pattern needs: only when it escapes something. DuckDB turns
    `ILIKE '%/DELETE'` into a suffix test, about 30 times faster, but not once ESCAPE is given."""
    return " ESCAPE '\\'" if "\\" in pattern else ""


def _joined(joiner: str, parts: list[Predicate]) -> Predicate:
    return Predicate("(" + joiner.join(p.sql for p in parts) + ")", [x for p in parts for x in p.params])


def like_pattern(value: SigmaString) -> str:
    """A LIKE pattern for a Sigma string: its wildcards become % and _, literal % _ \\ are escaped."""
    out = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        elif isinstance(part, str):
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        else:
            raise UnsupportedRule(f"placeholder {part} has no values: give them with --placeholders FILE")
    return "".join(out)


# JSON paths are left in compiled SQL as tokens, so that whoever runs many rules over one table
# can read every path below a column in one parse per record (`link`); a rule run alone gets a
# direct extraction for each. A token names (column, within, path): `within`, when set, are the
# spellings of a key below the column holding JSON in a string (an ARM request body), and `path`
# applies inside that string, so all paths into one request body share its parse too. Tokens
# live for the life of the process.
_TOKEN = re2.compile("\u27e6(\\d+)\u27e7")
PathKey = tuple[str, tuple[str, ...] | None, str]
_PATH_IDS: dict[PathKey, int] = {}
_PATHS: list[PathKey] = []


def path_token(column: str, path: str, within: tuple[str, ...] | None = None) -> str:
    key = (column, within, path)
    if key not in _PATH_IDS:
        _PATH_IDS[key] = len(_PATHS)
        _PATHS.append(key)
    return f"\u27e6{_PATH_IDS[key]}\u27e7"


def path_tokens(sql: str) -> list[tuple[int, str, tuple[str, ...] | None, str]]:
    """(token id, column, within, path) of every token in `sql`, each once."""
    ids = sorted({int(t) for t in _TOKEN.findall(sql)})
    return [(i, *_PATHS[i]) for i in ids]


def inner_document(column: str, within: tuple[str, ...], slot: Callable[[str, str], str] | None = None) -> str:
    """SQL of the JSON a string below `column` holds (the first spelling present). The string is
    attacker-controlled: text that is not JSON reads as missing, never an error. `slot` gives the
    SQL of a path below the column, by default a direct extraction."""

    def direct(c: str, p: str) -> str:
        return f'json_extract_string("{c}", {sql_str(p)})'

    found = ", ".join((slot or direct)(column, p) for p in within)
    return f"TRY_CAST(coalesce({found}) AS JSON)"


def link(sql: str, slots: dict[int, str] | None = None) -> str:
    """`sql` with its path tokens replaced by `slots`, or else by one extraction each."""

    def replace(match: Any) -> str:
        token = int(match.group(1))
        if slots is not None and token in slots:
            return slots[token]
        column, within, path = _PATHS[token]
        if within is not None:
            return f"json_extract_string({inner_document(column, within)}, {sql_str(path)})"
        return f'json_extract_string("{column}", {sql_str(path)})'

    return str(_TOKEN.sub(replace, sql))


def guard_tree(table: Table, node: Any) -> tuple[Any, bool] | None:
    """A condition every record `node` matches passes, made only of tests on plain columns (no
    JSON, no keyword search), or None if there is none; and whether it is cheap: no regular
    expression, no CIDR (a regular expression costs a record about 150 times what a suffix test
    does, and guards run on every record). Most rules name an operation: that is their guard."""
    if isinstance(node, ConditionAND):
        # Any one conjunct's guard is enough: a cheap one if there is one.
        guards = [g for g in (guard_tree(table, arg) for arg in node.args) if g is not None]
        return min(guards, key=lambda g: not g[1]) if guards else None
    if isinstance(node, ConditionOR):
        either = [guard_tree(table, arg) for arg in node.args]
        known = [g for g in either if g is not None]
        if len(known) < len(either):
            return None
        return ConditionOR([g for g, _ in known]), all(cheap for _, cheap in known)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        ref = resolve(table, node.field)
        plain = ref.path is None and ref.parameter is None and ref.column not in FROM_RAW.get(table.name, {})
        if plain and not isinstance(node.value, SigmaFieldReference):
            costly = isinstance(node.value, SigmaRegularExpression | SigmaCIDRExpression)
            # A new leaf: the rule's own tree keeps its parents.
            return ConditionFieldEqualsValueExpression(node.field, node.value), not costly
    return None


class Compiler:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._kinds = {**dict(table.columns), **{name: kind for name, kind, _ in table.derived}}

    def compile(self, node: Any) -> Predicate:
        if isinstance(node, ConditionAND | ConditionOR):
            return _joined(" AND " if isinstance(node, ConditionAND) else " OR ", [self.compile(a) for a in node.args])
        if isinstance(node, ConditionNOT):
            inner = self.compile(node.args[0])
            # NOT of a comparison with a missing field is NULL in SQL; in Sigma it is true.
            return Predicate(f"(NOT coalesce({inner.sql}, false))", inner.params)
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self._field(resolve(self.table, node.field), node.value, node.field)
        if isinstance(node, ConditionValueExpression):
            return self._keyword(node.value)
        raise UnsupportedRule(f"condition element {type(node).__name__} is not supported")

    def guard(self, node: Any) -> tuple[Predicate, bool] | None:
        """The SQL of `guard_tree`, and whether it is cheap: a scan tests the rest of its rules
        only on the records some rule's guard lets through, so the JSON of a record no rule's
        operation matches is never parsed."""
        found = guard_tree(self.table, node)
        return (self.compile(found[0]), found[1]) if found else None

    # --- fields ------------------------------------------------------------------------------

    def _field(self, ref: FieldRef, value: Any, name: str) -> Predicate:
        if isinstance(value, SigmaExpansion):
            # base64offset, windash and the like: any of the variants
            parts = [self._field(ref, v, name) for v in value.values]
            return Predicate("(" + " OR ".join(p.sql for p in parts) + ")", [x for p in parts for x in p.params])
        if isinstance(value, SigmaNull):
            return self._on_value(ref, "{v} IS NULL", [], absent_matches=True)
        if isinstance(value, SigmaExists):
            test = "{v} IS NOT NULL" if value.exists else "{v} IS NULL"
            return self._on_value(ref, test, [], absent_matches=not value.exists)
        if isinstance(value, SigmaFieldReference):
            other = resolve(self.table, value.field)
            if other.many or ref.many:
                raise UnsupportedRule(f"fieldref between list-valued fields ({name}, {value.field})")
            left, lp = self.scalar(ref)
            right, rp = self.scalar(other)
            return Predicate(f"(lower({left}) = lower({right}))", lp + rp)
        if isinstance(value, SigmaCasedString):
            pattern = like_pattern(value)
            return self._on_value(ref, "{v} LIKE ?" + _escape(pattern), [pattern])
        if isinstance(value, SigmaString):
            if not value.contains_special():
                # The literal text: to_plain() would re-escape a literal * or ? for Sigma.
                text = "".join(part for part in value.s if isinstance(part, str))
                return self._on_value(ref, "lower({v}) = lower(?)", [text])
            pattern = like_pattern(value)
            return self._on_value(ref, "{v} ILIKE ?" + _escape(pattern), [pattern])
        if isinstance(value, SigmaBool):
            return self._on_value(ref, "lower({v}) = ?", ["true" if value.boolean else "false"])
        if isinstance(value, SigmaNumber):
            return self._on_value(ref, "TRY_CAST({v} AS DOUBLE) = ?", [float(value.number)])
        if isinstance(value, SigmaCompareExpression):
            op = COMPARE[value.op]
            return self._on_value(ref, f"TRY_CAST({{v}} AS DOUBLE) {op} ?", [float(value.number.number)])
        if isinstance(value, SigmaRegularExpression):
            flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
            pattern = (f"(?{flags})" if flags else "") + value.regexp.to_plain()
            return self._on_value(ref, "regexp_matches({v}, ?)", [pattern])
        if isinstance(value, SigmaCIDRExpression):
            return self._cidr(ref, value)
        raise UnsupportedRule(f"value type {type(value).__name__} on field {name!r} is not supported")

    def scalar(self, ref: FieldRef) -> tuple[str, list[Any]]:
        """SQL text of one value of the field (the first, for a path), and its parameters."""
        column = f'"{ref.column}"'
        if ref.parameter is not None:
            return f"lw_param({column}, ?)", [ref.parameter]
        if ref.path is not None:
            if ref.within is not None:
                if any("\x00" in p for p in (*ref.within, ref.path)):
                    document, params = self._document(ref)
                    return f"json_extract_string({document}, ?)", [*params, ref.path]
                return path_token(ref.column, ref.path, ref.within), []
            paths = (ref.path, *ref.shapes)
            if any("\x00" in p for p in paths):  # not shareable as a literal: extract it on its own
                found = ", ".join(f"json_extract_string({column}, ?)" for _ in paths)
                return f"coalesce({found})", list(paths)
            tokens = [path_token(ref.column, p) for p in paths]
            return (tokens[0] if len(tokens) == 1 else f"coalesce({', '.join(tokens)})"), []
        if self._kinds.get(ref.column) == TS:
            return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%fZ')", []
        return f"CAST({column} AS VARCHAR)", []

    def _document(self, ref: FieldRef) -> tuple[str, list[Any]]:
        """SQL of the JSON text a field's path applies to: its column, or a JSON string inside it."""
        if ref.within is None:
            return f'"{ref.column}"', []
        if any("\x00" in p for p in ref.within):
            found = ", ".join(f'json_extract_string("{ref.column}", ?)' for _ in ref.within)
            return f"TRY_CAST(coalesce({found}) AS JSON)", list(ref.within)
        return inner_document(ref.column, ref.within, path_token), []

    def _on_value(self, ref: FieldRef, test: str, params: list[Any], absent_matches: bool = False) -> Predicate:
        """`test` (written over `{v}`) applied to the field; for a list, true if any element passes."""
        if ref.many:
            assert ref.path is not None
            document, document_params = self._document(ref)
            # Every shape's values in one list: a path through a list gives a list, one through
            # objects only a single value.
            lists, head = [], []
            for path in (ref.path, *ref.shapes):
                one = f"json_extract_string({document}, ?)"
                lists.append(f"coalesce({one}, [])" if "[*]" in path else f"[{one}]")
                head += [*document_params, path]
            values = lists[0] if len(lists) == 1 else f"list_concat({', '.join(lists)})"
            if absent_matches:
                # null / not-exists over a list: true when no element has a value
                return Predicate(f"(len(list_filter(coalesce({values}, []), lambda v: v IS NOT NULL)) = 0)", head)
            any_element = f"(len(list_filter({values}, lambda v: {test.format(v='v')})) > 0)"
            return Predicate(any_element, [*head, *params])
        scalar, scalar_params = self.scalar(ref)
        # The value comes first in the SQL text, so its parameters go before the test's own.
        return Predicate("(" + test.format(v=scalar) + ")", [*scalar_params, *params])

    def _cidr(self, ref: FieldRef, value: SigmaCIDRExpression) -> Predicate:
        network = value.network
        low, high = int(network.network_address), int(network.broadcast_address)
        if isinstance(network, ipaddress.IPv4Network):
            return self._on_value(ref, "lw_ipv4({v}) BETWEEN ? AND ?", [low, high])
        # 128-bit bounds travel as text: no integer parameter type holds them.
        test = "lw_ipv6({v}) BETWEEN CAST(? AS UHUGEINT) AND CAST(? AS UHUGEINT)"
        return self._on_value(ref, test, [str(low), str(high)])

    # --- keywords ----------------------------------------------------------------------------

    def _keyword(self, value: Any) -> Predicate:
        if not isinstance(value, SigmaString):
            raise UnsupportedRule(f"keyword of type {type(value).__name__} is not supported")
        pattern = like_pattern(value)
        # A keyword matches anywhere in the record as received.
        return Predicate(f'("{RAW_COLUMN}" ILIKE ?{_escape(pattern)})', [f"%{pattern}%"])


# Helpers the compiled predicates use, defined per connection.
MACROS = (
    r"""CREATE OR REPLACE TEMP MACRO lw_ipv4(s) AS CASE
        WHEN regexp_full_match(s, '\d{1,3}(\.\d{1,3}){3}(:\d+)?')
        THEN CAST(split_part(s, '.', 1) AS BIGINT) * 16777216 + CAST(split_part(s, '.', 2) AS BIGINT) * 65536
             + CAST(split_part(s, '.', 3) AS BIGINT) * 256 + CAST(split_part(split_part(s, '.', 4), ':', 1) AS BIGINT)
        END""",
    # IPv6 text (compressed or not, optionally as [address]:port) as a 128-bit number.
    r"""CREATE OR REPLACE TEMP MACRO lw_ipv6_bare(s) AS
        CASE WHEN starts_with(s, '[') THEN regexp_extract(s, '^\[([^\]]*)\]', 1) ELSE s END""",
    r"""CREATE OR REPLACE TEMP MACRO lw_ipv6_side(a) AS
        CASE WHEN a = '' THEN []::VARCHAR[] ELSE string_split(a, ':') END""",
    r"""CREATE OR REPLACE TEMP MACRO lw_ipv6_groups(a) AS CASE
        WHEN contains(a, '::') THEN list_concat(
            lw_ipv6_side(split_part(a, '::', 1)),
            list_transform(
                range(8 - len(lw_ipv6_side(split_part(a, '::', 1))) - len(lw_ipv6_side(split_part(a, '::', 2)))),
                lambda i: '0'),
            lw_ipv6_side(split_part(a, '::', 2)))
        ELSE string_split(a, ':') END""",
    r"""CREATE OR REPLACE TEMP MACRO lw_ipv6(s) AS CASE
        WHEN regexp_full_match(lw_ipv6_bare(s), '[0-9A-Fa-f:]{2,39}')
             AND len(lw_ipv6_groups(lw_ipv6_bare(s))) = 8
             AND list_bool_and(list_transform(lw_ipv6_groups(lw_ipv6_bare(s)), lambda g: len(g) BETWEEN 1 AND 4))
        THEN TRY_CAST('0x' || array_to_string(
            list_transform(lw_ipv6_groups(lw_ipv6_bare(s)), lambda g: lpad(g, 4, '0')), '') AS UHUGEINT)
        END""",
)
