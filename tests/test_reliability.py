"""Reliability, round two (issue 14): inputs and layouts that lost data, crashed, hung or
read outside RAW_DIR, each through the CLI or the flow. The kills, the supervisor and the
write failures are in ``test_crash.py``; the README's reliability section lists all."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows import store
from flows.settings import SettingsError
from flows.sources import read_source
from schemas.tables import TABLES
from tests.helpers import run, snapshot, story, write

EXE = Path(sys.executable).parent / "thresher"
DAY1, DAY2 = "2026-11-20", "2026-11-21"
GOOD = "\n\n".join(story(4242, 4))
_texts = iter(range(5000, 6000))


def text() -> str:
    """A good article of its own (files with the same bytes would be skipped as copies)."""
    return "\n\n".join(story(next(_texts), 4))


def cli(env: dict, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXE), *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout
    )


def _make_deep_path(raw: Path, levels: int, name: str, data: str) -> str:
    """A file below ``levels`` folders of 200-character names (past PATH_MAX), made with
    descriptors since no path that long can be opened whole."""
    fd = os.open(raw, os.O_RDONLY | os.O_DIRECTORY)
    parts = []
    try:
        for i in range(levels):
            part = f"{i:02d}" + "d" * 198
            os.mkdir(part, dir_fd=fd)
            sub = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = sub
            parts.append(part)
        out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, data.encode())
        os.close(out)
    finally:
        os.close(fd)
    return "/".join([*parts, name])


@pytest.fixture(scope="module")
def hostile(env, tmp_path_factory) -> tuple[Path, dict, dict[str, str]]:
    """One raw folder of good files and every hostile entry, ingested by the CLI (with a
    timeout: two of these used to hang the run for ever)."""
    base = tmp_path_factory.mktemp("hostile")
    raw, curated = base / "raw", base / "curated"
    raw.mkdir()
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET " + GOOD)
    (raw / "good.txt").write_text(text())
    # 3. a file name that is not UTF-8
    (raw / os.fsdecode(b"caf\xe9-latin1.txt")).write_bytes(text().encode())
    # 4. lone surrogates in a JSONL record and in a sidecar
    (raw / "dump.jsonl").write_text(
        json.dumps({"text": text()}) + "\n" + '{"text": "Fine text.", "title": "Lone \\ud800"}\n'
    )
    (raw / "lone.txt").write_text(text())
    (raw / "lone.meta.json").write_text('{"title": "Lone \\ud800"}')
    # 6. a FIFO as a sidecar
    (raw / "fifo.txt").write_text(text())
    os.mkfifo(raw / "fifo.meta.json")
    # 7. a 1.5 GB sparse sidecar, and a character device as a sidecar (where mknod works)
    (raw / "sparse.txt").write_text(text())
    with open(raw / "sparse.meta.json", "wb") as fh:
        fh.truncate(1_500_000_000)
    (raw / "device.txt").write_text(text())
    try:
        os.mknod(raw / "device.meta.json", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero
    except (PermissionError, OSError):
        (raw / "device.txt").unlink()
    # 12. a path past PATH_MAX; dot-files and dot-folders; a folder symlink; other types
    deep = _make_deep_path(raw, 22, "deep.txt", text())
    (raw / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (raw / ".git").mkdir()
    (raw / ".git" / "notes.txt").write_text(text())
    (raw / "sub").mkdir()
    (raw / "sub" / "inner.txt").write_text(text())
    (raw / "linked").symlink_to(raw / "sub")
    (raw / "escape").symlink_to(outside)
    (raw / "crawl-log.csv").write_text("url,status\nhttps://x.org,200\n")
    # 13. a 250-byte name (its sidecar's name would be too long), a symlink loop, deep JSON
    long_name = "n" * 246 + ".txt"
    (raw / long_name).write_text(text())
    (raw / "loop.txt").symlink_to("loop.txt")
    (raw / "nested.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    (raw / "nested-side.txt").write_text(text())
    (raw / "nested-side.meta.json").write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    # 16. a sidecar date that names no calendar day
    (raw / "when.txt").write_text(text())
    (raw / "when.meta.json").write_text(json.dumps({"published_at": "Tuesday"}))
    proc = cli(env, "ingest", raw, curated, "--ingest-date", DAY1, "--json", timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    return curated, summary, {"deep": deep, "long": long_name}


def _errors(curated: Path) -> pd.DataFrame:
    return pd.read_parquet(curated / "errors").set_index("source_path")


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("caf\\xe9-latin1.txt", "bad_name", "not UTF-8"),
        ("dump.jsonl:2", "bad_record", "lone surrogate"),
        ("lone.txt", "bad_sidecar", "lone surrogate"),
        ("fifo.txt", "bad_sidecar", "not a regular file"),
        ("sparse.txt", "bad_sidecar", "over the limit"),
        ("loop.txt", "symlink_loop", "symlinks"),
        ("nested.jsonl:1", "bad_record", "nested"),
        ("nested-side.txt", "bad_sidecar", "nested"),
        ("when.txt", "bad_sidecar", "not an absolute date"),
    ],
)
def test_hostile_entry_is_an_error_of_its_own(hostile, path: str, code: str, words: str) -> None:
    errors = _errors(hostile[0])
    assert path in errors.index, sorted(errors.index)
    assert errors.loc[path, "error"] == code
    assert words in errors.loc[path, "message"], errors.loc[path, "message"]


def test_a_character_device_sidecar_is_refused(hostile) -> None:
    errors = _errors(hostile[0])
    if "device.txt" not in errors.index and not (hostile[0].parent / "raw" / "device.txt").exists():
        pytest.skip("mknod not permitted here")
    assert errors.loc["device.txt", "error"] == "bad_sidecar"
    assert "not a regular file" in errors.loc["device.txt", "message"]


def test_every_entry_is_accounted_for(hostile) -> None:
    curated, summary, names = hostile
    docs = pd.read_parquet(curated / "documents")
    written = set(docs["source_path"])
    assert {"good.txt", "dump.jsonl:1", "sub/inner.txt", names["deep"], names["long"]} <= written
    assert len(names["deep"]) > 4096  # longer than PATH_MAX, read all the same
    assert not any("SECRET" in t for t in docs["text"])
    ignored = {item["path"]: item["why"] for item in summary["ignored"]}
    assert ignored == {
        ".DS_Store": "hidden",
        ".git/": "hidden",
        "crawl-log.csv": "unsupported_type",
        "escape": "folder_symlink",
        "linked": "folder_symlink",
    }
    assert summary["files_ignored"] == 5
    errors = _errors(curated)
    assert summary["documents_written"] == len(docs)
    assert summary["documents_failed"] == len(errors)
    assert summary["files_found"] == len(written | set(errors.index)) - 1  # dump.jsonl: 2 rows


def test_unreadable_folder_is_listed_not_silently_skipped() -> None:
    """A sub-folder the run may not list (as a user who is not root) is a problem row."""
    base = Path(tempfile.mkdtemp(prefix="thresher-perm-"))
    try:
        base.chmod(0o755)
        (base / "good.txt").write_text(GOOD)
        (base / "locked").mkdir()
        (base / "locked" / "a.txt").write_text(GOOD)
        (base / "locked").chmod(0)
        code = (
            "import json, sys; from flows.sources import scan; "
            "l = scan(sys.argv[1]); print(json.dumps([l.paths, l.problems]))"
        )
        # Root reads any folder; without the two capabilities that allow it, it reads as
        # a user would.
        as_user = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv to drop privileges")
            drop = "-dac_override,-dac_read_search"
            as_user = ["setpriv", "--bounding-set", drop, "--inh-caps=-all"]
        out = subprocess.run(
            [*as_user, sys.executable, "-c", code, str(base)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        paths, problems = json.loads(out.stdout)
        assert paths == ["good.txt"]
        assert [p[:2] for p in problems] == [["locked/", "unreadable_folder"]]
    finally:
        (base / "locked").chmod(0o755)
        for p in sorted(base.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        base.rmdir()


# --- races: reads while the tree changes -------------------------------------------------------


def _renameat2() -> ctypes._CFuncPtr | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        return None
    return fn


def test_a_folder_swapped_for_a_symlink_mid_read_is_never_followed(tmp_path: Path) -> None:
    """``sub`` and ``evil`` (a symlink to a folder outside RAW_DIR) swap places as fast
    as the kernel allows (renameat2 RENAME_EXCHANGE) while the run reads ``sub/a.txt``:
    no read may return the outside file."""
    swap = _renameat2()
    if swap is None:
        pytest.skip("no renameat2 here")
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    (raw / "sub").mkdir(parents=True)
    outside.mkdir()
    (raw / "sub" / "a.txt").write_text("inside " + GOOD)
    (outside / "a.txt").write_text("SECRET " + GOOD)
    (raw / "evil").symlink_to(outside)
    a, b = bytes(raw / "sub"), bytes(raw / "evil")
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            swap(-100, a, -100, b, 2)  # AT_FDCWD, RENAME_EXCHANGE

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    leaked = read = 0
    try:
        for _ in range(3000):
            try:
                data = read_source(raw, "sub/a.txt").data
            except Exception:  # noqa: BLE001 - refused or vanished mid-swap: both fine
                continue
            read += 1
            leaked += data.startswith(b"SECRET")
    finally:
        stop.set()
        thread.join()
    assert read > 0
    assert leaked == 0, f"{leaked} of {read} reads came from outside RAW_DIR"


def test_a_file_growing_while_read_never_passes_the_limit(tmp_path: Path) -> None:
    """A scraper still writing: the file grows and is cut back while the run reads it.
    No read may return more than max_file_bytes (the size was checked, then the file read
    to its end)."""
    (tmp_path / "growing.txt").write_bytes(b"x" * 500_000)
    stop = threading.Event()

    def grower() -> None:
        with open(tmp_path / "growing.txt", "r+b") as fh:
            while not stop.is_set():
                fh.seek(0, 2)
                if fh.tell() > 3_000_000:
                    fh.truncate(500_000)
                else:
                    fh.write(b"y" * 65_536)
                fh.flush()

    thread = threading.Thread(target=grower, daemon=True)
    thread.start()
    sizes = []
    try:
        for _ in range(400):
            try:
                sizes.append(len(read_source(tmp_path, "growing.txt", max_bytes=1_000_000).data))
            except Exception:  # noqa: BLE001 - too_large or changed_while_read: refused
                continue
    finally:
        stop.set()
        thread.join()
    assert all(n <= 1_000_000 for n in sizes), max(sizes)


# --- the curated folder -------------------------------------------------------------------------


def test_a_symlink_as_the_lock_file_is_not_followed(tmp_path: Path, prefect_harness) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "a.txt", story(5, 4))
    curated.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("do not truncate me")
    (curated / store.LOCK_NAME).symlink_to(precious)
    with pytest.raises(store.CuratedError, match="symlink"):
        run(raw, curated, DAY1)
    assert precious.read_text() == "do not truncate me"
    assert not (curated / "documents").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--batch-size", "-1"],
        ["--batch-size", "0"],
        ["--ingest-date", "20261122"],
        ["--ingest-date", "2026-W47-7"],
        ["--ingest-date", "2026-13-45"],
        ["--near-dup-threshold", "1.5"],
        ["--disable", "captions"],
    ],
    ids=lambda a: " ".join(a),
)
def test_a_bad_setting_touches_nothing(env, tmp_path: Path, args: list[str]) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "a.txt", story(6, 4))
    curated.mkdir()
    before = snapshot(curated)
    proc = cli(env, "ingest", raw, curated, *args)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("thresher: ")
    assert snapshot(curated) == before and not list(curated.iterdir())


def test_the_flow_checks_settings_before_the_lock(tmp_path: Path, prefect_harness) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "a.txt", story(7, 4))
    run(raw, curated, DAY1)
    before = snapshot(curated)
    for bad in ({"batch_size": -1}, {"batch_size": 0}, {"max_file_bytes": 0}):
        with pytest.raises(SettingsError):
            run(raw, curated, DAY1, **bad)
    with pytest.raises(SettingsError):
        run(raw, curated, "20261120")
    assert snapshot(curated) == before


def test_a_backfill_is_refused_and_says_why(tmp_path: Path, prefect_harness) -> None:
    """Dates are ingested in order: an earlier date after a later one would deduplicate
    against later data, so the result would depend on the order runs happened."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "a.txt", story(8, 4))
    run(raw, curated, DAY2)
    before = snapshot(curated)
    with pytest.raises(store.BackfillRefused, match="in order"):
        run(raw, curated, DAY1)
    assert snapshot(curated) == before
    run(raw, curated, DAY2)  # re-running the latest date is fine


