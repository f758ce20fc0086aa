"""Title, author and publication date: how often thresher lifts the right one, from the
plain-text scrape and from the page's HTML, with trafilatura's own ``extract_metadata`` on
the same HTML as the reference, in the same run.

    .venv/bin/python benchmarks/metadata_bench.py [--set ../shared/eval/wcxb-dev]
        [--split article] [--limit N] [--misses FIELD] [--text-only]

On the pages of the split (wcxb-dev's 709 articles by default) that have the field in
their gold (``<id>.gold.json``):

- title: right when its token F1 with the gold title is at least 0.8;
- author: right when its token F1 with the gold author, or with one of the names in it
  ("A, B and C"), is at least 0.5;
- date: right when ``published_at`` falls on the gold calendar day.

A missing value counts as wrong. On the pages whose gold has no author or no date, the
share that got a value anyway is reported too ("given where gold has none"): a value
there is most often invented (a site name, a copyright year). ``--misses FIELD`` prints
the text path's misses for one field, a value given where the gold has none among them.
Pages stay in ../shared.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleaners.author import author_matches  # noqa: E402
from cleaners.document import DocumentError, process_document, process_html  # noqa: E402
from cleaners.html import decode_html  # noqa: E402

# The metric is the one cleaners/title.py matches an <h1> against a page's stated titles by.
from cleaners.title import token_f1  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
FIELDS = ("title", "author", "date")
TITLE_F1 = 0.8


def title_right(got: str | None, gold: str) -> bool:
    return bool(got) and token_f1(got or "", gold) >= TITLE_F1


def author_right(got: str | None, gold: str) -> bool:
    """Right against the whole gold author or any one name in it (the criterion the
    author picker is trained on, ``cleaners.author.author_matches``).

    >>> author_right("Dylan Bailey", "Dylan Bailey, MS, RD, FAND")
    True
    >>> author_right("Scratch Culinary", "Andrew King")
    False
    """
    return author_matches(got, gold)


def day_of(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value[:10]).date()
        except ValueError:
            return None
    return None


def date_right(got: Any, gold: str) -> bool:
    day = day_of(got)
    return day is not None and day.isoformat() == gold[:10]


def _fields(meta: dict[str, Any]) -> dict[str, Any]:
    """Our metadata under the benchmark's field names."""
    return {
        "title": meta.get("title"),
        "author": meta.get("author"),
        "date": meta.get("published_at"),
    }


def text_path(page: Path) -> dict[str, Any]:
    try:
        meta = process_document(page.read_bytes(), page.name).metadata
    except DocumentError:
        return {}
    return _fields(meta)


def html_path(html: bytes, name: str) -> dict[str, Any]:
    try:
        meta = process_html(html, name).metadata
    except DocumentError:
        return {}
    return _fields(meta)


def trafilatura_reference(html: bytes) -> dict[str, Any]:
    from trafilatura import extract_metadata

    # Decoded as thresher's HTML path decodes it (declared charset, else detection).
    doc = extract_metadata(decode_html(html).text)
    if doc is None:
        return {}
    return {"title": doc.title, "author": doc.author, "date": doc.date}


CHECKS: dict[str, Callable[[Any, str], bool]] = {
    "title": title_right,
    "author": author_right,
    "date": date_right,
}
GOLD_KEYS = {"title": "title", "author": "author", "date": "publish_date"}


def read_html(folder: Path, page_id: str) -> bytes | None:
    gz, plain = folder / f"{page_id}.html.gz", folder / f"{page_id}.html"
    if gz.exists():
        return gzip.decompress(gz.read_bytes())
    return plain.read_bytes() if plain.exists() else None


@dataclass
class _Tally:
    """Per route and field: right answers where the gold has a value, values given where
    it has none; per field, how many pages have a gold value; per route, seconds."""

    right: dict[str, Counter[str]] = field(default_factory=dict)
    given_without_gold: dict[str, Counter[str]] = field(default_factory=dict)
    with_gold: Counter[str] = field(default_factory=Counter)
    without_gold: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)

    def score(self, route: str, got: dict[str, Any], gold: dict[str, Any]) -> list[str]:
        """Counts one route's answer for one page; returns the fields it got wrong (a value
        where the gold has none among them)."""
        right = self.right.setdefault(route, Counter())
        given = self.given_without_gold.setdefault(route, Counter())
        misses = []
        for f in FIELDS:
            want = gold.get(GOLD_KEYS[f])
            if want:
                ok = CHECKS[f](got.get(f), str(want))
                right[f] += ok
                if not ok:
                    misses.append(f)
            elif got.get(f):
                given[f] += 1
                misses.append(f)
        return misses

    def print_table(self, routes: list[str], pages: int) -> None:
        print(
            "| route | title | author | date | author given where gold has none | "
            "date given where gold has none | pages/s |"
        )
        print("|---|---|---|---|---|---|---|")
        for route in routes:
            right = self.right.get(route, Counter())
            given = self.given_without_gold.get(route, Counter())
            cells = [f"{right[f] / max(self.with_gold[f], 1):.3f}" for f in FIELDS]
            cells += [f"{given[f] / max(self.without_gold[f], 1):.3f}" for f in ("author", "date")]
            rate = pages / max(self.seconds[route], 1e-9)
            print(f"| {route} | " + " | ".join(cells) + f" | {rate:.1f} |")
        print(
            "pages with a gold value: "
            + ", ".join(f"{f} {self.with_gold[f]}" for f in FIELDS)
            + "; without: "
            + ", ".join(f"{f} {self.without_gold[f]}" for f in ("author", "date"))
        )


def _routes(eval_set: Path, text_only: bool) -> dict[str, Callable[[str], dict[str, Any]]]:
    routes: dict[str, Callable[[str], dict[str, Any]]] = {
        "text path": lambda pid: text_path(eval_set / f"{pid}.txt"),
        "HTML path": lambda pid: html_path(read_html(eval_set, pid) or b"", f"{pid}.html"),
        "trafilatura extract_metadata": lambda pid: trafilatura_reference(
            read_html(eval_set, pid) or b""
        ),
    }
    return {"text path": routes["text path"]} if text_only else routes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", type=Path, default=EVAL / "wcxb-dev")
    ap.add_argument("--split", default="article", help="article, or all")
    ap.add_argument("--limit", type=int, default=0, help="first N pages only (0: all)")
    ap.add_argument("--misses", choices=FIELDS, help="print the text path's misses")
    ap.add_argument("--text-only", action="store_true", help="the text path alone (fast)")
    args = ap.parse_args(argv)

    manifest = json.loads((args.set / "manifest.json").read_text())
    ids = manifest["article_ids"] if args.split == "article" else manifest["ids"]
    if args.limit:
        ids = ids[: args.limit]
    routes = _routes(args.set, args.text_only)
    tally = _Tally()
    for pid in ids:
        gold = json.loads((args.set / f"{pid}.gold.json").read_text())
        for route, get in routes.items():
            t0 = time.perf_counter()
            got = get(pid)
            tally.seconds[route] += time.perf_counter() - t0
            misses = tally.score(route, got, gold)
            if route == "text path" and args.misses in misses:
                want = gold.get(GOLD_KEYS[args.misses])
                print(f"miss {pid}: got {got.get(args.misses)!r}, gold {want!r}")
        for f in FIELDS:
            (tally.with_gold if gold.get(GOLD_KEYS[f]) else tally.without_gold)[f] += 1
    print(f"{args.set.name}, {args.split}: {len(ids)} pages")
    tally.print_table(list(routes), len(ids))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
