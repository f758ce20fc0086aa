"""Dedup against a large history: load time, dedup time and peak memory.

    .venv/bin/python benchmarks/dedup_history.py [--paragraphs 1000000] [--docs 10000]

1. Writes a synthetic curated/ dataset with PARAGRAPHS stored paragraphs (10 per document,
   spread over 30 ingest dates, with MinHash signatures and sha256s like a real run's),
   using the project's own schemas and partition writer.
2. In a fresh process (so peak memory is this step's alone): loads the history the way a
   run does (``flows.history.load_history``), builds a batch of DOCS new documents of 10
   paragraphs each (20% of their long paragraphs already in the history, 1% of documents
   near-copies of stored ones), and runs the run's dedup step (``cleaners.rundedup.dedup``).

Reports the time to load the history, the time to dedup the batch, the history's memory
per stored paragraph (the fingerprint index alone; everything the loaded history holds,
traced; and the resident-set growth while loading, which includes pages the allocator
keeps after reading) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleaners.document import Paragraph, ProcessedDocument  # noqa: E402
from cleaners.neardup import NUM_PERM  # noqa: E402
from cleaners.rundedup import History  # noqa: E402
from flows import store  # noqa: E402
from schemas.tables import TABLES  # noqa: E402

PER_DOC = 10
DAYS = 30
SEED = 20261121


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def generate(curated: Path, paragraphs: int) -> None:
    rng = np.random.default_rng(SEED)
    docs_total = paragraphs // PER_DOC
    first_day = date(2026, 10, 1)
    per_day = -(-docs_total // DAYS)
    for d in range(DAYS):
        lo, hi = d * per_day, min(docs_total, (d + 1) * per_day)
        if lo >= hi:
            break
        n = hi - lo
        day = (first_day + timedelta(days=d)).isoformat()
        ids = [f"{i:016x}" for i in range(lo, hi)]
        paths = [f"{day}/doc-{i:07d}.txt" for i in range(lo, hi)]
        shas = [hashlib.sha256(p.encode()).hexdigest() for p in paths]
        at = datetime.fromisoformat(day).replace(tzinfo=UTC)
        sigs = rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint32)
        documents = {
            "doc_id": ids,
            "source_path": paths,
            "source_sha256": shas,
            "ingested_at": [at] * n,
            "minhash": pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel()), NUM_PERM).cast(
                pa.list_(pa.uint32())
            ),
            "text": ["x"] * n,
            "paragraphs_before": np.full(n, PER_DOC, np.int32),
            "paragraphs_after": np.full(n, PER_DOC, np.int32),
            "chars_before": np.full(n, 1000, np.int64),
            "chars_after": np.full(n, 1000, np.int64),
        }
        writer = store.PartitionWriter(curated, day)
        writer.append_table("documents", _table("documents", documents, n))
        paragraphs_table = _table(
            "paragraphs",
            {
                "doc_id": np.repeat(ids, PER_DOC),
                "position": np.tile(np.arange(PER_DOC, dtype=np.int32), n),
                "text": ["p"] * (n * PER_DOC),
                "fingerprint": rng.integers(-(2**63), 2**63 - 1, n * PER_DOC, dtype=np.int64),
                "norm_chars": rng.integers(20, 600, n * PER_DOC, dtype=np.int32),
            },
            n * PER_DOC,
        )
        writer.append_table("paragraphs", paragraphs_table)
        writer.commit()


def _table(name: str, columns: dict, n: int) -> pa.Table:
    schema = TABLES[name]
    arrays = []
    for field in schema:
        value = columns.get(field.name)
        arrays.append(pa.nulls(n, field.type) if value is None else pa.array(value, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def new_documents(history: History, docs: int, rng: np.random.Generator) -> list:
    """``docs`` new documents of ``PER_DOC`` paragraphs: a fifth of the paragraphs are
    stored ones, and every hundredth document is a near-copy of a stored one."""
    stored = history.fingerprints
    batch = []
    for i in range(docs):
        fps = rng.integers(-(2**63), 2**63 - 1, PER_DOC, dtype=np.int64)
        reuse = rng.random(PER_DOC) < 0.2
        fps[reuse] = rng.choice(stored, int(reuse.sum()))
        paras = [Paragraph(p, f"paragraph {i}.{p}", int(fp), 80) for p, fp in enumerate(fps)]
        sig = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
        if i % 100 == 0:  # a near-copy of a stored document: 4 of 64 slots differ
            sig = history.signatures[int(rng.integers(len(history.signatures)))].copy()
            sig[:4] = rng.integers(0, 2**32, 4, dtype=np.uint32)
        batch.append(
            ProcessedDocument(
                doc_id=f"new{i:013x}",
                source_path=f"2026-11-21/new-{i:06d}.txt",
                source_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                metadata={},
                encoding="utf-8",
                encoding_fixes=[],
                text="",
                paragraphs_before=PER_DOC,
                chars_before=0,
                paragraphs=paras,
                minhash=sig,
            )
        )
    return batch


def measure(curated: Path, docs: int) -> dict:
    from cleaners.rundedup import dedup
    from flows.history import load_history

    rng = np.random.default_rng(SEED + 1)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    history = load_history(curated, exclude_date="2026-11-21")
    load_s = time.perf_counter() - t0
    rss1 = _rss_mb()
    # What the history holds once loaded (Python objects and numpy arrays, traced; Arrow
    # buffers, counted by its pool), apart from the allocator's retained pages.
    tracemalloc.start()
    held = load_history(curated, exclude_date="2026-11-21")
    held_bytes = tracemalloc.get_traced_memory()[0] + pa.total_allocated_bytes()
    tracemalloc.stop()
    del held

    batch = new_documents(history, docs, rng)
    t0 = time.perf_counter()
    _, report = dedup(batch, history)
    dedup_s = time.perf_counter() - t0
    return {
        "stored_paragraphs": history.paragraph_count,
        "stored_documents": len(history.sources),
        "load_history_s": round(load_s, 2),
        "dedup_batch_s": round(dedup_s, 2),
        "batch_documents": docs,
        "paragraphs_removed": report.paragraphs_removed,
        "near_dup_documents": report.near_dup_documents,
        "index_bytes_per_paragraph": round(
            history.fingerprint_bytes() / history.paragraph_count, 1
        ),
        "history_held_mb": round(held_bytes / 1e6, 1),
        "history_held_bytes_per_paragraph": round(held_bytes / history.paragraph_count, 1),
        "history_rss_mb": round(rss1 - rss0, 1),
        "history_rss_bytes_per_paragraph": round((rss1 - rss0) * 1e6 / history.paragraph_count, 1),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, default=1_000_000)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--curated", type=Path, help="reuse (or keep) the synthetic dataset here")
    ap.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.curated, args.docs)))
        return 0
    work = args.curated or Path(tempfile.mkdtemp(prefix="thresher-dedup-bench-"))
    if not (work / "paragraphs").is_dir():
        t0 = time.perf_counter()
        generate(work, args.paragraphs)
        print(f"generated {args.paragraphs} paragraphs in {time.perf_counter() - t0:.1f} s: {work}")
    cmd = [sys.executable, __file__, "--measure-only", "--curated", str(work)]
    out = subprocess.run([*cmd, "--docs", str(args.docs)], check=True, capture_output=True)
    result = json.loads(out.stdout)
    for key, value in result.items():
        print(f"{key:>34}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
