"""Sigma conditions as KQL, through pySigma's Kusto backend.

The Kusto backend walks the condition tree (precedence, `not`, `in~` lists); logwarden gives it
the field mapping the local engine uses (`fieldmap.resolve`: export names to Sentinel columns
and JSON paths below them) and replaces the leaf conversions where the stock backend would not
match as Sigma does, or as the local engine does:
- `?` is a single-character wildcard (the stock backend writes `*`), and wildcard matches by
  regular expression are case-insensitive (KQL's `matches regex` is not);
- `|cased` uses KQL's case-sensitive operators;
- a field with dots is a path into a dynamic column (the stock backend quotes it as a string
  literal); a JSON string inside one (an ARM request body) is parsed with `parse_json`;
- a field through a list (`TargetResources.displayName`) matches when any element does, by an
  `mv-apply` that counts matching elements;
- an Exchange parameter is looked up by name (`Parameters.UnifiedAuditLogIngestionEnabled`):
  the parameters become one property bag per record, keyed by lower-cased name;
- numbers compare as numbers whatever the column's type, as the local `TRY_CAST` does.
Every value from a rule is written as a KQL string literal with every quote, backslash and
control character escaped, so a rule's text can never end a literal.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sigma.backends.kusto.kusto import KustoBackend
from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionValueExpression
from sigma.conversion.state import ConversionState
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from logwarden.detectors.sentinel import schema
from logwarden.detectors.sigma.compiler import COMPARE, UnsupportedRule
from logwarden.detectors.sigma.fieldmap import FieldRef, resolve
from logwarden.store.tables import RAW_COLUMN, SETTING_CHILD, Table

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def kql_string(text: str) -> str:
    """A KQL string literal holding exactly `text`."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def json_steps(path: str) -> list[str | None]:
    """The keys of a JSON path as `fieldmap` writes them (`$."a"[*]."b"`); None stands for `[*]`."""
    steps: list[str | None] = []
    i = 1
    while i < len(path):
        if path.startswith("[*]", i):
            steps.append(None)
            i += 3
            continue
        if not path.startswith('."', i):
            raise UnsupportedRule(f"JSON path {path!r} has a step KQL cannot follow")
        i += 2
        key = []
        while path[i] != '"':
            if path[i] == "\\":
                i += 1
            key.append(path[i])
            i += 1
        steps.append("".join(key))
        i += 1
    return steps


def _keys(steps: list[str | None]) -> str:
    return "".join(f"[{kql_string(s)}]" for s in steps if s is not None)


def _padded(array: str) -> str:
    """The array, or an empty one if the value is not an array, with one null element added: an
    `mv-apply` then always has a row to summarize, so a record with an empty or missing list
    is judged (no element matches) rather than dropped."""
    return f'array_concat(iff(gettype({array}) == "array", {array}, dynamic([])), dynamic([null]))'


_PARAMETERS = "LwParameters"
# logwarden's own derived columns (see store.tables), computed as the case database does.
_DERIVED = {
    ("AzureActivity", "ParentResourceId"): f'replace_regex(tolower(ResourceId), {kql_string(SETTING_CHILD)}, "")',
}
# `|re` flags as RE2 inline flags (KQL's regular expressions are RE2, as the local engine's).
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_IPV4 = r"^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$"
_IPV6 = r"^\[?([0-9A-Fa-f:]+)\]?(?::\d+)?$"


@dataclass
class Conversion:
    """What converting one rule's conditions needs besides the `where`: the `mv-apply` steps that
    count list elements (run after the cheap filter, before the `where`), and the columns they
    add, to drop again before the alert's columns are chosen."""

    applies: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


