"""The Sentinel export: every query parsed and type-checked by Microsoft's Kusto language service
(`@kusto/language-service-next` under Node, installed by `.ci/run` into tests/kusto/) against the
real schemas of Sentinel's tables; the rule YAML and ARM template checked against the rules
Sentinel's validator enforces; the KQL's filters compared with the local SQL's; values from rules
shown to reach KQL only as literals."""

from __future__ import annotations

import json
import math
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sigma.rule import SigmaRule
from typer.testing import CliRunner

from logwarden.cli import app, builtin_rules
from logwarden.detectors.sentinel import schema
from logwarden.detectors.sentinel.analytics import ALERTS_FILE, AnalyticRule, Export, export
from logwarden.detectors.sentinel.backend import SentinelBackend
from logwarden.detectors.sigma import rules as sigma_rules
from logwarden.detectors.sigma.compiler import Compiler, link
from logwarden.detectors.sigma.fieldmap import table_for
from logwarden.outputs.sentinel import TEMPLATE_NAME, analytic_yaml, arm_template, file_stem

KUSTO = Path(__file__).resolve().parent / "kusto"


def kusto(queries: list[str]) -> list[dict[str, Any]]:
    """Each query's diagnostics, the table columns it refers to and its string literals' values."""
    if not (KUSTO / "node_modules" / "@kusto" / "language-service-next").is_dir():
        pytest.fail("the Kusto language service is not installed: npm ci --prefix tests/kusto (.ci/run does it)")
    tables = {t: schema.columns(t) for t in schema.TABLES}
    done = subprocess.run(
        ["node", str(KUSTO / "validate.js")],
        input=json.dumps({"tables": tables, "queries": queries}),
        capture_output=True,
        text=True,
        check=True,
    )
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def errors(result: dict[str, Any]) -> list[Any]:
    return [d for d in result["diagnostics"] if d[0] == "Error"]


@pytest.fixture(scope="module")
def pack() -> Export:
    return export([builtin_rules()])


# Pack rules with no Sentinel equivalent, and why.
NOT_EXPORTED = {
    "Defender for Endpoint Advanced Feature Switched Off": "AuditData",
    "Defender XDR Custom Detection Rule Deleted or Turned Off": "AuditData",
    "Sentinel Workspace Disconnected from the Microsoft Defender Portal": "AuditData",
    "Kubernetes Events Deleted on an AKS Cluster": "AzureDiagnostics",
    "Log Container Deleted from a Storage Account (Storage Resource Log)": "AzureDiagnostics",
    "Log Blobs Deleted from a Storage Account": "AzureDiagnostics",
    "Diagnostic Setting Moved to Another Log Analytics Workspace": "look-back",
    "Diagnostic Setting Moved to Another Storage Account": "look-back",
    "Diagnostic Setting Moved to Another Event Hub": "look-back",
    "Storage Account Holding Logs Deleted": "look-back",
    "Storage Account Holding Logs Locked Against Azure Monitor": "look-back",
}


def test_every_pack_rule_is_exported_or_says_why(pack: Export) -> None:
    assert {s.title: s.reason for s in pack.skipped}.keys() == NOT_EXPORTED.keys()
    for skipped in pack.skipped:
        assert NOT_EXPORTED[skipped.title] in skipped.reason
    alerting = [r for r in sigma_rules.load([builtin_rules()]) if r.alerts]
    assert len(pack.rules) + len(pack.skipped) == len(alerting)
    assert len({r.id for r in pack.rules}) == len(pack.rules)


def test_every_query_passes_microsofts_kusto_language_service(pack: Export) -> None:
    results = kusto([r.query for r in pack.rules])
    assert [(r.name, errors(x)) for r, x in zip(pack.rules, results, strict=True) if errors(x)] == []


def test_the_language_service_rejects_unknown_columns_wrong_types_and_bad_syntax() -> None:
    results = kusto(
        [
            'AzureActivity | where OperationNameValu endswith "/DELETE"',
            "AzureActivity | where Caller > 3",
            "OfficeActivity | wher Operation =~ 'x'",
            'AuditLogs | where tostring(TargetResources[0]["displayName"]) =~ "x"',
        ]
    )
    assert [d[1] for d in errors(results[0])] == ["KS142"]
    assert [d[1] for d in errors(results[1])] == ["KS106"]
    assert errors(results[2])
    assert errors(results[3]) == []


def _write_rule(folder: Path, name: str, body: dict[str, Any]) -> Path:
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


