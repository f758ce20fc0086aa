"""Peak memory of reading and cleaning one large document, per MB of its size.

Documents are real scraped pages (the plain-text scrapes of ../shared/eval/wcxb-dev and
aeb-dev) joined until the wanted size, written to a temporary folder outside the project;
each size is measured in a fresh process (``process_paths``, the read + clean step of a
run, with ``max_paragraphs`` and ``max_document_bytes`` lifted so the size alone
decides). Reports the growth of the process's peak RSS over its baseline after imports.

    .venv/bin/python benchmarks/memory_per_document.py --sizes 1 5 10 40
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"


def build(path: Path, megabytes: float) -> int:
    """Write real scrapes, joined, until ``megabytes``; returns the bytes written."""
    pages = sorted(EVAL.glob("wcxb-dev/*.txt")) + sorted(EVAL.glob("aeb-dev/*.txt"))
    pages = [p for p in pages if not p.name.endswith(".gold.txt")]
    if not pages:
        sys.exit(f"no scraped pages under {EVAL}")
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        i = 0
        while written < megabytes * 1e6:
            text = pages[i % len(pages)].read_text(encoding="utf-8", errors="replace")
            chunk = text + "\n\n"
            out.write(chunk)
            written += len(chunk.encode())
            i += 1
    return written


def measure(folder: str, name: str) -> None:
    """In a fresh process: baseline after imports, then read and clean one file."""
    from cleaners.clean import CleanSettings
    from flows.pipeline import process_paths

    settings = CleanSettings(max_paragraphs=10**9, max_document_bytes=10**11)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = process_paths(Path(folder), [name], settings, max_bytes=10**10)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "errors": result.errors,
                "paragraphs": result.docs[0].paragraphs_before if result.docs else 0,
                "base_mb": base / 1024,
                "peak_mb": peak / 1024,
                "seconds": seconds,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 5, 10, 40])
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    print("| document | paragraphs | peak RSS growth | per MB of document | seconds |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="thresher-mem-") as tmp:
        for size in args.sizes:
            name = f"doc-{size:g}mb.txt"
            written = build(Path(tmp) / name, size)
            out = subprocess.run(
                [sys.executable, __file__, "--measure", tmp, name],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            if row["errors"]:
                print(f"| {written / 1e6:.1f} MB | error: {row['errors']} | | | |")
                continue
            growth = row["peak_mb"] - row["base_mb"]
            print(
                f"| {written / 1e6:.1f} MB | {row['paragraphs']:,} | {growth:,.0f} MB "
                f"| {growth / (written / 1e6):.0f} MB | {row['seconds']:.1f} |"
            )
            (Path(tmp) / name).unlink()


if __name__ == "__main__":
    main()
