"""The curated Parquet dataset: writing a run's partitions atomically, reading back.

Layout: ``CURATED/<table>/ingest_date=YYYY-MM-DD/part-0.parquet``. A run writes each
table's partition into a hidden staging folder (pyarrow and pandas skip names starting
with ``.``) and then swaps it into place with renames, so readers never see a half-written
file. Rows already in that date's partition for sources this run did not touch are carried
over, so two runs on the same day over different folders both keep their documents.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
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


def _carry_over(old: pa.Table | None, column: str, replaced: set[str]) -> pa.Table | None:
    if old is None or old.num_rows == 0:
        return None
    keep = pc.invert(pc.is_in(old[column], value_set=pa.array(sorted(replaced), pa.string())))
    kept = old.filter(keep)
    return kept if kept.num_rows else None


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


def write_run(
    curated_dir: Path,
    ingest_date: str,
    rows: dict[str, list[dict[str, Any]]],
    replaced_sources: Iterable[str],
    replaced_doc_ids: Iterable[str],
) -> dict[str, int]:
    """Write one run's rows for every table into its date partition.

    ``replaced_sources`` / ``replaced_doc_ids``: what this run re-did; older rows of the same
    partition for those are dropped, every other older row is kept. Returns row counts.
    """
    sources, doc_ids = set(replaced_sources), set(replaced_doc_ids)
    counts: dict[str, int] = {}
    for name, schema in TABLES.items():
        new = pa.Table.from_pylist(rows.get(name, []), schema=schema)
        by_source = name in ("documents", "errors")
        key, replaced = ("source_path", sources) if by_source else ("doc_id", doc_ids)
        old = _carry_over(read_partition(curated_dir, name, ingest_date), key, replaced)
        table = pa.concat_tables([old, new]) if old is not None else new
        sort_keys = (
            [("source_path", "ascending")]
            if by_source
            else [
                ("doc_id", "ascending"),
                ("position", "ascending"),
            ]
        )
        table = table.sort_by(sort_keys)
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
