"""Plain-Python steps the Prefect tasks call: a batch of files to processed documents,
cross-document dedup, and the rows of every curated table. No Prefect here, so each step
is testable and callable on its own."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from cleaners.clean import CleanSettings
from cleaners.dedup import DedupSettings, drops_by_priority, source_order
from cleaners.document import (
    DocumentError,
    Prepared,
    ProcessedDocument,
    build,
    document_row,
)
from cleaners.neardup import NearDupIndex
from flows import objstore
from flows.history import History, SeenSource
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


@dataclass
class DedupReport:
    skipped: list[tuple[str, str]] = field(default_factory=list)
    paragraphs_removed: int = 0
    near_dup_documents: int = 0


class RunDedup:
    """Cross-document dedup of one run, in three steps so that the keeper of a shared
    paragraph is the document with the best evidence of being first, wherever it sits in
    the run:

    1. ``feed`` each batch in source order (never task timing): identical bytes are
       skipped, near-duplicates flagged, and each document's paragraph fingerprints and
       keeper priority noted (about 16 bytes per paragraph and 800 per document);
    2. ``finish``: every shared paragraph gets its keeper: a document of an earlier run
       (``history``), else the run's document with the earliest ``published_at``, then
       ``fetched_at`` (unknown dates last), then source order;
    3. ``apply`` to each batch again (the run holds them aside meanwhile): the other
       copies become ``duplicate`` removals naming the keeper.

    A document becomes the head of a near-duplicate group when a later one matches it;
    if it was fed in an earlier batch, its doc_id is in ``late_heads`` (``apply`` sets it).
    """

    def __init__(self, history: History | None = None, settings: DedupSettings = DedupSettings()):
        self.history = history or History()
        self.settings = settings
        self.near = NearDupIndex(settings.near_dup_threshold, self.history.signatures)
        self._earlier = len(self.history.signature_docs)
        # per near-dup key of this run: [doc_id, cluster]; a list so a head can be updated
        self._run_sigs: list[list[str | None]] = []
        self._seen: dict[str, str] = {}
        self._batch: dict[str, ProcessedDocument] = {}
        self.late_heads: set[str] = set()
        # Per fed document: doc_id and keeper priority; per eligible paragraph: its
        # document's index, position and fingerprint (numpy chunks, one per batch).
        self._doc_ids: list[str] = []
        self._priority: list[tuple] = []
        self._doc_of: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []
        self._fps: list[np.ndarray] = []
        self._index: dict[str, int] = {}
        self._drops: dict[int, dict[int, str]] | None = None

    def state_bytes(self) -> int:
        """Memory of the run's dedup state (indexes, sha256 map), the history aside."""
        strings = sum(60 + len(d) for d in self._doc_ids) + 180 * len(self._seen)
        arrays = sum(
            a.nbytes for chunks in (self._doc_of, self._positions, self._fps) for a in chunks
        )
        # a priority tuple (two datetimes, a path, a line number) is about 320 bytes
        per_doc = 120 * len(self._run_sigs) + 320 * len(self._priority)
        return arrays + self.near.nbytes() + strings + per_doc

    def feed(self, docs: list[ProcessedDocument]) -> tuple[list[ProcessedDocument], DedupReport]:
        """Step 1 for the next batch (already in source order); returns the documents to
        keep aside for ``apply`` (those whose bytes were not seen earlier in the run)."""
        report = DedupReport()
        out = []
        for doc in docs:
            earlier = self._seen.setdefault(doc.source_sha256, doc.source_path)
            if earlier == doc.source_path:
                out.append(doc)
            else:
                report.skipped.append((doc.source_path, f"same bytes as {earlier} in this run"))
        self._batch = {d.doc_id: d for d in out}
        for doc in out:
            self._flag_near_duplicate(doc)
        report.near_dup_documents = sum(1 for d in out if d.near_dup_cluster is not None)
        self._batch = {}
        self._note_paragraphs(out)
        return out, report

    def _note_paragraphs(self, docs: list[ProcessedDocument]) -> None:
        min_chars = self.settings.min_cross_doc_chars
        doc_of, positions, fps = [], [], []
        for doc in docs:
            k = self._index.setdefault(doc.doc_id, len(self._doc_ids))
            if k == len(self._doc_ids):
                self._doc_ids.append(doc.doc_id)
                self._priority.append(keeper_priority(doc))
            for p in doc.paragraphs:
                if p.norm_chars >= min_chars:
                    doc_of.append(k)
                    positions.append(p.position)
                    fps.append(p.fingerprint)
        self._doc_of.append(np.array(doc_of, np.int32))
        self._positions.append(np.array(positions, np.int32))
        self._fps.append(np.array(fps, np.int64))

    def finish(self) -> None:
        """Step 2: decide the keeper of every shared paragraph of the run."""
        fps = np.concatenate(self._fps) if self._fps else np.empty(0, np.int64)
        doc_of = np.concatenate(self._doc_of) if self._doc_of else np.empty(0, np.int32)
        positions = np.concatenate(self._positions) if self._positions else np.empty(0, np.int32)
        order = sorted(range(len(self._priority)), key=self._priority.__getitem__)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        earlier = self.history.keepers(np.unique(fps)) if self.history.paragraph_count else {}
        self._drops = drops_by_priority(self._doc_ids, rank, doc_of, positions, fps, earlier)
        self._fps, self._doc_of, self._positions = [], [], []

    def apply(self, docs: list[ProcessedDocument]) -> int:
        """Step 3 for one batch fed earlier: drop the paragraphs another document keeps,
        and mark late near-duplicate heads. Returns how many paragraphs were dropped."""
        if self._drops is None:
            raise RuntimeError("RunDedup.apply before finish")
        dropped = 0
        for doc in docs:
            if doc.doc_id in self.late_heads:
                doc.near_dup_cluster = doc.doc_id
            mine = self._drops.get(self._index[doc.doc_id])
            if mine:
                doc.drop(mine)
                dropped += len(mine)
        return dropped

    def _flag_near_duplicate(self, doc: ProcessedDocument) -> None:
        if doc.minhash is None:
            return
        match = self.near.match(doc.minhash)
        if match is not None and match < self._earlier:
            first_id, cluster = self.history.signature_docs[match]
            doc.near_dup_cluster = cluster or first_id
        elif match is not None:
            head = self._run_sigs[match - self._earlier]
            if head[1] is None:
                head[1] = head[0]
                if head[0] in self._batch:
                    self._batch[head[0]].near_dup_cluster = head[0]
                else:
                    self.late_heads.add(str(head[0]))
            doc.near_dup_cluster = head[1]
        self.near.add(doc.minhash)
        self._run_sigs.append([doc.doc_id, doc.near_dup_cluster])


