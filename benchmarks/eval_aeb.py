#!/usr/bin/env python3
"""Score thresher on an extraction-benchmark split (default ../shared/eval/aeb-dev).

Feeds each page's plain-text scrape (``<id>.txt``) through the real ingest
(``thresher ingest``, Prefect flow and Parquet included), writes ``documents.text`` as
predictions and runs the set's own scorer:

    .venv/bin/python benchmarks/eval_aeb.py [--set DIR] [--fast] [--keep DIR]
    .venv/bin/python benchmarks/eval_aeb.py --html

``--fast`` skips Prefect and Parquet (same cleaners, via ``process_document``) for quick
iteration; the README's figure comes from the full run.

``--html`` ingests the original pages (``<id>.html``) instead, through the HTML path
(trafilatura, then thresher's cleaners), and in the same run scores trafilatura alone on
the same pages: ``trafilatura.extract`` with its defaults, and with comments left out (as
thresher asks it), so the cleaners' own share is visible.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "aeb-dev"


def ids(eval_set: Path) -> list[str]:
    return sorted(p.name[: -len(".gold.txt")] for p in eval_set.glob("*.gold.txt"))


def predict_full(eval_set: Path, work: Path, suffix: str = ".txt") -> dict[str, str]:
    import pandas as pd

    raw = work / "raw"
    raw.mkdir()
    for i in ids(eval_set):
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
    return {Path(p).stem: t for p, t in zip(df["source_path"], df["text"], strict=True)}


def predict_fast(eval_set: Path) -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from cleaners.document import DocumentError, process_document

    def text(i: str) -> str:
        try:
            return process_document((eval_set / f"{i}.txt").read_bytes(), f"{i}.txt").text
        except DocumentError:  # an empty scrape: an errors row in a real run, no text
            return ""

    return {i: text(i) for i in ids(eval_set)}


def predict_trafilatura(eval_set: Path, include_comments: bool) -> dict[str, str]:
    import trafilatura

    return {
        i: trafilatura.extract(
            (eval_set / f"{i}.html").read_bytes(), include_comments=include_comments
        )
        or ""
        for i in ids(eval_set)
    }


def score(eval_set: Path, preds: dict[str, str], out: Path, label: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for i, text in preds.items():
        (out / f"{i}.txt").write_text(text, encoding="utf-8")
    print(f"== {label}", flush=True)
    scorer = eval_set.parent / "score.py"
    return subprocess.run(
        [sys.executable, str(scorer), "--set", str(eval_set), "--pred", str(out)]
    ).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--html", action="store_true", help="the HTML path, beside trafilatura")
    ap.add_argument("--keep", type=Path, help="keep the predictions in this folder")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="thresher-eval-"))
    try:
        out = args.keep or work / "pred"
        if not args.html:
            preds = predict_fast(args.set) if args.fast else predict_full(args.set, work)
            return score(args.set, preds, out, "thresher, plain-text scrapes")
        rc = score(args.set, predict_full(args.set, work, ".html"), out, "thresher, HTML path")
        for comments in (True, False):
            label = f"trafilatura alone, include_comments={comments}"
            preds = predict_trafilatura(args.set, comments)
            rc |= score(args.set, preds, work / f"traf-{comments}", label)
        return rc
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