def _rewrite(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path)


def test_an_old_partition_of_another_schema_is_read_or_named(
    tmp_path: Path, prefect_harness
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "old/a.txt", story(9, 5))
    run(raw, curated, DAY1)
    docs_file = store.partition_dir(curated, "documents", DAY1) / store.PART_NAME
    paras_file = store.partition_dir(curated, "paragraphs", DAY1) / store.PART_NAME
    # An older writer: no minhash column (nullable), norm_chars as int64 (casts losslessly).
    _rewrite(docs_file, pq.read_table(docs_file).drop_columns(["minhash"]))
    paras = pq.read_table(paras_file)
    _rewrite(paras_file, paras.set_column(4, "norm_chars", paras["norm_chars"].cast(pa.int64())))
    write(raw, "new/b.txt", story(9, 5)[:3] + story(10, 2))
    summary = run(raw, curated, DAY2)
    assert summary.documents_written == 1 and summary.documents_skipped == 1
    removed = pd.read_parquet(curated / "removed")
    assert (removed["reason"] == "duplicate").sum() == 3  # deduplicated against the old date
    # A required column missing cannot be read: one clear error naming file and remedy.
    _rewrite(paras_file, paras.drop_columns(["fingerprint"]))
    with pytest.raises(store.PartitionSchemaError) as info:
        run(raw, curated, DAY2)
    assert str(paras_file) in str(info.value) and "'fingerprint' is missing" in str(info.value)
    assert "thresher migrate" in str(info.value)


