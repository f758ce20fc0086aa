"""``thresher stats``: what a data engineer asks of a curated dataset, without pandas.

Counts come straight from the tables (column projection, one partition file at a time),
so they equal what ``pandas.read_parquet`` gives: documents, paragraphs and characters per
date; removals by reason; top sites; errors by code; near-duplicate clusters; encodings
and languages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from flows.store import open_curated

if TYPE_CHECKING:
    from flows.store import Curated

TOP_SITES = 10


def _read(curated: Curated, table: str, day: str, columns: list[str]) -> pa.Table | None:
    ref = curated.partition_file(table, day)
    return None if ref is None else curated.read_columns(ref, table, columns)


def _rows(curated: Curated, table: str, day: str) -> int:
    """A partition's row count, from its Parquet footer (nothing else read)."""
    ref = curated.partition_file(table, day)
    return 0 if ref is None else curated.partition_rows(ref)


def _tally(counter: Counter[str], column: pa.ChunkedArray) -> None:
    """Add a column's value counts (Arrow's, not a Python loop) to ``counter``; nulls
    count as "(none)"."""
    for item in pc.value_counts(column).to_pylist():
        value = item["values"]
        counter["(none)" if value is None else str(value)] += item["counts"]


def _ranked(counter: Counter[str]) -> dict[str, int]:
    """Most common first, ties by value."""
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def site_of(site: str | None, url: str | None) -> str:
    """The site a document counts under: its ``site`` field, else its URL's host.

    >>> site_of(None, "https://www.example.org/a"), site_of("Gazette", None), site_of(None, None)
    ('www.example.org', 'Gazette', '(unknown)')
    """
    if site:
        return site
    host = urlsplit(url).hostname if url else None
    return host or "(unknown)"


@dataclass
class _Tallies:
    """The counts ``collect`` adds up over the dates it reads."""

    reasons: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    sites: Counter[str] = field(default_factory=Counter)
    encodings: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    clusters: Counter[str] = field(default_factory=Counter)

    def add_date(self, root: Curated, day: str) -> dict[str, Any]:
        """Tally one ingest date; returns its row of the per-date table."""
        cols = ["site", "url", "encoding", "language", "near_dup_cluster", "chars_after"]
        docs = _read(root, "documents", day, cols)
        removed = _read(root, "removed", day, ["reason"])
        failed = _read(root, "errors", day, ["error"])
        if docs is not None:
            self.sites.update(
                site_of(s, u)
                for s, u in zip(docs["site"].to_pylist(), docs["url"].to_pylist(), strict=True)
            )
            _tally(self.encodings, docs["encoding"])
            _tally(self.languages, docs["language"])
            _tally(self.clusters, docs["near_dup_cluster"].drop_null())
        if removed is not None:
            _tally(self.reasons, removed["reason"])
        if failed is not None:
            _tally(self.errors, failed["error"])
        return {
            "ingest_date": day,
            "documents": 0 if docs is None else docs.num_rows,
            "paragraphs": _rows(root, "paragraphs", day),
            "characters": 0 if docs is None else int(pc.sum(docs["chars_after"]).as_py() or 0),
            "removed": 0 if removed is None else removed.num_rows,
            "errors": 0 if failed is None else failed.num_rows,
        }


def collect(curated_dir: Path | Curated, only_date: str | None = None) -> dict[str, Any]:
    """Every figure of ``thresher stats`` for the whole dataset or one ingest date
    (``curated_dir``: a local folder, or one opened by ``open_curated``)."""
    root = open_curated(curated_dir)
    days = root.committed_dates()
    if only_date is not None:
        if only_date not in days:
            held = ", ".join(days) or "none"
            raise LookupError(f"{root.url} holds no ingest date {only_date} (it holds: {held})")
        days = [only_date]
    t = _Tallies()
    per_date = [t.add_date(root, day) for day in days]
    total = {k: sum(r[k] for r in per_date) for k in ("documents", "paragraphs", "characters")}
    return {
        "curated_dir": root.url,
        "dates": days,
        **total,
        "paragraphs_removed": sum(r["removed"] for r in per_date),
        "errors": sum(r["errors"] for r in per_date),
        "per_date": per_date,
        "removed_by_reason": _ranked(t.reasons),
        "errors_by_code": _ranked(t.errors),
        "top_sites": [[s, n] for s, n in list(_ranked(t.sites).items())[:TOP_SITES]],
        "sites": len(t.sites),
        "near_duplicates": {"clusters": len(t.clusters), "documents": sum(t.clusters.values())},
        "encodings": _ranked(t.encodings),
        "languages": _ranked(t.languages),
    }


def render(stats: dict[str, Any]) -> str:
    """The figures as text for a terminal."""
    out = [
        f"{stats['curated_dir']}: {len(stats['dates'])} ingest dates, "
        f"{stats['documents']} documents, {stats['paragraphs']} paragraphs, "
        f"{stats['characters']} characters; {stats['paragraphs_removed']} paragraphs "
        f"removed, {stats['errors']} errors",
        "",
        f"{'date':<12} {'documents':>10} {'paragraphs':>11} {'characters':>12} "
        f"{'removed':>9} {'errors':>7}",
    ]
    for r in stats["per_date"]:
        out.append(
            f"{r['ingest_date']:<12} {r['documents']:>10} {r['paragraphs']:>11} "
            f"{r['characters']:>12} {r['removed']:>9} {r['errors']:>7}"
        )
    sections = [
        ("removed by reason", stats["removed_by_reason"].items()),
        ("errors by code", stats["errors_by_code"].items()),
        (f"top sites (of {stats['sites']})", stats["top_sites"]),
        ("encodings", stats["encodings"].items()),
        ("languages", stats["languages"].items()),
    ]
    for title, items in sections:
        items = list(items)
        if items:
            out += ["", f"{title}:"] + [f"  {name:<30} {n:>8}" for name, n in items]
    near = stats["near_duplicates"]
    out += [
        "",
        f"near-duplicate clusters: {near['clusters']} ({near['documents']} documents in them)",
    ]
    return "\n".join(out)
