"""Analytic rules written as Microsoft Sentinel takes them: the Azure-Sentinel repository's rule
YAML (one file per rule), an ARM template that deploys them all with `az deployment group
create`, and a Markdown page per rule with its local test events.

Every string here may come from a community rule: YAML is written by the safe dumper, JSON by
`json`, ARM strings that begin with `[` are escaped (ARM would evaluate them as expressions),
and Markdown text is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from logwarden.detectors.sentinel.analytics import AnalyticRule
from logwarden.detectors.sentinel.queries import whole_minutes

ARM_API_VERSION = "2023-02-01"
_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
TEMPLATE_NAME = "azuredeploy.json"


def yaml_duration(span: timedelta) -> str:
    """`1h`, `70m`, `2d`: the repository's duration form."""
    minutes = whole_minutes(span)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def iso_duration(span: timedelta) -> str:
    """`PT1H`, `PT70M`, `P2D`: the ARM resource's duration form."""
    minutes = whole_minutes(span)
    if minutes % 1440 == 0:
        return f"P{minutes // 1440}D"
    return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"


class _Dumper(yaml.SafeDumper):
    pass


def _block(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Queries and descriptions read best as literal blocks, as in the Azure-Sentinel repository.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _block)


def file_stem(rule: AnalyticRule) -> str:
    """A file name from the rule's name: letters, digits and underscores only, with the rule id's
    first characters so two rules of one name never share a file."""
    words = re.sub(r"[^a-z0-9]+", "_", rule.name.lower()).strip("_")[:80] or "rule"
    return f"{words}_{rule.id[:8]}"


def _entity_mappings(rule: AnalyticRule) -> list[dict[str, Any]]:
    return [
        {"entityType": entity, "fieldMappings": [{"identifier": identifier, "columnName": column}]}
        for entity, identifier, column in rule.entities
    ]


def _details_override(rule: AnalyticRule) -> dict[str, str]:
    found = {"alertDisplayNameFormat": rule.display_name}
    if rule.severity_column:
        found["alertSeverityColumnName"] = "AlertSeverity"
    return found


def _description(rule: AnalyticRule) -> str:
    tested = (
        f"\n\nTested by logwarden: alerts on {len(rule.tests.positive)} positive and stays quiet on "
        f"{len(rule.tests.negative)} negative test events (listed in {file_stem(rule)}.md)."
        if rule.tests.positive or rule.tests.negative
        else ""
    )
    return (rule.description + tested)[:5000]


def analytic_yaml(rule: AnalyticRule) -> str:
    document: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name[:256],
        "description": _description(rule),
        "severity": rule.severity,
        "status": "Available",
        "requiredDataConnectors": [
            {"connectorId": connector, "dataTypes": list(tables)} for connector, tables in rule.connectors
        ],
        "queryFrequency": yaml_duration(rule.frequency),
        "queryPeriod": yaml_duration(rule.period),
        "triggerOperator": "gt",
        "triggerThreshold": 0,
        "tactics": list(rule.tactics),
        "relevantTechniques": list(rule.techniques),
        "query": rule.query,
        "entityMappings": _entity_mappings(rule),
        "customDetails": dict(rule.custom_details),
        "alertDetailsOverride": _details_override(rule),
        "eventGroupingSettings": {"aggregationKind": "AlertPerResult"},
        "version": "1.0.0",
        "kind": "Scheduled",
        "tags": ["logwarden", *rule.catalogue],
    }
    if not rule.entities:
        del document["entityMappings"]  # Sentinel takes one to five, or none at all
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)


def _arm_literal(value: Any) -> Any:
    """`value` with every string ARM would read as an expression (`[...`) escaped as `[[...`."""
    if isinstance(value, str):
        return "[" + value if value.startswith("[") else value
    if isinstance(value, list):
        return [_arm_literal(v) for v in value]
    if isinstance(value, dict):
        return {k: _arm_literal(v) for k, v in value.items()}
    return value


def arm_template(rules: list[AnalyticRule]) -> str:
    resources = []
    for rule in rules:
        properties = {
            "displayName": rule.name[:256],
            "description": _description(rule),
            "severity": rule.severity,
            "enabled": True,
            "query": rule.query,
            "queryFrequency": iso_duration(rule.frequency),
            "queryPeriod": iso_duration(rule.period),
            "triggerOperator": "GreaterThan",
            "triggerThreshold": 0,
            "suppressionEnabled": False,
            "suppressionDuration": "PT1H",
            "tactics": list(rule.tactics),
            # This API version takes parent techniques only; the sub-techniques are in the YAML.
            "techniques": sorted({t.split(".")[0] for t in rule.techniques}),
            "entityMappings": _entity_mappings(rule),
            "customDetails": dict(rule.custom_details),
            "alertDetailsOverride": _details_override(rule),
            "eventGroupingSettings": {"aggregationKind": "AlertPerResult"},
        }
        if not rule.entities:
            del properties["entityMappings"]
        resources.append(
            {
                "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
                "apiVersion": ARM_API_VERSION,
                # The id is parsed as a UUID, so nothing but hex digits and hyphens reaches the expression.
                "name": f"[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '{uuid.UUID(rule.id)}')]",
                "kind": "Scheduled",
                "properties": _arm_literal(properties),
            }
        )
    template = {
        "$schema": _SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {
            "workspace": {
                "type": "string",
                "metadata": {"description": "The Log Analytics workspace Microsoft Sentinel is enabled on"},
            }
        },
        "resources": resources,
    }
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def rule_page(rule: AnalyticRule) -> str:
    """The rule's documentation: what it detects, where it came from, and its local test events."""

    def e(text: str) -> str:
        return html.escape(text, quote=False)

    lines = [
        f"# {e(rule.name)}",
        "",
        e(rule.description),
        "",
        f"- Sentinel rule id: `{rule.id}`",
        f"- Sigma source: `{e(rule.source)}`",
        f"- Severity: {rule.severity}"
        + (" (per alert: lower when the operation failed or never finished)" if rule.severity_column else ""),
        f"- Tables: {', '.join(rule.tables)}",
        f"- Runs every {yaml_duration(rule.frequency)} over the last {yaml_duration(rule.period)}",
    ]
    if rule.catalogue:
        lines.append(f"- Tamper catalogue: {', '.join(e(c) for c in rule.catalogue)}")
    for kind, cases, verdict in (
        ("Positive", rule.tests.positive, "the local engine alerts"),
        ("Negative", rule.tests.negative, "the local engine stays quiet"),
    ):
        if cases:
            lines += ["", f"## {kind} test events ({verdict})", "", *(f"- `{e(c)}`" for c in cases)]
    lines += ["", "## Query", "", "```kusto", rule.query, "```", ""]
    return "\n".join(lines)


def write_sentinel(rules: list[AnalyticRule], out: Path, *, yaml_files: bool, arm: bool) -> list[Path]:
    """The files for `rules` under `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in rules:
        stem = file_stem(rule)
        if yaml_files:
            (out / f"{stem}.yaml").write_text(analytic_yaml(rule), encoding="utf-8")
            written.append(out / f"{stem}.yaml")
        (out / f"{stem}.md").write_text(rule_page(rule), encoding="utf-8")
        written.append(out / f"{stem}.md")
    if arm:
        (out / TEMPLATE_NAME).write_text(arm_template(rules), encoding="utf-8")
        written.append(out / TEMPLATE_NAME)
    return written
