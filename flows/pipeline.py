"""Plain-Python steps the Prefect tasks call: a batch of files to processed documents,
cross-document dedup, and the rows of every curated table. No Prefect here, so each step
is testable and callable on its own."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cleaners.clean import CleanSettings
from cleaners.dedup import MIN_CROSS_DOC_CHARS, first_keepers, normalise_for_hash
from cleaners.document import DocumentError, ProcessedDocument, document_row, process_document
from flows.sources import DEFAULT_MAX_BYTES, read_source


@dataclass
class BatchResult:
    docs: list[ProcessedDocument] = field(default_factory=list)
    # (source_path, error code, message)
    errors: list[tuple[str, str, str]] = field(default_factory=list)


def process_paths(
    raw_dir: Path,
    paths: list[str],
    settings: CleanSettings = CleanSettings(),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> BatchResult:
    """Read and clean a batch of raw files; a file that fails is recorded, not raised."""
    out = BatchResult()
    for rel in paths:
        try:
            source = read_source(raw_dir, rel, max_bytes=max_bytes)
            out.docs.append(process_document(source.data, rel, source.sidecar, settings))
        except DocumentError as exc:
            out.errors.append((rel, exc.code, exc.message))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
            out.errors.append((rel, "internal_error", f"{type(exc).__name__}: {exc}"))
    return out


def dedup_across(docs: list[ProcessedDocument], history: dict[int, str] | None = None) -> int:
    """Remove paragraphs already kept by an earlier document (in ``docs`` order, which
    callers sort by source path) or by an earlier run (``history``: fingerprint -> doc_id).
    Returns the number of paragraphs removed."""

    def long_enough(doc: ProcessedDocument) -> tuple[str, list[int], list[int]]:
        kept = [
            (p, fp)
            for p, t, fp in doc.paragraphs
            if len(normalise_for_hash(t)) >= MIN_CROSS_DOC_CHARS
        ]
        return doc.doc_id, [p for p, _ in kept], [fp for _, fp in kept]

    drops = first_keepers((long_enough(d) for d in docs), history)
    per_doc: dict[str, dict[int, str]] = defaultdict(dict)
    for (doc_id, position), kept_by in drops.items():
        per_doc[doc_id][position] = kept_by
    for doc in docs:
        if doc.doc_id in per_doc:
            doc.drop(per_doc[doc.doc_id])
    return len(drops)


def table_rows(
    docs: list[ProcessedDocument], errors: list[tuple[str, str, str]], ingested_at: datetime
) -> dict[str, list[dict[str, Any]]]:
    """The rows of the four curated tables for one run."""
    return {
        "documents": [document_row(d, ingested_at) for d in docs],
        "paragraphs": [
            {"doc_id": d.doc_id, "position": p, "text": t, "fingerprint": fp}
            for d in docs
            for p, t, fp in d.paragraphs
        ],
        "removed": [
            {"doc_id": d.doc_id, "position": p, "text": t, "reason": r, "dup_of": dup}
            for d in docs
            for p, t, r, dup in d.removed
        ],
        "errors": [
            {"source_path": s, "error": c, "message": m, "ingested_at": ingested_at}
            for s, c, m in errors
        ],
    }


def summarise(
    docs: list[ProcessedDocument], errors: list[tuple[str, str, str]], found: int, skipped: int = 0
) -> dict[str, Any]:
    """Counts a person wants at the end of a run."""
    reasons = Counter(r for d in docs for _, _, r, _ in d.removed)
    return {
        "documents_found": found,
        "documents_written": len(docs),
        "documents_skipped": skipped,
        "documents_failed": len(errors),
        "paragraphs_kept": sum(len(d.paragraphs) for d in docs),
        "paragraphs_removed": sum(reasons.values()),
        "removed_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "errors_by_code": dict(Counter(c for _, c, _ in errors)),
    }