_NEVER = datetime.max.replace(tzinfo=UTC)


def keeper_priority(doc: ProcessedDocument) -> tuple:
    """Who keeps a paragraph documents share: the earliest ``published_at``, then the
    earliest ``fetched_at`` (a document without one comes after those with one), then
    source order."""
    meta = doc.metadata
    published, fetched = meta.get("published_at"), meta.get("fetched_at")
    return (
        published if isinstance(published, datetime) else _NEVER,
        fetched if isinstance(fetched, datetime) else _NEVER,
        source_order(doc.source_path),
    )


def dedup(
    docs: list[ProcessedDocument],
    history: History | None = None,
    settings: DedupSettings = DedupSettings(),
) -> tuple[list[ProcessedDocument], DedupReport]:
    """All cross-document dedup of a set of documents held in memory, read in source
    order (file path, then JSONL line number, as a run reads them): one batch of
    ``RunDedup``."""
    ordered = sorted(docs, key=lambda d: source_order(d.source_path))
    run = RunDedup(history, settings)
    out, report = run.feed(ordered)
    run.finish()
    report.paragraphs_removed = run.apply(out)
    return out, report


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


# How many skipped files and most-removed lines a summary names; counts are complete.
SKIPPED_SHOWN = 20
TOP_REMOVED = 10


