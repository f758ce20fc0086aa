"""The Parquet store: atomic partition swaps, same-day re-runs, carry-over."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from flows import store
from flows.pipeline import process_paths, table_rows

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
BODY = "The regional council met on Tuesday to discuss the budget and voted to raise spending."


def _rows(raw: Path, names: list[str]) -> tuple[dict, list[str]]:
    batch = process_paths(raw, names)
    return table_rows(batch.docs, batch.errors, NOW), [d.doc_id for d in batch.docs]


def test_rerun_replaces_only_its_own_sources(tmp_path: Path) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "a.txt").write_text(BODY + "\n\nFirst version of a.")
    (raw / "b.txt").write_text("Another story entirely. " + BODY.replace("council", "board"))
    rows, ids = _rows(raw, ["a.txt", "b.txt"])
    store.write_run(curated, "2026-11-21", rows, ["a.txt", "b.txt"], ids)
    (raw / "a.txt").write_text(BODY + "\n\nSecond version of a.")
    rows, ids = _rows(raw, ["a.txt"])
    store.write_run(curated, "2026-11-21", rows, ["a.txt"], ids)
    docs = pd.read_parquet(curated / "documents").set_index("source_path")
    assert sorted(docs.index) == ["a.txt", "b.txt"]
    assert "Second version" in docs.loc["a.txt", "text"]
    paras = pd.read_parquet(curated / "paragraphs")
    assert not paras["text"].str.contains("First version").any()


def test_no_staging_left_and_stale_staging_cleaned(tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    stale = curated / "documents" / ".ingest_date=2026-11-21.dead.stage"
    stale.mkdir(parents=True)
    (stale / "part-0.parquet").write_bytes(b"half a file")
    store.clean_stale(curated)
    assert not stale.exists()
    store.write_run(curated, "2026-11-21", {}, [], [])
    hidden = [p for p in curated.rglob("*") if p.name.startswith(".")]
    assert hidden == []
    assert len(pd.read_parquet(curated / "documents")) == 0
