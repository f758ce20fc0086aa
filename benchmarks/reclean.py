"""Cleaning its own output, on real pages: every plain-text scrape of ../shared/eval
(``real_bench.pages``) is cleaned, then its cleaned text is cleaned again, bare (as a new
file) and with the title the first run lifted as the source's (as a curated document
re-ingested with its metadata). Reports how many pages come out the same, and by which
reasons the others lose lines the second time.

    .venv/bin/python benchmarks/reclean.py [--limit N]

The hypothesis property of ``tests/test_properties.py`` holds this on generated pages;
real pages have what generated ones lack (subheadings and product names shaped like a
headline at the top of what is kept). Pages stay in ../shared.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.real_bench import pages  # noqa: E402
from cleaners.document import process_document  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="first N pages only (0: all)")
    args = parser.parse_args()
    todo = pages()[: args.limit or None]
    same: Counter[str] = Counter()
    lost: dict[str, Counter[str]] = {"bare": Counter(), "with its title": Counter()}
    cleaned = 0
    for page_id, text, _ in todo:
        first = process_document(text.encode("utf-8"), page_id + ".txt")
        if not first.text:
            continue
        cleaned += 1
        title = first.metadata.get("title")
        known = {"title": title} if title else None
        for mode, sidecar in (("bare", None), ("with its title", known)):
            second = process_document(first.text.encode("utf-8"), page_id + ".txt", sidecar)
            if second.text == first.text:
                same[mode] += 1
            else:
                lost[mode].update(r.reason for r in second.removed)
    print(f"{cleaned} pages with text left after cleaning (of {len(todo)})")
    print("| second cleaning | same text | lines lost on the others, by reason |")
    print("|---|---|---|")
    for mode in lost:
        reasons = ", ".join(f"{r} {n}" for r, n in lost[mode].most_common())
        print(f"| {mode} | {same[mode]} ({same[mode] / cleaned:.1%}) | {reasons} |")


if __name__ == "__main__":
    main()
