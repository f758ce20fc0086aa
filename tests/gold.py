"""Holding curated text to the seeds' hand-labelled gold (same rules as
../shared/tools/check_seeds.py: NFKC, straight quotes, white space folded)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "\u2013": "-",
        "\u2014": "-",
    }
)


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s or "").translate(QUOTES)
    return re.sub(r"\s+", " ", s).strip()


def gold_misses(gold_file: Path, text: str, metadata: dict) -> list[str]:
    """Every way ``text``/``metadata`` fall short of one seed's gold; empty when all hold."""
    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    misses: list[str] = []
    whole, paras, pos = norm(text), [norm(p) for p in text.split("\n\n")], 0
    for line in gold["body"]:
        i = whole.find(norm(line), pos)
        if i < 0:
            misses.append(f"body line lost or out of order: {line[:70]}")
        else:
            pos = i
    for b in gold["boilerplate"]:
        t = norm(b["text"])
        if any(p == t or (len(t) > 25 and t in p) for p in paras):
            misses.append(f"{b['kind']} kept (line {b['line']}): {b['text'][:70]}")
    for key in ("title", "author", "credit"):
        if key in gold["metadata"] and norm(str(metadata.get(key) or "")) != norm(
            gold["metadata"][key]
        ):
            misses.append(f"{key} is {metadata.get(key)!r}, gold {gold['metadata'][key]!r}")
    if "sections" in gold["metadata"] and metadata.get("sections") != gold["metadata"]["sections"]:
        misses.append(
            f"sections {metadata.get('sections')!r}, gold {gold['metadata']['sections']!r}"
        )
    if "updated" in gold["metadata"]:
        got = metadata.get("updated_at")
        got = got.strftime("%Y-%m-%dT%H:%M") if got is not None else None
        if got != gold["metadata"]["updated"]:
            misses.append(f"updated_at {got!r}, gold {gold['metadata']['updated']!r}")
    return misses
