"""A document's paragraphs as the detectors see them, with the small text features
every rule shares (word counts, sentence ends, headline and body shapes)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import filterfalse
from typing import Any

from cleaners import dates, patterns
from cleaners.patterns import match_key

# A paragraph counts as article body when it has at least this many words and ends a
# sentence (or is very long); the header is what comes before the first such paragraph.
BODY_MIN_WORDS = 12
BODY_LONG_WORDS = 40
# Headline-shaped paragraphs: a few words, no sentence end.
HEADLINE_MIN_WORDS = 3
HEADLINE_MAX_WORDS = 25
# Body-region scoring: a short sentence scores half its words, any other non-prose line
# costs this much (a 100-item menu outweighs 400 words of teaser prose next to it).
SHORT_SENTENCE_WORDS = 3
MENU_PENALTY = 4.0
# A related-articles heading ("Read these next") weighs like this many words of prose:
# the region crosses it only when much more article text follows.
SECTION_BREAK_PENALTY = 60.0
# A paragraph another rule removed (caption, promo, share...) weighs like a menu line.
REMOVED_PENALTY = MENU_PENALTY
# A list right after the body (same-shaped lines) is taken into it when it has this many
# items of at most LIST_MAX_WORDS words; items after a line ending in ":" need this many
# words at least.
LIST_MIN_ITEMS = 3
LIST_ITEM_MIN_WORDS = 3
# A heading is short: at most this many words (a list's heading, a related-articles one).
SHORT_HEADING_WORDS = 8
LIST_MAX_WORDS = 30

_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
# Closing quotes and brackets, German ones included („…“, ‚…‘, »…«, ›…‹).
_CLOSERS = "\"')]}»”’›“‘«‹"
# Opening quotes and brackets, German and French ones included.
_OPENERS = "\"'‘“«(„‚»›‹"
# How a sentence ends (its last character, quotes and brackets aside), and how a heading
# never does.
SENTENCE_ENDS = ".!?…。！？"
HEADLINE_NOT_ENDS = ".,;:…"
_BULLET = re.compile(r"^\s*([-*•·▪●◦–]|\d{1,2}[.)]|[a-z][.)])\s")


# Paragraphs longer than this are split into words afresh each time rather than cached:
# a cached word tuple costs about 10 bytes per character, and a long paragraph is prose
# that few detectors look at twice.
WORDS_CACHED_UP_TO = 2_000


def words(key: str) -> tuple[str, ...]:
    """The words of a paragraph (cached for paragraphs of ordinary length: several
    detectors and passes ask).

    >>> words("It's 5 p.m. in New-York!")
    ("It's", '5', 'p.m', 'in', 'New-York')
    """
    if len(key) > WORDS_CACHED_UP_TO:
        return tuple(_WORD.findall(key))
    return _cached_words(key)


@lru_cache(maxsize=patterns.CACHE_SIZE)
def _cached_words(key: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(key))


@lru_cache(maxsize=patterns.CACHE_SIZE)
def word_count(key: str) -> int:
    """How many words a paragraph has (cached: later passes count the same ones)."""
    return len(words(key))


def last_char(key: str) -> str:
    """The last character that is not a closing quote or bracket.

    >>> last_char('He said "yes."')
    '.'
    """
    stripped = key.rstrip().rstrip(_CLOSERS)
    return stripped[-1] if stripped else ""


def first_char(key: str) -> str:
    """The first character that is not an opening quote or bracket.

    >>> first_char("„Wir bleiben hier“"), first_char("»Nein«"), first_char("(AP) x")
    ('W', 'N', 'A')
    """
    return key.lstrip(_OPENERS)[:1]


def ends_sentence(key: str) -> bool:
    """Whether a paragraph ends like a sentence (., !, ?, …, or a closing quote after one).

    >>> ends_sentence("It was late.”"), ends_sentence("Putin claims war made Russia ‘stronger’")
    (True, False)
    >>> ends_sentence("„Wir fühlen uns im Stich gelassen.“"), ends_sentence("»Das reicht.«")
    (True, True)
    """
    return last_char(key) in SENTENCE_ENDS


def is_bullet(key: str) -> bool:
    """Whether a paragraph is a list item (``- x``, ``• x``, ``1. x``).

    >>> is_bullet("- two eggs"), is_bullet("1) Preheat the oven"), is_bullet("Hello")
    (True, True, False)
    """
    return bool(_BULLET.match(key))


def is_table_row(key: str) -> bool:
    """Whether a paragraph is a row of a table as trafilatura writes tables (``| a | b |``):
    cells, never a breadcrumb, a dateline or a byline, whatever they hold.

    >>> is_table_row("| Onions | 1 and a half | 3 |"), is_table_row("News | World")
    (True, False)
    """
    return key.startswith("|") and key.endswith("|") and key.count("|") >= 3


_LABEL = re.compile(r"^[^:]{1,40}:\s")


def line_shape(key: str) -> str | None:
    """The shape list items share: ``label`` ("Path A: ..."), ``number`` ("2 eggs",
    "- item"), or ``first:<word>`` (the same first word), None for an empty line.

    >>> line_shape("England (Group A): 10th appearance"), line_shape("8-9 ripe pears")
    ('label', 'number')
    """
    if _LABEL.match(key):
        return "label"
    if key[:1].isdigit() or is_bullet(key):
        return "number"
    w = words(key)
    return f"first:{w[0].lower()}" if w else None


def prose_words(prose: Iterable[str]) -> frozenset[str]:
    """The words that paragraphs of prose write in lower case.

    >>> sorted(prose_words(["Child care costs rose.", "The Care Act passed."]))
    ['care', 'costs', 'passed', 'rose']
    """
    return frozenset().union(*(filter(str.islower, words(text)) for text in prose))


def is_headline_like(key: str) -> bool:
    """A heading-shaped paragraph: a few words, starting with a capital, digit or quote,
    not ending a sentence (``?`` and ``!`` count as headline ends) and not a list item.

    >>> is_headline_like("Putin claims war in Ukraine has made Russia 'much stronger'")
    True
    >>> is_headline_like("He left early."), is_headline_like("- Eggs and milk for the cake")
    (False, False)
    >>> is_headline_like("„Wir bleiben hier“: Anwohner protestieren gegen den Abriss")
    True
    """
    n = word_count(key)
    if not HEADLINE_MIN_WORDS <= n <= HEADLINE_MAX_WORDS or is_bullet(key):
        return False
    first = first_char(key)
    if not (first.isupper() or first.isdigit()):
        return False
    return last_char(key) not in HEADLINE_NOT_ENDS


def is_body_like(key: str) -> bool:
    """A paragraph that reads as article prose.

    >>> is_body_like("The embassy said it would reopen on Thursday after a review of the threat.")
    True
    >>> is_body_like("Most popular")
    False
    """
    n = word_count(key)
    if key.endswith(("…", "...")) and n < BODY_LONG_WORDS * 2:
        return False  # a teaser cut off mid-sentence
    return n >= BODY_LONG_WORDS or (n >= BODY_MIN_WORDS and ends_sentence(key))


@dataclass
class Page:
    """One document's paragraphs and what the detectors have decided so far."""

    paragraphs: list[str]
    removed: dict[int, str] = field(default_factory=dict)
    # Metadata the source already states (sidecar, page metadata): detectors use it to
    # recognise a title or author line even where its shape would not give it away.
    known: dict[str, Any] = field(default_factory=dict)
    _region_cache: tuple[int, tuple[int, int] | None] | None = field(
        default=None, init=False, repr=False
    )
    _live_cache: tuple[int, tuple[int, ...]] | None = field(default=None, init=False, repr=False)

    @cached_property
    def keys(self) -> list[str]:
        return [match_key(p) for p in self.paragraphs]

    @cached_property
    def pattern_entries(self) -> list[frozenset[int]]:
        """Per paragraph, the pattern entries that may occur in it: one scan of the whole
        page (``patterns.entries_by_line``)."""
        return patterns.entries_by_line(self.keys)

    def found(self, name: str, i: int) -> bool:
        """Whether an entry of the searched category ``name`` occurs in paragraph ``i``."""
        return patterns.found_among(name, self.keys[i], self.pattern_entries[i])

    @cached_property
    def month_first(self) -> bool:
        """Whether the page writes numeric dates month first ("12/19/2025";
        ``dates.numeric_order``): how its "8/1/2025" is read."""
        return dates.writes_month_first(self.keys)

    @cached_property
    def word_counts(self) -> list[int]:
        return [word_count(k) for k in self.keys]

    @cached_property
    def body_like(self) -> list[bool]:
        return [is_body_like(k) for k in self.keys]

    @cached_property
    def prose_words(self) -> frozenset[str]:
        """The words the page's prose writes in lower case (from its body-like lines): a
        capitalised phrase made of them ("Key Takeaways", "Gross Margin") is a heading,
        not a person's name."""
        return prose_words(k for k, body in zip(self.keys, self.body_like, strict=True) if body)

    def live(self) -> tuple[int, ...]:
        """Indices not yet removed, in order (cached until a detector removes more:
        ``removed`` only grows, and every detector asks)."""
        if self._live_cache is None or self._live_cache[0] != len(self.removed):
            removed = self.removed
            alive = tuple(filterfalse(removed.__contains__, range(len(self.paragraphs))))
            self._live_cache = (len(removed), alive)
        return self._live_cache[1]

    def rank(self) -> dict[int, int]:
        """Index -> position among the live paragraphs (distances count live ones)."""
        return {i: k for k, i in enumerate(self.live())}

    def body_region(self) -> tuple[int, int] | None:
        """The article body as a span of paragraph indices (first, last), or None.

        Cached until a detector removes more paragraphs (``removed`` only grows)."""
        if self._region_cache is None or self._region_cache[0] != len(self.removed):
            self._region_cache = (len(self.removed), self._find_body_region())
        return self._region_cache[1]

    def _find_body_region(self) -> tuple[int, int] | None:
        """Each live paragraph scores: prose (``is_body_like``) its word count, a short
        sentence half that, anything else (menus, labels, headings) ``-MENU_PENALTY``.
        The body is the contiguous run of live paragraphs with the largest total: the
        Body Text Extraction idea (Finn et al., 2001) applied to lines instead of tags.
        Headings, short lines and lists inside the article stay inside the span as long
        as the prose around them outweighs them.
        """
        live = self.live()
        best, best_span = 0.0, None
        run, run_start = 0.0, 0
        removed, scores = self.removed, self.region_scores
        # Paragraphs other rules removed still count, as junk: a teaser list whose
        # headlines went as related_link must keep separating its blurbs from the body.
        for i, score in enumerate(scores):
            if run <= 0:
                run, run_start = 0.0, i
            if i in removed:
                run -= REMOVED_PENALTY
            else:
                run += score
                if run > best:
                    best, best_span = run, (run_start, i)
        if best_span is not None:
            inside = [i for i in live if best_span[0] <= i <= best_span[1]]
            best_span = (inside[0], inside[-1]) if inside else None
        if best_span is None:
            return None
        return self._extend_over_lists(live, best_span)

    def _extend_over_lists(self, live: Sequence[int], span: tuple[int, int]) -> tuple[int, int]:
        """Grow the span over a list that directly follows it (tables, "Qualified
        teams:" runs), which the scoring counts as menus: a run of at least
        ``LIST_MIN_ITEMS`` lines sharing one shape, or introduced by a line ending in ":",
        optionally after one heading."""
        first, last = span
        k = live.index(last) + 1  # once per document
        while k < len(live):
            start = k
            heading = self.word_counts[live[k]] <= SHORT_HEADING_WORDS
            if heading and last_char(self.keys[live[k]]) not in ".!?":
                k += 1  # one heading above the list ("Qualified teams", "You need:")
                if k >= len(live):
                    k = start
                    break
            items = self._list_run(live[k:], after_colon=self.keys[live[k - 1]].endswith(":"))
            if len(items) < LIST_MIN_ITEMS:
                k = start
                break
            k += len(items)
            last = live[k - 1]
        return first, last

    def _list_run(self, rest: Sequence[int], after_colon: bool) -> list[int]:
        run: list[int] = []
        shape = None
        for i in rest:
            key, n = self.keys[i], self.word_counts[i]
            if self.body_like[i] or n > LIST_MAX_WORDS or key.endswith(("…", "...")):
                break
            if after_colon:
                if n < LIST_ITEM_MIN_WORDS:
                    break
            else:
                this = line_shape(key)
                if shape is None:
                    shape = this
                if this != shape or this is None:
                    break
            run.append(i)
        return run

    @cached_property
    def region_scores(self) -> list[float]:
        """Each paragraph's weight in the body-region search (``_region_score``)."""
        return [self._region_score(i) for i in range(len(self.paragraphs))]

    def _region_score(self, i: int) -> float:
        n = self.word_counts[i]
        if self.body_like[i]:
            return float(n)
        key = self.keys[i]
        if n <= SHORT_HEADING_WORDS and patterns.is_whole("related_header", key):
            return -SECTION_BREAK_PENALTY  # "Most read", "Read these next": the article ends
        if key.endswith(("…", "...")):  # a truncated teaser is never the article
            return -MENU_PENALTY
        if n >= SHORT_SENTENCE_WORDS and ends_sentence(key):
            return n / 2
        return -MENU_PENALTY

    def header(self) -> list[int]:
        """Live paragraphs before the body region."""
        span = self.body_region()
        end = span[0] if span else len(self.paragraphs)
        return [i for i in self.live() if i < end]

    def footer(self) -> list[int]:
        """Live paragraphs after the body region."""
        span = self.body_region()
        start = span[1] if span else -1
        return [i for i in self.live() if i > start]
