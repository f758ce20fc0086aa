"""Paragraph fingerprints and duplicate finding (CCNet-style).

A paragraph's fingerprint is a 64-bit BLAKE2b hash of its normalised text: NFKC,
case-folded, digits to 0, punctuation dropped, white space folded. Two paragraphs that
differ only in case, digits, quotes or spacing have the same fingerprint.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cleaners.patterns import CACHE_SIZE

_DIGITS = re.compile(r"\d")
_PUNCT = re.compile(r"[^\w\s]|_")

# Paragraphs whose normalised text is shorter than this are never deduplicated across
# documents: "He said." or "Reuters" recur in unrelated articles and are content there.
MIN_CROSS_DOC_CHARS = 50
# Inside one document a shorter repeat is still a repeat, but a one-word line is not
# worth a removal record (and list items like "Yes" may legitimately recur).
MIN_WITHIN_DOC_CHARS = 12
# Estimated Jaccard similarity of word 5-gram sets from which two documents are flagged
# as near-duplicates (cleaners.neardup). 0.7 flags a copy with a few sentences edited or
# a paragraph added, and not two reports of one event written independently.
NEAR_DUP_THRESHOLD = 0.7


@dataclass(frozen=True)
class DedupSettings:
    """What a user tunes about dedup: the shortest paragraph (in normalised characters)
    deduplicated across documents and runs, and the estimated Jaccard similarity from
    which two documents are flagged as near-duplicates."""

    min_cross_doc_chars: int = MIN_CROSS_DOC_CHARS
    near_dup_threshold: float = NEAR_DUP_THRESHOLD

    def __post_init__(self) -> None:
        if self.min_cross_doc_chars < 1:
            raise ValueError(f"min_cross_doc_chars must be >= 1, got {self.min_cross_doc_chars}")
        if not 0.0 < self.near_dup_threshold <= 1.0:
            raise ValueError(f"near_dup_threshold must be in (0, 1], got {self.near_dup_threshold}")


@lru_cache(maxsize=CACHE_SIZE)
def normalise_for_hash(text: str, fold_digits: bool = True) -> str:
    """CCNet-style normalisation used for fingerprints (digits folded to 0, so a footer's
    "© 2025" and "© 2026" match across documents).

    >>> normalise_for_hash("  The U.S. fired 6 missiles — “again”!  ")
    'the us fired 0 missiles again'
    >>> normalise_for_hash("Q3 revenue: 12.5m", fold_digits=False)
    'q3 revenue 125m'
    """
    if fold_digits:
        # Digits fold the same before or after the other steps (they are word characters
        # and not white space): from the digit-keeping form, which the within-document
        # repeat finder has most often cached already.
        return _DIGITS.sub("0", normalise_for_hash(text, fold_digits=False))
    text = _PUNCT.sub("", unicodedata.normalize("NFKC", text).casefold())
    # str.split() splits where ``\s+`` matches (both are str.isspace): the same folding,
    # three times faster than a regex substitution.
    return " ".join(text.split())


def hash64(normalised: str) -> int:
    """Signed 64-bit BLAKE2b of a string (stable across processes and machines).

    >>> hash64("abc")  # the same value in every process, on every machine, every release
    -2829645022057097895
    """
    digest = hashlib.blake2b(normalised.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def fingerprint_and_length(text: str) -> tuple[int, int]:
    """A paragraph's 64-bit fingerprint and the length of the normalised text it hashes.

    >>> fingerprint_and_length("He said.")[1]
    7
    >>> a = fingerprint_and_length("Hello,  World 2024")
    >>> a[0] == fingerprint_and_length("hello world 1999")[0]
    True
    """
    norm = normalise_for_hash(text)
    return hash64(norm), len(norm)


def find_repeats(
    paragraphs: Sequence[str], min_chars: int = MIN_WITHIN_DOC_CHARS
) -> dict[int, int]:
    """Later repeats inside one document: {index of repeat: index of first occurrence}.

    Digits count here: inside one page, rows that differ only in their numbers ("Q3
    revenue: 12.5m", "Q4 revenue: 13.1m") are different content, not repeats.

    >>> find_repeats(["A long enough line.", "Other text here ok", "a long enough line"])
    {2: 0}
    >>> find_repeats(["Q3 revenue: 12.5 million", "Q4 revenue: 13.1 million"])
    {}
    """
    first: dict[str, int] = {}
    repeats: dict[int, int] = {}
    for i, text in enumerate(paragraphs):
        norm = normalise_for_hash(text, fold_digits=False)
        if len(norm) < min_chars:
            continue
        if norm in first:
            repeats[i] = first[norm]
        else:
            first[norm] = i
    return repeats


def drops_by_priority(
    doc_ids: Sequence[str],
    rank: np.ndarray,
    doc_of: np.ndarray,
    positions: np.ndarray,
    fps: np.ndarray,
    earlier: Mapping[int, str] | None = None,
) -> dict[int, dict[int, str]]:
    """Cross-document duplicates of a whole run, decided by keeper priority.

    Paragraph ``k`` of the run (fingerprint ``fps[k]``, at ``positions[k]`` of document
    ``doc_of[k]``) is kept by the document of lowest ``rank`` holding its fingerprint, or
    by ``earlier[fp]``, the document of an earlier run that kept it. Returns
    ``{document index: {position: doc_id that kept it}}`` for every paragraph to drop. With
    ranks in input order, the first document holding a fingerprint keeps it; vectorised, so
    a run of millions of paragraphs costs a sort.

    >>> ids = ["repost", "original"]
    >>> one = np.array
    >>> drops_by_priority(ids, one([1, 0]), one([0, 0, 1]), one([0, 1, 4]), one([11, 12, 12]))
    {0: {1: 'original'}}
    >>> sorted(drops_by_priority(ids, one([1, 0]), one([0, 1]), one([0, 0]), one([7, 7]),
    ...                          {7: "old"}).items())
    [(0, {0: 'old'}), (1, {0: 'old'})]
    """
    if len(fps) == 0:
        return {}
    order = np.lexsort((positions, rank[doc_of], fps))
    sfp, sdoc, spos = fps[order], doc_of[order], positions[order]
    start = np.ones(len(sfp), bool)
    start[1:] = sfp[1:] != sfp[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(len(sfp)), 0))
    keeper = sdoc[first]
    before = (
        np.isin(sfp, np.fromiter(earlier, np.int64, len(earlier)))
        if earlier
        else np.zeros(len(sfp), bool)
    )
    drops: dict[int, dict[int, str]] = defaultdict(dict)
    for k in np.flatnonzero(before | (sdoc != keeper)).tolist():
        doc = int(sdoc[k])
        kept_by = earlier[int(sfp[k])] if before[k] else doc_ids[int(keeper[k])]
        if kept_by != doc_ids[doc]:  # a document's own earlier version keeps it
            drops[doc][int(spos[k])] = kept_by
    return dict(drops)


def source_order(source_path: str) -> tuple[str, int]:
    """The order a run reads documents in: by file, and a JSONL file's records by line.

    >>> sorted(["d.jsonl:10", "d.jsonl:2", "c.txt"], key=source_order)
    ['c.txt', 'd.jsonl:2', 'd.jsonl:10']
    """
    path, _, line = source_path.rpartition(":")
    return (path, int(line)) if path and line.isdigit() else (source_path, 0)
