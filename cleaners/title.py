"""The headline of a plain-text page, chosen once the first pass of cleaning has placed
the body.

The title rule (``detectors.find_title``) runs among the other rules, before the line
scorer, and sees only the rules' rough body region: on real scrapes it lifts a menu
heading, a newsletter box title or the standfirst about as often as the headline. Once
the body is placed, the headline is easier to tell, but no one rule tells it: it is
usually the nearest heading above the body, with a byline or date under it and the
body's words in it, yet sites put a breadcrumb, a category, a box title or the
standfirst in between, or repeat the headline in the breadcrumb and a share line. So
``pick_title`` describes every short line from ``ABOVE`` lines above the body's first
line to ``BELOW`` lines into it, the same around the start of the body's longest run
(``main_run``: the first kept line may be a stray menu line far above it), and the
lines around the title rule's choice (``title_features``: its shape, where it sits, the
body's words in it, what is around it, why cleaning removed it, the line scorer's
probability, how often the page repeats it, the body's paragraphs above it, a breadcrumb
above that ends with it) and a small tree ensemble, trained by
``cleaners/train_scorer.py`` on wcxb-dev's gold titles, scores each; the best-scoring
line is the headline when its probability reaches ``MIN_PROBABILITY``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from cleaners import patterns, scorer
from cleaners.dates import has_date
from cleaners.page import is_body_like, is_bullet, is_headline_like, last_char, word_count, words

TITLE_MODEL_PATH = Path(__file__).parent / "data" / "title_model.npz"
# Candidates: lines this far above the body's first line, or this far into it (the
# first pass may start the body a line or two early, at the headline itself).
ABOVE = 40
BELOW = 3
# A headline has at most this many words (a paragraph has more).
MAX_WORDS = 40
# A byline or dateline is this short, and sits this many lines under (or over) the
# headline.
META_MAX_WORDS = 12
META_BELOW = 4
META_ABOVE = 3
# A byline sits right under its headline (a date may be further off).
BYLINE_BELOW = 2
# Words this short say little about what a text is about ("the", "and", "of").
TOPIC_MIN_CHARS = 4
# The body's first prose paragraphs say what it is about; the lines further down
# (at most ``BODY_LINES``) give the wider vocabulary.
TOPIC_PARAGRAPHS = 12
BODY_LINES = 60
# The first characters of a line, counted elsewhere on the page: a breadcrumb or a share
# line repeats the headline, sometimes cut short.
PREFIX_CHARS = 25
# Below this probability no line is taken for the headline (a page that is all body, a
# clean feed's article, has none): the rule's choice, if any, stays, unless the model
# ranks another line above it (``choose_headline``). Out of fold on wcxb-dev (the fifth
# session of 1 December, with the longest run's and the title rule's lines among the
# candidates): 0.785 of the articles right at 0.1, 0.777 at 0.15, 0.767 at 0.2, with a
# line named on 33.6%, 28.9% and 25.6% of the body-only copies that hold no headline;
# 0.15 names about as many as the earlier picker did at 0.1 (27.7%, for 0.763 right).
# With the title rule's line where the picker names none, 0.791 right at 0.1 and 0.15.
MIN_PROBABILITY = 0.15
# Below that, the picker's best line replaces the title rule's only when its log-odds
# are this much higher: a near tie is no evidence (a section's name repeated above the
# headline, 0.003 apart, took its place). On the wcxb-dev articles 0.25 changes no title.
OVERRULE_MARGIN = 0.25
# Reason codes whose one-hot columns the model sees (``outside_body``, the rules-only
# body decision, counts as ``not_body``).
REASON_COLUMNS: tuple[str, ...] = (
    "title",
    "not_body",
    "duplicate",
    "caption",
    "related_link",
    "nav",
    "section",
    "byline",
    "dateline",
    "promo",
    "share",
    "cookie_banner",
    "attribution",
)
_SEPARATORS = (" | ", " - ", " – ", " — ", "›", "»", " / ", " :: ", "•")
# How a line ends: 0 a letter, digit or anything else, then these.
_ENDINGS = {".": 1, "?": 2, "!": 2, ":": 3, ",": 4, ";": 4, "…": 5}
# A sentence ending inside a line, before more text: a caption with its credit ("The
# embassy in Kyiv. /Photographer/Agency") or a standfirst; a headline is one sentence.
_INNER_SENTENCE_END = re.compile(r"[.!?…](?=\s+\S)")
_OPENERS = "\"'‘“«("
FEATURE_NAMES: tuple[str, ...] = (
    "words",
    "chars",
    "offset",
    "headline_like",
    "headings_between",
    "ending",
    "capitalised_share",
    "all_caps",
    "digits",
    "topic_lead",
    "topic_body",
    "meta_below",
    "meta_above",
    "kept",
    *(f"reason:{r}" for r in REASON_COLUMNS),
    "probability",
    "words_before",
    "words_after",
    "next_kept",
    "next_body_like",
    "occurrences",
    "prefix_occurrences",
    "separator",
    "first_capital",
    "bullet",
    "log_lines",
    "start_relative",
    "topic_rank",
    "topic_gap",
    "probability_rank",
    "candidates",
    "headline_like_before",
    "headline_like_after",
    "words_rank",
    "same_as_neighbour",
    "inner_sentence_ends",
    "byline_below",
    "main_offset",
    "title_rule_distance",
    "prose_above",
    "ends_line_above",
)
_COLUMN = {name: k for k, name in enumerate(FEATURE_NAMES)}


@lru_cache(maxsize=patterns.CACHE_SIZE)
def _terms(text: str) -> tuple[str, ...]:
    """A line's topic words, lower-cased (cached: the body's lines are read per page and
    again by the next pass of the same text)."""
    return tuple(w.lower() for w in words(text) if len(w) >= TOPIC_MIN_CHARS)


def _share_in(terms: tuple[str, ...], vocabulary: set[str]) -> float:
    return sum(t in vocabulary for t in terms) / len(terms) if terms else 0.0


def _is_credited(text: str) -> bool:
    """A photo credit or caption marker in the line (``data/caption.txt``: "... /AFP",
    "Credit: ...", "Photo: ..."): a caption, never a headline. The wcxb-dev pages have too
    few credited lines near their headlines for the model to learn this, so it is a rule."""
    return patterns.found_in("caption", patterns.match_key(text))


def body_start(reasons: Sequence[str | None]) -> int:
    """The first line the first pass kept (the number of lines when it kept none)."""
    return next((i for i, r in enumerate(reasons) if r is None), len(reasons))


# Removed lines that still join two kept lines into one run of the body
# (``main_run``).
RUN_GAP = 3
# The title rule's headline brings the lines this far either side of it among the
# candidates.
AROUND_TITLE_RULE = 3
# A breadcrumb ending with a candidate ("Blog / News / <headline>") is looked for this
# many lines above it.
BREADCRUMB_ABOVE = 3


def main_run(paragraphs: Sequence[str], reasons: Sequence[str | None]) -> tuple[int, int]:
    """The first and last line of the run of kept lines (with at most ``RUN_GAP`` removed
    lines in a row between two) that holds the most words: where the body starts and ends
    when the first pass kept a stray menu line or a box far from it (``body_start`` is
    then that line). A page with no kept line gives (``len(reasons)``, ``len(reasons)``).

    >>> main_run(["Menu", "x", "x", "x", "x", "Headline", "Long body text here ok.", "x"],
    ...          [None, "nav", "nav", "nav", "nav", "title", None, "share"])
    (6, 6)
    """
    n = len(reasons)
    best, span, words_in_run, run_start, gap = -1, (n, n), 0, None, 0
    for i, reason in enumerate(reasons):
        if reason is None:
            if run_start is None:
                run_start, words_in_run = i, 0
            words_in_run += word_count(paragraphs[i])
            gap = 0
            if words_in_run > best:
                best, span = words_in_run, (run_start, i)
            elif span[0] == run_start:
                span = (run_start, i)  # a line of no words still extends the best run
        else:
            gap += 1
            if gap > RUN_GAP:
                run_start = None
    return span


# The lines under an article a picker reads besides those around the body's start (a
# "Written by" box, a "Posted on" or "Last updated" line): from this many above the end
# of the body's longest run to this many under it.
END_ABOVE = 3
END_BELOW = 15


def lines_near_body(
    paragraphs: Sequence[str],
    reasons: Sequence[str | None],
    above: int,
    below: int,
    with_end: bool = False,
    rule: str | None = None,
    around_rule: int = 0,
) -> tuple[set[int], int, int]:
    """The lines a picker reads, and the first and last line of ``main_run``: from
    ``above`` lines above the first kept line (``body_start``) to ``below`` lines into
    the body, the same around the start of the longest run, with ``with_end`` the lines
    from ``END_ABOVE`` above that run's end to ``END_BELOW`` under it, and with ``rule``
    every line that rule removed (the field's own rule: a byline, a dateline) and the
    ``around_rule`` lines either side of it, wherever it is.

    >>> lines = ["Menu", *["x"] * 30, "Long body text here ok.", "x", "By Jane Doe"]
    >>> window, main, end = lines_near_body(lines, [None, *["nav"] * 30, None, "x", "x"],
    ...                                     2, 0, with_end=True)
    >>> sorted(window), main, end
    ([0, 28, 29, 30, 31, 32, 33], 31, 31)
    >>> sorted(lines_near_body(lines, [None, "byline", *["nav"] * 29, None, "x", "x"],
    ...                        0, 0, rule="byline", around_rule=1)[0])
    [0, 1, 2, 31]
    """
    n = len(reasons)
    start = body_start(reasons)
    main, end = main_run(paragraphs, reasons)
    window = set(range(max(0, start - above), min(n, start + below + 1)))
    window |= set(range(max(0, main - above), min(n, main + below + 1)))
    if with_end:
        window |= set(range(max(0, end - END_ABOVE), min(n, end + END_BELOW + 1)))
    if rule is not None:
        for t in (i for i, r in enumerate(reasons) if r == rule):
            window |= set(range(max(0, t - around_rule), min(n, t + around_rule + 1)))
    return window, main, end


def _rank(column: np.ndarray) -> np.ndarray:
    """0 for the highest value, 1 for the next (ties in page order)."""
    order = np.argsort(-column, kind="stable")
    ranks = np.empty(len(column))
    ranks[order] = np.arange(len(column))
    return ranks


def title_features(
    paragraphs: Sequence[str], reasons: Sequence[str | None], probability: Sequence[float]
) -> tuple[list[int], np.ndarray]:
    """The candidate lines for the headline and one row of ``FEATURE_NAMES`` each.

    ``reasons`` holds each line's reason code after the first pass of cleaning (None:
    kept) and ``probability`` the line scorer's probability that it is body (NaN where a
    rule decided).
    """
    n = len(paragraphs)
    kept = [r is None for r in reasons]
    start = body_start(reasons)
    window, main, _ = lines_near_body(
        paragraphs, reasons, ABOVE, BELOW, rule="title", around_rule=AROUND_TITLE_RULE
    )
    by_rule = [i for i, r in enumerate(reasons) if r == "title"]
    lo, hi = (min(window), max(window) + 1) if window else (0, 0)
    # A line the byline rule removed signs the page: it is never its headline ("Eine
    # Reportage von Hannah Vogt" under a short headline).
    candidates = [
        i
        for i in sorted(window)
        if 1 <= word_count(paragraphs[i]) <= MAX_WORDS
        and not _is_credited(paragraphs[i])
        and reasons[i] != "byline"
    ]
    if not candidates:
        return [], np.zeros((0, len(FEATURE_NAMES)))
    body = [i for i in range(start, min(n, start + BODY_LINES)) if kept[i]]
    lead = [paragraphs[i] for i in body if is_body_like(paragraphs[i])][:TOPIC_PARAGRAPHS]
    topic = {t for text in lead for t in _terms(text)}
    vocabulary = {t for i in body for t in _terms(paragraphs[i])}
    byline = patterns.word_regex("byline")
    around = sorted(
        {
            j
            for i in window
            for j in range(max(0, i - META_ABOVE), min(n, i + max(META_BELOW, BYLINE_BELOW) + 1))
        }
    )
    signed = {i: reasons[i] == "byline" or bool(byline.match(paragraphs[i])) for i in around}
    meta = {
        i: word_count(paragraphs[i]) <= META_MAX_WORDS
        and (signed[i] or reasons[i] == "dateline" or has_date(paragraphs[i]))
        for i in around
    }
    heading = {i: is_headline_like(paragraphs[i]) for i in range(max(0, lo - 1), min(n, hi + 1))}
    # Headings before each line of the window, so that those between two lines are a
    # difference of two counts.
    first = max(0, lo - 1)
    before = [0]
    for j in range(first, min(n, hi + 1)):
        before.append(before[-1] + heading[j])

    def headings_between(a: int, b: int) -> int:
        """How many lines from ``a`` up to (not including) ``b`` are headings."""
        return before[b - first] - before[a - first] if a < b else 0

    page = "\n".join(paragraphs).lower()
    # Kept prose lines above each line: a subheading has the body's paragraphs above it,
    # the headline has few.
    prose_before = [0] * (n + 1)
    for j in range(n):
        prose_before[j + 1] = prose_before[j] + (kept[j] and is_body_like(paragraphs[j]))

    def neighbours(i: int) -> tuple[str, ...]:
        """The lines either side, lower-cased: a caption repeats next to itself (a
        gallery), a headline repeats away from itself (a breadcrumb, a share line)."""
        return tuple(paragraphs[j].lower() for j in (i - 1, i + 1) if 0 <= j < n)

    rows = []
    for i in candidates:
        text = paragraphs[i]
        found = words(text)
        terms = _terms(text)
        lettered = [w for w in found if w[:1].isalpha()]
        end = last_char(text)
        between = headings_between(i + 1, start) if i < start else headings_between(start + 1, i)
        reason = "not_body" if reasons[i] == "outside_body" else reasons[i]
        p = probability[i]
        lowered = text.lower()
        prefix = lowered[:PREFIX_CHARS]
        rows.append(
            [
                len(found),
                len(text),
                i - start,
                heading[i],
                between,
                _ENDINGS.get(end, 0),
                sum(w[0].isupper() for w in lettered) / len(lettered) if lettered else 0.0,
                text.isupper(),
                any(map(str.isdigit, text)),
                _share_in(terms, topic),
                _share_in(terms, vocabulary),
                any(meta.get(j, False) for j in range(i + 1, i + 1 + META_BELOW)),
                any(meta.get(j, False) for j in range(i - META_ABOVE, i)),
                reason is None,
                *(reason == r for r in REASON_COLUMNS),
                -1.0 if math.isnan(p) else p,
                word_count(paragraphs[i - 1]) if i > 0 else -1,
                word_count(paragraphs[i + 1]) if i + 1 < n else -1,
                i + 1 < n and kept[i + 1],
                i + 1 < n and is_body_like(paragraphs[i + 1]),
                page.count(lowered),
                page.count(prefix) if len(prefix) >= 10 else 0,
                any(s in text for s in _SEPARATORS),
                text.lstrip(_OPENERS)[:1].isupper(),
                is_bullet(text),
                math.log1p(n),
                start / n,
                0.0,
                0.0,
                0.0,
                len(candidates),
                heading.get(i - 1, False),
                heading.get(i + 1, False),
                0.0,
                lowered in neighbours(i),
                len(_INNER_SENTENCE_END.findall(text)),
                any(signed.get(j, False) for j in range(i + 1, i + 1 + BYLINE_BELOW)),
                i - main,
                min((abs(i - t) for t in by_rule), default=-1),
                math.log1p(prose_before[i]),
                any(
                    paragraphs[j].lower().endswith(lowered) and len(paragraphs[j]) > len(text)
                    for j in range(max(0, i - BREADCRUMB_ABOVE), i)
                ),
            ]
        )
    x = np.array(rows, dtype=np.float64)
    topic_share = x[:, _COLUMN["topic_lead"]]
    x[:, _COLUMN["topic_rank"]] = _rank(topic_share)
    x[:, _COLUMN["topic_gap"]] = topic_share.max() - topic_share
    x[:, _COLUMN["probability_rank"]] = _rank(x[:, _COLUMN["probability"]])
    x[:, _COLUMN["words_rank"]] = _rank(x[:, _COLUMN["words"]])
    return candidates, x


@cache
def shipped_title_model() -> scorer.TreeEnsemble:
    """The model shipped in ``data/title_model.npz`` (read once per process)."""
    return scorer.read_model(TITLE_MODEL_PATH, FEATURE_NAMES)


def choose_headline(
    candidates: Sequence[int], x: np.ndarray, logits: np.ndarray
) -> tuple[int, float] | None:
    """The headline among ``candidates`` (rows ``x``, log-odds ``logits``) and its
    probability, or None: the best line when it reaches ``MIN_PROBABILITY``. Below it,
    when the title rule chose one of the candidates (its ``reason:title`` column), the page
    has a headline: the best line is taken over the rule's when the model ranks it higher
    by ``OVERRULE_MARGIN`` (a newsletter blurb the rule took above the headline);
    otherwise None, and the rule's choice stays.

    >>> rows = np.zeros((3, len(FEATURE_NAMES)))
    >>> rows[2, _COLUMN["reason:title"]] = 1.0
    >>> choose_headline([4, 5, 6], rows, np.array([-1.0, 2.0, 0.0]))[0]
    5
    >>> choose_headline([4, 5, 6], rows, np.array([-3.0, -2.5, -4.0]))[0]
    5
    >>> choose_headline([4, 5, 6], rows, np.array([-3.0, -4.0, -2.5])) is None
    True
    >>> choose_headline([4, 5, 6], rows, np.array([-3.0, -2.45, -2.5])) is None
    True
    """
    if not candidates:
        return None
    best, p = scorer.best_of(logits)
    if p >= MIN_PROBABILITY:
        return candidates[best], p
    by_rule = np.flatnonzero(x[:, _COLUMN["reason:title"]])
    if by_rule.size and logits[best] > logits[by_rule[0]] + OVERRULE_MARGIN:
        return candidates[best], p
    return None


def pick_title(
    paragraphs: Sequence[str], reasons: Sequence[str | None], probability: Sequence[float]
) -> tuple[int, float] | None:
    """The position of the page's headline and the model's probability for it, or None
    (``choose_headline``).

    >>> lines = ["Newsletter", "Get our weekly tips on gardening delivered to your inbox",
    ...          "Council raises the school budget by four percent", "By Jane Doe",
    ...          "The regional council voted on Tuesday to raise the school budget by four "
    ...          "percent, after a debate about teachers' pay.", "Teachers had asked for more."]
    >>> nan = float("nan")
    >>> pick_title(lines, ["promo", "promo", None, "byline", None, None],
    ...            [nan, nan, 0.3, nan, 0.95, 0.9])[0]
    2
    """
    candidates, x = title_features(paragraphs, reasons, probability)
    if not candidates:
        return None
    return choose_headline(candidates, x, shipped_title_model().logits(x))


# An HTML page's headline (its <h1>) agrees with its metadata title (<title>, og:title)
# on at least this token F1; a site-wide <h1> (the site's name, a slogan) does not.
HEADLINE_AGREEMENT = 0.3
# A part of a metadata title this close to the site's name is the name, not the title.
SITE_NAME_AGREEMENT = 0.5
# What sites put between a page's title and their name ("Title | Site", "Title - Site").
_TITLE_PARTS = re.compile(r"(\s+(?:[|–—\-·»:]|::)\s+)")
_TOKEN = re.compile(r"\w+")


def token_f1(a: str, b: str) -> float:
    """Token F1 of two strings (lower-cased word tokens, with multiplicity).

    >>> round(token_f1("Bridge reopens after repairs", "The bridge reopens"), 3)
    0.571
    """
    ta, tb = Counter(_TOKEN.findall(a.lower())), Counter(_TOKEN.findall(b.lower()))
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    p, r = common / sum(ta.values()), common / sum(tb.values())
    return 2 * p * r / (p + r)


def html_headline(
    stated: Sequence[str], headings: Sequence[str], site: str | None, extracted: str | None
) -> str | None:
    """The headline of an HTML page, from the titles its metadata ``stated``
    (``og:title``, ``<title>``), its top-level ``headings`` (the text of each ``<h1>``,
    in page order), its ``site`` name, and the title trafilatura ``extracted``.

    A metadata title is written for search results and tabs ("What is Mesh WiFi? | Whole
    Home Mesh WiFi | TP-Link"); the headline readers see is the ``<h1>``. A page may have
    several (the site's name in the header, the article's headline, box titles), so the
    one that agrees best with a stated title is taken, when one agrees at all
    (``HEADLINE_AGREEMENT``). Otherwise the first stated title stays, without the part
    that is the site's name; a page that states none keeps what trafilatura found.

    >>> html_headline(["What is Mesh WiFi? | Whole Home Mesh WiFi | TP-Link"],
    ...               ["TP-Link", "What is Mesh WiFi?"], "TP-Link", "What is Mesh WiFi?")
    'What is Mesh WiFi?'
    >>> html_headline(["Learn web development | web.dev"], [], "web.dev", None)
    'Learn web development'
    >>> html_headline(["Bridge reopens"], ["Marketing made to meet your goals."], None,
    ...               "Marketing made to meet your goals.")
    'Bridge reopens'
    """
    references = [t for t in stated if t.strip()] or ([extracted] if extracted else [])
    agreeing = []
    for k, heading in enumerate(headings):
        if heading.strip() and references:
            agreement = max(token_f1(heading, r) for r in references)
            if agreement >= HEADLINE_AGREEMENT:
                agreeing.append((agreement, -k, heading.strip()))
    if agreeing:
        return max(agreeing)[2]
    if not references:
        return None
    return without_site_name(references[0].strip(), site)


def without_site_name(title: str, site: str | None) -> str:
    """``title`` without the parts that are the site's name ("Title | Site" -> "Title").

    >>> without_site_name("Coffee - University of Wisconsin", "University of Wisconsin")
    'Coffee'
    >>> without_site_name("Wine: Part 2", "Wine Folly")
    'Wine: Part 2'
    """
    if not site:
        return title
    pieces = _TITLE_PARTS.split(title)  # text, separator, text, ...
    kept = [
        (pieces[k - 1] if k else "", pieces[k])
        for k in range(0, len(pieces), 2)
        if token_f1(pieces[k], site) < SITE_NAME_AGREEMENT
    ]
    if not kept or len(kept) == len(pieces) // 2 + 1:
        return title
    return kept[0][1] + "".join(sep + text for sep, text in kept[1:])
