"""The Parquet store: atomic partition swaps, same-day re-runs replacing the partition."""

from __future__ import annotations

import errno
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from flows import store
from flows.pipeline import process_paths, table_rows
from tests.helpers import write_run

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
BODY = "The regional council met on Tuesday to discuss the budget and voted to raise spending."


def _rows(raw: Path, names: list[str], now: datetime = NOW) -> dict:
    batch = process_paths(raw, names)
    return table_rows(batch.docs, batch.errors, now)


def test_rerun_replaces_the_whole_partition(tmp_path: Path) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "a.txt").write_text(BODY + "\n\nFirst version of a.")
    (raw / "b.txt").write_text("Another story entirely. " + BODY.replace("council", "board"))
    write_run(curated, "2026-11-21", _rows(raw, ["a.txt", "b.txt"]))
    (raw / "a.txt").write_text(BODY + "\n\nSecond version of a.")
    write_run(curated, "2026-11-21", _rows(raw, ["a.txt"]))
    docs = pd.read_parquet(curated / "documents").set_index("source_path")
    assert list(docs.index) == ["a.txt"]
    assert "Second version" in docs.loc["a.txt", "text"]
    paras = pd.read_parquet(curated / "paragraphs")
    assert not paras["text"].str.contains("First version|Another story").any()


def test_unchanged_rows_keep_their_first_ingested_at(tmp_path: Path) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "a.txt").write_text(BODY)
    (raw / "b.txt").write_text("Another story entirely. " + BODY.replace("council", "board"))
    (raw / "bad.txt").write_bytes(b"")
    names = ["a.txt", "b.txt", "bad.txt"]
    write_run(curated, "2026-11-21", _rows(raw, names))
    files = sorted(curated.rglob("*.parquet"))
    before = [f.read_bytes() for f in files]
    later = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    write_run(curated, "2026-11-21", _rows(raw, names, later))
    assert [f.read_bytes() for f in sorted(curated.rglob("*.parquet"))] == before
    (raw / "b.txt").write_text("A corrected story. " + BODY)
    write_run(curated, "2026-11-21", _rows(raw, names, later))
    docs = pd.read_parquet(curated / "documents").set_index("source_path")
    assert docs.loc["a.txt", "ingested_at"] == pd.Timestamp(NOW)
    assert docs.loc["b.txt", "ingested_at"] == pd.Timestamp(later)
    errors = pd.read_parquet(curated / "errors")
    assert list(errors["ingested_at"]) == [pd.Timestamp(NOW)]


def test_no_staging_left_and_stale_staging_cleaned(tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    stale = curated / "documents" / "ingest_date=2026-11-21" / ".part-0.parquet.dead.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a file")  # what a killed run leaves
    store.clean_stale(curated)
    assert not stale.exists()
    write_run(curated, "2026-11-21", {})
    hidden = [p for p in curated.rglob("*") if p.name.startswith(".")]
    assert hidden == []
    assert len(pd.read_parquet(curated / "documents")) == 0


def test_a_commit_that_fails_after_its_journal_is_completed_not_dropped(
    tmp_path: Path, monkeypatch
) -> None:
    """Once the journal is written the commit is decided: if a rename then fails (the
    disk, the network file system), the run's clean-up must not delete the files still
    to move, or the date would keep new documents beside old paragraphs for good."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "a.txt").write_text(BODY)
    (raw / "bad.txt").write_bytes(b"")
    writer = store.PartitionWriter(curated, "2026-11-21")
    writer.append(_rows(raw, ["a.txt", "bad.txt"]))
    real_move = store._move_into_place
    moved: list[Path] = []

    def failing_after_one(tmp: Path) -> None:
        if moved:
            raise OSError(errno.EIO, "Input/output error")
        moved.append(tmp)
        real_move(tmp)

    monkeypatch.setattr(store, "_move_into_place", failing_after_one)
    with pytest.raises(OSError):
        writer.commit()
    writer.abort()  # what the flow does when the commit task finally fails
    monkeypatch.undo()
    assert store.pending_commit(curated) == "2026-11-21"
    assert store.recover(curated) == "2026-11-21"
    assert store.pending_commit(curated) is None
    counts = {t: len(pd.read_parquet(curated / t)) for t in ("documents", "paragraphs", "errors")}
    assert counts == {"documents": 1, "paragraphs": 1, "errors": 1}


def test_a_row_whose_keys_differ_from_the_schema_is_refused(tmp_path: Path) -> None:
    """Issue 20, finding 3: Arrow would store a misspelt key as a silent null column."""
    writer = store.PartitionWriter(tmp_path / "curated", "2026-11-21")
    row = {"source_path": "a", "source_sha256": None, "eror": "x", "message": "m"}
    with pytest.raises(ValueError, match="missing error, ingested_at; unknown eror"):
        writer.append({"errors": [row]})
    with pytest.raises(ValueError, match="tables the schema does not declare"):
        writer.append({"document": []})
    writer.abort()
    assert not any((tmp_path / "curated").rglob("*.parquet"))
