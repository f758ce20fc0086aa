"""The author of a plain-text page, chosen by a learned picker among the names the lines
around the body's start and end hold.

The byline rule (``detectors.find_byline``) takes a prefixed byline ("By Jane Doe", "Von
Katrin Schulz") or a bare name where its place says byline; on real scrapes it finds
none on about half the articles whose gold names an author, and takes a menu label
("Child Care") or a widget ("No Comments") for a name on others. ``pick_author`` lists
every name the byline readers of ``cleaners.detectors`` can read from a line near the
body's start, near the start and the end of the body's longest run (``title.main_run``:
a "Written by" box under the article) or on a line the byline rule removed (a prefixed
name, a bare name with a role or site after it, a name beside a date, a lone "By" with
the name under it), describes each (how it was read, where it sits against the body,
its longest run's ends and the headline, dates around it, the line's reason code and
the line scorer's probability, whether the name is made of words the prose writes in
lower case, how many name-shaped lines surround it: a menu is a run of them) and a small
tree ensemble, trained by ``cleaners/train_scorer.py`` on wcxb-dev's gold authors,
scores each; the best is the author when its probability reaches ``MIN_PROBABILITY``,
set so that no more pages without an author get one than the rules gave before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from cleaners import dates, detectors, patterns, scorer
from cleaners.page import ends_sentence, is_body_like, prose_words, word_count
from cleaners.title import body_start, lines_near_body, token_f1

AUTHOR_MODEL_PATH = Path(__file__).parent / "data" / "author_model.npz"
# Lines this far above the body's first kept line, or this far into it (and the same
# around the start of the body's longest run; ``title.lines_near_body``).
ABOVE = 40
BELOW = 10
# A line longer than this is prose, not a byline.
MAX_WORDS = 30
# A bare name is read from a line at most this long (a prefixed one from any line
# up to ``MAX_WORDS``).
BARE_MAX_WORDS = detectors.BYLINE_MAX_WORDS + 4
# A date this close (lines either side) and this short is the byline's date line.
DATE_NEAR = 2
DATE_MAX_WORDS = 20
# Lines either side in which name-shaped lines are counted (a menu is a run of them).
SHAPED_AROUND = 3
# Below this probability no name is taken: the rules' author, if any, stays. Chosen on
# the cross-validated trade-off (``train_author``). First (out-of-fold picks with the rules
# behind them on wcxb-dev's articles: 0.590 right and 14.0% of author-less pages signed
# at 0.4, 0.586 and 14.0% at 0.45, 0.579 and 13.4% at 0.5) 0.45, which signed no more
# pages than 0.4 and left a capitalised menu label at probability 0.40 ("Top Content"
# above a headline, ``tests/cases/byline.json``) unsigned. Since names are also read near
# the end of the body's longest run (fifth session of 1 December), the picker alone is
# right on 0.570 at 0.4 and 0.554 at 0.45, signing 6.4% of the author-less articles at
# both, and that label stays unsigned at 0.4.
MIN_PROBABILITY = 0.4
# How a name was read: a byline prefix, a bare name, beside a date, a lone prefix above,
# a name the line's date follows ("Jane Doe July 3, 2025"), a prefix inside a dated line
# ("Published on May 2, 2025 by Jane Doe").
WAYS = (
    "prefixed",
    "bare",
    "beside_date",
    "under_lone_prefix",
    "before_date",
    "prefixed_inside",
)
REASON_COLUMNS: tuple[str, ...] = (
    "byline",
    "dateline",
    "title",
    "not_body",
    "nav",
    "section",
    "related_link",
    "caption",
    "duplicate",
    "promo",
    "share",
)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"read:{w}" for w in WAYS),
    "offset",
    "from_headline",
    "line_words",
    "name_words",
    "line_dated",
    "date_near",
    *(f"reason:{r}" for r in REASON_COLUMNS),
    "kept",
    "probability",
    "prose_phrase",
    "name_occurrences",
    "name_shaped_before",
    "name_shaped_after",
    "name_shaped_around",
    "all_caps",
    "more_than_name",
    "has_prefix",
    "words_before",
    "words_after",
    "next_kept",
    "name_chars",
    "main_offset",
    "from_end",
)
# "from_headline" when no headline was picked.
NO_HEADLINE = -99
_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b)\s*", re.IGNORECASE)
# A name is the author when its token F1 with the gold author, or one name in it, is
# at least this (the metadata benchmark's criterion).
AUTHOR_F1 = 0.5


def author_matches(got: str | None, gold: str) -> bool:
    """Whether ``got`` names the gold author: the whole of it or any one name in it.

    >>> author_matches("Dylan Bailey", "Dylan Bailey, MS, RD, FAND")
    True
    >>> author_matches("Scratch Culinary", "Andrew King")
    False
    """
    if not got:
        return False
    names = [gold, *(n for n in _NAME_SPLIT.split(gold) if n.strip())]
    return max(token_f1(got, n) for n in names) >= AUTHOR_F1


@cache
def _glued() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Where scrapes glue a byline's parts together, as two patterns: a one-word byline
    prefix stuck to the name ("ByShivya Nath"), and a name stuck to the date or the
    dateline word after it ("By Jane DoePublished: Jun 25, 2025", "Jane DoeMar 5, 2025").
    Built from the word lists (``byline``, ``dateline``, ``months.json``)."""
    prefixes = [w for line in patterns.lines("byline") for w in line.split("|") if w.isalpha()]
    glued_prefix = "|".join(sorted({w.capitalize() for w in prefixes}, key=len, reverse=True))
    heads = [w for line in patterns.lines("dateline") for w in line.split("|")]
    starts = {w.capitalize() for w in heads if w.isalpha() and len(w) >= 5}
    starts |= {m.capitalize() for m in dates.MONTHS if m.isalpha() and len(m) >= 3}
    glued_date = "|".join(sorted(starts, key=len, reverse=True))
    return (
        re.compile(rf"^({glued_prefix})(?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])"),
        re.compile(rf"(?<=[a-zà-öø-ÿ])(?=(?:{glued_date})(?![a-zà-öø-ÿ]))"),
    )