def test_migrate_rewrites_old_partitions_to_the_declared_schema(env, tmp_path: Path) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "a.txt", story(11, 5))
    assert cli(env, "ingest", raw, curated, "--ingest-date", DAY1).returncode == 0
    docs_file = store.partition_dir(curated, "documents", DAY1) / store.PART_NAME
    original = pq.read_table(docs_file)
    _rewrite(docs_file, original.drop_columns(["minhash", "credit"]))
    proc = cli(env, "migrate", curated)
    assert proc.returncode == 0, proc.stderr
    assert "migrated to schema version" in proc.stdout
    migrated = pq.read_table(docs_file)
    assert migrated.schema.equals(original.schema, check_metadata=True)
    assert migrated.schema.names == TABLES["documents"].names
    assert migrated.column("doc_id").equals(original.column("doc_id"))
    assert migrated.column("minhash").null_count == migrated.num_rows
    assert cli(env, "migrate", curated).stdout.startswith("every partition already matches")


def test_a_document_over_max_document_bytes_is_refused_before_any_work(
    tmp_path: Path, prefect_harness
) -> None:
    """One large document used to cost about 75 times its size in memory (a 40 MB file:
    3 GB); ``max_document_bytes`` (10 MB by default) bounds what one document can take,
    for files and for each JSONL record, while a dump as a whole may stay larger."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    big = "\n\n".join(p for n in range(300, 420) for p in story(n, 12))  # about 200 KB
    (raw / "big.txt").write_text(big)
    (raw / "small.txt").write_text(text())
    records = [json.dumps({"text": big}), json.dumps({"text": text()})]
    (raw / "dump.jsonl").write_text("\n".join(records) + "\n")
    run(raw, curated, DAY1, max_document_bytes=100_000)
    errors = _errors(curated)
    assert set(errors.index) == {"big.txt", "dump.jsonl:1"}
    assert (errors["error"] == "too_large").all()
    assert "max_document_bytes" in errors.loc["big.txt", "message"]
    docs = pd.read_parquet(curated / "documents")
    assert set(docs["source_path"]) == {"small.txt", "dump.jsonl:2"}
