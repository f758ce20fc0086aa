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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cleaners.patterns import CACHE_SIZE

_DIGITS = re.compile(r"\d")
_PUNCT = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")

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
    text = unicodedata.normalize("NFKC", text).casefold()
    if fold_digits:
        text = _DIGITS.sub("0", text)
    text = _PUNCT.sub("", text)
    return _SPACES.sub(" ", text).strip()


def hash64(normalised: str) -> int:
    """Signed 64-bit BLAKE2b of a string (stable across processes and machines).

    >>> hash64("abc") == hash64("abc"), -2**63 <= hash64("abc") < 2**63
    (True, True)
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


def first_keepers(
    docs: Iterable[tuple[str, Sequence[int], Sequence[int]]],
    history: Mapping[int, str] | None = None,
) -> dict[tuple[str, int], str]:
    """Cross-document duplicates in a deterministic order.

    ``docs`` yields ``(doc_id, positions, fingerprints)`` in the order that decides who
    keeps a paragraph (callers sort by ingest date, then source path). ``fingerprints``
    must already exclude paragraphs too short to deduplicate. Returns
    ``{(doc_id, position): doc_id that kept it}`` for every paragraph to drop.

    >>> first_keepers([("a", [0, 1], [11, 12]), ("b", [0, 1], [12, 13])])
    {('b', 0): 'a'}
    >>> first_keepers([("b", [0], [7])], history={7: "old"})
    {('b', 0): 'old'}
    """
    owner: dict[int, str] = {}
    drops: dict[tuple[str, int], str] = {}
    for doc_id, positions, fps in docs:
        for pos, fp in zip(positions, fps, strict=True):
            kept_by = owner.get(fp)
            if kept_by is None and history is not None:
                kept_by = history.get(fp)
            if kept_by is not None and kept_by != doc_id:
                drops[(doc_id, pos)] = kept_by
            elif kept_by is None:
                owner[fp] = doc_id
    return drops


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
    ranks in input order this is ``first_keepers``; vectorised, so a run of millions of
    paragraphs costs a sort.

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


class KeeperIndex:
    """Fingerprint -> keeper (an int id), appended batch by batch, for a whole run.

    Each batch's fingerprints go in as one sorted numpy chunk (12 bytes per paragraph);
    chunks are merged when there are more than ``MAX_CHUNKS``, so a lookup is a handful
    of vectorised binary searches however long the run. A fingerprint is added once
    (its first keeper); lookups of absent ones give -1.

    >>> idx = KeeperIndex()
    >>> idx.add(np.array([5, 1], np.int64), np.array([0, 0], np.int32))
    >>> idx.add(np.array([9], np.int64), np.array([1], np.int32))
    >>> idx.lookup(np.array([9, 2, 5], np.int64)).tolist()
    [1, -1, 0]
    """

    MAX_CHUNKS = 8

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(f) for f, _ in self._chunks)

    def nbytes(self) -> int:
        return sum(f.nbytes + o.nbytes for f, o in self._chunks)

    def add(self, fingerprints: np.ndarray, owners: np.ndarray) -> None:
        if len(fingerprints) == 0:
            return
        order = np.argsort(fingerprints, kind="stable")
        self._chunks.append((fingerprints[order], owners[order].astype(np.int32)))
        if len(self._chunks) > self.MAX_CHUNKS:
            fps = np.concatenate([f for f, _ in self._chunks])
            own = np.concatenate([o for _, o in self._chunks])
            order = np.argsort(fps, kind="stable")
            self._chunks = [(fps[order], own[order])]

    def lookup(self, fingerprints: np.ndarray) -> np.ndarray:
        out = np.full(len(fingerprints), -1, np.int32)
        for fps, owners in self._chunks:
            idx = np.searchsorted(fps, fingerprints)
            idx[idx == len(fps)] = 0
            hit = (fps[idx] == fingerprints) & (out == -1)
            out[hit] = owners[idx[hit]]
        return out
