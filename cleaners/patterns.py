"""Load the word lists and patterns in ``cleaners/data`` (one file per category).

Patterns are data, not code: a user adds a site's junk by adding a line to a file, or
points ``THRESHER_PATTERNS_DIR`` at a folder of extra files with the same names, whose
lines are added to the shipped ones.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
EXTRA_DIR_ENV = "THRESHER_PATTERNS_DIR"

# Curly quotes and dashes are straightened before matching, so patterns are written in ASCII.
_STRAIGHTEN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)
_SPACES = re.compile(r"\s+")


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
def anywhere(name: str) -> re.Pattern[str]:
    """One regex finding any of the category's entries anywhere in a paragraph.

    >>> bool(anywhere("cookie_banner").search("This site uses cookies to improve it"))
    True
    """
    body = "|".join(f"(?:{p})" for p in lines(name))
    return re.compile(body, re.IGNORECASE)


@cache
def each_whole(name: str) -> tuple[re.Pattern[str], ...]:
    """Each entry as its own whole-paragraph regex (for entries with named groups)."""
    return tuple(re.compile(rf"^\W*(?:{p})\W*$", re.IGNORECASE) for p in lines(name))


@cache
def words(name: str) -> re.Pattern[str]:
    """A regex of the category's entries as whole words or phrases (``a|b|c`` per line)."""
    body = "|".join(f"(?:{p})" for p in lines(name))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)