def unglued(key: str) -> str:
    """A line with the byline parts a scrape glued together set apart again.

    >>> unglued("ByShivya Nath 12th February 2025")
    'By Shivya Nath 12th February 2025'
    >>> unglued("By Rebecca NorrisPublished: Jun 25, 2025")
    'By Rebecca Norris Published: Jun 25, 2025'
    >>> unglued("ByKathryn GiuffridaMar 5, 2025 | 6 comments")
    'By Kathryn Giuffrida Mar 5, 2025 | 6 comments'
    >>> unglued("Bystander McDonald Marches on")  # nothing glued
    'Bystander McDonald Marches on'
    """
    prefix, date = _glued()
    key = prefix.sub(r"\1 ", key)
    # The date pattern is tried only where a lower-case letter meets a capital (rare).
    return date.sub(" ", key) if _CASE_TURN.search(key) else key


_CASE_TURN = re.compile(r"[a-zà-öø-ÿ][A-ZÀ-ÖØ-Þ]")


def _name_before_date(key: str) -> str | None:
    """The name that opens a line when the line's date follows it directly, with no
    separator ("Dakota Hebert July 3, 2025", "Patrick Clarke Published 10:19am 19 December
    2025"): the shortest run of name parts after which the rest starts with a month, a
    number or a dateline word, and holds a date.

    >>> _name_before_date("Patrick Clarke Published 10:19am 19 December 2025")
    'Patrick Clarke'
    >>> _name_before_date("Dakota Hebert July 3, 2025"), _name_before_date("Top Picks July 2025")
    ('Dakota Hebert', None)
    """
    parts = key.split()
    low, high = detectors.NAME_PARTS
    opening = patterns.word_regex("dateline")
    for k in range(low, min(high, len(parts) - 1) + 1):
        name, rest = " ".join(parts[:k]), " ".join(parts[k:])
        if not detectors._is_person_name(name):
            return None
        first = parts[k].rstrip(".,:")
        starts = dates.is_month(first) or first[:1].isdigit() or opening.match(rest)
        if starts and dates.has_date(rest) and dates.parse_date(rest) is not None:
            return name
    return None


def _prefixed_inside(key: str, prefix: re.Pattern[str]) -> str | None:
    """The name a byline prefix introduces inside a dated line that is not a sentence
    ("Published on December 2nd, 2025 by Jane Doe and John Roe").

    >>> by = patterns.word_regex("byline")
    >>> _prefixed_inside("Published on December 2nd, 2025 by Jane Doe and John Roe", by)
    'Jane Doe and John Roe'
    >>> _prefixed_inside("Shop by Department", by) is None
    True
    """
    if ends_sentence(key) or not dates.has_date(key):
        return None
    for m in prefix.finditer(key):
        if m.start() > 0:
            name = detectors._prefixed_name(key[m.start() :], prefix, trailing=True)
            if name is not None:
                return name
    return None


def _names_in(key: str, next_key: str | None, prefix: re.Pattern[str]) -> list[tuple[str, int]]:
    """The names a line (its match key, parts a scrape glued set apart) holds, each with
    the index in ``WAYS`` of how it was read."""
    key = unglued(key)
    found = []
    prefixed = detectors._prefixed_name(key, prefix, trailing=True)
    if prefixed:
        found.append((prefixed, 0))
    elif word_count(key) <= BARE_MAX_WORDS and not ends_sentence(key):
        name, _ = detectors._name_and_suffix(key)
        name = "" if detectors.names_a_company(key) else name
        if detectors._is_person_name(name):
            found.append((name, 1))
    beside = detectors._name_beside_date(key)
    if beside:
        found.append((beside, 2))
    if next_key is not None and detectors._is_lone_prefix(key, prefix):
        name, _ = detectors._name_and_suffix(unglued(next_key))
        if detectors._is_person_name(name):
            found.append((name, 3))
    if not found:
        before = _name_before_date(key)
        if before:
            found.append((before, 4))
        inside = _prefixed_inside(key, prefix)
        if inside:
            found.append((inside, 5))
    return found


