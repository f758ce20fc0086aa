"""Load the word lists and patterns in ``cleaners/data`` (one file per category).

Patterns are data, not code: a user adds a site's junk by adding a line to a file, or
points ``THRESHER_PATTERNS_DIR`` at a folder of extra files with the same names, whose
lines are added to the shipped ones.
"""

from __future__ import annotations

import os
import re
from functools import cache, lru_cache
from pathlib import Path
from re import _constants as _sre_constants
from re import _parser as _sre_parser
from typing import Any

import hyperscan

from cleaners.multiscan import ids_found

DATA_DIR = Path(__file__).parent / "data"
# Entries of each per-paragraph cache (match keys, words, verdicts, normal forms): enough
# for a document's second pass and a site's recurring boilerplate, a few MB each.
CACHE_SIZE = 4096
EXTRA_DIR_ENV = "THRESHER_PATTERNS_DIR"

# Curly quotes and dashes are straightened before matching, so patterns are written in ASCII.
_STRAIGHTEN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=CACHE_SIZE)
def match_key(text: str) -> str:
    """The form of a paragraph that patterns are matched against.

    >>> match_key("  It\\u2019s   a  \\u201ctest\\u201d ")
    'It\\'s a "test"'
    """
    return _SPACES.sub(" ", text.translate(_STRAIGHTEN)).strip()


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


# Verdicts per (category, paragraph), cached: the registry's later passes see the same
# paragraphs again, and a site's boilerplate recurs across its pages.


@lru_cache(maxsize=CACHE_SIZE)
def found_in(name: str, key: str) -> bool:
    """Whether any entry of category ``name`` occurs in the paragraph ``key``.

    Each entry is tried only when the paragraph contains one of the literal words that
    every match of that entry must contain (``required_literals``). Which literals a
    paragraph contains is found in one pass for every category at once (``literals_in``,
    a Hyperscan database of all of them), so most body paragraphs cost one scan and no
    regex at all.

    >>> found_in("promo", "Subscribe to our newsletter")
    True
    >>> found_in("cookie_banner", "This site uses cookies to improve it")
    True
    """
    present = literals_in(key.lower())
    by_literal, ungated = _entries_by_literal(name)
    if not present and not ungated:
        return False  # none of the category's literals: most body paragraphs stop here
    gated = _gated(name)
    candidates = set(ungated)
    for literal in present:
        candidates.update(by_literal.get(literal, ()))
    return any(gated[k][1].search(key) for k in sorted(candidates))


@cache
def _entries_by_literal(name: str) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """For each gating literal, the category's entries it gates; and the entries with no
    literal (tried on every paragraph)."""
    by_literal: dict[str, list[int]] = {}
    ungated = []
    for k, (literals, _) in enumerate(_gated(name)):
        if literals is None:
            ungated.append(k)
        for literal in literals or ():
            by_literal.setdefault(literal, []).append(k)
    return {w: tuple(ks) for w, ks in by_literal.items()}, tuple(ungated)


@cache
def _gated(name: str) -> tuple[tuple[tuple[str, ...] | None, re.Pattern[str]], ...]:
    return tuple((required_literals(p), re.compile(p, re.IGNORECASE)) for p in lines(name))


# Categories whose entries ``found_in`` matches anywhere in a paragraph.
SEARCHED = ("cookie_banner", "promo", "caption")


@cache
def _literal_database() -> tuple[Any, tuple[str, ...]]:
    """Every gating literal of the searched categories in one Hyperscan database (each
    reported once per scan), and the literal of each id."""
    literals = tuple(
        sorted({w for name in SEARCHED for lits, _ in _gated(name) if lits for w in lits})
    )
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[w.encode() for w in literals],
        ids=list(range(len(literals))),
        elements=len(literals),
        flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(literals),
        literal=True,
    )
    return database, literals


@lru_cache(maxsize=CACHE_SIZE)
def literals_in(low: str) -> frozenset[str]:
    """The gating literals (``required_literals`` of the searched categories) that occur
    in a lower-cased paragraph.

    >>> sorted(literals_in("we use cookies to improve it"))
    [' cookie', ' cookies', 'cookie', 'cookies']
    """
    database, literals = _literal_database()
    found = ids_found(database, low.encode("utf-8", "surrogatepass"))
    return frozenset(literals[i] for i in found)


# A literal shorter than this is too common to be worth testing first.
_MIN_LITERAL = 3
_MAX_LANGUAGE = 256


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Lower-case strings one of which every match of ``pattern`` contains, or None when
    the pattern has no such literal of at least three characters.

    >>> required_literals(r"\\b(use|uses|using) (of )?cookies\\b")
    (' cookies',)
    >>> required_literals(r"\\b(photo|image)\\s*:")
    ('image', 'photo')
    >>> required_literals(r"(^|\\s)/[^/]+$") is None
    True
    """
    try:
        items = list(_sre_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - a parser change only costs speed: test every paragraph
        return None
    usable = []
    for candidate in _candidates(items):
        common = _common_substring(candidate)
        for option in (candidate, {common}):
            if option and min(map(len, option)) >= _MIN_LITERAL:
                usable.append(option)
    if not usable:
        return None
    # Fewest strings to test, then the longest; a literal under five characters ("we ")
    # lets most paragraphs through, so it counts as ten.
    best = min(
        usable,
        key=lambda o: (len(o) + (10 if min(map(len, o)) < 5 else 0), -min(map(len, o))),
    )
    return tuple(sorted(best))


def _common_substring(strings: set[str]) -> str:
    """The longest substring every string contains ("" if none)."""
    shortest = min(strings, key=len)
    for size in range(len(shortest), 0, -1):
        for start in range(len(shortest) - size + 1):
            part = shortest[start : start + size]
            if all(part in s for s in strings):
                return part
    return ""


def _candidates(items: list) -> list[set[str]]:
    """Sets of literals from runs of a sequence: every match contains one of each set."""
    out: list[set[str]] = []
    run: set[str] | None = {""}
    for op, av in items:
        if op is _sre_constants.AT:
            continue
        finite = _finite([(op, av)])
        if finite is not None and run is not None and len(run) * len(finite) <= _MAX_LANGUAGE:
            run = {a + b for a in run for b in finite}
            continue
        if run and "" not in run:
            out.append(run)
        run = {""}
    if run and "" not in run:
        out.append(run)
    return out


def _finite(items: list) -> set[str] | None:
    """Every string a piece of pattern can match, lower-cased, if finitely few."""
    strings = {""}
    for op, av in items:
        if op is _sre_constants.LITERAL:
            part: set[str] | None = {chr(av).lower()}
        elif op is _sre_constants.AT:
            continue
        elif op is _sre_constants.SUBPATTERN:
            part = _finite(list(av[3]))
        elif op is _sre_constants.BRANCH:
            alts = [_finite(list(alt)) for alt in av[1]]
            part = None if any(a is None for a in alts) else set().union(*alts)  # type: ignore[arg-type]
        elif op is _sre_constants.MAX_REPEAT and av[0] == 0 and av[1] == 1:
            inner = _finite(list(av[2]))
            part = None if inner is None else inner | {""}
        else:
            return None
        if part is None or len(strings) * len(part) > _MAX_LANGUAGE:
            return None
        strings = {a + b for a in strings for b in part}
    return strings


@lru_cache(maxsize=CACHE_SIZE)
def is_whole(name: str, key: str) -> bool:
    """Whether the paragraph ``key`` is entirely one entry of category ``name``.

    >>> is_whole("share", "Share on Facebook"), is_whole("share", "Share the road")
    (True, False)
    """
    return whole(name).match(key) is not None
