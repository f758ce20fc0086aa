"""The headline of a plain-text page, chosen once cleaning has decided what the body is.

The title rule (``detectors.find_title``) runs among the other rules, before the line
scorer, and sees only the rules' rough body region: on real scrapes it lifts a menu
heading, a newsletter box title or the standfirst about as often as the headline. Once
the body is known, the headline is easier to tell: it is a heading-shaped line above the
body's first paragraph, with the byline or the date just under it, and its words are the
words the article is about. ``pick_title`` scores every candidate on that evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from cleaners import patterns
from cleaners.dates import has_date
from cleaners.page import is_body_like, is_headline_like, last_char, words

# A headline has this many words (a breadcrumb crumb has fewer, a paragraph more).
TITLE_MIN_WORDS = 3
TITLE_MAX_WORDS = 30
# Lines the byline or date may sit below the headline, and how long such a line is.
META_BELOW = 4
META_MAX_WORDS = 12
# Words this short say little about what a text is about ("the", "and", "of").
TOPIC_MIN_CHARS = 4
# The body's first paragraphs say what it is about (the rest adds time, not evidence).
TOPIC_PARAGRAPHS = 12
# Evidence weights (set on wcxb-dev's article pages; benchmarks/metadata_bench.py):
# share of the line's words that the body uses, a byline or date just under it, the title
# rule chose it, its heading shape; and a cost for every other heading between it and
# the body (the headline is the nearest one, menus and boxes lie further up).
WEIGHT_TOPIC = 3.0
WEIGHT_META_BELOW = 2.0
WEIGHT_RULE = 1.0
WEIGHT_HEADING = 1.0
COST_PER_HEADING = 0.2
COST_STANDFIRST = 1.5
# Reasons that say a line is something other than a headline.
NOT_TITLE = frozenset(
    {
        "related_link",
        "nav",
        "share",
        "cookie_banner",
        "promo",
        "byline",
        "dateline",
        "attribution",
        "section",
    }
)


def pick_title(paragraphs: Sequence[str], reasons: Mapping[int, str]) -> int | None:
    """The position of the page's headline, or None when no line is heading-shaped
    above the body. ``reasons`` maps each removed line to its reason code (the others were
    kept).

    >>> lines = ["Newsletter", "Get our weekly tips on gardening delivered to your inbox",
    ...          "Council raises the school budget by four percent", "By Jane Doe",
    ...          "The regional council voted on Tuesday to raise the school budget by four "
    ...          "percent, after a debate about teachers' pay."]
    >>> pick_title(lines, {0: "promo", 3: "byline"})
    2
    """
    n = len(paragraphs)
    counts = [len(words(p)) for p in paragraphs]
    body = [i not in reasons and is_body_like(p) for i, p in enumerate(paragraphs)]
    start = next((i for i in range(n) if body[i]), n)
    lead = [i for i in range(n) if body[i]][:TOPIC_PARAGRAPHS]
    topic = {w.lower() for i in lead for w in words(paragraphs[i]) if len(w) >= TOPIC_MIN_CHARS}
    by = patterns.word_regex("byline")
    meta_line = [
        counts[i] <= META_MAX_WORDS
        and (reasons.get(i) in ("byline", "dateline") or bool(by.match(p)) or has_date(p))
        for i, p in enumerate(paragraphs)
    ]
    best, best_score = None, float("-inf")
    headings_between = 0
    # From just below the body's first paragraph upwards: the nearest heading first.
    for i in range(min(start + 2, n) - 1, -1, -1):
        text = paragraphs[i]
        if not TITLE_MIN_WORDS <= counts[i] <= TITLE_MAX_WORDS or last_char(text) == ".":
            continue
        if reasons.get(i) in NOT_TITLE:
            continue
        heading = is_headline_like(text)
        terms = [w.lower() for w in words(text) if len(w) >= TOPIC_MIN_CHARS]
        on_topic = sum(t in topic for t in terms) / len(terms) if terms else 0.0
        # A longer heading-shaped line right under a shorter one is its standfirst.
        under_heading = (
            i > 0
            and reasons.get(i - 1) in (None, "title")
            and is_headline_like(paragraphs[i - 1])
            and TITLE_MIN_WORDS <= counts[i - 1] < counts[i]
        )
        score = (
            WEIGHT_TOPIC * on_topic
            - COST_STANDFIRST * under_heading
            + WEIGHT_META_BELOW * any(meta_line[i + 1 : i + 1 + META_BELOW])
            + WEIGHT_RULE * (reasons.get(i) == "title")
            + WEIGHT_HEADING * heading
            - COST_PER_HEADING * headings_between
        )
        headings_between += heading
        if score > best_score:
            best, best_score = i, score
    return best


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
