"""Find and parse the dates that datelines carry ("Updated 01:23, 21-Nov-2024").

Recognising that a span is a date is done here with patterns over month names in several
languages; turning it into a datetime is python-dateutil's job. Naive times are UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from dateutil import parser as date_parser

from cleaners import patterns
from cleaners.patterns import CACHE_SIZE, DATA_DIR

# Month names and abbreviations in the languages of cleaners/data/months.json, mapped to
# the English abbreviation dateutil reads.
MONTHS: dict[str, str] = {}
for english, names in json.loads((DATA_DIR / "months.json").read_text("utf-8")).items():
    if not english.startswith("_"):
        for name in names:
            MONTHS.setdefault(name, english)

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_TIME = r"\d{1,2}[:.h]\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?"
_YEAR_FIRST_DATE = r"(\d{4})[./](\d{1,2})[./](\d{1,2})"  # "2025/4/29", "2025.12.17"
_DATE_PATTERNS = [
    # "26 de diciembre de 2025": Spanish and Portuguese join day, month and year with "de"
    rf"\d{{1,2}}(?:st|nd|rd|th|\.)?[\s\-/]*(?:de\s+)?(?:{_MONTH})\.?[\s\-/,]*(?:de\s+)?\d{{2,4}}",
    rf"(?:{_MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}",
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?",
    rf"{_YEAR_FIRST_DATE}(?!\d)",
    r"(?<!\d)\d{1,2}[./]\d{1,2}[./]\d{2,4}",
]
DATE = re.compile("|".join(f"(?:{p})" for p in _DATE_PATTERNS), re.IGNORECASE)
# What every match of the first two patterns holds (month names are letters only): a
# digit, then letters, then a digit; a space, a day and a year. ``has_date`` tries such a
# pattern only where its test passes: Python's ``re`` tries the whole month alternation at
# every position of a line, 70 µs a line for the month-first pattern.
_NEEDS: tuple[str | None, ...] = (
    r"\d(?:st|nd|rd|th|\.)?[\s\-/]*(?:de\s+)?[^\W\d_]+\.?[\s\-/,]*(?:de\s+)?\d",
    r"\s\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}",
    None,
    None,
    None,
)
_DATE_TESTS = tuple(
    (None if need is None else re.compile(need, re.IGNORECASE), re.compile(p, re.IGNORECASE))
    for need, p in zip(_NEEDS, _DATE_PATTERNS, strict=True)
)
TIME = re.compile(rf"(?<![\d:]){_TIME}(?![\d:])", re.IGNORECASE)
# "3 hours ago" and its kin: a count, a unit, and the word that makes it past.
_AGO_UNITS: dict[str, timedelta] = {
    word: timedelta(**{unit: 1})
    for unit, words in json.loads((DATA_DIR / "time_units.json").read_text("utf-8")).items()
    if not unit.startswith("_")
    for word in words
}
# An age ("3 hours", "5 min", "3 minuti"): a count and a unit of ``time_units.json``, or
# months, too vague to date a page by but an age all the same.
_UNIT = "|".join(sorted(map(re.escape, _AGO_UNITS), key=len, reverse=True))
RELATIVE = re.compile(
    rf"\b\d+\s*(?:{_UNIT}|months?)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_YEAR_FIRST = re.compile(_YEAR_FIRST_DATE)
_MONTH_WORD = re.compile(rf"(?<!\w)({_MONTH})\.?(?!\w)", re.IGNORECASE)


def is_month(word: str) -> bool:
    """Whether a word is a month's name or abbreviation in a language of ``months.json``
    (case and a trailing full stop aside).

    >>> is_month("Dec."), is_month("März"), is_month("Smith")
    (True, True, False)
    """
    return word.lower().rstrip(".") in MONTHS


def strip_dates(text: str) -> str:
    """Remove dates, times and relative ages from text, leaving the words around them.

    >>> strip_dates("Updated 01:23, 21-Nov-2024")
    'Updated , '
    """
    return RELATIVE.sub("", TIME.sub("", DATE.sub("", text)))


@lru_cache(maxsize=CACHE_SIZE)
def has_date(text: str) -> bool:
    """Whether text states a date, a time or an age (cached: every pass of cleaning asks
    again for the lines still standing).

    >>> has_date("Published 3 hours ago"), has_date("No date here")
    (True, False)
    """
    # Every date, time and age pattern holds a digit: one scan for a digit first (most
    # paragraphs have none) spares the three pattern searches.
    if not _DIGIT.search(text):
        return False
    # ``DATE`` matches somewhere exactly when one of its alternatives does.
    dated = any(
        (need is None or need.search(text)) and pattern.search(text)
        for need, pattern in _DATE_TESTS
    )
    return bool(dated or TIME.search(text) or RELATIVE.search(text))


# An all-numeric date ("8/1/2025", "19.12.2025"): day and month in either order, not
# preceded by a digit, "." or "/" (``_NUMERIC_AFTER``: tested on each match, since a
# pattern opening with that look-behind is tried at every position of the page, 2x
# slower; a match it rejects holds only digits and separators, so no match hides in it).
_NUMERIC_DATE = re.compile(r"(\d{1,2})([./])(\d{1,2})\2(\d{2,4})(?![\d./])")
_NUMERIC_AFTER = frozenset("0123456789./")


def numeric_order(text: str) -> bool | None:
    """How a page writes its all-numeric dates: True when some put the month first
    ("12/19/2025") and none the day, False for the reverse ("19/12/2025", "19.12.2025"),
    None when the page gives no evidence (only dates both ways could read, or both
    orders). A page keeps one order, so its unambiguous dates tell how to read "8/1/2025".

    >>> numeric_order("Posted 12/19/2025 | Updated 8/1/2025"), numeric_order("am 19.12.2025")
    (True, False)
    >>> numeric_order("8/1/2025") is None
    True

    A run of digits and separators longer than a date is none ("v3.19/12/2025"):

    >>> numeric_order("v3.19/12/2025") is None, numeric_order("v3 19/12/2025")
    (True, False)
    """
    month_first = day_first = False
    for m in _NUMERIC_DATE.finditer(text):
        if m.start() and text[m.start() - 1] in _NUMERIC_AFTER:
            continue
        first, second = int(m.group(1)), int(m.group(3))
        if first > 12 >= second:
            day_first = True
        elif second > 12 >= first:
            month_first = True
    if month_first != day_first:
        return month_first
    return None


def writes_month_first(lines: Iterable[str]) -> bool:
    """Whether a page's lines show that it writes numeric dates month first
    (``numeric_order``).

    >>> writes_month_first(["Posted 12/19/2025", "8/1/2025"]), writes_month_first(["8/1/2025"])
    (True, False)
    """
    return numeric_order("\n".join(lines)) is True


def parse_date(text: str, month_first: bool = False) -> datetime | None:
    """The absolute date and time a dateline states, as UTC, or None. An all-numeric
    date is read day first ("8/1/2025": 8 January) unless ``month_first`` (the page's
    ``numeric_order``) says the page writes the month first.

    >>> parse_date("Updated 01:23, 21-Nov-2024")
    datetime.datetime(2024, 11, 21, 1, 23, tzinfo=datetime.timezone.utc)
    >>> parse_date("21. November 2024 um 10.15 Uhr")
    datetime.datetime(2024, 11, 21, 10, 15, tzinfo=datetime.timezone.utc)
    >>> parse_date("Aktualisiert am 20.11.2026, 14:30 Uhr")
    datetime.datetime(2026, 11, 20, 14, 30, tzinfo=datetime.timezone.utc)
    >>> parse_date("Published: 2025.12.17 | essays").date(), parse_date("- 2025/4/29").date()
    (datetime.date(2025, 12, 17), datetime.date(2025, 4, 29))
    >>> parse_date("Published 3 hours ago") is None
    True
    >>> parse_date("8/1/2025").date(), parse_date("8/1/2025", month_first=True).date()
    (datetime.date(2025, 1, 8), datetime.date(2025, 8, 1))
    """
    date = DATE.search(text)
    if not date:
        return None
    span = _MONTH_WORD.sub(lambda m: MONTHS[m.group(1).lower()], date.group(0))
    year_first = _YEAR_FIRST.fullmatch(span)
    if year_first:  # "2025/4/29", "2025.12.17": as ISO, which dateutil reads one way only
        span = "{}-{:0>2}-{:0>2}".format(*year_first.groups())
    time = TIME.search(text[: date.start()] + " " + text[date.end() :])
    clock = re.sub(r"(\d)[.h](\d)", r"\1:\2", time.group(0)) if time else ""
    numeric = bool(re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", date.group(0)))
    try:
        parsed = date_parser.parse(
            f"{span} {clock}".strip(), dayfirst=numeric and not month_first, fuzzy=True
        )
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# A count and a unit; the word that makes it past is tested apart (``_PAST_WORD``).
_AGO = re.compile(
    rf"\b(\d{{1,3}})\s*({_UNIT})\b",
    re.IGNORECASE,
)
_PAST_WORD = patterns.word_regex("past_word")


def parse_relative(text: str, now: datetime) -> datetime | None:
    """The time a relative dateline ("Published 3 hours ago", "vor 2 Tagen", "il y a 5
    minutes") states, counted back from ``now`` (the page's ``fetched_at``): to the minute
    for seconds to hours, to the day for days and weeks. None without a count, a unit and
    a word that makes it past; months and years are too vague to give a day.

    >>> now = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    >>> parse_relative("Published 3 hours ago", now)
    datetime.datetime(2026, 11, 20, 7, 30, tzinfo=datetime.timezone.utc)
    >>> parse_relative("Aktualisiert vor 2 Tagen", now)
    datetime.datetime(2026, 11, 18, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_relative("3 hours of talks", now) is None
    True
    """
    if not _PAST_WORD.search(text):
        return None
    match = _AGO.search(text)
    if not match:
        return None
    step = _AGO_UNITS[match.group(2).lower()]
    when = now.astimezone(UTC) - int(match.group(1)) * step
    if step >= timedelta(days=1):
        when = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(second=0, microsecond=0)


def parse_timestamp(value: object) -> datetime | None:
    """A sidecar's timestamp (ISO text, epoch seconds or datetime) as UTC; None if empty.

    Raises ValueError for a value that is not a date, and for one that names no whole
    calendar date on its own ("Tuesday", "12:30", "Dec 5"): it would be read against
    today's clock, and a re-run on another day would store another date.

    >>> parse_timestamp("2024-11-21T01:23:00+01:00")
    datetime.datetime(2024, 11, 21, 0, 23, tzinfo=datetime.timezone.utc)
    >>> parse_timestamp("21 November 2024 10:30")
    datetime.datetime(2024, 11, 21, 10, 30, tzinfo=datetime.timezone.utc)
    >>> parse_timestamp("Dec 5")
    Traceback (most recent call last):
    ...
    ValueError: 'Dec 5' is not an absolute date: it needs the year, month and day
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        parsed = date_parser.isoparse(value) if value[:4].isdigit() else _absolute(value)
    else:
        raise ValueError(f"not a date: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# Two defaults that differ in every calendar field: a date parsed the same against both
# took none of its fields from the default, so it is absolute.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


def _absolute(value: str) -> datetime:
    first, second = (date_parser.parse(value, default=d) for d in _DEFAULTS)
    if first != second:
        raise ValueError(f"{value!r} is not an absolute date: it needs the year, month and day")
    return first
