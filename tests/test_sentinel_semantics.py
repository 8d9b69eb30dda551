"""Every Sigma modifier and condition form as KQL: what the Sentinel backend writes for it, each
query checked by Microsoft's Kusto language service. (The local engine's table of the same forms
is tests/test_sigma_semantics.py; tests/test_sentinel_export.py compares the two engines'
filters rule by rule over the pack.)"""

from __future__ import annotations

from typing import Any

import pytest
from sigma.rule import SigmaRule

from logwarden.detectors.sentinel.backend import SentinelBackend
from logwarden.detectors.sigma.compiler import UnsupportedRule
from logwarden.detectors.sigma.fieldmap import table_for
from logwarden.detectors.sigma.rules import placeholder_pipeline
from test_sentinel_export import errors, kusto

ACTIVITY = {"product": "azure", "service": "activitylogs"}
AUDIT = {"product": "azure", "service": "auditlogs"}
M365 = {"product": "m365", "service": "audit"}
REQUEST = 'parse_json(tostring(coalesce(Properties_d["requestbody"], Properties_d["requestBody"])))'

# (logsource, detection, the KQL `where` exactly; or a list of parts it must hold, in order)
CASES: list[tuple[dict[str, str], dict[str, Any], str | list[str]]] = [
    (ACTIVITY, {"s": {"operationName": "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"}},
     'OperationNameValue =~ "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"'),
    (ACTIVITY, {"s": {"operationName|endswith": "/DELETE"}}, 'OperationNameValue endswith "/DELETE"'),
    (ACTIVITY, {"s": {"operationName|startswith": "MICROSOFT.INSIGHTS/"}},
     'OperationNameValue startswith "MICROSOFT.INSIGHTS/"'),
    (ACTIVITY, {"s": {"operationName|contains": "SETTINGS"}}, 'OperationNameValue contains "SETTINGS"'),
    (ACTIVITY, {"s": {"operationName|contains|cased": "Settings"}}, 'OperationNameValue contains_cs "Settings"'),
    (ACTIVITY, {"s": {"operationName|cased": "Microsoft.Insights"}}, 'OperationNameValue == "Microsoft.Insights"'),
    (ACTIVITY, {"s": {"operationName|endswith|cased": "/delete"}}, 'OperationNameValue endswith_cs "/delete"'),
    # `?` is one character, `*` any; inner wildcards by a case-insensitive, dot-all regex.
    (ACTIVITY, {"s": {"operationName": "MICROSOFT.?NSIGHTS/*/DELETE"}},
     'OperationNameValue matches regex "(?is)^MICROSOFT\\\\..NSIGHTS/.*/DELETE$"'),
    # An escaped wildcard is a plain character.
    (ACTIVITY, {"s": {"operationName": "a\\*b"}}, 'OperationNameValue =~ "a*b"'),
    (ACTIVITY, {"s": {"operationName": ["A", "B"]}}, 'OperationNameValue in~ ("A", "B")'),
    (ACTIVITY, {"s": {"operationName|contains|all": ["A", "B"]}},
     'OperationNameValue contains "A" and OperationNameValue contains "B"'),
    (ACTIVITY, {"s": {"operationName|re": "^A.*B$"}}, 'OperationNameValue matches regex "^A.*B$"'),
    (ACTIVITY, {"s": {"operationName|re|i|s": "^a.b$"}}, 'OperationNameValue matches regex "(?is)^a.b$"'),
    (ACTIVITY, {"s": {"callerIpAddress|cidr": "10.0.0.0/8"}},
     ['ipv4_is_in_range(extract(', ', 1, CallerIpAddress), "10.0.0.0/8")']),
    (ACTIVITY, {"s": {"callerIpAddress|cidr": "2001:db8::/32"}},
     ['ipv6_is_in_range(extract(', ', 1, CallerIpAddress), "2001:db8::/32")']),
    (ACTIVITY, {"s": {"properties.requestbody|base64offset|contains": "secret"}},
     ['contains "c2VjcmV0" or ', 'contains "NlY3Jld" or ', 'contains "zZWNyZX"']),
    (ACTIVITY, {"s": {"properties.requestbody.properties.retentionInDays|lt": 90}},
     f'todouble(tostring({REQUEST}["properties"]["retentionInDays"])) < 90.0'),
    (ACTIVITY, {"s": {"properties.requestbody.properties.retentionInDays|gte": 7}},
     f'todouble(tostring({REQUEST}["properties"]["retentionInDays"])) >= 7.0'),
    (ACTIVITY, {"s": {"properties.requestbody.properties.enabled": False}},
     f'tolower(tostring({REQUEST}["properties"]["enabled"])) == "false"'),
    (ACTIVITY, {"s": {"properties.requestbody.properties.workspaceId|exists": True}},
     f'isnotempty(tostring({REQUEST}["properties"]["workspaceId"]))'),
    (ACTIVITY, {"s": {"callerIpAddress": None}}, "isempty(CallerIpAddress)"),
    (ACTIVITY, {"s": {"caller|fieldref": "callerIpAddress"}}, "tolower(Caller) == tolower(CallerIpAddress)"),
    (ACTIVITY, {"s": {"identity.claims.appid": "c44b4083"}}, 'tostring(Claims_d["appid"]) =~ "c44b4083"'),
    (ACTIVITY, {"s": {"identity.claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "a@b"}},
     'tostring(Claims_d["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"]) =~ "a@b"'),
    (ACTIVITY, {"s": {"operationName|windash|contains": "-x"}},
     ['OperationNameValue contains "-x"', 'OperationNameValue contains "/x"']),
    (ACTIVITY, {"s": ["diagnostic"]}, '* contains "diagnostic"'),
    (ACTIVITY, {"a": {"operationName": "A"}, "b": {"caller": "x"}, "condition": "a and not b"},
     'OperationNameValue =~ "A" and (not(Caller =~ "x"))'),
    (ACTIVITY, {"sel_a": {"operationName": "A"}, "sel_b": {"operationName": "B"}, "condition": "1 of sel_*"},
     'OperationNameValue in~ ("A", "B")'),
    (ACTIVITY, {"sel_a": {"operationName": "A"}, "sel_b": {"caller": "B"}, "condition": "all of sel_*"},
     'OperationNameValue =~ "A" and Caller =~ "B"'),
    (ACTIVITY, {"sel_a": {"operationName": "A"}, "sel_b": {"caller": "B"}, "condition": "not 1 of sel_*"},
     'not((OperationNameValue =~ "A" or Caller =~ "B"))'),
    # A list-valued field: any element, counted by mv-apply; null: no element has a value.
    (ACTIVITY, {"s": {"properties.requestbody.properties.logs.enabled": "false"}},
     ["(LwM0 > 0"]),
    (AUDIT, {"s": {"TargetResources.displayName|contains": "Contoso"}}, ["LwM0 > 0"]),
    (AUDIT, {"s": {"TargetResources.displayName": None}}, ["LwM0 == 0"]),
    (M365, {"s": {"Parameters.UnifiedAuditLogIngestionEnabled": "False"}},
     'tostring(LwParameters["unifiedauditlogingestionenabled"]) =~ "False"'),
]  # fmt: skip


def _convert(logsource: dict[str, str], detection: dict[str, Any]) -> tuple[str, SentinelBackend]:
    body = {"condition": "s", **detection} if "condition" not in detection else detection
    rule = SigmaRule.from_dict({"title": "t", "logsource": logsource, "detection": body})
    placeholder_pipeline().apply(rule)
    backend = SentinelBackend(table_for(rule.logsource))
    return backend.condition(rule.detection.parsed_condition[0].parsed), backend


def test_each_sigma_form_becomes_the_kql_it_should_and_parses() -> None:
    queries, wrong = [], []
    for logsource, detection, expected in CASES:
        where, backend = _convert(logsource, detection)
        table = backend.table.name
        queries.append("\n| ".join([table, *backend.conversion.applies, f"where {where}"]))
        if isinstance(expected, str):
            ok = where == expected
        else:
            positions = [where.find(part) for part in expected]
            ok = -1 not in positions and positions == sorted(positions)
        if not ok:
            wrong.append((detection, where))
    assert wrong == []
    results = kusto(queries)
    assert [(c[1], errors(r)) for c, r in zip(CASES, results, strict=True) if errors(r)] == []


def test_list_fields_are_tested_element_by_element() -> None:
    where, backend = _convert(AUDIT, {"s": {"TargetResources.modifiedProperties.newValue|contains": "x"}})
    # Both readings of `modifiedProperties` the local engine tries: a list, and an object.
    as_list, as_object = backend.conversion.applies
    assert as_list.startswith("mv-apply LwE0 = array_concat(iff(gettype(TargetResources) == ")
    assert 'mv-expand LwE0_1 = array_concat(iff(gettype(LwE0["modifiedProperties"]) == "array"' in as_list
    assert 'countif(tostring(LwE0_1["newValue"]) contains "x")' in as_list
    assert 'countif(tostring(LwE1["modifiedProperties"]["newValue"]) contains "x")' in as_object
    assert where == "(LwM0 > 0 or LwM1 > 0)" and backend.conversion.added == ["LwM0", "LwM1"]


@pytest.mark.parametrize(
    ("logsource", "detection", "reason"),
    [
        ({"product": "azure", "service": "resourcelogs"}, {"s": {"operationName": "x"}}, "AzureDiagnostics"),
        (M365, {"s": {"AuditData.SettingName": "x"}}, "record as received"),
        (ACTIVITY, {"s": {"Nope": "x"}}, "Nope"),
        (ACTIVITY, {"s": ["a*b"]}, "wildcard inside"),
    ],
)
def test_what_has_no_kql_form_is_an_error_that_names_why(
    logsource: dict[str, str], detection: dict[str, Any], reason: str
) -> None:
    from logwarden.detectors.sigma.fieldmap import UnmappedField

    with pytest.raises((UnsupportedRule, UnmappedField), match=reason):
        _convert(logsource, detection)
