"""The curated Parquet dataset: writing a run's partitions atomically, reading back.

Layout: ``CURATED/<table>/ingest_date=YYYY-MM-DD/part-0.parquet``. A run writes each
table's partition into a hidden staging folder (pyarrow and pandas skip names starting
with ``.``) and then swaps it into place with renames, so readers never see a half-written
file. A run replaces its date's partitions whole: re-running a date gives that date exactly
what the run produced, never the data deduplicated against itself. A row whose content
was already in the partition (same source path and bytes) keeps its first ``ingested_at``,
so two runs in a row leave byte-for-byte the same data.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.tables import PARTITION_KEY, TABLES

PART_NAME = "part-0.parquet"
# Row groups of this many rows keep a reader's memory bounded on big partitions.
ROW_GROUP_SIZE = 50_000


def partition_dir(curated_dir: Path, table: str, ingest_date: str) -> Path:
    return Path(curated_dir) / table / f"{PARTITION_KEY}={ingest_date}"


def read_partition(curated_dir: Path, table: str, ingest_date: str) -> pa.Table | None:
    """The table's rows for one ingest date, or None when there are none yet."""
    part = partition_dir(curated_dir, table, ingest_date)
    files = sorted(part.glob("*.parquet")) if part.is_dir() else []
    if not files:
        return None
    return pa.concat_tables(pq.read_table(f, schema=TABLES[table]) for f in files)


def _write_file(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def swap_partition(curated_dir: Path, table_name: str, ingest_date: str, table: pa.Table) -> Path:
    """Write ``table`` as the whole partition of one date, replacing what was there."""
    final = partition_dir(curated_dir, table_name, ingest_date)
    final.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    stage = final.with_name(f".{final.name}.{token}.stage")
    stage.mkdir()
    _write_file(table, stage / PART_NAME)
    old = final.with_name(f".{final.name}.{token}.old")
    if final.exists():
        os.rename(final, old)
    os.rename(stage, final)
    shutil.rmtree(old, ignore_errors=True)
    return final / PART_NAME


# The columns that say "the same input" for the tables that carry ingested_at.
_SAME_INPUT = {"documents": ("source_path", "source_sha256"), "errors": ("source_path", "error")}
_SORT_KEYS = {
    "documents": [("source_path", "ascending")],
    "errors": [("source_path", "ascending")],
    "paragraphs": [("doc_id", "ascending"), ("position", "ascending")],
    "removed": [("doc_id", "ascending"), ("position", "ascending")],
}


def _first_ingested(old: pa.Table | None, keys: tuple[str, ...]) -> dict[tuple, Any]:
    if old is None:
        return {}
    cols = [old[k].to_pylist() for k in keys]
    return dict(zip(zip(*cols, strict=True), old["ingested_at"].to_pylist(), strict=True))


def write_run(
    curated_dir: Path, ingest_date: str, rows: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Write one run's rows as the whole partition of ``ingest_date`` in every table.

    A table with no rows still gets its (empty) file, so every table of every run date
    reads back with its schema. Returns row counts per table.
    """
    counts: dict[str, int] = {}
    for name, schema in TABLES.items():
        new_rows = rows.get(name, [])
        if name in _SAME_INPUT and new_rows:
            keys = _SAME_INPUT[name]
            seen = _first_ingested(read_partition(curated_dir, name, ingest_date), keys)
            for row in new_rows:
                row["ingested_at"] = seen.get(tuple(row[k] for k in keys), row["ingested_at"])
        table = pa.Table.from_pylist(new_rows, schema=schema).sort_by(_SORT_KEYS[name])
        swap_partition(curated_dir, name, ingest_date, table)
        counts[name] = table.num_rows
    return counts


def clean_stale(curated_dir: Path) -> None:
    """Remove staging folders and temporary files left by a killed run."""
    root = Path(curated_dir)
    if not root.is_dir():
        return
    for table in TABLES:
        folder = root / table
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name.startswith(".") and entry.name.endswith((".stage", ".old")):
                shutil.rmtree(entry, ignore_errors=True)
