"""Run one phase of a benchmark in a fresh process: its result, wall-clock seconds and peak RSS.

Each benchmark script calls itself with `--phase ... --result FILE`; a fresh process per phase
keeps one phase's memory and caches out of the next one's figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def timed(script: str, args: list[str]) -> tuple[dict[str, Any], float, float]:
    """The phase's result, the child's wall-clock seconds and its peak RSS (MB)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, script, *args, "--result", out.name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(args)} failed:\n{errors.decode()}")
        return json.loads(Path(out.name).read_text()), seconds, usage.ru_maxrss / 1024
