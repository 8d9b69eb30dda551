"""Every record shape logwarden reads, in the order they are tried.

Order matters where shapes overlap: Log Analytics rows first (they name their
table), then Graph, REST and diagnostic-export shapes, then the unified audit log.
"""

from __future__ import annotations

from logwarden.formats.records import (
    activity_log_export,
    activity_log_rest,
    entra_diagnostic,
    graph_directory_audits,
    log_analytics,
    management_activity,
    resource_logs,
)
from logwarden.formats.records.base import RecordFormat

FORMATS: tuple[RecordFormat, ...] = (
    *log_analytics.FORMATS,
    graph_directory_audits.FORMAT,
    activity_log_rest.FORMAT,
    entra_diagnostic.SIGNIN,
    entra_diagnostic.AUDIT,
    activity_log_export.FORMAT,
    resource_logs.FORMAT,
    management_activity.FORMAT,
)

MACROS: tuple[str, ...] = management_activity.MACROS
