"""Near-duplicate documents: MinHash signatures over word shingles, grouped with LSH.

The same story republished with small edits (a wire story on ten sites, a corrected
version) shares most of its word 5-grams. Each document's cleaned text gets a MinHash
signature (``signature``, datasketch's MinHash); ``NearDupIndex`` bands the signatures the
way datasketch's MinHashLSH does (its band/row split for the threshold) and finds, for
each new document, the earliest indexed document whose estimated Jaccard similarity
reaches the threshold. Signatures are arrays of ``NUM_PERM`` uint32 values, stored in
``documents.minhash`` so later runs can match against them. Pure: no I/O.

The band tables are numpy arrays rather than MinHashLSH's dict-of-bytes tables: an index
over 100,000 earlier documents costs 6 MB and 0.1 s instead of about 300 MB and 4 s.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from cleaners.dedup import NEAR_DUP_THRESHOLD, normalise_for_hash

# Word n-grams hashed per document. 5 words keep common phrases ("said in a statement")
# from making unrelated articles look alike.
SHINGLE_WORDS = 5
# Permutations per signature: 64 gives an estimate within about ±0.06 of the true Jaccard.
NUM_PERM = 64
SEED = 1

# One set of permutations shared by every signature (building them per document costs
# more than hashing a page). "affine32" is datasketch 2's 32-bit scheme; stating it keeps
# signatures stored by earlier runs comparable.
SCHEME = "affine32"
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def _identity(value: int) -> int:
    return value


def _minhash() -> MinHash:
    return MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=_identity,
        permutations=_TEMPLATE.permutations,
        scheme=SCHEME,
    )


# Odd 64-bit multipliers that combine the word hashes of a shingle (position-dependent).
_SHINGLE_MULT = (
    np.random.default_rng(SEED + 1).integers(1, 2**63, SHINGLE_WORDS, dtype=np.uint64) | 1
)


def shingle_hashes(text: str | list[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """32-bit hashes of the distinct word ``size``-grams, computed without building the
    shingle strings: each word is hashed once (CRC-32), and a shingle's hash combines its
    words' hashes by position, vectorised with numpy.

    >>> a = shingle_hashes("The cat sat on the mat today")
    >>> len(a), a.dtype.name
    (3, 'uint32')
    >>> bool((shingle_hashes("the CAT sat, on the mat today") == a).all())
    True
    >>> bool((shingle_hashes(["The cat sat", "on the mat today"]) == a).all())
    True
    """
    parts = [text] if isinstance(text, str) else text
    # One part's words at a time: a long document holds 8 bytes a word, not a word list.
    word_hashes = np.fromiter(
        (zlib.crc32(w.encode()) for part in parts for w in normalise_for_hash(part).split()),
        dtype=np.uint64,
    )
    count = len(word_hashes)
    if not count:
        return np.empty(0, np.uint32)
    if count <= size:
        mixed = (word_hashes * _SHINGLE_MULT[:count]).sum(keepdims=True)
    else:
        n = count - size + 1
        mixed = sum(word_hashes[j : j + n] * _SHINGLE_MULT[j] for j in range(size))
    folded = (mixed >> np.uint64(32)) ^ (mixed & np.uint64(0xFFFFFFFF))
    return np.unique(folded.astype(np.uint32))


def signature(text: str | list[str]) -> np.ndarray | None:
    """MinHash signature (``NUM_PERM`` uint32) of a text's shingles (a text, or its
    paragraphs in order: the same words give the same signature); None for no words.

    >>> a = signature("The council approved the new budget for schools on Tuesday night")
    >>> a.dtype, a.shape
    (dtype('uint32'), (64,))
    >>> b = signature("the COUNCIL approved the new budget for schools, on Tuesday night")
    >>> bool((a == b).all())
    True
    """
    hashes = shingle_hashes(text)
    if len(hashes) == 0:
        return None
    mh = _minhash()
    # Values are hashes already (hashfunc is identity). datasketch permutes a batch as one
    # (shingles x NUM_PERM) uint64 matrix, 512 bytes a shingle; in chunks, a long
    # document's signature (a running minimum, so the same) costs a few MB, not GBs.
    for start in range(0, len(hashes), _SIGNATURE_CHUNK):
        mh.update_batch(hashes[start : start + _SIGNATURE_CHUNK].tolist())
    return np.asarray(mh.hashvalues, dtype=np.uint32)


# Shingles permuted at once while computing a signature (4 MB of uint64 at NUM_PERM 64).
_SIGNATURE_CHUNK = 8192


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal signature slots."""
    return float(np.count_nonzero(a == b)) / len(a)


