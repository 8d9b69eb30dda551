"""The benchmarks still run: a tiny size of each, so a change cannot break them unnoticed.

Their figures mean nothing at this size; docs/benchmarks.md has the real runs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("ingest.py", ["--records", "300"], "ratio (logwarden / duckdb)"),
        ("ingest.py", ["--records", "300", "--files", "4"], "300 records in 4 files"),
        ("hunt.py", ["--records", "300", "--rules", "3"], "end to end / ingest alone"),
        ("silence.py", ["--events", "30000", "--sources", "12", "--rebuild"], "judged / baseline"),
        ("report.py", ["--scale", "0.2", "--rebuild"], "report / baseline"),
    ],
    ids=["ingest", "ingest-small-files", "hunt", "silence", "report"],
)
def test_benchmark_runs(script: str, args: list[str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert expected in done.stdout
