from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logwarden.formats.framing.csvrows import DateOrder
from logwarden.ingest import IngestOptions, Ingestor, IngestReport, open_case
from logwarden.store.database import CaseDatabase

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HANDMADE = FIXTURES / "handmade"


def _shared() -> Path:
    env = os.environ.get("LOGWARDEN_SHARED")
    return Path(env) if env else REPO.parent / "shared"


SHARED_DATA = _shared() / "data"


@pytest.fixture
def case(tmp_path: Path) -> Iterator[CaseDatabase]:
    db = open_case(tmp_path / "case.duckdb")
    yield db
    db.close()


IngestFn = Callable[..., IngestReport]


@pytest.fixture
def ingest(case: CaseDatabase) -> IngestFn:
    def run(*paths: Path, date_order: DateOrder | None = None, strict: bool = False) -> IngestReport:
        with Ingestor(case, IngestOptions(date_order=date_order, strict=strict)) as ingestor:
            return ingestor.ingest(list(paths))

    return run


def rows(db: CaseDatabase, sql: str, params: list[object] | None = None) -> list[dict[str, object]]:
    cur = db.con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