class RunStats:
    """What a run did, added up batch by batch (so the run need not hold its documents).

    The most removed lines are counted exactly while fewer than ``MAX_DISTINCT_LINES``
    distinct lines were removed; past that, lines seen once are dropped from the count now
    and then (the top of the list is what repeats, so it stays right)."""

    MAX_DISTINCT_LINES = 20_000

    def __init__(self) -> None:
        self.written = 0
        self.kept = 0
        self.reasons: Counter[str] = Counter()
        self.lines: Counter[tuple[str, str]] = Counter()
        self.error_codes: Counter[str] = Counter()
        self.failed = 0
        self.skipped: list[tuple[str, str]] = []
        self.skipped_count = 0
        self.still_failing: list[tuple[str, str]] = []
        self.still_failing_count = 0
        self.near_dup = 0
        self.timings: Counter[str] = Counter()

    def add(
        self,
        docs: list[ProcessedDocument],
        errors: list[InputError],
        skipped: list[tuple[str, str]],
        near_dup_documents: int = 0,
        still_failing: list[tuple[str, str]] | None = None,
    ) -> None:
        self.written += len(docs)
        self.kept += sum(len(d.paragraphs) for d in docs)
        for d in docs:
            for r in d.removed:
                self.reasons[r.reason] += 1
                self.lines[(r.reason, r.text)] += 1
        if len(self.lines) > self.MAX_DISTINCT_LINES:
            self.lines = Counter({k: n for k, n in self.lines.items() if n > 1})
        self.failed += len(errors)
        self.error_codes.update(e.code for e in errors)
        self.skipped_count += len(skipped)
        self.skipped = sorted(self.skipped + skipped)[:SKIPPED_SHOWN]
        self.still_failing_count += len(still_failing or [])
        self.still_failing = sorted(self.still_failing + (still_failing or []))[:SKIPPED_SHOWN]
        self.near_dup += near_dup_documents

    def summary(self, found: int, ignored: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """Counts a person wants at the end of a run. ``ignored``: entries of RAW_DIR that
        are not inputs (hidden, folder symlinks, other file types), counted and listed."""
        top = sorted(self.lines.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REMOVED]
        ignored = ignored or []
        return {
            "files_found": found,
            "files_ignored": len(ignored),
            "ignored_by_code": dict(sorted(Counter(code for _, code in ignored).items())),
            "ignored": [{"path": p, "why": c} for p, c in ignored[:SKIPPED_SHOWN]],
            "documents_written": self.written,
            "documents_skipped": self.skipped_count,
            "documents_failed": self.failed,
            "documents_still_failing": self.still_failing_count,
            "paragraphs_kept": self.kept,
            "paragraphs_removed": sum(self.reasons.values()),
            "removed_by_reason": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "errors_by_code": dict(sorted(self.error_codes.items())),
            "near_dup_documents": self.near_dup,
            "skipped": [{"source_path": s, "why": w} for s, w in self.skipped],
            "still_failing": [{"source_path": s, "why": w} for s, w in self.still_failing],
            "top_removed": [{"reason": r, "text": t, "count": n} for (r, t), n in top],
            "stage_seconds": {k: round(v, 3) for k, v in self.timings.items()},
        }


def report_markdown(summary: dict[str, Any]) -> str:
    """The run report a person reads in the Prefect UI (a markdown artifact)."""
    out = [
        f"# thresher ingest {summary['ingest_date']}",
        "",
        f"- files found: **{summary['files_found']}**"
        + (
            f" (and {summary['files_ignored']} ignored: "
            + ", ".join(f"{c} {n}" for c, n in summary["ignored_by_code"].items())
            + ")"
            if summary.get("files_ignored")
            else ""
        ),
        f"- documents written: **{summary['documents_written']}**",
        f"- skipped (already ingested): **{summary['documents_skipped']}**",
        f"- failed: **{summary['documents_failed']}**"
        + (
            " (" + ", ".join(f"{c} {n}" for c, n in summary["errors_by_code"].items()) + ")"
            if summary["errors_by_code"]
            else ""
        ),
        f"- paragraphs kept: **{summary['paragraphs_kept']}**, removed: "
        f"**{summary['paragraphs_removed']}**",
        f"- near-duplicate documents flagged: **{summary['near_dup_documents']}**",
        *(
            [
                f"- still failing (the same bytes failed on an earlier date; not tried "
                f"again): **{summary['documents_still_failing']}**"
            ]
            if summary.get("documents_still_failing")
            else []
        ),
        *(
            [
                f"- re-run of the date: **{summary['documents_dropped_from_date']}** documents "
                "its partition held are not in this run and left the date: "
                + ", ".join(f"`{p}`" for p in summary["dropped_from_date"])
            ]
            if summary.get("documents_dropped_from_date")
            else []
        ),
        "",
        "## Paragraphs removed by reason",
        "",
        "| reason | paragraphs |",
        "|---|---|",
        *(f"| `{r}` | {n} |" for r, n in summary["removed_by_reason"].items()),
        "",
        "## Most removed lines",
        "",
        "| reason | times | line |",
        "|---|---|---|",
        *(
            f"| `{t['reason']}` | {t['count']} | {_cell(t['text'])} |"
            for t in summary["top_removed"]
        ),
    ]
    return "\n".join(out) + "\n"


def report_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Paragraphs removed by reason, as rows of a table artifact."""
    total = summary["paragraphs_removed"] or 1
    return [
        {"reason": r, "paragraphs": n, "share": round(n / total, 3)}
        for r, n in summary["removed_by_reason"].items()
    ]


def _cell(text: str, width: int = 80) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
