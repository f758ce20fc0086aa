#!/usr/bin/env python3
"""Score thresher on an extraction-benchmark split (default ../shared/eval/aeb-dev).

Feeds each page's plain-text scrape (``<id>.txt``) through the real ingest
(``thresher ingest``, Prefect flow and Parquet included), writes ``documents.text`` as
predictions and runs the set's own scorer:

    .venv/bin/python benchmarks/eval_aeb.py [--set DIR] [--fast] [--keep DIR]
    .venv/bin/python benchmarks/eval_aeb.py --html
    .venv/bin/python benchmarks/eval_aeb.py --html --set ../shared/eval/wcxb-dev --split article

``--fast`` skips Prefect and Parquet (same cleaners, via ``process_document``) for quick
iteration; the README's figure comes from the full run.

``--html`` ingests the original pages (``<id>.html``) instead, through the HTML path
(trafilatura, then thresher's cleaners), and in the same run scores trafilatura alone on
the same pages: ``trafilatura.extract`` with its defaults, and with comments left out (as
thresher asks it), so the cleaners' own share is visible. A set's pages are ``<id>.html``
or ``<id>.html.gz`` (wcxb-dev). ``--split article`` scores a set's articles only (the ids
its ``manifest.json`` lists as ``article_ids``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "aeb-dev"


def ids(eval_set: Path, split: str = "all") -> list[str]:
    """The set's page ids; with ``split="article"``, its articles only."""
    found = sorted(p.name[: -len(".gold.txt")] for p in eval_set.glob("*.gold.txt"))
    if split == "article":
        articles = set(json.loads((eval_set / "manifest.json").read_text())["article_ids"])
        found = [i for i in found if i in articles]
    return found


@lru_cache
def html_suffix(eval_set: Path) -> str:
    """How the set's original pages are stored: ``.html``, or gzipped."""
    return ".html" if any(eval_set.glob("*.html")) else ".html.gz"


def read_html(eval_set: Path, page_id: str) -> bytes:
    data = (eval_set / f"{page_id}{html_suffix(eval_set)}").read_bytes()
    return gzip.decompress(data) if html_suffix(eval_set) == ".html.gz" else data


def predict_full(
    eval_set: Path, work: Path, suffix: str = ".txt", split: str = "all"
) -> dict[str, str]:
    import pandas as pd

    raw = work / "raw"
    raw.mkdir()
    for i in ids(eval_set, split):
        shutil.copy(eval_set / f"{i}{suffix}", raw / f"{i}{suffix}")
    env = dict(
        os.environ,
        PREFECT_HOME=str(work / "prefect"),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    exe = Path(sys.executable).parent / "thresher"
    subprocess.run([str(exe), "ingest", str(raw), str(work / "curated")], check=True, env=env)
    df = pd.read_parquet(work / "curated" / "documents", columns=["source_path", "text"])
    # "<id>.txt", "<id>.html", "<id>.html.gz": the ids hold no dot.
    return {
        Path(p).name.split(".")[0]: t for p, t in zip(df["source_path"], df["text"], strict=True)
    }


def predict_fast(eval_set: Path, split: str = "all") -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from cleaners.document import DocumentError, process_document

    def text(i: str) -> str:
        try:
            return process_document((eval_set / f"{i}.txt").read_bytes(), f"{i}.txt").text
        except DocumentError:  # an empty scrape: an errors row in a real run, no text
            return ""

    return {i: text(i) for i in ids(eval_set, split)}


def predict_trafilatura(eval_set: Path, include_comments: bool, split: str) -> dict[str, str]:
    import trafilatura

    return {
        i: trafilatura.extract(read_html(eval_set, i), include_comments=include_comments) or ""
        for i in ids(eval_set, split)
    }


def score(eval_set: Path, preds: dict[str, str], out: Path, label: str, split: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for i, text in preds.items():
        (out / f"{i}.txt").write_text(text, encoding="utf-8")
    print(f"== {label}", flush=True)
    scorer = eval_set.parent / "score.py"
    command = [sys.executable, str(scorer), "--set", str(eval_set), "--pred", str(out)]
    return subprocess.run([*command, "--split", split]).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--html", action="store_true", help="the HTML path, beside trafilatura")
    ap.add_argument("--keep", type=Path, help="keep the predictions in this folder")
    ap.add_argument("--split", choices=("all", "article"), default="all")
    args = ap.parse_args()
    split: str = args.split
    work = Path(tempfile.mkdtemp(prefix="thresher-eval-"))
    try:
        out = args.keep or work / "pred"
        if not args.html:
            if args.fast:
                preds = predict_fast(args.set, split)
            else:
                preds = predict_full(args.set, work, split=split)
            return score(args.set, preds, out, "thresher, plain-text scrapes", split)
        html = predict_full(args.set, work, html_suffix(args.set), split)
        rc = score(args.set, html, out, "thresher, HTML path", split)
        for comments in (True, False):
            label = f"trafilatura alone, include_comments={comments}"
            preds = predict_trafilatura(args.set, comments, split)
            rc |= score(args.set, preds, work / f"traf-{comments}", label, split)
        return rc
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
