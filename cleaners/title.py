"""The headline of a plain-text page, chosen once cleaning has decided what the body is.

The title rule (``detectors.find_title``) runs among the other rules, before the line
scorer, and sees only the rules' rough body region: on real scrapes it lifts a menu
heading, a newsletter box title or the standfirst about as often as the headline. Once
the body is known, the headline is easier to tell: it is a heading-shaped line above the
body's first paragraph, with the byline or the date just under it, and its words are the
words the article is about. ``pick_title`` scores every candidate on that evidence.
"""

from __future__ import annotations

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