@lru_cache(maxsize=16)
def band_params(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH chooses for a threshold,
    weighing false positives and false negatives equally.

    >>> band_params(0.7)
    (8, 8)
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


# Random odd 64-bit multipliers: a band's key is the sum of its slots times these, modulo
# 2**64. Colliding keys are only candidates; similarity is checked on the signatures.
_BAND_MULT = np.random.default_rng(SEED).integers(1, 2**63, NUM_PERM, dtype=np.uint64) | 1


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per band for each signature: (n, NUM_PERM) -> (n, bands)."""
    sigs = np.atleast_2d(sigs)[:, : bands * rows].astype(np.uint64)
    return (sigs * _BAND_MULT[: bands * rows]).reshape(len(sigs), bands, rows).sum(axis=2)


class _BandTable:
    """Signatures ``first .. first + n - 1`` in sorted numpy band tables: 8 bytes per band
    per document for the keys, 8 for the sort order, plus the signature itself."""

    def __init__(self, sigs: np.ndarray, first: int, bands: int, rows: int) -> None:
        self.first = first
        self.sigs = np.ascontiguousarray(sigs, dtype=np.uint32)
        keys = band_keys(self.sigs, bands, rows).T  # one contiguous row per band
        self.order = np.ascontiguousarray(np.argsort(keys, axis=1, kind="stable"))
        self.sorted = np.ascontiguousarray(np.take_along_axis(keys, self.order, axis=1))

    def candidates(self, keys: np.ndarray) -> set[int]:
        found: set[int] = set()
        bounds = np.empty(2, np.uint64)
        for j, k in enumerate(keys):
            bounds[0], bounds[1] = k, k + np.uint64(1)  # [k, k+1): one search per band
            lo, hi = self.sorted[j].searchsorted(bounds)
            if k == np.uint64(2**64 - 1):
                hi = len(self.sorted[j])
            if hi > lo:
                found.update((self.order[j, lo:hi] + self.first).tolist())
        return found

    def nbytes(self) -> int:
        return self.sigs.nbytes + self.order.nbytes + self.sorted.nbytes


class NearDupIndex:
    """MinHash LSH over signatures in a fixed order; ``match`` names the earliest one
    similar enough. Keys are positions: 0..n-1 for the signatures given at construction
    (earlier runs'), then n, n+1, ... in ``add`` order.

    Everything sits in sorted numpy band tables: the initial signatures in one, added
    ones in per-band dicts until ``FREEZE`` of them gather, then in a table of their own;
    the added tables are merged into one when there are more than ``MAX_TABLES``. So the
    index costs about 400 bytes per document however many are added, and a query a few
    dozen binary searches.

    >>> words = [a + b + c for a in "bcdfg" for b in "aeiou" for c in "klmnprst"]
    >>> base = " ".join(words)
    >>> idx = NearDupIndex(0.7, np.stack([signature(base)]))
    >>> idx.match(signature(base.replace(" caks ", " changed ")))
    0
    >>> other = signature(" ".join(reversed(words)))
    >>> idx.match(other) is None, idx.add(other), idx.match(other)
    (True, 1, 1)
    """

    FREEZE = 2048
    MAX_TABLES = 6

    def __init__(self, threshold: float = NEAR_DUP_THRESHOLD, initial: np.ndarray | None = None):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.bands, self.rows = band_params(threshold)
        base = np.empty((0, NUM_PERM), np.uint32) if initial is None else initial
        self._initial = _BandTable(base, 0, self.bands, self.rows)
        self._tables: list[_BandTable] = []  # frozen added signatures, in key order
        self._pending: list[np.ndarray] = []
        self._pending_bands: list[dict[int, list[int]]] = [{} for _ in range(self.bands)]
        self._size = len(base)

    def __len__(self) -> int:
        return self._size

    def nbytes(self) -> int:
        """Memory held by the index's arrays (the pending dicts aside)."""
        return self._initial.nbytes() + sum(t.nbytes() for t in self._tables)

    def add(self, sig: np.ndarray) -> int:
        key = self._size
        self._size += 1
        self._pending.append(sig)
        for table, band in zip(
            self._pending_bands, band_keys(sig, self.bands, self.rows)[0], strict=True
        ):
            table.setdefault(int(band), []).append(key)
        if len(self._pending) >= self.FREEZE:
            self._freeze()
        return key

    def _freeze(self) -> None:
        first = self._size - len(self._pending)
        self._tables.append(_BandTable(np.stack(self._pending), first, self.bands, self.rows))
        self._pending = []
        self._pending_bands = [{} for _ in range(self.bands)]
        if len(self._tables) > self.MAX_TABLES:
            merged = np.concatenate([t.sigs for t in self._tables])
            self._tables = [_BandTable(merged, self._tables[0].first, self.bands, self.rows)]

    def _signature(self, key: int) -> np.ndarray:
        for table in (self._initial, *self._tables):
            if table.first <= key < table.first + len(table.sigs):
                return table.sigs[key - table.first]
        return self._pending[key - (self._size - len(self._pending))]

    def match(self, sig: np.ndarray) -> int | None:
        """The earliest key whose signature is at least ``threshold`` similar, or None."""
        keys = band_keys(sig, self.bands, self.rows)[0]
        found: set[int] = set()
        for table in (self._initial, *self._tables):
            if len(table.sigs):
                found |= table.candidates(keys)
        for table, k in zip(self._pending_bands, keys, strict=True):
            found.update(table.get(int(k), ()))
        for key in sorted(found):
            if similarity(sig, self._signature(key)) >= self.threshold:
                return key
        return None
