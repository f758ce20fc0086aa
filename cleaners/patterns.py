"""Load the word lists and patterns in ``cleaners/data`` (one file per category).

Patterns are data, not code: a user adds a site's junk by adding a line to a file, or
points ``THRESHER_PATTERNS_DIR`` at a folder of extra files with the same names, whose
lines are added to the shipped ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any, NamedTuple

import hyperscan

from cleaners import shared_cache
from cleaners.multiscan import matches_found

DATA_DIR = Path(__file__).parent / "data"
# Entries of each per-paragraph cache (match keys, words, verdicts, normal forms): enough
# for a document's second pass and a site's recurring boilerplate, a few MB each.
CACHE_SIZE = 4096
EXTRA_DIR_ENV = "THRESHER_PATTERNS_DIR"
_log = logging.getLogger(__name__)

# Curly quotes and dashes are straightened before matching, so patterns are written in ASCII.
_STRAIGHTEN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)


@lru_cache(maxsize=CACHE_SIZE)
def match_key(text: str) -> str:
    """The form of a paragraph that patterns are matched against.

    >>> match_key("  It\\u2019s   a  \\u201ctest\\u201d ")
    'It\\'s a "test"'
    """
    return " ".join(text.translate(_STRAIGHTEN).split())  # as \s+ -> " ", then strip


def _files(name: str) -> list[Path]:
    files = [DATA_DIR / f"{name}.txt"]
    extra = os.environ.get(EXTRA_DIR_ENV)
    if extra and (Path(extra) / f"{name}.txt").is_file():
        files.append(Path(extra) / f"{name}.txt")
    return files


@cache
def lines(name: str) -> tuple[str, ...]:
    """The pattern lines of one category (comments and blanks dropped)."""
    out: list[str] = []
    for path in _files(name):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return tuple(out)


@cache
def whole(name: str) -> re.Pattern[str]:
    """One regex matching a paragraph that is entirely one of the category's entries
    (trailing punctuation such as ``:`` or ``.`` allowed).

    >>> bool(whole("related_header").match("Read more:"))
    True
    """
    body = "|".join(f"(?:{p})" for p in lines(name))
    return re.compile(rf"^\W*(?:{body})[\s.:!?»›>|\-]*$", re.IGNORECASE)


@cache
def each_whole(name: str) -> tuple[re.Pattern[str], ...]:
    """Each entry as its own whole-paragraph regex (for entries with named groups)."""
    return tuple(re.compile(rf"^\W*(?:{p})\W*$", re.IGNORECASE) for p in lines(name))


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


@cache
def any_whole(name: str) -> re.Pattern[str]:
    """One regex matching where some entry of ``each_whole(name)`` matches (named groups
    made plain so the entries compile together): the test before trying each one.

    >>> bool(any_whole("attribution").match("Reporting by Jane Doe"))
    True
    """
    body = "|".join(f"(?:{_NAMED_GROUP.sub('(?:', p)})" for p in lines(name))
    return re.compile(rf"^\W*(?:{body})\W*$", re.IGNORECASE)


@cache
def word_regex(name: str) -> re.Pattern[str]:
    """A regex of the category's entries as whole words or phrases (``a|b|c`` per line)."""
    body = "|".join(f"(?:{p})" for p in lines(name))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


# Categories whose entries ``found_in`` matches anywhere in a paragraph.
SEARCHED = ("cookie_banner", "promo", "caption")
# Prefilter mode (a superset of the matches, Python's ``re`` decides), every match
# reported (each is placed on its line by its end), ``^`` and ``$`` at line breaks: a
# document's match keys are scanned at once, joined by line breaks.
_PREFILTER = (
    hyperscan.HS_FLAG_PREFILTER
    | hyperscan.HS_FLAG_MULTILINE
    | hyperscan.HS_FLAG_CASELESS
    | hyperscan.HS_FLAG_UTF8
    | hyperscan.HS_FLAG_UCP
)
_UNSCANNED = "Hyperscan cannot compile it, even in prefilter mode (slower, same verdicts)"


class _SearchIndex(NamedTuple):
    database: Any  # None when no entry compiles
    spans: dict[str, range]  # each category's entry ids
    regexes: tuple[re.Pattern[str], ...]  # by entry id
    unscanned: frozenset[int]  # entries Hyperscan cannot take: tried on every paragraph


def _compile(expressions: list[str], ids: list[int]) -> Any:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[e.encode() for e in expressions],
        ids=ids,
        elements=len(ids),
        flags=[_PREFILTER] * len(ids),
    )
    return database


def _scannable(pattern: str) -> bool:
    try:
        _compile([pattern], [0])
    except hyperscan.error:
        return False
    return True


