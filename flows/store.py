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

import errno
import fcntl
import json
import os
import pickle
import shutil
import signal
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.tables import PARTITION_KEY, SCHEMA_VERSION, TABLES

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


class CuratedError(RuntimeError):
    """CURATED_DIR cannot be used as it is; the message says why and what to do."""


class CuratedLocked(CuratedError):
    """Another ingest holds the lock on this CURATED_DIR."""


class PartitionSchemaError(CuratedError):
    """A partition file written earlier does not match the declared schema (and cannot be
    read as it: a required column missing, or a type that does not convert)."""


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
    try:  # never through a symlink: the run would truncate whatever it points at
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CuratedError(
                f"{path} is a symlink; the lock file is not opened through one. Remove it."
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CuratedError(f"{path} is not a regular file; remove it")
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


def check_row_keys(table: str, row: dict[str, Any]) -> None:
    """Raise ValueError unless ``row`` has exactly the columns of ``table``'s schema.

    >>> check_row_keys("errors", {"source_path": "a", "source_sha256": None, "eror": "x",
    ...     "message": "m", "ingested_at": None})
    Traceback (most recent call last):
    ...
    ValueError: a row for errors does not match its schema: missing error; unknown eror
    """
    declared = TABLES[table].names
    missing = [c for c in declared if c not in row]
    unknown = [k for k in row if k not in declared]
    if missing or unknown:
        parts = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(unknown)}" if unknown else "",
        ]
        raise ValueError(
            f"a row for {table} does not match its schema: " + "; ".join(p for p in parts if p)
        )


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

    def __init__(self, curated_dir: Path | Curated, ingest_date: str) -> None:
        self.curated = open_curated(curated_dir)
        self.ingest_date = ingest_date
        self.counts = dict.fromkeys(TABLES, 0)
        self._first = {
            name: _first_ingested(self._old(name, [*keys, "ingested_at"]), keys)
            for name, keys in _SAME_INPUT.items()
        }
        # Documents the date's old partition holds that this run has not written (yet):
        # what a re-run of the date would lose (inputs gone, or now failing).
        self._not_rewritten = {path for path, _ in self._first["documents"]}
        token = uuid.uuid4().hex
        self._tmp = {name: self.curated.stage(name, ingest_date, token) for name in TABLES}
        self._writers = {
            name: pq.ParquetWriter(self._tmp[name], schema, compression="zstd")
            for name, schema in TABLES.items()
        }
        self._appended = False
        self._sealed: dict[str, str] | None = None
        self._journaled = False
        self._moved: set[str] = set()

    def _old(self, name: str, columns: list[str]) -> pa.Table | None:
        ref = self.curated.partition_file(name, self.ingest_date)
        return None if ref is None else self.curated.read_columns(ref, name, columns)

    def append(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        """Append one batch's rows (in the order they should be read back). Each row's
        keys must be its table's columns: Arrow would turn a misspelt key into a silent
        null column."""
        unknown = set(rows) - set(TABLES)
        if unknown:
            raise ValueError(f"rows for tables the schema does not declare: {sorted(unknown)}")
        for name, schema in TABLES.items():
            batch = rows.get(name) or []
            if not batch:
                continue
            check_row_keys(name, batch[0])
            if name in _SAME_INPUT:
                keys, first = _SAME_INPUT[name], self._first[name]
                for row in batch:
                    row["ingested_at"] = first.get(tuple(row[k] for k in keys), row["ingested_at"])
            if name == "documents":
                self._not_rewritten.difference_update(row["source_path"] for row in batch)
            self.append_table(name, pa.Table.from_pylist(batch, schema=schema))

    def dropped_documents(self) -> list[str]:
        """Source paths of documents the date's partition held before this run and that
        this run has not written: committing drops them from the date."""
        return sorted(self._not_rewritten)

    def append_table(self, name: str, table: pa.Table) -> None:
        """Append rows already in an Arrow table with the table's schema."""
        self._writers[name].write_table(table, row_group_size=ROW_GROUP_SIZE)
        self.counts[name] += table.num_rows
        if not self._appended:
            self._appended = True
            _failpoint("mid_file")

    def commit(self) -> dict[str, int]:
        """Finish the files and make the four tables of the date visible together.

        The files are closed and fsynced; then a commit journal naming them is written
        (atomically); then each is renamed into place; then the journal is removed. A
        kill before the journal leaves the old partitions, all four; a kill after it is
        rolled forward by the next run, whatever its date (``recover``), before it reads
        anything. So no run ever sees a date with some tables new and some old, and a
        reader can tell a commit in progress by the journal (``pending_commit``)."""
        if self._sealed is None:  # commit may be retried: each step is done once
            for writer in self._writers.values():
                writer.close()
            self._sealed = self.curated.seal(self._tmp)
        _failpoint("before_commit")
        if not self._journaled:
            self.curated.write_journal(self.ingest_date, self._sealed)
            self._journaled = True
        _failpoint("before_rename")
        for name in TABLES:
            if name in self._moved:
                continue
            self.curated.move_into_place(self._sealed[name])
            self._moved.add(name)
            _failpoint(f"after_{name}")
        self.curated.end_journal()
        return dict(self.counts)

    def abort(self) -> None:
        """Drop everything written so far; the old partitions stay as they were. Once
        the commit journal is written the commit is decided: its files stay for the next
        run to move into place (``recover``), and nothing is dropped."""
        if self._journaled:
            return
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001, S110 - removing the file is what matters
                pass
        self.curated.discard(self._tmp, self._sealed)


class LocalCurated:
    """CURATED_DIR as a local folder: this module's functions behind the interface that
    ``flows.objstore.ObjectCurated`` gives an object store, so a run, its writer and the
    history reader need not know which one they use."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = str(root)
        self._created: list[Path] = []  # partition folders ``stage`` made (``discard`` removes)

    def lock(
        self, timeout: float = 0.0, on_wait: Callable[[str], None] | None = None
    ) -> AbstractContextManager[None]:
        return curated_lock(self.root, timeout, on_wait)

    def verify_lock(self) -> None:
        """An OS lock cannot be lost while its process lives: nothing to check."""

    def committed_dates(self) -> list[str]:
        return committed_dates(self.root)

    def partitions(self, table: str, exclude_date: str | None) -> list[tuple[str, Path]]:
        """(date, file) of every partition file of ``table`` but ``exclude_date``'s, in
        date order."""
        out = []
        for part in sorted((self.root / table).glob(f"{PARTITION_KEY}=*")):
            day = part.name.split("=", 1)[1]
            if day != exclude_date and part.is_dir():
                out.extend((day, f) for f in sorted(part.glob("*.parquet")))
        return out

    def partition_file(self, table: str, day: str) -> Path | None:
        path = partition_dir(self.root, table, day) / PART_NAME
        return path if path.is_file() else None

    def read_columns(self, ref: Path, table: str, columns: list[str]) -> pa.Table:
        return read_columns(ref, table, columns)

    def partition_rows(self, ref: Path) -> int:
        return pq.read_metadata(ref).num_rows

    def pending_commit(self) -> str | None:
        return pending_commit(self.root)

    def recover(self) -> str | None:
        return recover(self.root)

    def clean_stale(self) -> None:
        clean_stale(self.root)

    def spill(self) -> BatchSpill:
        return BatchSpill(self.root)

    def stage(self, table: str, day: str, token: str) -> Path:
        """The hidden temporary file, in its partition folder, a table's rows go to."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = partition_dir(self.root, table, day)
        for made in (folder.parent, folder):
            if not made.exists():
                made.mkdir()
                self._created.append(made)
        return folder / f".{PART_NAME}.{token}.tmp"

    def seal(self, files: dict[str, Path]) -> dict[str, str]:
        """Flush the finished files to disk; their names relative to CURATED_DIR."""
        for tmp in files.values():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        return {name: tmp.relative_to(self.root).as_posix() for name, tmp in files.items()}

    def write_journal(self, day: str, files: dict[str, str]) -> None:
        _write_journal(self.root, day, files)

    def move_into_place(self, rel: str) -> None:
        _move_into_place(self.root / rel)

    def end_journal(self) -> None:
        _end_journal(self.root)

    def discard(self, files: dict[str, Path], sealed: dict[str, str] | None) -> None:
        for tmp in files.values():
            tmp.unlink(missing_ok=True)
        for folder in reversed(self._created):  # no empty partition folders left behind
            try:
                folder.rmdir()
            except OSError:
                pass


if TYPE_CHECKING:
    from flows.objstore import ObjectCurated

    Curated = LocalCurated | ObjectCurated


def open_curated(
    curated_dir: str | Path | Curated,
    storage_options: dict[str, Any] | None = None,
    lock_ttl: float | None = None,
) -> Curated:
    """CURATED_DIR as a local folder (a path or ``file://``) or on an object store (any
    other fsspec URL); an already opened one is returned as it is."""
    from flows import objstore
    from flows.settings import is_url, local_path

    if isinstance(curated_dir, LocalCurated | objstore.ObjectCurated):
        return curated_dir
    if is_url(curated_dir):
        place = objstore.open_place(str(curated_dir), storage_options)
        return objstore.ObjectCurated(place, lock_ttl or objstore.DEFAULT_LOCK_TTL)
    return LocalCurated(local_path(curated_dir))


def clean_stale(curated_dir: Path) -> None:
    """Remove temporary files left by a killed run. Call it only while holding
    ``curated_lock``, after ``recover``."""
    root = Path(curated_dir)
    if not root.is_dir():
        return
    (root / (JOURNAL_NAME + ".tmp")).unlink(missing_ok=True)
    shutil.rmtree(root / SPILL_NAME, ignore_errors=True)
    for table in TABLES:
        folder = root / table
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.is_dir():
                for tmp in entry.glob(".*.tmp*"):  # ``.tmp`` (and older versions' ``.tmp.heads``)
                    tmp.unlink(missing_ok=True)


SPILL_NAME = ".thresher-spill"


class BatchSpill:
    """Cleaned batches set aside on disk, in order, while the run's dedup keepers are
    decided (a run's keepers are known only once every batch is cleaned; holding the
    batches in memory would cost the whole run's text). A folder under CURATED_DIR, so a
    killed run's leftovers are removed by the next run (``clean_stale``); use it only while
    holding ``curated_lock``. Pickle is fine here: the run reads back what it wrote."""

    def __init__(self, curated_dir: Path, own_folder: bool = False) -> None:
        # own_folder: ``curated_dir`` is a temporary folder made for the spill alone.
        self.folder = Path(curated_dir) if own_folder else Path(curated_dir) / SPILL_NAME
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self._count = 0

    def put(self, item: Any) -> None:
        path = self.folder / f"{self._count:08d}.pickle"
        with open(path, "wb") as fh:
            pickle.dump(item, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def take(self) -> Iterator[Any]:
        """Every item put, in order; each file is removed once read."""
        for n in range(self._count):
            path = self.folder / f"{n:08d}.pickle"
            with open(path, "rb") as fh:
                item = pickle.load(fh)
            path.unlink()
            yield item

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class BackfillRefused(CuratedError):
    """A run for a date earlier than one the curated folder already holds."""


def committed_dates(curated_dir: Path) -> list[str]:
    """Ingest dates that have a partition file in any table, sorted."""
    days = set()
    for table in TABLES:
        for part in (Path(curated_dir) / table).glob(f"{PARTITION_KEY}=*/{PART_NAME}"):
            days.add(part.parent.name.split("=", 1)[1])
    return sorted(days)


def refuse_backfill(curated_dir: Path | Curated, ingest_date: str) -> None:
    """Dates are written in order: a run for a date earlier than the latest one present
    would deduplicate against later data (and the later date was deduplicated without
    it), so the curated data would depend on the order runs happened. Such a run is
    refused before anything is read; re-running the latest date is fine."""
    curated = open_curated(curated_dir)
    later = [d for d in curated.committed_dates() if d > ingest_date]
    if later:
        raise BackfillRefused(
            f"{curated.url} already holds ingest dates after {ingest_date} ({', '.join(later)}); "
            "a run for an earlier date would make the curated data depend on the order runs "
            f"happened. Ingest dates in order: to redo {ingest_date}, move the partitions of "
            "the later dates aside (every table) and re-run from there, or use a new "
            "curated folder."
        )


# --- the commit journal ----------------------------------------------------------------------

JOURNAL_NAME = ".thresher-commit.json"


def _write_journal(curated_dir: Path, ingest_date: str, files: dict[str, str]) -> None:
    """Record, durably and atomically, that the files (temporary names relative to
    CURATED_DIR, one per table) are the committed partitions of ``ingest_date``."""
    root = Path(curated_dir)
    tmp = root / (JOURNAL_NAME + ".tmp")
    body = {"schema_version": SCHEMA_VERSION, "ingest_date": ingest_date, "files": files}
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(body, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / JOURNAL_NAME)
    _fsync_dir(root)


def _end_journal(curated_dir: Path) -> None:
    (Path(curated_dir) / JOURNAL_NAME).unlink(missing_ok=True)
    _fsync_dir(Path(curated_dir))


def _move_into_place(tmp: Path) -> None:
    """Rename a finished temporary file over its partition's file (a partition is exactly
    one file) and make the rename durable."""
    final = tmp.with_name(PART_NAME)
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    for other in final.parent.glob("*.parquet"):
        if other.name != PART_NAME:
            other.unlink()


def pending_commit(curated_dir: Path) -> str | None:
    """The ingest date whose commit was cut short (by a kill or a crash), or None. While
    it is not None, that date's four tables may not all be from the same run; the next
    ``thresher ingest`` on this folder completes the commit before anything else."""
    path = Path(curated_dir) / JOURNAL_NAME
    if not path.exists():
        return None
    return str(json.loads(path.read_text(encoding="utf-8"))["ingest_date"])


def recover(curated_dir: Path) -> str | None:
    """Complete a commit that was cut short: move the files its journal names into place
    (those already moved are gone from their temporary names), then end the journal.
    Returns the date it completed, or None. Call it only while holding ``curated_lock``,
    before reading or writing anything else."""
    root = Path(curated_dir)
    path = root / JOURNAL_NAME
    if not path.exists():
        return None
    journal = json.loads(path.read_text(encoding="utf-8"))
    for rel in journal["files"].values():
        tmp = root / rel
        if tmp.exists():
            _move_into_place(tmp)
    _end_journal(root)
    return str(journal["ingest_date"])


# --- reading partitions by the declared schema -----------------------------------------------


def read_columns(
    path: Path | str, table: str, columns: list[str], filesystem: Any = None
) -> pa.Table:
    """Columns of one partition file, as the declared schema of ``table`` types them.

    A file written by another schema version is read if it can be without guessing: a
    nullable column it lacks reads as nulls, a column of another type is cast when the
    cast is lossless. Otherwise ``PartitionSchemaError`` names the file, what differs and
    how to migrate. ``filesystem``: an fsspec file system ``path`` is on (default: local)."""
    declared = TABLES[table]
    try:
        found = pq.read_schema(path, filesystem=filesystem)
    except (OSError, pa.ArrowException) as exc:
        raise PartitionSchemaError(f"{path}: not a readable Parquet file ({exc})") from exc
    present = [c for c in columns if found.get_field_index(c) >= 0]
    problems = [
        f"column {c!r} is missing"
        for c in columns
        if c not in present and not declared.field(c).nullable
    ]
    if problems:
        raise PartitionSchemaError(_schema_message(path, table, problems))
    data = pq.read_table(path, columns=present, filesystem=filesystem)
    out = []
    for name in columns:
        want = declared.field(name)
        if name not in present:
            out.append(pa.nulls(data.num_rows, want.type))
            continue
        column = data[name]
        if not _plain(column.type).equals(_plain(want.type)):
            try:
                column = column.cast(want.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                problems.append(f"column {name!r} is {column.type}, declared {want.type} ({exc})")
                continue
        out.append(column)
    if problems:
        raise PartitionSchemaError(_schema_message(path, table, problems))
    return pa.table(out, schema=pa.schema([declared.field(c) for c in columns]))


def _plain(kind: pa.DataType) -> pa.DataType:
    """A type with list items named the default way (Parquet files name them
    ``element``, Arrow ``item``: the same column either way)."""
    if pa.types.is_list(kind):
        return pa.list_(_plain(kind.value_type))
    return kind


def _same_columns(found: pa.Schema, declared: pa.Schema) -> bool:
    return found.names == declared.names and all(
        a.nullable == b.nullable and _plain(a.type).equals(_plain(b.type))
        for a, b in zip(found, declared, strict=True)
    )


def _schema_message(path: Path | str, table: str, problems: list[str]) -> str:
    return (
        f"{path} does not match the {table} schema (version {SCHEMA_VERSION}): "
        + "; ".join(problems)
        + ". Run `thresher migrate CURATED_DIR` to rewrite old partitions to the declared "
        "schema, or move this file out of the curated folder."
    )


def migrate(curated_dir: Path) -> list[tuple[str, str]]:
    """Rewrite every partition file that differs from the declared schema to it: a
    nullable column it lacks is added as nulls, a column of another type is cast when the
    cast is lossless. A file that cannot be migrated without losing data (a required
    column missing, a lossy cast, columns the schema does not declare) is left as it is
    and reported. Each file is replaced atomically. Call it while holding
    ``curated_lock``. Returns (path, what happened) for each file that differed."""
    root = Path(curated_dir)
    report: list[tuple[str, str]] = []
    for table, schema in TABLES.items():
        for path in sorted((root / table).glob(f"{PARTITION_KEY}=*/{PART_NAME}")):
            try:
                found = pq.read_schema(path)
            except (OSError, pa.ArrowException) as exc:
                report.append((str(path), f"not migrated: not a readable Parquet file ({exc})"))
                continue
            if _same_columns(found, schema):
                continue
            extra = [n for n in found.names if schema.get_field_index(n) < 0]
            if extra:
                report.append(
                    (
                        str(path),
                        f"not migrated: columns the schema does not declare ({', '.join(extra)}); "
                        "move the file out, or drop them yourself, then migrate again",
                    )
                )
                continue
            try:
                table_data = read_columns(path, table, schema.names)
            except PartitionSchemaError as exc:
                report.append((str(path), f"not migrated: {exc}"))
                continue
            tmp = path.with_name(f".{PART_NAME}.{uuid.uuid4().hex}.tmp")
            pq.write_table(
                table_data.replace_schema_metadata(schema.metadata), tmp, compression="zstd"
            )
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
            report.append((str(path), f"migrated to schema version {SCHEMA_VERSION}"))
    return report
