"""The language of a document's cleaned text, as an ISO 639-1 code, or None when the text is
too short or too mixed to tell.

Detection is py3langid's (a maintained fork of langid.py by trafilatura's author: a naive
Bayes model over byte n-grams for about 140 languages, shipped inside its wheel, so
nothing is downloaded at run time; about 0.5 ms for the 2,000 characters read, its
automaton walked by compiled code). Its probabilities
are normalised, which gives the refusal rule: a language is stated only with at least
``MIN_CONFIDENCE`` and ``MIN_WORDS`` words of text behind it.
"""

from __future__ import annotations

import io
import logging
import lzma
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cleaners import shared_cache

LOG = logging.getLogger(__name__)

# Fewer words than this is a label, a button or a headline: no language is guessed.
MIN_WORDS = 5
# The normalised probability a language needs (more than half the mass) to be stated.
MIN_CONFIDENCE = 0.5
# The first characters are enough to tell a language; the rest costs time only.
MAX_CHARS = 2_000
_WORD = re.compile(r"[^\W\d_]{2,}")
_CODE = re.compile(r"^[a-z]{2}$")


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


@cache
def _identifier() -> Any | None:
    """py3langid's identifier with normalised probabilities, made once per process, or
    None when its model cannot be read (logged once: the documents go on without a
    detected language)."""
    from py3langid.langid import RAW_FLOOR, LanguageIdentifier
    from py3langid.modelio import _to_array

    class CompiledWalk(LanguageIdentifier):  # type: ignore[misc]
        """py3langid's identifier, its automaton walked by compiled code
        (``kernels.dfa_visits``: py3langid walks it in a Python loop, a byte at a time,
        1.3 ms for the 2,000 characters read) over the model's own arrays, mapped from
        the cache rather than copied. The same features in the same order, so the same
        scores to the bit."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # py3langid's own row offsets and feature ids, as arrays the loop can read.
            self._walk_rowbase = np.asarray(self._rowbase, dtype=np.int64)
            self._walk_output = np.asarray(self.tk_output, dtype=np.int64)
            self._features = int(self._walk_output.max()) + 1

        def _raw_score(self, text: bytes) -> np.ndarray:
            from cleaners.kernels import dfa_visits

            idx, counts = dfa_visits(
                self.tk_nextmove,
                self._walk_rowbase,
                self._walk_output,
                self._features,
                np.frombuffer(text, np.uint8),
            )
            if len(idx):
                return np.log1p(counts) @ self.nb_ptc[idx] + self.nb_pc
            fill = 0.0 if self._norm_probs else RAW_FLOOR
            return np.full(len(self.nb_classes), fill, dtype=np.float32)

    try:
        model = _model_arrays()
        return CompiledWalk(
            model["ptc"],
            model["pc"],
            model["classes"].tolist(),
            model["nextmove"],
            model["out_feat"].tolist(),
            norm_probs=True,
            tk_row=_to_array(model["nextmove_row"]),
        )
    except (OSError, MemoryError, ValueError, KeyError, lzma.LZMAError) as exc:
        LOG.warning("language detection is off: py3langid's model could not be read: %s", exc)
        return None


def _model_arrays() -> dict[str, np.ndarray]:
    """The model's arrays. The wheel holds them xz-compressed (about 1 s to unpack, and
    py3langid's own loader unpacks through a 68 MB temporary file, which fails on a full
    disk): they are unpacked in memory once and kept as plain ``.npy`` files in the cache
    folder (``$THRESHER_CACHE_DIR``, else ``$XDG_CACHE_HOME/thresher`` or
    ``~/.cache/thresher``), which every later process maps in a few milliseconds and
    shares. Without a writable cache folder each process unpacks its own copy."""
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    folder = shared_cache.entry(f"py3langid-{py3langid.__version__}")
    if folder is not None:
        try:
            return {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        except (OSError, ValueError):
            pass  # not cached yet (or unreadable): unpack
    raw = lzma.decompress((MODEL_DIR / MODEL_FILE).read_bytes())
    with np.load(io.BytesIO(raw), allow_pickle=False) as packed:
        arrays = {name: packed[name] for name in _ARRAYS}
    if folder is not None:
        shared_cache.store(folder, lambda staging: _save(staging, arrays), "language model")
    return arrays


def _save(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when it has fewer than
    ``MIN_WORDS`` words or the detector is not sure enough.

    >>> detect_language("Der Gemeinderat hat am Montag den neuen Haushalt beschlossen.")
    'de'
    >>> detect_language("Read more") is None
    True
    """
    sample = text[:MAX_CHARS]
    if len(_WORD.findall(sample)) < MIN_WORDS:
        return None
    identifier = _identifier()
    if identifier is None:
        return None
    code, confidence = identifier.classify(sample)
    if confidence < MIN_CONFIDENCE or not _CODE.match(code):
        return None  # not sure, or not a language with a two-letter code
    return str(code)


def language_code(value: Any) -> str | None:
    """A stated language (a sidecar's, a record's, a page's ``lang``) as the ISO 639-1
    code of its primary subtag: ``en-GB`` and ``EN_gb`` give ``en``; a value that has no
    two-letter primary subtag is kept as given, lower-cased.

    >>> language_code("en-GB"), language_code(" DE "), language_code("gsw"), language_code("")
    ('en', 'de', 'gsw', None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary or None
