"""Near-duplicate documents: MinHash signatures over word shingles, grouped with LSH.

The same story republished with small edits (a wire story on ten sites, a corrected
version) shares most of its word 5-grams. Each document's cleaned text gets a MinHash
signature (``signature``); ``NearDupIndex`` finds, for each new document, the earliest
indexed document whose estimated Jaccard similarity reaches the threshold. Signatures are
arrays of ``NUM_PERM`` uint32 values, stored in ``documents.minhash`` so later runs can
match against them. Pure: no I/O; datasketch supplies the hashing and the LSH bands.
"""

from __future__ import annotations

from collections.abc import Hashable

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


def _minhash(hashvalues: np.ndarray | None = None) -> MinHash:
    return MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashvalues=hashvalues,
        permutations=_TEMPLATE.permutations,
        scheme=SCHEME,
    )


def shingles(text: str, size: int = SHINGLE_WORDS) -> list[bytes]:
    """The distinct word ``size``-grams of the normalised text (one shingle if shorter).

    >>> shingles("The cat sat on the mat today", 5)
    [b'the cat sat on the', b'cat sat on the mat', b'sat on the mat today']
    >>> shingles("Too short", 5)
    [b'too short']
    >>> shingles("   ")
    []
    """
    words = normalise_for_hash(text).split()
    if not words:
        return []
    if len(words) <= size:
        return [" ".join(words).encode()]
    grams = (" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    return list(dict.fromkeys(g.encode() for g in grams))


def signature(text: str) -> np.ndarray | None:
    """MinHash signature (``NUM_PERM`` uint32) of a text's shingles; None for no words.

    >>> a = signature("The council approved the new budget for schools on Tuesday night")
    >>> a.dtype, a.shape
    (dtype('uint32'), (64,))
    >>> b = signature("the COUNCIL approved the new budget for schools, on Tuesday night")
    >>> bool((a == b).all())
    True
    """
    grams = shingles(text)
    if not grams:
        return None
    mh = _minhash()
    mh.update_batch(grams)
    return np.asarray(mh.hashvalues, dtype=np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal signature slots."""
    return float(np.count_nonzero(a == b)) / len(a)


class NearDupIndex:
    """Documents added in a fixed order; ``match`` names the earliest near-duplicate.

    >>> idx = NearDupIndex(0.7)
    >>> base = " ".join(f"word{i}" for i in range(200))
    >>> idx.add("a", signature(base))
    >>> idx.match(signature(base.replace("word50 ", "changed ")))
    'a'
    >>> idx.match(signature(" ".join(f"other{i}" for i in range(200)))) is None
    True
    """

    def __init__(self, threshold: float = NEAR_DUP_THRESHOLD) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._keys: list[Hashable] = []
        self._sigs: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Hashable, sig: np.ndarray) -> None:
        n = len(self._keys)
        self._keys.append(key)
        self._sigs.append(sig)
        self._lsh.insert(n, _minhash(sig), check_duplication=False)

    def match(self, sig: np.ndarray) -> Hashable | None:
        """The earliest added key whose signature is at least ``threshold`` similar."""
        for n in sorted(self._lsh.query(_minhash(sig))):
            if similarity(sig, self._sigs[n]) >= self.threshold:
                return self._keys[n]
        return None
