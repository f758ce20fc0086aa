"""Cleaning speed on real pages: the plain-text scrapes of ../shared/eval (wcxb-dev and
aeb-dev: the 1,359 that are not empty, from about 1,200 sites), with trafilatura and
datatrove's C4 line rules on the same pages as references, in the same run.

    .venv/bin/python benchmarks/real_bench.py --docs 10000 [--work /tmp/real-bench]
        [--prefect-share-docs 2000]
    .venv/bin/python benchmarks/real_bench.py --ingest-only --docs 100000 --work /tmp/rb100k

Reports:

- cleaning alone: ``process_document`` over every real page once (texts preloaded, one
  process, one core): documents/s and MB/s;
- references, one core, inputs preloaded: ``trafilatura.extract`` on the same pages'
  original HTML (comments off, tables kept: what thresher's HTML path asks), and
  datatrove's ``C4QualityFilter`` (``min_num_sentences=-1``, ``filter_curly_bracket=False``,
  ``filter_lorem_ipsum=False``) on the same texts, if the ``bench`` extra is installed
  (``pip install -e '.[bench]'``);
- ``thresher ingest`` end to end with default settings on ``--docs`` documents: the real
  pages replicated, each copy with a marker word inserted after the first word of every
  paragraph (so cross-document dedup cannot shortcut the work): wall time, documents/s,
  MB/s, peak RSS of the process tree with what each process held at that moment (the
  run, its API server, the cleaning workers), and the flow's seconds per stage
  (``--ingest-only``: this row alone);
- Prefect's share of wall time: ``thresher ingest --workers 1`` on the first
  ``--prefect-share-docs`` documents of such a corpus (2,000 by default) against the same
  batches read, cleaned, deduplicated and written by the same functions in a plain loop
  in the benchmark's process (``ingest_bench.plain``).

Pages stay in ../shared: the corpus is written under WORK (a temporary folder by default).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_bench import ingest, plain, run_env, time_cleaning  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
LETTERS = "bcdfghjklmnpqrstvwxz"


def pages() -> list[tuple[str, str, Path]]:
    """(id, scraped text, original HTML file) of every development page."""
    out = []
    for folder, suffix in (("wcxb-dev", ".html.gz"), ("aeb-dev", ".html")):
        for txt in sorted((EVAL / folder).glob("*.txt")):
            if txt.name.endswith(".gold.txt"):
                continue
            page_id = txt.name[: -len(".txt")]
            text = txt.read_text(encoding="utf-8", errors="replace")
            if not text.strip():
                continue  # a few scrapes are empty: nothing to clean
            out.append((f"{folder}-{page_id}", text, txt.with_name(page_id + suffix)))
    if not out:
        raise SystemExit(f"no pages under {EVAL}")
    return out


def marker(copy: int) -> str:
    """A made-up word naming a copy: 0 -> '', 1 -> 'zob', ..."""
    if copy == 0:
        return ""
    word = ""
    while copy:
        copy, digit = divmod(copy, len(LETTERS))
        word += LETTERS[digit] + "o"
    return "z" + word


def variant(text: str, copy: int) -> str:
    """The page with the copy's marker after the first word of every paragraph."""
    word = marker(copy)
    if not word:
        return text
    out = []
    for para in text.split("\n\n"):
        head, sep, rest = para.partition(" ")
        out.append(f"{head} {word} {rest}" if sep else para)
    return "\n\n".join(out)


def write_corpus(raw: Path, all_pages: list[tuple[str, str, Path]], docs: int) -> int:
    written = 0
    for n in range(docs):
        page_id, text, _ = all_pages[n % len(all_pages)]
        path = raw / f"{n // 1000:03d}" / f"{page_id}-{n // len(all_pages)}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = variant(text, n // len(all_pages)).encode()
        path.write_bytes(data)
        written += len(data)
    return written


def trafilatura_alone(html_files: list[Path]) -> dict[str, float]:
    import trafilatura

    html = []
    for f in html_files:
        if f.exists():
            raw = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
            html.append(raw.decode("utf-8", errors="replace"))
    trafilatura.extract(html[0], include_comments=False, include_tables=True)
    t0 = time.perf_counter()
    for page in html:
        trafilatura.extract(page, include_comments=False, include_tables=True)
    dt = time.perf_counter() - t0
    return {"pages": len(html), "pages_per_s": len(html) / dt}


def c4_alone(texts: list[str]) -> dict[str, float] | None:
    try:
        from datatrove.data import Document
        from datatrove.pipeline.filters import C4QualityFilter
    except ImportError:
        return None
    rules = C4QualityFilter(
        min_num_sentences=-1, filter_curly_bracket=False, filter_lorem_ipsum=False
    )
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    for doc in docs:
        rules.filter(doc)
    dt = time.perf_counter() - t0
    return {"docs": len(docs), "docs_per_s": len(docs) / dt}


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--work", type=Path, help="write the corpus and output here")
    ap.add_argument(
        "--prefect-share-docs",
        type=int,
        default=2_000,
        help="documents of the run that measures Prefect's share of wall time (0: skip)",
    )
    ap.add_argument(
        "--ingest-only",
        action="store_true",
        help="only the `thresher ingest` row (no references, no Prefect share): for "
        "memory and speed at several corpus sizes",
    )
    ap.add_argument(
        "--cleaning-only",
        action="store_true",
        help="only time cleaning alone, with and without the line scorer",
    )
    return ap.parse_args()