class SentinelBackend(KustoBackend):
    """The Kusto backend for one of logwarden's tables, with logwarden's field mapping."""

    name: ClassVar[str] = "logwarden Sentinel backend"
    _ELEMENT: ClassVar[str] = "\x00element"  # the field name of "the list element being tested"

    def __init__(self, table: Table) -> None:
        super().__init__()
        self.table = table
        self.columns = schema.columns(table.name)
        if not self.columns:
            raise UnsupportedRule(f"{table.name} has no Sentinel table with a fixed schema to export to")
        self.conversion = Conversion()
        self._element: str | None = None

    def condition(self, node: Any) -> str:
        result = self.convert_condition(node, ConversionState())
        if not isinstance(result, str):
            raise UnsupportedRule("the condition needs a deferred query part, which KQL export does not write")
        return result

    # --- fields ------------------------------------------------------------------------------

    def column(self, name: str) -> str:
        """A column by its Sentinel name, checked against Sentinel's schema."""
        if name == RAW_COLUMN:
            raise UnsupportedRule(
                f"the field reads the record as received (AuditData), which Sentinel's {self.table.name} does not keep"
            )
        if (self.table.name, name) in _DERIVED:
            return _DERIVED[self.table.name, name]
        if name not in self.columns:
            raise UnsupportedRule(f"Sentinel's {self.table.name} has no column {name}")
        return name

    def _dynamic(self, column: str) -> str:
        """The column as a dynamic value (JSON held in a string column is parsed)."""
        name = self.column(column)
        return name if self.columns.get(name) == "dynamic" else f"parse_json({name})"

    def _document(self, ref: FieldRef) -> str:
        """The dynamic value a field's path applies to: its column, or the JSON in a string below it."""
        base = self._dynamic(ref.column)
        if ref.within is None:
            return base
        spellings = [json_steps(p) for p in ref.within]
        if any(None in s for s in spellings):
            raise UnsupportedRule("a JSON string below a list is not exported")
        found = [base + _keys(s) for s in spellings]
        return f"parse_json(tostring({found[0] if len(found) == 1 else 'coalesce(' + ', '.join(found) + ')'}))"

    def scalar(self, ref: FieldRef) -> str:
        """KQL of a single-valued field as a string."""
        if ref.many:
            raise UnsupportedRule("a field that holds a list has no single value to group or compare by")
        if ref.parameter is not None:
            self._need_parameters()
            return f"tostring({_PARAMETERS}[{kql_string(ref.parameter.lower())}])"
        if ref.path is None:
            name = self.column(ref.column)
            return name if self.columns.get(name, "string") == "string" else f"tostring({name})"
        document = self._document(ref)
        values = [f"tostring({document}{_keys(json_steps(p))})" for p in (ref.path, *ref.shapes)]
        return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"

    def _need_parameters(self) -> None:
        if _PARAMETERS in self.conversion.added:
            return
        # Local rules read a parameter's name from `Name` (or `name`, as some tools lower-case keys).
        name = 'coalesce(tostring(LwParam["Name"]), tostring(LwParam["name"]))'
        self.conversion.applies.append(
            f"mv-apply LwParam = {_padded(self._dynamic('Parameters'))} on "
            f'(summarize {_PARAMETERS} = make_bag(bag_pack(tolower({name}), LwParam["Value"])))'
        )
        self.conversion.added.append(_PARAMETERS)

    def escape_and_quote_field(self, field_name: str) -> str:
        if field_name == self._ELEMENT:
            assert self._element is not None
            return self._element
        ref = resolve(self.table, field_name)
        if ref.many:
            raise UnsupportedRule(f"field {field_name!r} holds a list and cannot be compared as one value here")
        return self.scalar(ref)

    # --- list-valued fields ------------------------------------------------------------------

    def convert_condition_field_eq_val(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        if cond.field != self._ELEMENT:
            ref = resolve(self.table, cond.field)
            if ref.many:
                return self._any_element(ref, cond, state)
        return super().convert_condition_field_eq_val(cond, state)

    def _any_element(self, ref: FieldRef, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> str:
        """True when any value the path reaches passes the test (for `null`: when none has a value),
        over every shape of the path, as the local engine's list filter."""
        absent = isinstance(cond.value, SigmaNull) or (isinstance(cond.value, SigmaExists) and not cond.value.exists)
        assert ref.path is not None
        document = self._document(ref)
        parts = []
        for path in (ref.path, *ref.shapes):
            steps = json_steps(path)
            if None not in steps:
                value = f"tostring({document}{_keys(steps)})"
                parts.append(f"isempty({value})" if absent else self._test(cond, value, state))
                continue
            n = len(self.conversion.added)
            segments: list[list[str | None]] = [[]]
            for step in steps:
                if step is None:
                    segments.append([])
                else:
                    segments[-1].append(step)
            variable = f"LwE{n}"
            expand = []
            for k, segment in enumerate(segments[1:-1], start=1):
                inner = f"{variable}_{k}"
                expand.append(f"mv-expand {inner} = {_padded(variable + _keys(segment))} | ")
                variable = inner
            value = f"tostring({variable}{_keys(segments[-1])})"
            test = f"isnotempty({value})" if absent else self._test(cond, value, state)
            count = f"LwM{n}"
            self.conversion.applies.append(
                f"mv-apply LwE{n} = {_padded(document + _keys(segments[0]))} on "
                f"({''.join(expand)}summarize {count} = countif({test}))"
            )
            self.conversion.added.append(count)
            parts.append(f"{count} == 0" if absent else f"{count} > 0")
        return "(" + (" and " if absent else " or ").join(parts) + ")"

    def _test(self, cond: ConditionFieldEqualsValueExpression, value: str, state: ConversionState) -> str:
        """The condition's test applied to one value (a list element, or one shape of a path)."""
        self._element = value
        try:
            result = super().convert_condition_field_eq_val(
                ConditionFieldEqualsValueExpression(self._ELEMENT, cond.value), state
            )
        finally:
            self._element = None
        return str(result)

    def decide_convert_condition_as_in_expression(self, cond: Any, state: ConversionState) -> bool:
        """`in~` lists only for plain strings on single-valued fields; the rest as single tests."""
        if not super().decide_convert_condition_as_in_expression(cond, state):
            return False
        values = [arg.value for arg in cond.args]
        if not all(isinstance(v, SigmaString) and not isinstance(v, SigmaCasedString) for v in values):
            return False
        if any(v.contains_special() for v in values):
            return False
        name = cond.args[0].field
        return bool(name == self._ELEMENT or not resolve(self.table, name).many)

    # --- values ------------------------------------------------------------------------------

    def convert_value_str(self, s: Any, state: ConversionState) -> str:
        if not isinstance(s, SigmaString):
            return kql_string(str(s))
        if s.contains_special():
            raise UnsupportedRule("a wildcard value reached a plain comparison")
        return kql_string(_text(s))

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaString)
        return self._string(self.escape_and_quote_field(cond.field), cond.value, cased=False)

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaString)
        return self._string(self.escape_and_quote_field(cond.field), cond.value, cased=True)

    def _string(self, field: str, value: SigmaString, cased: bool) -> str:
        multi = SpecialChars.WILDCARD_MULTI
        parts = list(value.s)
        if any(not isinstance(p, str | SpecialChars) for p in parts):
            raise UnsupportedRule("a placeholder has no values: give them with --placeholders FILE")
        suffix = "_cs" if cased else ""
        if not value.contains_special():
            return f"{field} {'==' if cased else '=~'} {kql_string(_text(value))}"
        lead = bool(parts) and parts[0] is multi
        trail = len(parts) > 1 and parts[-1] is multi
        inner = parts[int(lead) : len(parts) - int(trail)]
        if inner and all(isinstance(p, str) for p in inner):
            text = kql_string("".join(str(p) for p in inner))
            if lead and trail:
                return f"{field} contains{suffix} {text}"
            if lead:
                return f"{field} endswith{suffix} {text}"
            return f"{field} startswith{suffix} {text}"
        pattern = "".join(
            ".*" if p is multi else "." if p is SpecialChars.WILDCARD_SINGLE else re.escape(str(p)) for p in parts
        )
        # LIKE's wildcards match line breaks too, hence `s`.
        return f"{field} matches regex {kql_string(('(?s)' if cased else '(?is)') + '^' + pattern + '$')}"

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaNumber)
        return f"todouble({self.escape_and_quote_field(cond.field)}) == {float(cond.value.number)!r}"

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaCompareExpression)
        number = float(value.number.number)
        return f"todouble({self.escape_and_quote_field(cond.field)}) {COMPARE[value.op]} {number!r}"

    def convert_condition_field_eq_val_bool(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        assert isinstance(cond.value, SigmaBool)
        return f"tolower({self.escape_and_quote_field(cond.field)}) == {kql_string(str(cond.value.boolean).lower())}"

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaRegularExpression)
        flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
        pattern = (f"(?{flags})" if flags else "") + value.regexp.to_plain()
        return f"{self.escape_and_quote_field(cond.field)} matches regex {kql_string(pattern)}"

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaCIDRExpression)
        field = self.escape_and_quote_field(cond.field)
        network = value.network
        # An address may carry a port (`1.2.3.4:443`, `[::1]:443`), as the local engine allows.
        if isinstance(network, ipaddress.IPv4Network):
            return f"ipv4_is_in_range(extract({kql_string(_IPV4)}, 1, {field}), {kql_string(str(network))})"
        return f"ipv6_is_in_range(extract({kql_string(_IPV6)}, 1, {field}), {kql_string(str(network))})"

    def convert_condition_field_eq_field(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaFieldReference)
        return (
            f"tolower({self.escape_and_quote_field(cond.field)}) == tolower({self.escape_and_quote_field(value.field)})"
        )

    def convert_condition_field_eq_val_null(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return f"isempty({self.escape_and_quote_field(cond.field)})"

    def convert_condition_field_eq_val_exists(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaExists)
        return f"{'isnotempty' if value.exists else 'isempty'}({self.escape_and_quote_field(cond.field)})"

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        """A keyword: anywhere in the record, as the local engine searches the record as received."""
        value = cond.value
        assert isinstance(value, SigmaString)
        parts = list(value.s)
        multi = SpecialChars.WILDCARD_MULTI
        inner = parts[int(bool(parts) and parts[0] is multi) : len(parts) - int(len(parts) > 1 and parts[-1] is multi)]
        if not all(isinstance(p, str) for p in inner):
            raise UnsupportedRule("a keyword with a wildcard inside it is not exported")
        return f"* contains {kql_string(''.join(str(p) for p in inner))}"

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        return f"* contains {kql_string(str(cond.value))}"

    def convert_condition_val_re(self, cond: ConditionValueExpression, state: ConversionState) -> str:
        raise UnsupportedRule("a keyword regular expression is not exported")


def _text(value: SigmaString) -> str:
    """The literal text of a string without wildcards (an escaped `*` is a plain character here)."""
    return "".join(p for p in value.s if isinstance(p, str))
