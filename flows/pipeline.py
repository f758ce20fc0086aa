"""Plain-Python steps the Prefect tasks call: a batch of files to processed documents,
cross-document dedup, and the rows of every curated table. No Prefect here, so each step
is testable and callable on its own."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cleaners.clean import CleanSettings
from cleaners.dedup import DedupSettings, first_keepers
from cleaners.document import (
    DocumentError,
    ProcessedDocument,
    document_row,
    process_document,
    process_html,
    process_record,
)
from cleaners.neardup import NearDupIndex
from flows.history import History, SeenSource
from flows.sources import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_EXPANSION,
    RawSource,
    read_source,
    source_kind,
)


@dataclass
class BatchResult:
    docs: list[ProcessedDocument] = field(default_factory=list)
    # (source_path, error code, message)
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    # (source_path, why): bytes already ingested, so not processed again.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def process_paths(
    raw_dir: Path,
    paths: list[str],
    settings: CleanSettings = CleanSettings(),
    max_bytes: int = DEFAULT_MAX_BYTES,
    seen: Mapping[str, SeenSource] | None = None,
    max_expansion: int = DEFAULT_MAX_EXPANSION,
) -> BatchResult:
    """Read and clean a batch of raw files; a file (or JSONL line) that fails is recorded,
    not raised.

    Input whose bytes (sha256) are in ``seen`` was ingested by an earlier run: it is
    skipped, with where it went before, and not cleaned again."""
    out = BatchResult()
    for rel in paths:
        try:
            source = read_source(raw_dir, rel, max_bytes=max_bytes, max_expansion=max_expansion)
            if source_kind(rel) == "jsonl":
                _process_jsonl(source, settings, seen or {}, out)
                continue
            why = _seen_before(seen or {}, source.data, rel)
            if why is not None:
                out.skipped.append((rel, why))
                continue
            process = process_html if source_kind(rel) == "html" else process_document
            out.docs.append(process(source.data, rel, source.sidecar, settings))
        except DocumentError as exc:
            out.errors.append((rel, exc.code, exc.message))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
            out.errors.append((rel, "internal_error", f"{type(exc).__name__}: {exc}"))
    return out


def _seen_before(seen: Mapping[str, SeenSource], data: bytes, path: str) -> str | None:
    before = seen.get(hashlib.sha256(data).hexdigest()) if seen else None
    if before is None:
        return None
    why = f"same bytes already ingested on {before.ingest_date}"
    return why if before.source_path == path else f"{why} as {before.source_path}"


def _process_jsonl(
    source: RawSource, settings: CleanSettings, seen: Mapping[str, SeenSource], out: BatchResult
) -> None:
    """Each non-blank line is a document named ``<file>:<line number>``; a bad line is an
    error of its own and the rest of the file goes on."""
    for number, line in enumerate(source.data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        name = f"{source.path}:{number}"
        try:
            why = _seen_before(seen, line, name)
            if why is not None:
                out.skipped.append((name, why))
                continue
            out.docs.append(process_record(line, name, source.sidecar, settings))
        except DocumentError as exc:
            out.errors.append((name, exc.code, exc.message))
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the file
            out.errors.append((name, "internal_error", f"{type(exc).__name__}: {exc}"))


@dataclass
class DedupReport:
    skipped: list[tuple[str, str]] = field(default_factory=list)
    paragraphs_removed: int = 0
    near_dup_documents: int = 0


def dedup(
    docs: list[ProcessedDocument],
    history: History | None = None,
    settings: DedupSettings = DedupSettings(),
) -> tuple[list[ProcessedDocument], DedupReport]:
    """All cross-document dedup of one run, in ``source_path`` order (never task timing):
    identical bytes, near-duplicate flags, then paragraphs kept before. Returns the
    documents to write and what was done."""
    history = history or History()
    docs = sorted(docs, key=lambda d: d.source_path)
    report = DedupReport()
    docs = _skip_same_bytes(docs, report)
    report.near_dup_documents = flag_near_duplicates(docs, history, settings.near_dup_threshold)
    report.paragraphs_removed = dedup_across(docs, history, settings.min_cross_doc_chars)
    return docs, report


def _skip_same_bytes(docs: list[ProcessedDocument], report: DedupReport) -> list[ProcessedDocument]:
    first: dict[str, str] = {}
    out = []
    for doc in docs:
        earlier = first.setdefault(doc.source_sha256, doc.source_path)
        if earlier == doc.source_path:
            out.append(doc)
        else:
            report.skipped.append((doc.source_path, f"same bytes as {earlier} in this run"))
    return out


def flag_near_duplicates(docs: list[ProcessedDocument], history: History, threshold: float) -> int:
    """Set ``near_dup_cluster`` on every document that has a near-duplicate earlier in the
    order (earlier runs first, then ``docs`` order), and on the first of each group in
    this run. The cluster id is the doc_id of the group's first document."""
    index = NearDupIndex(threshold, history.signatures)
    earlier = len(history.signature_docs)
    in_run: dict[int, ProcessedDocument] = {}
    for doc in docs:
        if doc.minhash is None:
            continue
        match = index.match(doc.minhash)
        if match is not None and match < earlier:
            first_id, cluster = history.signature_docs[match]
            doc.near_dup_cluster = cluster or first_id
        elif match is not None:
            first = in_run[match]
            first.near_dup_cluster = first.near_dup_cluster or first.doc_id
            doc.near_dup_cluster = first.near_dup_cluster
        in_run[index.add(doc.minhash)] = doc
    return sum(1 for d in docs if d.near_dup_cluster is not None)