HOSTILE = ['a"b', "c\\d", "e\nf", "g\x00h", '"; AzureActivity | take 1 //', "x' or 1==1", "\u202e\tz"]


def test_values_from_rules_reach_kql_only_as_literals(tmp_path: Path) -> None:
    rule = {
        "title": "Hostile values",
        "id": str(uuid.uuid4()),
        "logsource": {"product": "azure", "service": "activitylogs"},
        "detection": {
            "selection": {"operationName|endswith": HOSTILE},
            "body": {'properties.requestbody.properties.a"b\\c|contains': HOSTILE[0]},
            "condition": "selection and body",
        },
        "level": "high",
    }
    _write_rule(tmp_path, "hostile", rule)
    found = export([tmp_path], None)
    assert [s.reason for s in found.skipped] == []
    [result] = kusto([found.rules[0].query])
    assert errors(result) == []
    for value in [*HOSTILE, 'a"b\\c']:
        assert value in result["strings"]


def test_a_query_longer_than_sentinel_takes_is_not_exported(tmp_path: Path) -> None:
    names = [f"MICROSOFT.EXAMPLE/RESOURCE{n:04d}/DELETE" for n in range(400)]
    rule = {
        "title": "Too long",
        "id": str(uuid.uuid4()),
        "logsource": {"product": "azure", "service": "activitylogs"},
        "detection": {"s": {"operationName|endswith": names}, "condition": "s"},
        "level": "low",
    }
    _write_rule(tmp_path, "long", rule)
    found = export([tmp_path], None)
    assert found.rules == ()
    [skipped] = found.skipped
    assert re.fullmatch(r"its query is \d+,\d{3} characters; Sentinel takes at most 10,000", skipped.reason)


def test_a_correlation_groups_by_an_exchange_parameter(tmp_path: Path) -> None:
    base = {
        "title": "Audit bypass added",
        "id": str(uuid.uuid4()),
        "name": "bypass_added",
        "logsource": {"product": "m365", "service": "audit"},
        "detection": {"s": {"Operation": "Set-MailboxAuditBypassAssociation"}, "condition": "s"},
        "level": "low",
    }
    correlation = {
        "title": "Repeated bypass of one mailbox",
        "id": str(uuid.uuid4()),
        "correlation": {
            "type": "event_count",
            "rules": ["bypass_added"],
            "group-by": ["Parameters.Identity"],
            "timespan": "1h",
            "condition": {"gte": 2},
        },
        "level": "high",
    }
    (tmp_path / "c.yml").write_text(yaml.safe_dump_all([base, correlation], sort_keys=False), encoding="utf-8")
    found = export([tmp_path], None)
    assert [s.reason for s in found.skipped] == []
    [rule] = found.rules
    assert 'tolower(tostring(LwParameters["identity"]))' in rule.query
    assert errors(kusto([rule.query])[0]) == []
    correlation["correlation"]["group-by"] = ["AuditData.Targets.ID"]
    (tmp_path / "c.yml").write_text(yaml.safe_dump_all([base, correlation], sort_keys=False), encoding="utf-8")
    [skipped] = export([tmp_path], None).skipped
    assert "record as received" in skipped.reason


def test_exchange_parameters_are_looked_up_by_name(pack: Export) -> None:
    [k1] = [r for r in pack.rules if r.name == "Unified Audit Log Switched Off and Not Switched Back on"]
    assert 'LwParameters["unifiedauditlogingestionenabled"]' in k1.query
    assert "mv-apply LwParam = " in k1.query
    assert not re.search(r"Parameters\)?\[\d", k1.query)


def _detection_rules() -> list[tuple[SigmaRule, str]]:
    found = sigma_rules.read([builtin_rules()])
    out = []
    for rule, source in found.rules:
        exportable = isinstance(rule, SigmaRule) and table_for(rule.logsource).name in schema.TABLES
        if exportable and "AuditData" not in json.dumps(rule.to_dict()):
            out.append((rule, source))
    return out


