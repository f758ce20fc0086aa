"""The curated Parquet dataset: writing a run's partitions atomically, reading back.

Layout: ``CURATED/<table>/ingest_date=YYYY-MM-DD/part-0.parquet``. Each partition is one
file, written under a hidden temporary name in its folder (pyarrow and pandas skip names
starting with ``.``), flushed to disk, then renamed over the old file: a reader sees the
old file or the new one, never a partial one and never a gap, whenever the writer is
killed. Runs on one CURATED_DIR are serialised by a lock (``curated_lock``).

A run replaces its date's partitions whole: re-running a date gives that date exactly
what the run produced, never the data deduplicated against itself. A row whose content
was already in the partition (same source path and bytes) keeps its first ``ingested_at``,
so two runs in a row leave byte-for-byte the same data.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.tables import DOCUMENTS, PARTITION_KEY, TABLES

PART_NAME = "part-0.parquet"
# Row groups of this many rows keep a reader's memory bounded on big partitions.
ROW_GROUP_SIZE = 50_000


def partition_dir(curated_dir: Path, table: str, ingest_date: str) -> Path:
    return Path(curated_dir) / table / f"{PARTITION_KEY}={ingest_date}"


def _failpoint(name: str) -> None:
    """Fault injection for the crash tests: ``THRESHER_FAILPOINT=<name>`` kills the
    process with SIGKILL at that point of a write. Unset, it does nothing."""
    if os.environ.get("THRESHER_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CuratedLocked(RuntimeError):
    """Another ingest holds the lock on this CURATED_DIR."""


LOCK_NAME = ".thresher.lock"


@contextmanager
def curated_lock(
    curated_dir: Path, timeout: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the exclusive lock of a CURATED_DIR for a whole run (history read to last
    write), so two runs never interleave a partition or dedup against half a run.

    An OS file lock (``flock``): it is released when the holder exits, even by SIGKILL,
    so a crash never leaves a stale lock. Waits up to ``timeout`` seconds, telling
    ``on_wait`` once who holds it, then raises ``CuratedLocked`` with a clear message.
    """
    root = Path(curated_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = path.read_text(encoding="utf-8", errors="replace").strip() or "unknown"
                msg = f"another ingest is writing {root} ({holder})"
                if time.monotonic() >= deadline:
                    raise CuratedLocked(
                        f"{msg}; gave up after {timeout:g} s. Runs on one curated folder take "
                        "turns: retry when it finishes, or raise lock_timeout."
                    ) from None
                if on_wait is not None and not told:
                    on_wait(f"{msg}; waiting up to {timeout:g} s for it to finish")
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%dT%H:%M:%S%z')}".encode(), 0
        )
        yield
    finally:
        os.close(fd)  # closing releases the lock


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