def _database(entries: list[str]) -> tuple[Any, frozenset[int]]:
    """The entries compiled into one database (2-4 s), and the ids of those that
    Hyperscan cannot compile; kept in the shared cache under a key of the entries and the
    machine, so later processes load it in milliseconds. A cached database this CPU
    cannot run (a cache folder shared between machines) is compiled again."""
    key = hashlib.sha256(
        "\n".join([hyperscan.__version__, platform.machine(), str(_PREFILTER), *entries]).encode()
    ).hexdigest()[:24]
    folder = shared_cache.entry(f"patterns-{key}")
    if folder is not None:
        try:
            unscanned = json.loads((folder / "unscanned.json").read_text())
            database = hyperscan.loadb(
                (folder / "search.hsdb").read_bytes(), hyperscan.HS_MODE_BLOCK
            )
            database.scan(b"probe", scratch=hyperscan.Scratch(database))  # runs on this CPU
            return database, frozenset(unscanned)
        except (OSError, ValueError, hyperscan.error):
            pass  # not cached yet, unreadable, or for another CPU: compile
    try:
        database, unscanned = _compile(entries, list(range(len(entries)))), frozenset()
    except hyperscan.error:  # one entry or more: find them, compile the others
        scanned = [k for k, pattern in enumerate(entries) if _scannable(pattern)]
        unscanned = frozenset(range(len(entries))) - frozenset(scanned)
        database = _compile([entries[k] for k in scanned], scanned) if scanned else None
    if folder is not None and database is not None:
        blob = hyperscan.dumpb(database)

        def write(staging: Path) -> None:
            (staging / "search.hsdb").write_bytes(blob)
            (staging / "unscanned.json").write_text(json.dumps(sorted(unscanned)))

        shared_cache.store(folder, write, "pattern database")
    return database, unscanned


@cache
def _search_index() -> _SearchIndex:
    """Every entry of the searched categories in one Hyperscan database, compiled in
    prefilter mode: a scan reports every entry that may match (a superset), and only
    those are tried with Python's ``re``, which decides. An entry Hyperscan cannot compile
    even so is tried on every paragraph, and named in a warning when the patterns load."""
    entries = [(name, pattern) for name in SEARCHED for pattern in lines(name)]
    spans, start = {}, 0
    for name in SEARCHED:
        spans[name] = range(start, start + len(lines(name)))
        start += len(lines(name))
    database, unscanned = _database([pattern for _, pattern in entries])
    for k in sorted(unscanned):
        name, pattern = entries[k]
        _log.warning("%s pattern %r is tried on every paragraph: %s", name, pattern, _UNSCANNED)
    regexes = tuple(re.compile(pattern, re.IGNORECASE) for _, pattern in entries)
    return _SearchIndex(database, spans, regexes, unscanned)


def entries_by_line(keys: Sequence[str]) -> list[frozenset[int]]:
    """For each paragraph of a document (match keys: no line breaks in them), the ids of
    the searched categories' entries that may occur in it (a superset of those that do):
    one Hyperscan scan of the whole document for all of them, each match placed on the
    line its last byte falls in.

    >>> promo = _search_index().spans["promo"]
    >>> [any(k in promo for k in ids) for ids in entries_by_line(
    ...     ["The council met.", "Subscribe to our newsletter", "Rain is due."])]
    [False, True, False]
    """
    index = _search_index()
    if index.database is None or not keys:
        return [index.unscanned] * len(keys)
    encoded = [key.encode("utf-8", "surrogatepass") for key in keys]
    # Offset just past each line's line break: a match whose last byte is at end - 1 is on
    # the first line whose break is at or after it.
    breaks = list(accumulate(len(line) + 1 for line in encoded))
    found: dict[int, set[int]] = {}
    for expression, end in matches_found(index.database, b"\n".join(encoded)):
        found.setdefault(bisect_left(breaks, end), set()).add(expression)
    return [
        index.unscanned.union(found[k]) if k in found else index.unscanned for k in range(len(keys))
    ]


@lru_cache(maxsize=CACHE_SIZE)
def entries_in(key: str) -> frozenset[int]:
    """The ids of the searched categories' entries that may occur in the paragraph
    ``key`` (``entries_by_line`` for one line).

    >>> promo = _search_index().spans["promo"]
    >>> any(k in promo for k in entries_in("Subscribe to our newsletter"))
    True
    """
    return entries_by_line([key])[0]


def found_among(name: str, key: str, ids: frozenset[int]) -> bool:
    """Whether an entry of category ``name`` occurs in the paragraph ``key``, trying
    only the entries ``ids`` (from ``entries_by_line``) with Python's ``re``, which
    decides."""
    if not ids:
        return False
    index = _search_index()
    span = index.spans.get(name)
    if span is None:
        raise KeyError(f"{name!r} is not one of patterns.SEARCHED, the categories found_in scans")
    return any(index.regexes[k].search(key) for k in sorted(ids) if k in span)


# Verdicts per (category, paragraph), cached: the registry's later passes see the same
# paragraphs again, and a site's boilerplate recurs across its pages.


@lru_cache(maxsize=CACHE_SIZE)
def found_in(name: str, key: str) -> bool:
    """Whether any entry of category ``name`` occurs in the paragraph ``key``. Python's
    ``re`` decides, but only for the entries the one Hyperscan scan of ``entries_in``
    reports, so most body paragraphs cost one scan and no regex at all.

    >>> found_in("promo", "Subscribe to our newsletter")
    True
    >>> found_in("cookie_banner", "This site uses cookies to improve it")
    True
    """
    if name not in SEARCHED:
        raise KeyError(f"{name!r} is not one of patterns.SEARCHED, the categories found_in scans")
    return found_among(name, key, entries_in(key))


@lru_cache(maxsize=CACHE_SIZE)
def is_whole(name: str, key: str) -> bool:
    """Whether the paragraph ``key`` is entirely one entry of category ``name``.

    >>> is_whole("share", "Share on Facebook"), is_whole("share", "Share the road")
    (True, False)
    """
    return whole(name).match(key) is not None