def _sql_columns_and_values(sql: str, params: list[Any]) -> tuple[set[str], set[str]]:
    literals = [lit.replace("''", "'") for lit in re.findall(r"'((?:[^']|'')*)'", sql)]
    columns = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', re.sub(r"'(?:[^']|'')*'", "''", sql)))
    values = set()
    # JSON paths, written into the SQL or bound: each key is a KQL string literal too.
    for path in [lit for lit in literals if lit.startswith("$")] + [p for p in params if str(p).startswith("$")]:
        values |= {key.replace('\\"', '"').replace("\\\\", "\\") for key in re.findall(r'"((?:[^"\\]|\\.)*)"', path)}
    # The SQL text before each parameter says how it is used: a LIKE pattern, or a plain value
    # (an equality, a regular expression, a parameter name).
    bare = re.sub(r"'(?:[^']|'')*'", "''", sql)
    before = [bare[: m.start()].rstrip() for m in re.finditer(r"\?", bare)]
    for p, context in zip(params, before, strict=True):
        if isinstance(p, str) and not p.startswith("$"):
            plain = _like_literal(p) if context.endswith("LIKE") else p
            if plain is not None:
                values.add(plain)
    return columns, values


def _like_literal(pattern: str) -> str | None:
    """The literal a LIKE pattern tests for (without its leading and trailing %), or None if it has
    a wildcard inside (KQL tests it by regular expression)."""
    out, i, parts = [], 0, []
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        if ch in "%_":
            parts.append("".join(out))
            out = []
            parts.append(ch)
        else:
            out.append(ch)
        i += 1
    parts.append("".join(out))
    inner = list(parts)
    while inner and inner[0] in ("%", ""):
        inner.pop(0)
    while inner and inner[-1] in ("%", ""):
        inner.pop()
    return inner[0] if len(inner) == 1 and inner[0] not in ("%", "_") else ("" if not inner else None)


# logwarden's derived columns, and the Sentinel column KQL computes each from.
DERIVED = {"ParentResourceId": "ResourceId"}


def test_kql_filters_select_the_columns_and_values_the_local_sql_does() -> None:
    """Per condition of every pack rule Sentinel has a table for: the Sentinel columns the KQL
    reads are the columns the local SQL reads, and every value the SQL tests (operation names,
    JSON keys, parameter names, strings) is a literal of the KQL."""
    pipeline = sigma_rules.placeholder_pipeline()
    queries, expected = [], []
    for rule, source in _detection_rules():
        pipeline.apply(rule)
        table = table_for(rule.logsource)
        for condition in rule.detection.parsed_condition:
            predicate = Compiler(table).compile(condition.parsed)
            columns, values = _sql_columns_and_values(link(predicate.sql), predicate.params)
            backend = SentinelBackend(table)
            where = backend.condition(condition.parsed)
            queries.append("\n| ".join([table.name, *backend.conversion.applies, f"where {where}"]))
            expected.append((f"{source}: {rule.title}", {DERIVED.get(c, c) for c in columns}, values))
    assert len(queries) > 120
    mismatched = []
    for result, (name, columns, values) in zip(kusto(queries), expected, strict=True):
        literals = {s.lower() for s in result["strings"]}
        missing = {v for v in values if v and v.lower() not in literals}
        if errors(result) or set(result["columns"]) != columns or missing:
            mismatched.append((name, errors(result), sorted(set(result["columns"]) ^ columns), sorted(missing)))
    assert mismatched == [], "\n".join(map(repr, mismatched))


SEVERITIES = {"Informational", "Low", "Medium", "High"}
TACTICS = {
    "InitialAccess", "Execution", "Persistence", "PrivilegeEscalation", "DefenseEvasion", "CredentialAccess",
    "Discovery", "LateralMovement", "Collection", "Exfiltration", "CommandAndControl", "Impact",
    "Reconnaissance", "ResourceDevelopment", "ImpairProcessControl", "InhibitResponseFunction",
}  # fmt: skip
IDENTIFIERS = {
    "Account": {"FullName", "Name", "AadUserId", "Sid", "PUID", "ObjectGuid", "UPNSuffix", "NTDomain", "DnsDomain"},
    "IP": {"Address"},
    "AzureResource": {"ResourceId"},
    "Mailbox": {"MailboxPrimaryAddress", "DisplayName", "Upn", "ExternalDirectoryObjectId", "RiskLevel"},
}
CONNECTORS = {"AzureActivity", "AzureActiveDirectory", "Office365"}


def _minutes(text: str) -> int:
    match = re.fullmatch(r"(\d+)([mhd])", text)
    assert match, text
    return int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[match.group(2)]


def check_analytic_yaml(text: str) -> dict[str, Any]:
    """The Azure-Sentinel repository's rules for a scheduled analytic rule (tamper catalogue §7.2)."""
    rule = yaml.safe_load(text)
    uuid.UUID(rule["id"])
    assert 0 < len(rule["name"]) <= 256 and 0 < len(rule["description"]) <= 5000
    assert rule["severity"] in SEVERITIES and rule["kind"] == "Scheduled"
    frequency, period = _minutes(rule["queryFrequency"]), _minutes(rule["queryPeriod"])
    assert 5 <= frequency <= period <= 14 * 1440
    assert rule["triggerOperator"] in {"gt", "lt", "eq", "ne"} and 0 <= rule["triggerThreshold"] <= 10000
    assert set(rule["tactics"]) <= TACTICS and rule["tactics"]
    for technique in rule["relevantTechniques"]:
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", technique) and not technique.startswith("T1685")
    assert 0 < len(rule["query"]) <= 10000
    mappings = rule.get("entityMappings")
    if mappings is not None:
        assert 1 <= len(mappings) <= 5
        for mapping in mappings:
            assert 1 <= len(mapping["fieldMappings"]) <= 3
            assert {f["identifier"] for f in mapping["fieldMappings"]} <= IDENTIFIERS[mapping["entityType"]]
    assert len(rule["customDetails"]) <= 20
    assert all(re.fullmatch(r"[a-zA-Z]+\w*", k) and len(k) <= 20 for k in rule["customDetails"])
    assert {c["connectorId"] for c in rule["requiredDataConnectors"]} <= CONNECTORS
    assert len(rule["version"]) <= 20
    return dict(rule)


def test_analytic_rule_yaml_meets_the_repository_validators_rules(pack: Export) -> None:
    for rule in pack.rules:
        document = check_analytic_yaml(analytic_yaml(rule))
        assert document["query"] == rule.query
        # Output columns the entity mappings and details name exist in every query.
        for column in [m["fieldMappings"][0]["columnName"] for m in document["entityMappings"]]:
            assert column in rule.query
    k1 = next(r for r in pack.rules if r.name == "Unified Audit Log Switched Off and Not Switched Back on")
    document = yaml.safe_load(analytic_yaml(k1))
    assert document["tactics"] == ["DefenseEvasion"] and document["relevantTechniques"] == ["T1562.008"]
    assert document["severity"] == "High"
    assert document["requiredDataConnectors"] == [{"connectorId": "Office365", "dataTypes": ["OfficeActivity"]}]


def test_attempts_get_their_own_severity_per_alert(pack: Export) -> None:
    d1 = next(r for r in pack.rules if r.name == "Activity Log Alert Rule Deleted and Not Re-created")
    document = yaml.safe_load(analytic_yaml(d1))
    assert document["alertDetailsOverride"]["alertSeverityColumnName"] == "AlertSeverity"
    assert 'AlertSeverity = iff(LwOutcome in (1, 3), "Low", "Medium")' in d1.query


def test_arm_template_deploys_every_rule(pack: Export) -> None:
    template = json.loads(arm_template(list(pack.rules)))
    assert template["parameters"]["workspace"]["type"] == "string"
    assert len(template["resources"]) == len(pack.rules)
    for resource, rule in zip(template["resources"], pack.rules, strict=True):
        assert resource["type"] == "Microsoft.OperationalInsights/workspaces/providers/alertRules"
        assert resource["kind"] == "Scheduled"
        assert resource["name"] == f"[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '{rule.id}')]"
        properties = resource["properties"]
        assert re.fullmatch(r"PT\d+[HM]|P\d+D", properties["queryFrequency"])
        assert re.fullmatch(r"PT\d+[HM]|P\d+D", properties["queryPeriod"])
        assert properties["triggerOperator"] == "GreaterThan"
        assert all(re.fullmatch(r"T\d{4}", t) for t in properties["techniques"])
        assert properties["query"] == rule.query


def test_arm_strings_that_look_like_expressions_are_escaped(pack: Export) -> None:
    from dataclasses import replace

    rule = replace(pack.rules[0], name="[concat('evil')]", description="[parameters('x')] runs?")
    properties = json.loads(arm_template([rule]))["resources"][0]["properties"]
    assert properties["displayName"] == "[[concat('evil')]"
    assert properties["description"].startswith("[[parameters")


def test_each_rule_page_lists_the_test_events_that_fire_locally(pack: Export, tmp_path: Path) -> None:
    """The lists come from alerts.toml, which tests/test_pack.py checks against the local engine."""
    import tomllib

    by_file: dict[str, list[AnalyticRule]] = {}
    for rule in pack.rules:
        by_file.setdefault(rule.source, []).append(rule)
    for source, rules in by_file.items():
        folder = builtin_rules().parent / Path(source).with_suffix("")
        expected = tomllib.loads((folder / ALERTS_FILE).read_text(encoding="utf-8"))
        negatives = sorted(p.relative_to(folder).as_posix() for p in (folder / "negative").glob("*"))
        for rule in rules:
            assert list(rule.tests.positive) == sorted(c for c, rid in expected.items() if rid == rule.id)
            assert list(rule.tests.negative) == negatives
    k1 = {r.name: r for r in pack.rules}["Unified Audit Log Switched Off, Then Back on (Blind Window)"]
    assert k1.tests.positive == ("positive/blind_window.json",)


def test_export_sentinel_writes_yaml_pages_and_the_template(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "sentinel", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    yamls = [f for f in files if f.endswith(".yaml")]
    assert len(yamls) == len([f for f in files if f.endswith(".md")]) > 90
    assert TEMPLATE_NAME in files
    page = next((tmp_path / "out").glob("unified_audit_log_switched_off_then_back_on*.md")).read_text()
    assert "- `positive/blind_window.json`" in page and "- `negative/disable_failed.json`" in page
    assert "not exported" in result.output and "Kubernetes Events Deleted" in result.output
    arm_only = CliRunner().invoke(app, ["export", "sentinel", "--out", str(tmp_path / "arm"), "--format", "arm"])
    assert arm_only.exit_code == 0
    assert [p.suffix for p in (tmp_path / "arm").iterdir() if p.suffix != ".md"] == [".json"]


def test_export_kql_prints_one_rules_query(pack: Export) -> None:
    k1 = next(r for r in pack.rules if r.name.startswith("Unified Audit Log Switched Off and Not"))
    result = CliRunner().invoke(app, ["export", "kql", k1.id])
    assert result.exit_code == 0 and result.stdout == k1.query + "\n"
    missing = CliRunner().invoke(app, ["export", "kql", "no-such-rule"])
    assert missing.exit_code == 2
    skipped = CliRunner().invoke(app, ["export", "kql", "Kubernetes Events Deleted on an AKS Cluster"])
    assert skipped.exit_code == 1 and "AzureDiagnostics" in skipped.output


def test_a_rule_file_name_never_carries_path_or_markup(pack: Export) -> None:
    from dataclasses import replace

    rule = replace(pack.rules[0], name="../../etc/<script>x")
    assert re.fullmatch(r"[a-z0-9_]+", file_stem(rule))


# --- the silence watch ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_tenant_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datetime import UTC, datetime

    from logwarden.ingest import Ingestor, open_case
    from logwarden.synthetic.tenant import write_tenant

    root = tmp_path_factory.mktemp("watch")
    tenant = write_tenant(root / "exports", days=8, seed=2, end=datetime(2026, 11, 27, 12, tzinfo=UTC), scale=0.3)
    with open_case(root / "case.duckdb") as case, Ingestor(case) as ingestor:
        assert ingestor.ingest([tenant.out]).ok
    return root / "case.duckdb"


def _judgement(db: Path) -> tuple[Any, Any]:
    from logwarden.detectors.silence.config import SilenceConfig
    from logwarden.detectors.silence.judge import judge
    from logwarden.detectors.silence.sources import newest, observe
    from logwarden.ingest import open_case

    with open_case(db, read_only=True) as case:
        at = newest(case)
        assert at is not None
        return judge(observe(case, at), at, SilenceConfig()), SilenceConfig()


@pytest.mark.slow
def test_silence_watch_lists_every_watched_source_with_its_learned_limit(small_tenant_case: Path) -> None:
    from logwarden.detectors.silence.watch import watch_rules

    judgement, config = _judgement(small_tenant_case)
    rules, left_out = watch_rules(judgement, config)
    assert len(rules) == 1
    [rule] = rules
    results = kusto([rule.query])
    assert errors(results[0]) == []
    check_analytic_yaml(analytic_yaml(rule))
    watched = [s for s in judgement.sources if s.state not in ("TOO_QUIET", "LEARNING") and s.worst_delay_h]
    assert watched
    for source in watched:
        key = source.id.split(":", 1)[1]
        limit = math.ceil(source.worst_delay_h * 60) + int(config.limits(source.kind).latency.total_seconds() // 60)
        assert f'"{source.kind}", {json.dumps(key)}, {limit}m' in rule.query
    assert len(left_out) == len(judgement.sources) - len(watched)
    assert all(": not watched (learning)" in r or "too quiet" in r or "not in a Sentinel table" in r for r in left_out)
    # Sources that send nothing at all are caught: the inventory is joined to what arrived.
    assert "LwExpected\n| join kind=leftouter LwSeen on Kind, Source" in rule.query
    assert "| where isnull(LastSeen) or SilentFor > MaxSilence" in rule.query


def test_a_large_inventory_is_split_into_rules_under_sentinels_query_limit() -> None:
    from datetime import UTC, datetime

    from logwarden.detectors.silence.config import SilenceConfig
    from logwarden.detectors.silence.judge import Judgement, SourceState
    from logwarden.detectors.silence.watch import QUERY_LIMIT, watch_rules

    now = datetime(2026, 11, 27, tzinfo=UTC)
    sources = [
        SourceState(
            f"activity_provider:{uuid.UUID(int=n)}/MICROSOFT.COMPUTE", "activity_provider", "", now, now, 100,
            100.0, 50.0, "steady", 1.0, 3.0, 1.0, 2.5 + n / 100, "OK",
        )
        for n in range(400)
    ]  # fmt: skip
    rules, left_out = watch_rules(Judgement(now, "1/week", 400, [], sources), SilenceConfig())
    assert left_out == [] and len(rules) > 1
    assert all(len(r.query) <= QUERY_LIMIT for r in rules)
    assert len({r.id for r in rules}) == len(rules)
    listed = [line for r in rules for line in r.query.splitlines() if line.startswith('  "activity_provider"')]
    assert len(listed) == 400
    assert errors(kusto([rules[0].query])[0]) == []
    assert rules[0].name.endswith(f"(1 of {len(rules)})")


@pytest.mark.slow
def test_export_sentinel_silence_writes_the_watch(small_tenant_case: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["export", "sentinel", "--out", str(tmp_path), "--silence", "--db", str(small_tenant_case)]
    )
    assert result.exit_code == 0, result.output
    [page] = tmp_path.glob("expected_log_source_gone_silent*.yaml")
    document = check_analytic_yaml(page.read_text(encoding="utf-8"))
    assert "datatable(Kind: string, Source: string, MaxSilence: timespan)" in document["query"]
    assert document["customDetails"] == {"SourceKind": "SourceKind", "SourceKey": "SourceKey", "SilentFor": "SilentFor"}


def test_durations_round_up_and_take_the_largest_whole_unit() -> None:
    from datetime import timedelta

    from logwarden.outputs.sentinel import iso_duration, yaml_duration

    assert [yaml_duration(timedelta(seconds=s)) for s in (3600, 3630, 4200, 86400 * 14)] == ["1h", "61m", "70m", "14d"]
    assert [iso_duration(timedelta(seconds=s)) for s in (3600, 3630, 86400)] == ["PT1H", "PT61M", "P1D"]


@pytest.mark.slow
def test_the_watch_expects_what_the_posture_promises_even_if_the_case_never_saw_it(
    small_tenant_case: Path, tmp_path: Path
) -> None:
    """The hand-made posture exports promise subscription 1111...'s Activity Log, which the case
    never saw: the watch expects it at its class's limit (two days and 15 minutes); a Key Vault's resource log cannot be
    watched (resource logs are not exported) and is said so."""
    hand = Path(__file__).parent / "fixtures" / "posture" / "hand"
    args = ["export", "sentinel", "--out", str(tmp_path), "--silence", "--db", str(small_tenant_case)]
    result = CliRunner().invoke(app, [*args, "--posture", str(hand)])
    assert result.exit_code == 0, result.output
    [page] = tmp_path.glob("expected_log_source_gone_silent*.yaml")
    query = check_analytic_yaml(page.read_text(encoding="utf-8"))["query"]
    assert '"activity", "11111111-1111-1111-1111-111111111111", 2895m' in query
    assert errors(kusto([query])[0]) == []
    assert "silence watch leaves out resource:/subscriptions/11111111" in " ".join(result.output.split())


def test_a_broken_alerts_file_keeps_its_rules_out_and_says_which_file(tmp_path: Path) -> None:
    rule = {
        "title": "Has cases",
        "id": str(uuid.uuid4()),
        "logsource": {"product": "azure", "service": "activitylogs"},
        "detection": {"s": {"operationName|endswith": "/DELETE"}, "condition": "s"},
        "level": "low",
    }
    _write_rule(tmp_path, "cases", rule)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / ALERTS_FILE).write_text('"positive/a.json" = ', encoding="utf-8")
    found = export([tmp_path], None)
    assert found.rules == ()
    [skipped] = found.skipped
    assert str(tmp_path / "cases" / ALERTS_FILE) in skipped.reason
    assert "cannot read which rule alerts on which case" in skipped.reason