def author_features(
    paragraphs: Sequence[str],
    reasons: Sequence[str | None],
    probability: Sequence[float],
    headline: int | None,
) -> tuple[list[tuple[int, str]], np.ndarray]:
    """The names read near the body's start, as (line, name), and one row of
    ``FEATURE_NAMES`` each. ``reasons`` and ``probability`` are the first pass's, as for
    ``title.title_features``; ``headline`` is the line the headline picker chose."""
    n = len(paragraphs)
    kept = [r is None for r in reasons]
    start = body_start(reasons)
    window, main, end = lines_near_body(
        paragraphs, reasons, ABOVE, BELOW, with_end=True, rule="byline"
    )
    prefix = patterns.word_regex("byline")
    near = {
        j for i in window for j in range(max(0, i - SHAPED_AROUND), min(n, i + SHAPED_AROUND + 1))
    }
    keys = {i: patterns.match_key(paragraphs[i]) for i in sorted(near)}
    shaped = {
        i: word_count(k) <= detectors.BYLINE_MAX_WORDS
        and detectors._is_person_name(detectors._name_and_suffix(k)[0])
        for i, k in keys.items()
    }
    prose: frozenset[str] | None = None
    page = "\n".join(paragraphs).lower()
    names: list[tuple[int, str]] = []
    rows = []
    for i in sorted(window):
        key = keys[i]
        count = word_count(key)
        if count > MAX_WORDS:
            continue
        for name, way in _names_in(key, keys.get(i + 1), prefix):
            if prose is None:  # only pages with a name pay for it
                prose = prose_words(t for t in paragraphs if is_body_like(t))
            p = probability[i]
            near = range(max(0, i - DATE_NEAR), min(n, i + DATE_NEAR + 1))
            names.append((i, name))
            rows.append(
                [
                    *(way == k for k in range(len(WAYS))),
                    i - start,
                    NO_HEADLINE if headline is None else i - headline,
                    count,
                    len(name.split()),
                    dates.has_date(key),
                    any(
                        j != i
                        and word_count(paragraphs[j]) <= DATE_MAX_WORDS
                        and dates.has_date(paragraphs[j])
                        for j in near
                    ),
                    *(reasons[i] == r for r in REASON_COLUMNS),
                    reasons[i] is None,
                    -1.0 if math.isnan(p) else p,
                    detectors._is_phrase(name, prose),
                    page.count(name.lower()),
                    shaped.get(i - 1, False),
                    shaped.get(i + 1, False),
                    sum(
                        shaped.get(j, False)
                        for j in range(i - SHAPED_AROUND, i + SHAPED_AROUND + 1)
                    ),
                    name.isupper(),
                    key != name,
                    bool(prefix.search(key)),
                    word_count(paragraphs[i - 1]) if i > 0 else -1,
                    word_count(paragraphs[i + 1]) if i + 1 < n else -1,
                    i + 1 < n and kept[i + 1],
                    len(name),
                    i - main,
                    i - end,
                ]
            )
    return names, np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))


@cache
def shipped_author_model() -> scorer.TreeEnsemble:
    """The model shipped in ``data/author_model.npz`` (read once per process)."""
    return scorer.read_model(AUTHOR_MODEL_PATH, FEATURE_NAMES)


def pick_author(
    paragraphs: Sequence[str],
    reasons: Sequence[str | None],
    probability: Sequence[float],
    headline: int | None,
) -> tuple[str, int, float] | None:
    """The author's name, the line it was read from and the model's probability, or None
    when no name is likely enough (``MIN_PROBABILITY``).

    >>> lines = ["Home", "Council raises school budget", "By Jane Doe", "21 November 2026",
    ...          "The regional council voted on Tuesday to raise the school budget by four "
    ...          "percent, after a debate about teachers' pay."]
    >>> nan = float("nan")
    >>> pick_author(lines, ["nav", "title", "byline", "dateline", None],
    ...             [nan, nan, nan, nan, 0.95], 1)[:2]
    ('Jane Doe', 2)
    """
    names, x = author_features(paragraphs, reasons, probability, headline)
    if not names:
        return None
    best, p = shipped_author_model().best_row(x)
    if p < MIN_PROBABILITY:
        return None
    line, name = names[best]
    return name, line, p
