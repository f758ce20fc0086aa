#!/usr/bin/env python3
"""Score thresher on an extraction-benchmark split (default ../shared/eval/aeb-dev).

Feeds each page's plain-text scrape (``<id>.txt``) through the real ingest
(``thresher ingest``, Prefect flow and Parquet included), writes ``documents.text`` as
predictions and runs the set's own scorer:

    .venv/bin/python benchmarks/eval_aeb.py [--set DIR] [--fast] [--keep DIR]

``--fast`` skips Prefect and Parquet (same cleaners, via ``process_document``) for quick
iteration; the README's figure comes from the full run.
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


def predict_full(eval_set: Path, work: Path) -> dict[str, str]:
    import pandas as pd

    raw = work / "raw"
    raw.mkdir()
    for i in ids(eval_set):
        shutil.copy(eval_set / f"{i}.txt", raw / f"{i}.txt")
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
    from cleaners.document import process_document

    return {
        i: process_document((eval_set / f"{i}.txt").read_bytes(), f"{i}.txt").text
        for i in ids(eval_set)
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the predictions in this folder")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="thresher-eval-"))
    try:
        preds = predict_fast(args.set) if args.fast else predict_full(args.set, work)
        out = args.keep or work / "pred"
        out.mkdir(parents=True, exist_ok=True)
        for i, text in preds.items():
            (out / f"{i}.txt").write_text(text, encoding="utf-8")
        scorer = args.set.parent / "score.py"
        return subprocess.run(
            [sys.executable, str(scorer), "--set", str(args.set), "--pred", str(out)]
        ).returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