def dedup_across(
    docs: list[ProcessedDocument], history: History | None = None, min_chars: int = 50
) -> int:
    """Remove paragraphs already kept by an earlier document (in ``docs`` order, which
    callers sort by source path) or by an earlier run (``history``). Paragraphs shorter
    than ``min_chars`` normalised characters are left alone. Returns how many went."""
    eligible = [(d.doc_id, [p for p in d.paragraphs if p.norm_chars >= min_chars]) for d in docs]
    keepers: dict[int, str] = {}
    if history is not None and history.paragraph_count:
        fps = np.fromiter((p.fingerprint for _, ps in eligible for p in ps), dtype=np.int64)
        keepers = history.keepers(fps)
    drops = first_keepers(
        (
            (doc_id, [p.position for p in ps], [p.fingerprint for p in ps])
            for doc_id, ps in eligible
        ),
        keepers,
    )
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


# How many skipped files and most-removed lines a summary names; counts are complete.
SKIPPED_SHOWN = 20
TOP_REMOVED = 10


def summarise(
    docs: list[ProcessedDocument],
    errors: list[tuple[str, str, str]],
    found: int,
    skipped: list[tuple[str, str]] | None = None,
    near_dup_documents: int = 0,
) -> dict[str, Any]:
    """Counts a person wants at the end of a run."""
    skipped = sorted(skipped or [])
    reasons = Counter(r for d in docs for _, _, r, _ in d.removed)
    lines = Counter((r, t) for d in docs for _, t, r, _ in d.removed)
    top = sorted(lines.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REMOVED]
    return {
        "files_found": found,
        "documents_written": len(docs),
        "documents_skipped": len(skipped),
        "documents_failed": len(errors),
        "paragraphs_kept": sum(len(d.paragraphs) for d in docs),
        "paragraphs_removed": sum(reasons.values()),
        "removed_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "errors_by_code": dict(Counter(c for _, c, _ in errors)),
        "near_dup_documents": near_dup_documents,
        "skipped": [{"source_path": s, "why": w} for s, w in skipped[:SKIPPED_SHOWN]],
        "top_removed": [{"reason": r, "text": t, "count": n} for (r, t), n in top],
    }


def report_markdown(summary: dict[str, Any]) -> str:
    """The run report a person reads in the Prefect UI (a markdown artifact)."""
    out = [
        f"# thresher ingest {summary['ingest_date']}",
        "",
        f"- files found: **{summary['files_found']}**",
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
