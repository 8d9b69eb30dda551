"""Input paths shown short: under the folder they all share."""

from __future__ import annotations

import os
from collections.abc import Iterable


def common_folder(paths: Iterable[str | None]) -> str:
    """The folder all `paths` share (a member of a container counts as its container), so
    that tables can show short names under it."""
    files = sorted({p.split("!", 1)[0] for p in paths if p})
    if not files:
        return ""
    try:
        root = os.path.commonpath(files)
    except ValueError:  # absolute and relative paths mixed
        return ""
    return os.path.dirname(root) if len(files) == 1 else root


def under(path: str | None, root: str) -> str:
    """`path` relative to `root` when it lies under it, else as it is."""
    if not path:
        return ""
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", "\\"):
        return path[len(root) + 1 :]
    return path
