"""Plain-Python steps the Prefect tasks call: a batch of files to processed documents,
and the rows of every curated table (run-level dedup is ``cleaners.rundedup``). No
Prefect here, so each step is testable and callable on its own."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cleaners.clean import CleanSettings
from cleaners.document import (
    DocumentError,
    Prepared,
    ProcessedDocument,
    build,
    document_row,
)
from cleaners.rundedup import SeenSource
from flows import objstore
from flows.settings import DEFAULT_MAX_BYTES, DEFAULT_MAX_EXPANSION, is_url, local_path
from flows.sources import READERS, InputError, RawRoot, read_source, source_kind


@dataclass
class BatchResult:
    docs: list[ProcessedDocument] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    # source_path -> sha256 of the bytes that failed, for errors whose bytes were read.
    error_sha: dict[str, str] = field(default_factory=dict)
    # (source_path, why): bytes already ingested, so not processed again.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (source_path, why): bytes that already failed on an earlier date, not tried again.
    still_failing: list[tuple[str, str]] = field(default_factory=list)
    # Seconds spent per stage: read, decode, clean.
    timings: dict[str, float] = field(default_factory=dict)


def process_paths(
    raw_dir: Path | str,
    paths: list[str],
    settings: CleanSettings = CleanSettings(),
    max_bytes: int = DEFAULT_MAX_BYTES,
    seen: Mapping[str, SeenSource] | None = None,
    max_expansion: int = DEFAULT_MAX_EXPANSION,
    storage_options: dict[str, Any] | None = None,
) -> BatchResult:
    """Read and clean a batch of raw files; a file (or JSONL line) that fails is recorded,
    not raised.

    Input whose bytes (sha256) are in ``seen`` was ingested by an earlier run: it is
    skipped, with where it went before, and not cleaned again; bytes that failed on an
    earlier date (``seen`` holds them with their error code) are not tried again either
    (``still_failing``), and get no new error row.

    ``raw_dir`` may be an object-store URL: the batch reads its objects directly (a Dask
    worker too), with ``storage_options`` and the worker's own environment."""
    out = BatchResult()
    if is_url(raw_dir):
        place = objstore.open_place(str(raw_dir), storage_options)
        for rel in paths:
            _process_path(place, rel, settings, max_bytes, seen, max_expansion, out)
        return out
    try:
        root = RawRoot(local_path(raw_dir))  # opened once; every file reached from it
    except OSError as exc:
        out.errors.extend(
            InputError(rel, "vanished", f"raw folder cannot be opened: {exc}") for rel in paths
        )
        return out
    with root:
        for rel in paths:
            _process_path(root, rel, settings, max_bytes, seen, max_expansion, out)
    return out


def _process_path(
    root: RawRoot | objstore.Place,
    rel: str,
    settings: CleanSettings,
    max_bytes: int,
    seen: Mapping[str, SeenSource] | None,
    max_expansion: int,
    out: BatchResult,
) -> None:
    """Read one raw file and clean each document in it (its reader says how it splits:
    one document, or a JSONL file's records) into ``out``: documents, skipped or errors.
    A document that fails is an error of its own and the rest of the file goes on."""
    try:
        with timed(out.timings, "read"):
            source = read_source(root, rel, max_bytes=max_bytes, max_expansion=max_expansion)
    except DocumentError as exc:
        _error(out, rel, exc.code, exc.message, None)
        return
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
        _error(out, rel, "internal_error", f"{type(exc).__name__}: {exc}", None)
        return
    reader = READERS[str(source_kind(rel))]
    for name, data in reader.documents(source):
        sha = hashlib.sha256(data).hexdigest()
        try:
            if _seen_before(seen or {}, sha, name, out):
                continue
            with timed(out.timings, "decode"):  # decoding, extraction (HTML) and repair
                prepared = reader.prepare(data, source.sidecar, settings)
            out.docs.append(_built(prepared, name, out.timings))
        except DocumentError as exc:
            _error(out, name, exc.code, exc.message, sha)
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the run
            _error(out, name, "internal_error", f"{type(exc).__name__}: {exc}", sha)


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the time the block takes to ``timings[stage]`` (stages: read, decode, clean)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def _built(prepared: Prepared, source_path: str, timings: dict[str, float]) -> ProcessedDocument:
    with timed(timings, "clean"):  # cleaning, language, fingerprints and signature
        return build(prepared, source_path)


def _error(out: BatchResult, name: str, code: str, message: str, sha: str | None) -> None:
    out.errors.append(InputError(name, code, message))
    if sha is not None:
        out.error_sha[name] = sha


def _seen_before(seen: Mapping[str, SeenSource], sha: str, path: str, out: BatchResult) -> bool:
    """Whether these bytes were ingested, or failed, on an earlier date (recorded in
    ``out``: skipped, or still failing)."""
    before = seen.get(sha) if seen else None
    if before is None:
        return False
    where = "" if before.source_path == path else f" as {before.source_path}"
    if before.error is None:
        out.skipped.append((path, f"same bytes already ingested on {before.ingest_date}{where}"))
    else:
        out.still_failing.append(
            (
                path,
                f"same bytes failed on {before.ingest_date}{where} ({before.error}); "
                "not tried again until they change (--retry-errors tries them)",
            )
        )
    return True


def table_rows(
    docs: list[ProcessedDocument],
    errors: list[InputError],
    ingested_at: datetime,
    error_sha: Mapping[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The rows of the four curated tables for one run (``error_sha``: the sha256 of the
    bytes behind each error, where they were read)."""
    error_sha = error_sha or {}
    return {
        "documents": [document_row(d, ingested_at) for d in docs],
        "paragraphs": [
            {
                "doc_id": d.doc_id,
                "position": p.position,
                "text": p.text,
                "fingerprint": p.fingerprint,
                "norm_chars": p.norm_chars,
            }
            for d in docs
            for p in d.paragraphs
        ],
        "removed": [{"doc_id": d.doc_id, **r._asdict()} for d in docs for r in d.removed],
        "errors": [
            {
                "source_path": e.source_path,
                "source_sha256": error_sha.get(e.source_path),
                "error": e.code,
                "message": e.message,
                "ingested_at": ingested_at,
            }
            for e in errors
        ],
    }