class PartitionWriter:
    """The partitions of one ingest date, written while the run goes: each table's rows
    are appended as row groups to a hidden temporary file in its partition folder, so
    memory holds one batch, not the run. ``commit`` fsyncs and renames the four files
    over the old ones; ``abort`` removes them. Until ``commit`` the old partitions stay.

    Rows whose input was already in the old partition (same source path and bytes) keep
    their first ``ingested_at``, so re-running a date rewrites the same bytes.
    """

    def __init__(self, curated_dir: Path, ingest_date: str) -> None:
        self.curated_dir = Path(curated_dir)
        self.ingest_date = ingest_date
        self.counts = dict.fromkeys(TABLES, 0)
        self._first = {
            name: _first_ingested(self._old(name, [*keys, "ingested_at"]), keys)
            for name, keys in _SAME_INPUT.items()
        }
        self._tmp: dict[str, Path] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        token = uuid.uuid4().hex
        for name, schema in TABLES.items():
            folder = partition_dir(self.curated_dir, name, ingest_date)
            folder.mkdir(parents=True, exist_ok=True)
            self._tmp[name] = folder / f".{PART_NAME}.{token}.tmp"
            self._writers[name] = pq.ParquetWriter(self._tmp[name], schema, compression="zstd")
        self._appended = False
        self._closed = False
        self._moved: set[str] = set()

    def _old(self, name: str, columns: list[str]) -> pa.Table | None:
        path = partition_dir(self.curated_dir, name, self.ingest_date) / PART_NAME
        return pq.read_table(path, columns=columns) if path.exists() else None

    def append(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        """Append one batch's rows (in the order they should be read back)."""
        for name, schema in TABLES.items():
            batch = rows.get(name) or []
            if not batch:
                continue
            if name in _SAME_INPUT:
                keys, first = _SAME_INPUT[name], self._first[name]
                for row in batch:
                    row["ingested_at"] = first.get(tuple(row[k] for k in keys), row["ingested_at"])
            self.append_table(name, pa.Table.from_pylist(batch, schema=schema))

    def append_table(self, name: str, table: pa.Table) -> None:
        """Append rows already in an Arrow table with the table's schema."""
        self._writers[name].write_table(table, row_group_size=ROW_GROUP_SIZE)
        self.counts[name] += table.num_rows
        if not self._appended:
            self._appended = True
            _failpoint("mid_file")

    def commit(self, heads: set[str] | None = None) -> dict[str, int]:
        """Finish the files and move them into place, one table after another.

        ``heads``: doc_ids written before a later document made them the first of a
        near-duplicate group; their ``near_dup_cluster`` is set to themselves here."""
        if not self._closed:  # commit may be retried: each step is done once
            for writer in self._writers.values():
                writer.close()
            if heads:
                self._set_heads(heads)
            self._closed = True
        for name in TABLES:
            if name in self._moved:
                continue
            tmp = self._tmp[name]
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            _failpoint("before_rename")
            final = tmp.with_name(PART_NAME)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            for other in final.parent.glob("*.parquet"):  # a partition is exactly one file
                if other.name != PART_NAME:
                    other.unlink()
            self._moved.add(name)
            _failpoint(f"after_{name}")
        return dict(self.counts)

    def _set_heads(self, heads: set[str]) -> None:
        src = self._tmp["documents"]
        dst = src.with_name(src.name + ".heads")
        value_set = pa.array(sorted(heads), pa.string())
        with pq.ParquetWriter(dst, DOCUMENTS, compression="zstd") as writer:
            for batch in pq.ParquetFile(src).iter_batches(batch_size=ROW_GROUP_SIZE):
                table = pa.Table.from_batches([batch], schema=DOCUMENTS)
                is_head = pc.and_(
                    pc.is_in(table["doc_id"], value_set=value_set),
                    pc.is_null(table["near_dup_cluster"]),
                )
                cluster = pc.if_else(is_head, table["doc_id"], table["near_dup_cluster"])
                index = table.schema.get_field_index("near_dup_cluster")
                writer.write_table(
                    table.set_column(index, DOCUMENTS.field(index), cluster),
                    row_group_size=ROW_GROUP_SIZE,
                )
        os.replace(dst, src)

    def abort(self) -> None:
        """Drop everything written so far; the old partitions stay as they were."""
        for name, writer in self._writers.items():
            try:
                writer.close()
            except Exception:  # noqa: BLE001, S110 - removing the file is what matters
                pass
            self._tmp[name].unlink(missing_ok=True)


def write_run(
    curated_dir: Path, ingest_date: str, rows: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Write one run's rows, held in memory, as the whole partition of ``ingest_date`` in
    every table (sorted: documents and errors by source path, paragraphs and removed
    lines by document and position). Returns row counts per table."""
    ordered = {
        name: pa.Table.from_pylist(rows.get(name, []), schema=schema)
        .sort_by(_SORT_KEYS[name])
        .to_pylist()
        for name, schema in TABLES.items()
    }
    writer = PartitionWriter(curated_dir, ingest_date)
    try:
        writer.append(ordered)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def clean_stale(curated_dir: Path) -> None:
    """Remove temporary files (and staging folders of older versions) left by a killed
    run. Call it only while holding ``curated_lock``."""
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
            elif entry.is_dir():
                for tmp in entry.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
