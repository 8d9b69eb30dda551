"""The Sentinel tables the exported queries read, with their real column names and types.

pySigma's Kusto backend ships Azure Monitor's published table schemas; they are the reference
the export checks a rule's columns against, so a query never names a column Sentinel lacks.
`AzureDiagnostics` is left out on purpose: its columns depend on each resource type (and most
resource types now write to their own tables), so a rule over logwarden's resource-log table
has no single Sentinel column set to export to.
"""

from __future__ import annotations

from functools import cache

from sigma.pipelines.azuremonitor.tables import AZURE_MONITOR_TABLES

TABLES = ("AzureActivity", "AuditLogs", "OfficeActivity", "SigninLogs")

# The published schemas spell some types as .NET does.
_TYPES = {"bigint": "long", "double": "real", "guid": "guid"}


@cache
def columns(table: str) -> dict[str, str]:
    """Column name -> KQL scalar type of a Sentinel table (empty for a table not exported)."""
    if table not in TABLES:
        return {}
    published = AZURE_MONITOR_TABLES[table]
    return {name: _TYPES.get(spec["data_type"].lower(), spec["data_type"].lower()) for name, spec in published.items()}
