"""The publication date of a plain-text page, chosen by a learned picker among the dates
the lines around the body's start state.

The dateline rule (``detectors.find_dateline``) takes the first line that is a date and
little else, wherever the rules' rough body region puts it: on real scrapes it takes a
comment's date, a related story's or today's date in the site's header as often as the
article's, and it reads nothing from a line that holds more than a date ("Susan December
9, 2024 0 Comments", "Posted on December 20, 2025 by ...", "December 15, 2025 · 30 min ·
6279 words · Ash Vardanian"). ``pick_published`` lists every absolute date stated in the
short lines that are not sentences from ``ABOVE`` lines above the first pass's body start
to ``BELOW`` lines into it, the same around the start of the body's longest run
(``title.main_run``), near that run's end and on the lines the dateline rule removed
(each date of a line apart: "Published: Mar 8, 2024 · Modified: May 19, 2025" gives
two), describes each (``published_features``: where it sits against the body, its
longest run's ends and the headline, the line's shape and reason code, the words
before the date in its line, an update or a publication word, a byline beside it, how it
ranks against the other dates of the page) and a small tree ensemble, trained by
``cleaners/train_scorer.py`` on wcxb-dev's gold dates, scores each; the best is the
publication date when its probability reaches ``MIN_PROBABILITY``. Relative dates ("3
hours ago") are left to the rules, which count them back from ``fetched_at``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np

from cleaners import dates, patterns, scorer
from cleaners.page import ends_sentence, word_count, words
from cleaners.title import body_start, lines_near_body

PUBLISHED_MODEL_PATH = Path(__file__).parent / "data" / "published_model.npz"
# Lines this far above the body's first kept line, or this far into it (and the same
# around the start of the body's longest run, and under its end:
# ``title.lines_near_body``).
ABOVE = 40
BELOW = 10
# A line longer than this, or one that ends a sentence, is prose (a date in it is what
# the text is about).
MAX_WORDS = 30
# At most this many dates are read from one line.
DATES_PER_LINE = 3
# Below this probability no date is taken: the rules' date, if any, stays. Chosen on the
# cross-validated trade-off (``train_published``; out-of-fold picks with the rules behind
# them on wcxb-dev's articles: the right day on 0.733, 0.732, 0.730 and 0.721 of the dated
# ones at 0.1, 0.2, 0.3 and 0.5, against 0.694 for the rules alone; a date given to 19.5%
# of the undated ones up to 0.3 and 18.7% from 0.4, 18.7% by the rules alone).
MIN_PROBABILITY = 0.2
# "from_headline" when no headline was picked.
NO_HEADLINE = -99
REASON_COLUMNS: tuple[str, ...] = (
    "dateline",
    "byline",
    "title",
    "not_body",
    "nav",
    "related_link",
    "caption",
    "duplicate",
    "section",
    "promo",
)
FEATURE_NAMES: tuple[str, ...] = (
    "offset",
    "from_headline",
    "line_words",
    "words_besides_dates",
    "only_date",
    "date_index",
    "dates_in_line",
    "updated_before",
    "dateline_word_before",
    "byline_in_line",
    "has_time",
    "year_first",
    "numeric",
    *(f"reason:{r}" for r in REASON_COLUMNS),
    "kept",
    "probability",
    "candidates",
    "days_after_earliest",
    "days_before_latest",
    "same_day_count",
    "rank_in_page",
    "main_offset",
    "from_end",
)


def _dates_in(key: str, month_first: bool = False) -> list[tuple[datetime, int, int]]:
    """The absolute dates a line states, as (date, start, end of its span), in order
    (each read with the time around it, if any; an all-numeric one month first if
    ``month_first``).

    >>> [(d.date().isoformat(), s) for d, s, _ in _dates_in("Published: Mar 8, 2024 · "
    ...                                                     "Modified: May 19, 2025")]
    [('2024-03-08', 11), ('2025-05-19', 35)]
    >>> _dates_in("Updated 01:23, 21-Nov-2024")[0][0].isoformat()
    '2024-11-21T01:23:00+00:00'
    """
    found = []
    previous_end = 0
    for m in dates.DATE.finditer(key):
        # from the end of the date before: the first date there is this one, and a time
        # on either side of it goes with it ("Updated 01:23, 21-Nov-2024")
        when = dates.parse_date(key[previous_end:], month_first)
        previous_end = m.end()
        if when is not None:
            found.append((when, m.start(), m.end()))
        if len(found) == DATES_PER_LINE:
            break
    return found


def published_features(
    paragraphs: Sequence[str],
    reasons: Sequence[str | None],
    probability: Sequence[float],
    headline: int | None,
) -> tuple[list[tuple[int, datetime]], np.ndarray]:
    """The dates stated near the body's start, as (line, date), and one row of
    ``FEATURE_NAMES`` each. ``reasons`` and ``probability`` are the first pass's, as for
    ``title.title_features``; ``headline`` is the line the headline picker chose."""
    start = body_start(reasons)
    window, main, last = lines_near_body(
        paragraphs, reasons, ABOVE, BELOW, with_end=True, rule="dateline"
    )
    updated = patterns.word_regex("updated")
    heading = patterns.word_regex("dateline")
    byline = patterns.word_regex("byline")
    month_first: bool | None = None  # the page's numeric order, read at the first date
    found: list[tuple[int, datetime]] = []
    rows: list[list[float]] = []
    for i in sorted(window):
        key = patterns.match_key(paragraphs[i])
        count = word_count(key)
        if count > MAX_WORDS or ends_sentence(key) or not dates.has_date(key):
            continue
        if reasons[i] == "caption":
            continue  # a picture's date ("mardi 24 novembre 2026. | OUEST-FRANCE")
        if month_first is None:
            month_first = dates.writes_month_first(paragraphs)
        stated = _dates_in(key, month_first)
        undated = dates.strip_dates(key)
        line = [
            count,
            len(words(undated)),
            not words(heading.sub(" ", undated)),
        ]
        marks = [bool(byline.search(key)), bool(dates.TIME.search(key))]
        p = probability[i]
        previous_end = 0
        for k, (when, begin, end) in enumerate(stated):
            before = key[previous_end:begin]
            previous_end = end
            span = key[begin:end]
            found.append((i, when))
            rows.append(
                [
                    i - start,
                    NO_HEADLINE if headline is None else i - headline,
                    *line,
                    k,
                    len(stated),
                    bool(updated.search(before)),
                    bool(heading.search(before)),
                    *marks,
                    span[:4].isdigit(),
                    not any(c.isalpha() for c in span),
                    *(reasons[i] == r for r in REASON_COLUMNS),
                    reasons[i] is None,
                    -1.0 if math.isnan(p) else p,
                    0,
                    0,
                    0,
                    0,
                    0,
                    i - main,
                    i - last,
                ]
            )
    x = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
    if found:
        _compare_dates(x, [when for _, when in found])
    return found, x


_CANDIDATES = FEATURE_NAMES.index("candidates")


def _compare_dates(x: np.ndarray, stated: list[datetime]) -> None:
    """Fill the columns that compare each date with the others: how many there are, how
    many days after the earliest and before the latest it falls, how many state the same
    day, and its rank from the earliest (0)."""
    days = np.array([when.toordinal() for when in stated], dtype=np.float64)
    x[:, _CANDIDATES] = len(stated)
    x[:, _CANDIDATES + 1] = days - days.min()
    x[:, _CANDIDATES + 2] = days.max() - days
    x[:, _CANDIDATES + 3] = [(days == d).sum() for d in days]
    order = np.unique(days)
    x[:, _CANDIDATES + 4] = np.searchsorted(order, days)


@cache
def shipped_published_model() -> scorer.TreeEnsemble:
    """The model shipped in ``data/published_model.npz`` (read once per process)."""
    return scorer.read_model(PUBLISHED_MODEL_PATH, FEATURE_NAMES)


def pick_published(
    paragraphs: Sequence[str],
    reasons: Sequence[str | None],
    probability: Sequence[float],
    headline: int | None,
    fetched_at: datetime | None = None,
) -> tuple[datetime, int, float] | None:
    """The publication date, the line it was read from and the model's probability, or
    None when no date is likely enough (``MIN_PROBABILITY``). With ``fetched_at`` (the
    source's), a date after the day the page was fetched is never chosen: a page cannot
    have been published after it was read (an event's date, "Join us on March 3, 2027").

    >>> lines = ["Today: Friday, December 19, 2025", "Council raises school budget",
    ...          "By Jane Doe", "Published March 3, 2025", "The regional council voted on "
    ...          "Tuesday to raise the school budget by four percent.", "Comments",
    ...          "March 9, 2025 at 4:12 pm"]
    >>> nan = float("nan")
    >>> when, line, _ = pick_published(lines, ["dateline", "title", "byline", "dateline",
    ...                                None, "not_body", "not_body"],
    ...                                [nan, nan, nan, nan, 0.95, 0.1, 0.2], 1)
    >>> when.date().isoformat(), line
    ('2025-03-03', 3)
    >>> fetched = datetime.fromisoformat("2025-03-01T08:00:00+00:00")  # before every date
    >>> pick_published(lines, ["dateline", "title", "byline", "dateline", None, "not_body",
    ...                "not_body"], [nan, nan, nan, nan, 0.95, 0.1, 0.2], 1, fetched)
    """
    found, x = published_features(paragraphs, reasons, probability, headline)
    if fetched_at is not None:
        latest = fetched_at.date() + timedelta(days=1)  # time zones: the fetch's next day
        possible = [k for k, (_, when) in enumerate(found) if when.date() <= latest]
        found, x = [found[k] for k in possible], x[possible]
    if not found:
        return None
    best, p = shipped_published_model().best_row(x)
    if p < MIN_PROBABILITY:
        return None
    line, when = found[best]
    return when, line, p
