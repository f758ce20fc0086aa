"""What earlier runs wrote, read back from ``curated/`` once per run for dedup.

The dedup memory is the curated dataset itself: no side database to drift out of step.
From every partition except the one being (re)written:

- ``paragraphs.fingerprint`` of paragraphs long enough to deduplicate, with the doc_id
  that kept each, as two numpy arrays sorted by fingerprint (12 bytes per paragraph plus
  one string per document);
- ``documents.source_sha256``: bytes already ingested, which a run skips;
- ``errors.source_sha256``: bytes that failed, which a run does not try again (unless
  asked to);
- ``documents.minhash``: signatures that new documents are matched against for
  near-duplicates.

Partitions are read in date order, so when two earlier documents hold the same
fingerprint the earlier date wins, the same rule a single run applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleaners.dedup import MIN_CROSS_DOC_CHARS, source_order
from cleaners.neardup import NUM_PERM
from cleaners.rundedup import History, SeenSource
from flows.store import open_curated

if TYPE_CHECKING:
    from flows.store import Curated


def _load_fingerprints(
    curated: Curated, exclude_date: str | None, min_chars: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    fps: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    doc_ids: list[str] = []
    index: dict[str, int] = {}
    for _, path in curated.partitions("paragraphs", exclude_date):
        table = curated.read_columns(path, "paragraphs", ["doc_id", "fingerprint", "norm_chars"])
        table = table.filter(pc.greater_equal(table["norm_chars"], min_chars))
        if table.num_rows == 0:
            continue
        encoded = pc.dictionary_encode(table["doc_id"]).combine_chunks()
        remap = np.array(
            [index.setdefault(d, len(index)) for d in encoded.dictionary.to_pylist()], np.int32
        )
        owners.append(remap[encoded.indices.to_numpy()])
        fps.append(table["fingerprint"].to_numpy())
    doc_ids = list(index)
    if not fps:
        return np.empty(0, np.int64), np.empty(0, np.int32), doc_ids
    all_fps = np.concatenate(fps)
    all_owners = np.concatenate(owners)
    # Stable sort keeps date order among equal fingerprints: the first is the keeper.
    order = np.argsort(all_fps, kind="stable")
    all_fps, all_owners = all_fps[order], all_owners[order]
    first = np.ones(len(all_fps), dtype=bool)
    first[1:] = all_fps[1:] != all_fps[:-1]
    return all_fps[first], all_owners[first], doc_ids


def load_history(
    curated_dir: Path | Curated, exclude_date: str | None, min_chars: int = MIN_CROSS_DOC_CHARS
) -> History:
    """Everything dedup needs from the partitions of every date but ``exclude_date``
    (``curated_dir``: a local folder, or a curated folder opened by ``open_curated``)."""
    curated = open_curated(curated_dir)
    fps, owners, doc_ids = _load_fingerprints(curated, exclude_date, min_chars)
    sources: dict[str, SeenSource] = {}
    signatures: list[np.ndarray] = []
    signature_docs: list[tuple[str, str | None]] = []
    days: set[str] = set()
    for day, path in curated.partitions("documents", exclude_date):
        days.add(day)
        cols = ["doc_id", "source_path", "source_sha256", "near_dup_cluster", "minhash"]
        table = curated.read_columns(path, "documents", cols)
        # the order the run that wrote it read them (x.jsonl:2 before x.jsonl:10)
        paths = table["source_path"].to_pylist()
        order = sorted(range(len(paths)), key=lambda i: source_order(paths[i]))
        table = table.take(pa.array(order, pa.int64()))
        for sha, src in zip(
            table["source_sha256"].to_pylist(), table["source_path"].to_pylist(), strict=True
        ):
            sources.setdefault(sha, SeenSource(day, src))
        # Signatures of another length (a NUM_PERM change) cannot be compared: skipped.
        lengths = pc.fill_null(pc.list_value_length(table["minhash"]), 0)
        valid = pc.equal(lengths, NUM_PERM)
        if not pc.any(valid).as_py():
            continue
        kept = table.filter(valid)
        signatures.append(pc.list_flatten(kept["minhash"]).to_numpy().reshape(-1, NUM_PERM))
        signature_docs.extend(
            zip(kept["doc_id"].to_pylist(), kept["near_dup_cluster"].to_pylist(), strict=True)
        )
    sig_matrix = np.concatenate(signatures) if signatures else np.empty((0, NUM_PERM), np.uint32)
    return History(
        fps,
        owners,
        doc_ids,
        sources,
        _load_failures(curated, exclude_date),
        sig_matrix,
        signature_docs,
        sorted(days),
    )


def _load_failures(curated: Curated, exclude_date: str | None) -> dict[str, SeenSource]:
    """sha256 -> the first date, path and error code of bytes that failed (errors rows
    written before sha256 was recorded have none, and are tried again)."""
    failures: dict[str, SeenSource] = {}
    for day, path in curated.partitions("errors", exclude_date):
        table = curated.read_columns(path, "errors", ["source_path", "source_sha256", "error"])
        for src, sha, code in zip(
            table["source_path"].to_pylist(),
            table["source_sha256"].to_pylist(),
            table["error"].to_pylist(),
            strict=True,
        ):
            if sha is not None:
                failures.setdefault(sha, SeenSource(day, src, code))
    return failures
