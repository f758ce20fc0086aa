"""Scale-out: the cleaning batches on a Dask cluster (a LocalCluster of two worker
processes) through prefect-dask give the same curated data as the local run; so does a
pool of local worker processes (``workers=2``), stopped once the last batch is cleaned."""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from schemas.tables import TABLES
from tests.helpers import FOOTER, ingest_on_local_dask, story, write

pytestmark = pytest.mark.slow  # end-to-end: `pytest -m 'not slow'` skips it

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-21"


def _tables(curated: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in TABLES:
        df = pd.read_parquet(curated / name)
        out[name] = df.drop(columns=[c for c in ("ingested_at",) if c in df.columns])
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    shutil.copytree(ROOT / "raw", raw, dirs_exist_ok=True)
    for i in range(24):
        write(raw, f"gen/{i:02d}.txt", story(300 + i, 5) + [FOOTER])
    write(raw, "gen/copy.txt", story(300, 5) + [FOOTER])  # a near-copy across batches
    return raw


@pytest.fixture(scope="module")
def local_run(corpus: Path, tmp_path_factory, prefect_harness) -> dict[str, pd.DataFrame]:
    from flows.ingest import ingest

    curated = tmp_path_factory.mktemp("local")
    ingest(raw_dir=str(corpus), curated_dir=str(curated), ingest_date=DAY, batch_size=4)
    return _tables(curated)


def _assert_same(curated: Path, expected: dict[str, pd.DataFrame]) -> None:
    got = _tables(curated)
    for name, df in expected.items():
        pd.testing.assert_frame_equal(got[name], df, obj=name)


def test_dask_local_cluster_gives_the_local_result(corpus: Path, local_run, tmp_path: Path) -> None:
    summary, tasks = ingest_on_local_dask(
        raw_dir=str(corpus), curated_dir=str(tmp_path), ingest_date=DAY, batch_size=4
    )
    batches = -(-summary.files_found // 4)
    workers = {t["worker"] for t in tasks}
    assert len(tasks) >= batches and len(workers) == 2  # every batch ran on the cluster
    assert summary.documents_written == len(local_run["documents"])
    _assert_same(tmp_path, local_run)


def test_worker_processes_give_the_local_result(
    corpus: Path, local_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same curated data; and the pool's processes are gone before the run's keepers
    are decided and written (that happens in the flow's process: idle workers would only
    hold memory)."""
    import flows.ingest
    from cleaners.rundedup import RunDedup
    from flows.ingest import ingest

    alive: list[tuple[str, int]] = []

    def watched(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            alive.append((name, len(multiprocessing.active_children())))
            return step(*args, **kwargs)

        return counted

    monkeypatch.setattr(RunDedup, "finish", watched("keepers", RunDedup.finish))
    monkeypatch.setattr(flows.ingest, "_write", watched("write", flows.ingest._write))
    ingest(raw_dir=str(corpus), curated_dir=str(tmp_path), ingest_date=DAY, batch_size=4, workers=2)
    _assert_same(tmp_path, local_run)
    assert alive == [("keepers", 0), ("write", 0)]