def _cleaning(texts: list[str]) -> dict:
    """Cleaning alone on one core, with the line scorer and without it."""
    alone = time_cleaning([t.encode() for t in texts])
    print(
        f"cleaning alone, 1 core, {alone['pages']} real pages: {alone['docs_per_s']:.1f} docs/s, "
        f"{alone['mb_per_s']:.2f} MB/s",
        flush=True,
    )
    rules = time_cleaning([t.encode() for t in texts], disabled=("not_body",))
    alone["rules_only_docs_per_s"] = rules["docs_per_s"]
    print(
        f"  the same without the line scorer (--disable not_body): {rules['docs_per_s']:.1f} "
        f"docs/s; the scorer's share of cleaning time: "
        f"{1 - alone['docs_per_s'] / rules['docs_per_s']:.0%}",
        flush=True,
    )
    return alone


def _ingest_row(work: Path, all_pages: list, docs: int) -> dict:
    """``thresher ingest`` with default settings on ``docs`` documents made of the pages;
    prints its row and returns it."""
    raw, curated = work / "raw", work / "curated"
    if not (raw / ".done").exists():
        shutil.rmtree(raw, ignore_errors=True)
        size = write_corpus(raw, all_pages, docs)
        (raw / ".done").write_text(str(size))
    size = int((raw / ".done").read_text())
    shutil.rmtree(curated, ignore_errors=True)
    run = ingest(raw, curated, 1, run_env(work), defaults=True)
    s = run["summary"]
    row = {
        "docs": docs,
        "raw_mb": round(size / 1e6, 1),
        "wall_s": round(run["wall_s"], 1),
        "docs_per_s": round(docs / run["wall_s"], 1),
        "mb_per_s": round(size / 1e6 / run["wall_s"], 2),
        "peak_rss_mb": round(run["peak_rss_mb"]),
        "peak_parts_mb": run["peak_parts_mb"],
        "dedup_state_mb": s.get("dedup_state_mb"),
        "stage_seconds": s.get("stage_seconds"),
        "written": s["documents_written"],
        "failed": s["documents_failed"],
    }
    print(f"thresher ingest, defaults: {json.dumps(row)}", flush=True)
    return row


def _prefect_share(work: Path, all_pages: list, docs: int) -> dict:
    """Prefect's share of an ingest's wall time: ``thresher ingest`` on one core
    (``--workers 1``: the flow's own threads) against the same batches cleaned, deduplicated
    and written by the same functions in a plain loop in this process, on ``docs``
    documents of the corpus."""
    raw, curated = work / "raw-share", work / "curated-share"
    shutil.rmtree(raw, ignore_errors=True)
    write_corpus(raw, all_pages, docs)
    shutil.rmtree(curated, ignore_errors=True)
    flow_s = ingest(raw, curated, 1, run_env(work))["wall_s"]
    shutil.rmtree(curated, ignore_errors=True)
    plain_s = plain(raw, curated)
    return {
        "docs": docs,
        "flow_1core_s": round(flow_s, 1),
        "plain_1core_s": round(plain_s, 1),
        "prefect_share": round(1 - plain_s / flow_s, 3),
    }


def main() -> int:
    args = _arguments()
    work = args.work or Path(tempfile.mkdtemp(prefix="thresher-real-"))
    work.mkdir(parents=True, exist_ok=True)
    all_pages = pages()
    if args.ingest_only:
        _ingest_row(work, all_pages, args.docs)
        return 0
    texts = [t for _, t, _ in all_pages]
    alone = _cleaning(texts)
    if args.cleaning_only:
        return 0
    traf = trafilatura_alone([h for _, _, h in all_pages])
    print(f"trafilatura.extract, 1 core, same pages' HTML: {traf['pages_per_s']:.1f} pages/s")
    c4 = c4_alone(texts)
    print(
        f"datatrove C4QualityFilter, 1 core, same texts: {c4['docs_per_s']:.0f} docs/s"
        if c4
        else "datatrove C4QualityFilter: not installed (pip install -e '.[bench]')",
        flush=True,
    )
    row = _ingest_row(work, all_pages, args.docs)
    print(
        f"ingest vs trafilatura: {row['docs_per_s'] / traf['pages_per_s']:.2f}x; "
        + (f"vs C4 rules: {row['docs_per_s'] / c4['docs_per_s']:.3f}x" if c4 else "")
    )
    share = (
        _prefect_share(work, all_pages, args.prefect_share_docs)
        if args.prefect_share_docs
        else None
    )
    if share:
        print(
            f"Prefect's share of wall time, {share['docs']} documents on one core: "
            f"{share['prefect_share']:.1%} (flow {share['flow_1core_s']} s, the same work "
            f"without Prefect {share['plain_1core_s']} s)"
        )
    (work / "results.json").write_text(
        json.dumps(
            {"alone": alone, "trafilatura": traf, "c4": c4, "ingest": row, "prefect": share},
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
