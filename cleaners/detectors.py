"""Detectors: each looks at a whole document's paragraphs and returns the indices to drop,
plus any metadata it lifts. The registry in ``cleaners.clean`` runs them in order, each
seeing what the ones before it removed (``Page.removed``).

A detector's name says what it finds; its reason code is its key in the registry.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from cleaners import dates, patterns
from cleaners.page import (
    SHORT_HEADING_WORDS,
    Page,
    ends_sentence,
    is_bullet,
    is_headline_like,
    is_table_row,
    last_char,
    line_shape,
    words,
)

# Consent-banner text is short; a long paragraph that mentions cookies is an article.
COOKIE_MAX_WORDS = 80
# Above this length a paragraph that mentions cookies must also ask for consent.
COOKIE_BARE_WORDS = 12
# A button label must be this close (in live paragraphs) to a banner paragraph.
COOKIE_BUTTON_DISTANCE = 3
# Promos are short; a long paragraph with "newsletter" in it is body.
PROMO_MAX_WORDS = 60
# A newsletter box (``_newsletter_box``): words after the newsletter's name in its label,
# the pitch under the label, and the button under the pitch.
NEWSLETTER_LABEL_MAX_WORDS = 3
NEWSLETTER_PITCH_MAX_WORDS = 40
NEWSLETTER_BUTTON_MAX_WORDS = 4
# Captions are short; a long paragraph ending with "/Reuters" is body.
CAPTION_MAX_WORDS = 70
# Adjacent repeats (a caption and its alt text) within this many paragraphs are captions.
CAPTION_REPEAT_WINDOW = 3
CAPTION_REPEAT_MIN_WORDS = 4
# A sentence of at most this many words right above a picture's credit ("Foto: Name") is
# the picture's caption.
CAPTION_ABOVE_CREDIT_MAX_WORDS = 20
# A run of headline-shaped paragraphs this long, with no header, is a related-links block.
RELATED_MIN_RUN = 3
RELATED_MIN_WORDS = 5
# After a related-links heading, "Topic: headline" is a teaser ("Hafen: Umschlag bricht
# ein"); a list's "label: value" item has a value this short or with figures in it
# ("Memory: 16 GB RAM", "Processor: Intel Core i5 or Ryzen 5 3600").
LIST_VALUE_MAX_WORDS = 3
# Section tags: 2..6 parts of 1..4 words each.
_TAG_SEPARATORS = ";|›»>•/"
SECTION_SEPARATORS = re.compile(rf"\s*[{re.escape(_TAG_SEPARATORS)}]\s*")
_LABELLED_TAG_SEPARATORS = re.compile(rf"\s*[{re.escape(_TAG_SEPARATORS)},]\s*")
BYLINE_MAX_WORDS = 8
# Title, byline and section tags are looked for among this many live paragraphs next to
# the body (menus further up are not the article's header).
TITLE_WINDOW = 6
BYLINE_WINDOW = 8
# A bare name among the body region's first this many lines is a byline when it stands
# next to a date line (a standfirst long enough to open the region stands above it).
BARE_NAME_OPENING = 2
SECTION_WINDOW = 8
DATELINE_MAX_WORDS = 20
ATTRIBUTION_MAX_WORDS = 40
# A menu or account line has at most this many words.
NAV_MAX_WORDS = 25
# An entry of a table of contents has at most this many words.
CONTENTS_ENTRY_MAX_WORDS = 20
# A section-tag line: at most this many characters, split into this many parts (or
# introduced by a label such as "Topics:"), each a tag of at most TAG_MAX_WORDS words.
SECTION_LINE_MAX_CHARS = 80
SECTION_PARTS = (2, 6)
TAG_MAX_WORDS = 4
# At most this many tags, one a line, under a section label alone on its line.
TAG_RUN_MAX = 12
# A person's name: this many capitalised parts.
NAME_PARTS = (2, 5)

# A paragraph opening with one of these quotes somebody (reported speech: body).
_OPENING_QUOTES = ('"', "'", "«", "„")
# Language data (cleaners/data): what a cookie banner asks (consent), the site speaking
# of its own cookies (site_voice), an update's dateline word (updated), reported speech
# (quoted), section labels and home words of breadcrumbs, name particles.
_NAME_SHAPE = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*|[A-Z]\."


def _quoted(key: str) -> bool:
    """Whether a paragraph reports somebody's words ("...", she said)."""
    return key.startswith(_OPENING_QUOTES) or bool(patterns.word_regex("quoted").search(key))


@cache
def _section_label(alone: bool = False) -> re.Pattern[str]:
    """A section label and its colon before tags ("Topics: "), or, ``alone``, a label
    alone on its line ("Temas", "Archivado en:")."""
    alternatives = "|".join(patterns.lines("section_label"))
    end = r"\s*:?$" if alone else r"\s*:\s*"
    return re.compile(rf"^(?:{alternatives}){end}", re.IGNORECASE)


@cache
def _name_part() -> re.Pattern[str]:
    particles = "|".join(patterns.lines("name_particle"))
    return re.compile(rf"^(?:{_NAME_SHAPE}|{particles})$")


@dataclass
class Detection:
    indices: list[int] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # The line each lifted field came from (shown by ``thresher explain``).
    sources: dict[str, int] = field(default_factory=dict)


def find_cookie_banner(page: Page) -> Detection:
    """Consent-banner paragraphs, and the button labels next to them ("I agree")."""
    live = page.live()
    banner = [
        i
        for i in live
        if page.word_counts[i] <= COOKIE_MAX_WORDS
        and page.found("cookie_banner", i)
        and not _quoted(page.keys[i])
        and (
            page.word_counts[i] <= COOKIE_BARE_WORDS
            or patterns.word_regex("consent").search(page.keys[i])
            or patterns.word_regex("site_voice").search(page.keys[i])
        )
    ]
    found = set(banner)
    if banner:  # a button label counts only next to a banner
        rank = page.rank()
        near = (i for i in live if i not in found)
        found.update(
            i
            for i in near
            if any(abs(rank[i] - rank[b]) <= COOKIE_BUTTON_DISTANCE for b in banner)
            and patterns.is_whole("cookie_button", page.keys[i])
        )
    return Detection(sorted(found))


def find_share_buttons(page: Page) -> Detection:
    """Share and social-network button labels standing alone."""
    return Detection([i for i in page.live() if patterns.is_whole("share", page.keys[i])])


def find_navigation(page: Page) -> Detection:
    """Site chrome: skip links, menus (one entry a line, or a row of them:
    ``_is_menu``), account links, "Search Trends", copyright lines, and a table of
    contents (``_contents_list``)."""
    live = page.live()
    labels = [pos for pos, i in enumerate(live) if _contents_label().match(page.keys[i])]
    found = [
        i
        for i in live
        if page.word_counts[i] <= NAV_MAX_WORDS
        and (patterns.is_whole("nav", page.keys[i]) or _is_menu(page.keys[i]))
    ]
    found += [live[pos] for pos in labels]
    return Detection(sorted({*found, *_contents_list(page, live, labels)}))


# What separates the entries of a row of links: a section tag's separators and the dot.
_MENU_SEPARATORS = re.compile(rf"\s*[{re.escape(_TAG_SEPARATORS + '·')}]\s*")


@lru_cache(maxsize=patterns.CACHE_SIZE)
def _is_menu(key: str) -> bool:
    """A row of menu or footer links on one line, each one a navigation entry
    ("Impressum | Datenschutz | Kontakt", "Privacy Policy · Terms of Use"): site chrome,
    not section tags.

    >>> _is_menu("Impressum | Datenschutz | Kontakt"), _is_menu("News | World")
    (True, False)
    """
    parts = [p for p in _MENU_SEPARATORS.split(key) if p]
    return len(parts) >= 2 and all(patterns.is_whole("nav", p) for p in parts)


@cache
def _contents_label() -> re.Pattern[str]:
    """A table of contents' label alone on its line ("Table of contents", "Auf dieser
    Seite:", "Dans cet article")."""
    alternatives = "|".join(patterns.lines("contents_label"))
    return re.compile(rf"^(?:{alternatives})\s*:?$", re.IGNORECASE)


_NUMBERING = re.compile(r"^(?:\d+ )+")


def _contents_list(page: Page, live: list[int], labels: list[int]) -> list[int]:
    """The entries of a table of contents: the lines right after its label (at positions
    ``labels`` of ``live``) that each come again further down the page, where the
    headings they link to stand ("1. Was du brauchst" ... "Was du brauchst"). Taken out
    here, each heading is left its only copy, which the repeat finder would otherwise
    remove as the repeat of its own entry.

    >>> page = Page(["Contents", "Why", "2. How", "Intro text.", "Why", "Body.", "How"])
    >>> _contents_list(page, page.live(), [0])
    [1, 2]
    """
    if not labels:
        return []
    folded = {i: _NUMBERING.sub("", _fold(page.keys[i])) for i in live}
    last: dict[str, int] = {}
    for i in live:
        last[folded[i]] = i
    entries: list[int] = []
    for pos in labels:
        for j in live[pos + 1 :]:
            recurs = bool(folded[j]) and last[folded[j]] > j
            if not recurs or page.word_counts[j] > CONTENTS_ENTRY_MAX_WORDS:
                break
            entries.append(j)
    return entries


def find_promos(page: Page) -> Detection:
    """Newsletter, subscription, podcast and app promos, ad markers, comment prompts; a
    newsletter box's label and the pitch under it (``_newsletter_box``)."""
    live = page.live()
    found = {
        i
        for i in live
        if page.word_counts[i] <= PROMO_MAX_WORDS
        and page.found("promo", i)
        and not _quoted(page.keys[i])
    }
    found.update(_newsletter_box(page, live))
    return Detection(sorted(found))


@cache
def _newsletter_label() -> re.Pattern[str]:
    """A newsletter box's label: a newsletter's name (``data/newsletter.txt``) alone, or
    with a few words after it ("Newsletter Bordeaux", "Newsletter Sign Up") that end no
    sentence, or after a call to sign up ("Abonnieren Sie den Newsletter",
    ``data/newsletter_signup.txt``)."""
    names = "|".join(patterns.lines("newsletter"))
    calls = "|".join(patterns.lines("newsletter_signup"))
    return re.compile(
        rf"^(?:(?:{calls}) )?(?:{names})(?: [^\s.!?]+){{0,{NEWSLETTER_LABEL_MAX_WORDS}}}\W*$",
        re.IGNORECASE,
    )


def _newsletter_box(page: Page, live: list[int]) -> list[int]:
    """A newsletter's label alone on its line, and the sentence right under it when a
    button's short line follows ("Newsletter Bordeaux" / "Chaque matin, l'essentiel de
    l'actualité bordelaise." / "S'inscrire"): the box's pitch, which need not name the
    newsletter or the mailbox. On the 1,359 eval pages the line under such a label is
    never body."""
    found = []
    # a call to sign up ("Subscribe to"), an owner ("our"), the name, its words
    longest = NEWSLETTER_LABEL_MAX_WORDS + 5
    for pos, i in enumerate(live):
        if page.word_counts[i] > longest or not _newsletter_label().match(page.keys[i]):
            continue
        found.append(i)
        if pos + 1 >= len(live):
            continue
        pitch = live[pos + 1]
        button = pitch + 1  # live or already claimed (a nav rule's "S'inscrire")
        if (
            button < len(page.keys)
            and page.word_counts[pitch] <= NEWSLETTER_PITCH_MAX_WORDS
            and ends_sentence(page.keys[pitch])
            and page.word_counts[button] <= NEWSLETTER_BUTTON_MAX_WORDS
        ):
            found.append(pitch)
    return found


_NON_WORD = re.compile(r"\W+")


@lru_cache(maxsize=patterns.CACHE_SIZE)
def _fold(key: str) -> str:
    return _NON_WORD.sub(" ", key).strip().lower()


def find_captions(page: Page) -> Detection:
    """Photo captions and credits: agency endings, "Credit:", "Image caption", and every
    repeat of a caption, including a truncated copy just before its full form."""
    live = page.live()
    rank = page.rank()
    found = {
        i for i in live if page.word_counts[i] <= CAPTION_MAX_WORDS and page.found("caption", i)
    }
    folded = {i: _fold(page.keys[i]) for i in live}
    by_text: dict[str, list[int]] = defaultdict(list)
    for i in live:
        by_text[folded[i]].append(i)
    # Every copy of a caption is a caption.
    for i in list(found):
        found.update(by_text[folded[i]])
    # Text repeated within a few paragraphs (a caption and its alt text) is a caption.
    for copies in by_text.values():
        if len(copies) < 2:
            continue
        close = any(
            abs(rank[a] - rank[b]) <= CAPTION_REPEAT_WINDOW
            for a, b in zip(copies, copies[1:], strict=False)
        )
        n = page.word_counts[copies[0]]
        if close and CAPTION_REPEAT_MIN_WORDS <= n <= CAPTION_MAX_WORDS:
            found.update(copies)
    for pos, i in enumerate(live[:-1]):
        nxt = live[pos + 1]
        if nxt not in found or i in found:
            continue
        # A truncated caption right before its full form.
        if folded[i] and folded[nxt].startswith(folded[i]):
            found.add(i)
        # The caption right above its picture's credit.
        elif _caption_above_credit(page, i, nxt):
            found.add(i)
    return Detection(sorted(found))


@cache
def _credit() -> re.Pattern[str]:
    """A picture's credit alone on its line: a label, a colon and a name ("Foto: Ingo
    Schneider", "Image: Courtesy of ..."); labels in ``data/credit_label.txt``."""
    alternatives = "|".join(patterns.lines("credit_label"))
    return re.compile(rf"^(?:{alternatives})\s*:\s*\w", re.IGNORECASE)


def _caption_above_credit(page: Page, i: int, credit: int) -> bool:
    """Whether line ``i``, a sentence of at most ``CAPTION_ABOVE_CREDIT_MAX_WORDS`` words,
    stands right above the credit line ``credit`` of a picture: the picture's caption."""
    return (
        page.word_counts[i] <= CAPTION_ABOVE_CREDIT_MAX_WORDS
        and ends_sentence(page.keys[i])
        and bool(_credit().match(page.keys[credit]))
    )


def find_related_links(page: Page) -> Detection:
    """Runs of related-article headlines: after a "Read more"/"Related Topics" style
    heading, or a headerless run of several headline-shaped lines, unless it is a list of
    the body's own (``_list_of_the_body``: the line scorer decides those); and a heading
    with one teaser on its line ("Read more: <headline>").
    A heading another rule removed still heads the run under it ("Weiterlesen", a
    continue-reading link to the promo rule). Runs with the parallel shape of a list
    ("Q: ...", "Path A: ...", "2 eggs") are body content and stay."""
    live = page.live()
    span = page.body_region()
    found: set[int] = set()
    pos = 0
    while pos < len(live):
        i = live[pos]
        own = _is_related_heading(page, i)
        if own or _is_related_heading(page, i - 1, removed=True):
            end = _teasers_from(page, live, pos + 1 if own else pos)
            if end > pos:
                run = live[pos:end]
                if not _is_list(page, run[1:] if own else run, teasers=True):
                    found.update(run)
                pos = end
                continue
        run = []
        while pos < len(live) and _is_headline(page, live[pos]):
            run.append(live[pos])
            pos += 1
        after_colon = bool(run) and _introduces_list(page, live, pos - len(run))
        if (
            len(run) >= RELATED_MIN_RUN
            and not after_colon
            and not _is_list(page, run)
            and not _list_of_the_body(page, span, live, pos - len(run), pos)
        ):
            found.update(run)
        if not run:
            pos += 1
    keys = page.keys
    found.update(i for i in live if _LABEL_MARK.search(keys[i]) and _is_labelled_teaser(keys[i]))
    found.update(_dated_topic_teasers(page, live))
    return Detection(sorted(found))


def _list_of_the_body(
    page: Page, span: tuple[int, int] | None, live: Sequence[int], start: int, end: int
) -> bool:
    """Whether the run of lines ``live[start:end]`` lies inside the body region ``span``
    without prose on both sides of it: a list of the article's own (features, steps, a
    table's rows) under a subheading or before one. The line scorer, which reads its
    context, decides it. On the eval pages such runs held 11,500 words of body for 4,800
    of teasers (before or after the body: 4,700 of body for 21,300 of teasers). A run
    with prose right before and right after it is a teaser block set into the article, as
    news sites do (a body paragraph, four headlines, the next paragraph).

    >>> page = Page([
    ...     "Intro line",
    ...     "We tested every tool for three months, on real projects with clients.",
    ...     "Key features",
    ...     "Shared boards for the whole team",
    ...     "Time tracking built in",
    ...     "Reports on every member",
    ...     "Prices start at ten dollars per user and month for the smaller teams.",
    ...     "The council said the vote would be held next week, after the recess.",
    ... ])
    >>> span = (1, 7)
    >>> _list_of_the_body(page, span, page.live(), 3, 6)  # under a subheading
    True
    >>> _list_of_the_body(page, span, page.live(), 2, 6)  # right after prose
    False
    >>> _list_of_the_body(page, None, page.live(), 3, 6)
    False
    """
    if span is None or not span[0] < live[start] or not live[end - 1] < span[1]:
        return False
    before, after = live[start - 1], live[end]  # both inside the span
    prose_before = page.body_like[before] and ends_sentence(page.keys[before])
    return not (prose_before and page.body_like[after])


def _dated_topic_teasers(page: Page, live: Sequence[int]) -> list[int]:
    """Teasers written "Topic: headline" with their date on the next line, inside or after
    the body region ("Kiel: Kreuzfahrtsaison endet mit Rekord" / "27.11.2026"): a link to
    another article. A byline ("Written by: ...") is none, nor the header's headline.

    >>> page = Page(["The council met on Tuesday and voted to raise the school budget.",
    ...              "Kiel: Kreuzfahrtsaison endet mit Rekord", "27.11.2026", "More text."])
    >>> page.removed[2] = "dateline"
    >>> _dated_topic_teasers(page, page.live())
    [1]
    """
    span = page.body_region()
    if span is None:
        return []
    prefix = patterns.word_regex("byline")
    found = []
    for i in live:
        if i <= span[0] or page.removed.get(i + 1) != "dateline":
            continue  # the header's dated headline is the page's own
        m = _LABELLED.match(page.keys[i])  # "Topic: headline", split as "Read more: ..." is
        if m and _is_teaser(m.group(2)) and not prefix.search(m.group(1)):
            found.append(i)
    return found


def _is_related_heading(page: Page, i: int, removed: bool = False) -> bool:
    """Whether line ``i`` is a short related-links heading ("Read more", "Mehr zum Thema")
    still standing, or, with ``removed``, one another rule removed."""
    if i < 0 or (i in page.removed) != removed:
        return False
    key = page.keys[i]
    return page.word_counts[i] <= SHORT_HEADING_WORDS and patterns.is_whole("related_header", key)


# A related-links label and one teaser on one line: "Read more: <headline>", "Lire aussi |
# <headline>", "» Related: <headline>", "[Read more: <headline>]".
_LABEL_MARK = re.compile(r"[:|»>]")  # what every such line holds: a quick test first
_LABELLED = re.compile(r"^[^\w\s]{0,3}\s*(\w[^:|»>]{1,39}?)\s*(?::|\||»|>>)\s*(.+?)\s*\]?$")


@lru_cache(maxsize=patterns.CACHE_SIZE)
def _is_labelled_teaser(key: str) -> bool:
    """A line that is a related-links label and a headline-shaped teaser after it (cached:
    every pass of cleaning asks again for the lines still standing).

    >>> _is_labelled_teaser("Read more: How climate change is reshaping coastal railways")
    True
    >>> _is_labelled_teaser("Lire aussi | Transports : la métropole vote un plan de 2 milliards")
    True
    >>> _is_labelled_teaser("See also: the council's report, which found the bridge unsafe.")
    False
    """
    m = _LABELLED.match(key)
    return bool(m) and patterns.is_whole("related_header", m.group(1)) and _is_teaser(m.group(2))


# A sentence boundary inside a line: headlines do not have one, tweets and prose do
# ("gesperrt. Über" too).
_INNER_SENTENCE = re.compile(r"[a-zß-öø-ÿ0-9][.!?] [A-ZÀ-ÖØ-Þ]")
_URLISH = re.compile(r"https?://|www\.|\bpic\.twitter\.com|@\w")


def _is_headline(page: Page, i: int) -> bool:
    """Whether line ``i`` is shaped like a teaser's headline: no sentence ends inside it,
    in any of the languages' capitals.

    >>> page = Page(["Council approves new cycle lanes for the waterfront",
    ...              "Die Brücke bleibt gesperrt. Über Umleitungen informiert die Stadt"])
    >>> _is_headline(page, 0), _is_headline(page, 1)
    (True, False)
    """
    key = page.keys[i]
    return (
        is_headline_like(key)
        and page.word_counts[i] >= RELATED_MIN_WORDS
        and last_char(key) not in "!?"
        and not _INNER_SENTENCE.search(key)
        and not _URLISH.search(key)
    )


def _introduces_list(page: Page, live: Sequence[int], k: int) -> bool:
    """Whether the live paragraph before ``live[k]`` ends with a colon ("You will need:")."""
    return k > 0 and page.keys[live[k - 1]].rstrip().endswith(":")


# A rank before a teaser in a "Most read" list: "1. ", "2) ", "03 ".
_RANK = re.compile(r"^(\d{1,2})[.)]?\s+(?=\S)")


def _is_teaser(key: str) -> bool:
    """A link line after a related-links heading: a headline, possibly cut off with "…"."""
    return (is_headline_like(key) or key.endswith(("…", "..."))) and not _URLISH.search(key)


def _unranked(key: str) -> str:
    """A line without the rank before it ("1. Headline" -> "Headline")."""
    return _RANK.sub("", key, count=1)


def _teasers_from(page: Page, live: Sequence[int], start: int) -> int:
    """Where the run of teasers from ``live[start]`` ends: headlines, and a ranked list
    of them counting from 1 ("1. Brand in studentenflat Uithof", "2. Nieuwe parkeergarage
    ..."; a "5. Heading" of the article after a related link is no rank of the run), up
    to a label of section tags ("Schlagwörter zu diesem Artikel"), which heads the tags.

    >>> page = Page(["Most read", "1. Council approves cycle lanes", "2. Bridge to close",
    ...              "Read more", "5. The Joel Test (2000) by Joel Spolsky"])
    >>> _teasers_from(page, page.live(), 1), _teasers_from(page, page.live(), 4)
    (3, 4)
    """
    end, rank = start, 1
    while end < len(live):
        key = page.keys[live[end]]
        ranked = _RANK.match(key)
        if ranked and int(ranked.group(1)) == rank and _is_teaser(_unranked(key)):
            rank += 1
        elif not _is_teaser(key) or _section_label(alone=True).match(key):
            break
        end += 1
    return end


def _is_list(page: Page, run: list[int], teasers: bool = False) -> bool:
    """Whether most lines share a list's shape (``page.line_shape``): the same first
    word, a "label: value" form, or leading numbers. With ``teasers`` (the lines under a
    related-links heading) a "label: value" line counts only when its value is short."""
    if not run:
        return False
    shapes = Counter(_list_shape(page.keys[i], teasers) for i in run)
    shape, count = shapes.most_common(1)[0]
    return shape is not None and count >= max(2, 0.6 * len(run))


def _list_shape(key: str, teasers: bool) -> str | None:
    """``line_shape``, but None for a "Topic: headline" teaser and a ranked one
    ("1. Headline") when ``teasers``.

    >>> _list_shape("Processor: Intel Core i5 or better", True)
    'label'
    >>> _list_shape("Hafen: Umschlag bricht im Herbst ein", True)
    """
    shape = line_shape(key)
    if teasers and shape == "number" and _RANK.match(key) and _is_teaser(_unranked(key)):
        return None  # a ranked teaser ("1. Headline"), not a list's item
    if not teasers or shape != "label":
        return shape
    value = key.partition(":")[2]
    listed = len(words(value)) <= LIST_VALUE_MAX_WORDS or any(c.isdigit() for c in value)
    return shape if listed else None


def find_attribution(page: Page) -> Detection:
    """Wire and source credits ("Source(s): Reuters", "Reporting by ..."); lifts ``credit``."""
    found, credit = [], None
    for i in page.live():
        if page.word_counts[i] > ATTRIBUTION_MAX_WORDS:
            continue
        if not patterns.any_whole("attribution").match(page.keys[i]):
            continue
        for rx in patterns.each_whole("attribution"):
            m = rx.match(page.keys[i])
            if m:
                found.append(i)
                value = (m.groupdict().get("credit") or "").strip(" .;:()")
                credit = credit or value or None
                break
    return Detection(found, {"credit": credit} if credit else {})


def find_dateline(page: Page) -> Detection:
    """Paragraphs that are only a date or time with dateline words ("Updated 01:23,
    21-Nov-2024", "Published 3 hours ago"); lifts ``published_at`` / ``updated_at``, and
    the name beside the date as ``author`` unless the line stands under the body region (a
    broadcast's programme slot there, "NDR Info, 02.12.2026, 15:00 Uhr", names the
    station)."""
    filler = patterns.word_regex("dateline")
    byline = patterns.word_regex("byline")  # "By Jane Doe, 3 May 2024": the name without "By"
    fetched = page.known.get("fetched_at")
    found: list[int] = []
    meta: dict[str, Any] = {}
    sources: dict[str, int] = {}
    span = page.body_region()
    body_end = span[1] if span else len(page.paragraphs)
    for i in page.live():
        key = page.keys[i]
        too_long = page.word_counts[i] > DATELINE_MAX_WORDS
        if too_long or is_table_row(key) or not dates.has_date(key):
            continue
        rest = filler.sub(" ", dates.strip_dates(key)).strip()
        by = byline.match(rest)
        rest_words = words(rest[by.end() :] if by else rest)
        name = " ".join(rest_words)
        if len(rest_words) > 1 and not _is_person_name(name):
            continue
        when = dates.parse_date(key, page.month_first)
        if when is None and isinstance(fetched, datetime):  # "3 hours ago": from the fetch
            when = dates.parse_relative(key, fetched)
        if rest_words and (rest.endswith(":") or not _readable_date(key, when)):
            continue  # "Average Rating: 4.25": a label and a number, no date to read
        found.append(i)
        lifted: dict[str, Any] = {}
        if len(rest_words) > 1 and i <= body_end:  # "November 20, 2019 Emiliano Bellini"
            lifted["author"] = name
        if when is not None:
            lifted.update(_published_and_updated(key, when, page.month_first))
        for field_name, value in lifted.items():
            if field_name not in meta:
                meta[field_name] = value
                sources[field_name] = i
    return Detection(found, meta, sources)


def _published_and_updated(key: str, when: datetime, month_first: bool) -> dict[str, datetime]:
    """The dates a dateline states, ``when`` its first: an update's date is the one its
    word ("updated", "mis à jour") introduces, and a date before that word is the
    publication's ("Publié le 6 mars 2025, mis à jour le 7 mars 2025").

    >>> got = _published_and_updated("Published 6 March 2025, updated 7 March 2025",
    ...                              datetime(2025, 3, 6), False)
    >>> sorted((k, v.day) for k, v in got.items())
    [('published_at', 6), ('updated_at', 7)]
    >>> {k: v.day for k, v in _published_and_updated("Updated 7 March 2025",
    ...                                              datetime(2025, 3, 7), False).items()}
    {'updated_at': 7}
    """
    update = patterns.word_regex("updated").search(key)
    if update is None:
        return {"published_at": when}
    before = dates.parse_date(key[: update.start()], month_first) if update.start() else None
    after = dates.parse_date(key[update.start() :], month_first)
    found = {"updated_at": after if after is not None else when}
    if before is not None:
        found["published_at"] = before
    return found


# A line of page furniture that states a date or an author beside a name, a site or
# categories ("By Jane DoePublished: Jan 29, 2025", "Dec 26, 2025 • Mahua Das in Project
# Management"), for a page whose header the rules did not date or sign, is looked for among
# this many lines above the body's first kept line and after it.
FURNITURE_ABOVE = 12
FURNITURE_BELOW = 3
META_DATE_MAX_WORDS = 30
_META_SEPARATOR = re.compile(r"[|·•]")
# What separates a byline's name from a site, role or date after it.
_BYLINE_PARTS = re.compile(r"\s*(?:[|,•·⋅∙;]|\s[–—-]\s)\s*")


def dated_metadata_line(paragraphs: Sequence[str], start: int) -> tuple[str, datetime, int] | None:
    """For a page no dateline dated: the field (``published_at``, else ``updated_at``), the
    date and the position of the first line near the body's start (``start``) that reads
    as page metadata with a date in it: a dateline or byline word, or a separator, beside
    a date that can be read, in a short line that does not end a sentence. Lifts metadata
    only; whether the line goes is the cleaners' business.

    >>> lines = ["Menu", "Council raises school budget", "By Jane DoePublished: Jan 29, 2025",
    ...          "The regional council voted on Tuesday to raise the school budget."]
    >>> field, when, at = dated_metadata_line(lines, 3)
    >>> field, when.date().isoformat(), at
    ('published_at', '2025-01-29', 2)
    >>> dated_metadata_line(["The law passed by parliament on 3 March 2024 stands."], 0)
    """
    filler, by = patterns.word_regex("dateline"), patterns.word_regex("byline")
    updated = patterns.word_regex("updated")
    first_update: tuple[str, datetime, int] | None = None
    month_first: bool | None = None  # the page's numeric order, read at the first date
    lo, hi = _near(start, len(paragraphs))
    for i in range(lo, hi):
        key = patterns.match_key(paragraphs[i])
        if len(words(key)) > META_DATE_MAX_WORDS or ends_sentence(key) or not dates.has_date(key):
            continue
        if not (filler.search(key) or by.search(key) or _META_SEPARATOR.search(key)):
            continue
        if month_first is None:
            month_first = dates.writes_month_first(paragraphs)
        when = dates.parse_date(key, month_first)
        if when is None:
            continue
        if not updated.search(key):
            return "published_at", when, i
        first_update = first_update or ("updated_at", when, i)
    return first_update


# An HTML page's publication date as the page shows it: a short line with a date among
# these lines under its headline, else above it (a kicker, a date above the title).
HEADLINE_DATE_BELOW = 6
HEADLINE_DATE_ABOVE = 3
HEADLINE_DATE_MAX_WORDS = 16


def date_near_headline(lines: Sequence[str], at: int) -> tuple[datetime, int] | None:
    """The publication date a page shows by its headline (line ``at`` of its rendered
    ``lines``), and the line it is on: the nearest short line under the headline, else
    above it, that states a date that can be read and is not an update ("Updated May 6,
    2025"). Relative ages ("3 hours ago") are left alone: there is no fetch time to count
    back from here.

    >>> when, line = date_near_headline(["News", "Bridge reopens", "By Jane Doe",
    ...                                  "Dec 26, 2025 • 4 min read", "The bridge."], 1)
    >>> when.date(), line
    (datetime.date(2025, 12, 26), 3)
    >>> date_near_headline(["Bridge reopens", "Updated May 6, 2025", "Text."], 0) is None
    True
    >>> date_near_headline(["Bridge reopens", "Last updated on", "May 6, 2025", "Text."], 0)
    """
    updated = patterns.word_regex("updated")
    month_first: bool | None = None  # the page's numeric order, read at the first date
    below = range(at + 1, min(len(lines), at + 1 + HEADLINE_DATE_BELOW))
    above = range(at - 1, max(-1, at - 1 - HEADLINE_DATE_ABOVE), -1)
    for i in [*below, *above]:
        key = patterns.match_key(lines[i])
        if len(words(key)) > HEADLINE_DATE_MAX_WORDS or ends_sentence(key):
            continue
        if not dates.has_date(key) or updated.search(key) or _labels_an_update(lines, i):
            continue
        if month_first is None:
            month_first = dates.writes_month_first(lines)
        when = dates.parse_date(key, month_first)
        if when is not None:
            return when, i
    return None


# An update's label on the line above its date ("Last Updated on", "ByJane Doe Updated")
# has at most this many words.
UPDATE_LABEL_MAX_WORDS = 8


def _labels_an_update(lines: Sequence[str], i: int) -> bool:
    """Whether the line above line ``i`` is an update's label with no date of its own
    ("Updated on", "ByRhonda Krause Updated"): the date on line ``i`` is when the page was
    updated, not published."""
    if i == 0:
        return False
    above = patterns.match_key(lines[i - 1])
    return (
        len(words(above)) <= UPDATE_LABEL_MAX_WORDS
        and bool(patterns.word_regex("updated").search(above))
        and not dates.has_date(above)
    )


def _near(start: int, n: int) -> tuple[int, int]:
    """The range of lines near the body's first kept line (``start``) furniture may be in."""
    return max(0, start - FURNITURE_ABOVE), min(n, start + FURNITURE_BELOW + 1)


def byline_near_body(paragraphs: Sequence[str], start: int) -> tuple[str, int] | None:
    """For a page the byline rule did not sign: the name and position of the first
    prefixed byline ("By Jane Doe", "Written by Jane Doe", "Von Katrin Schulz") near the
    body's start (``start``), further from it than the rule looks. Lifts metadata only,
    so it reads bylines the rule leaves to others: a name with more after it ("By Erin
    Spain 4 Comments", "by Jane Doe on Jan 22, 2025", "By Jane Doe ⋅ Editor ⋅ Updated
    May 6"), and a prefix alone on its line with the name on the next.

    >>> byline_near_body(["Contents", "By Ramon Berenguer", "Intro", "Step one"], 3)
    ('Ramon Berenguer', 1)
    >>> byline_near_body(["Headline", "By Erin Spain 4 Comments", "Body text."], 2)
    ('Erin Spain', 1)
    >>> byline_near_body(["Headline", "Written by", "Jane Doe", "Body text."], 3)
    ('Jane Doe', 2)
    >>> byline_near_body(["Shop by Department", "The council met on Monday."], 1)
    """
    prefix = patterns.word_regex("byline")
    lo, hi = _near(start, len(paragraphs))
    for i in range(lo, hi):
        key = patterns.match_key(paragraphs[i])
        head = _BYLINE_PARTS.split(key, maxsplit=1)[0]
        if len(words(head)) > BYLINE_MAX_WORDS or ends_sentence(key):
            continue
        name = _prefixed_name(key, prefix, trailing=True)
        if name is not None:
            return name, i
        if _is_lone_prefix(key, prefix) and i + 1 < len(paragraphs):
            name, _ = _name_and_suffix(patterns.match_key(paragraphs[i + 1]))
            if _is_person_name(name):
                return name, i + 1
        name = _name_beside_date(key)
        if name is not None:
            return name, i
    return None


def _name_beside_date(key: str) -> str | None:
    """The person a line of page furniture names beside its date, in a part of its own
    ("Dec 26, 2025 • Mahua Das in Project Management" -> "Mahua Das"): one part is a
    date and nothing else, the next opens with a name followed by more words.

    >>> _name_beside_date("Dec. 19, 2025 · Niko Matsakis on behalf of the docs group")
    'Niko Matsakis'
    >>> _name_beside_date("Dec 26, 2025 • Project Management") is None
    True
    """
    parts = [part.strip() for part in _META_SEPARATOR.split(key)]
    for date_part, rest in zip(parts, parts[1:], strict=False):
        if dates.has_date(date_part) and not words(dates.strip_dates(date_part)):
            return _leading_name(rest)
    return None


def _prefixed_name(key: str, prefix: re.Pattern[str], trailing: bool = False) -> str | None:
    """The person a prefixed byline names ("By Jane Doe, Reuters" -> "Jane Doe"). With
    ``trailing``, the name-shaped words that open the rest of the line count as well
    ("By Erin Spain 4 Comments" -> "Erin Spain"): the byline rule, which removes the
    line, does not take those, as "By Christmas Eve the shops ..." opens the same way."""
    m = prefix.match(key)
    if not m or m.end() >= len(key.rstrip(" :,-|")):
        return None
    # After a prefix a bracket holds a place or role too ("Par Claire Dubois (Lyon)").
    name, _ = _name_and_suffix(key[m.end() :].split(" (", 1)[0])
    if _is_person_name(name):
        return name
    return _leading_name(name) if trailing else None


def author_in(text: str) -> str | None:
    """The person an author field names when it holds more than names ("This post was
    written by Jane Doe; Head; Community Development", "Jane Doe • March"), or None when
    it holds names only or no person can be told from it (a site, a team).

    >>> author_in("This post was written by Jane Doe; Head; Community Development")
    'Jane Doe'
    >>> author_in("Jane Doe; John Roe"), author_in("EcoCult Staff"), author_in("Newsdesk")
    (None, None, None)
    >>> author_in("Jane Doe; Lead Reviewer Updated Feb")  # a name, then when, not who
    'Jane Doe'
    >>> author_in("Jane Doe; June Smith") is None  # two names
    True
    """
    parts = [patterns.match_key(part) for part in text.split(";")]
    first = parts[0]
    if _is_person_name(first):
        return first if any(map(_states_when, parts[1:])) else None
    prefix = patterns.word_regex("byline")
    for m in prefix.finditer(first):
        name = _prefixed_name(first[m.start() :], prefix, trailing=True)
        if name is not None:
            return name
    name, _ = _name_and_suffix(first)
    return name if _is_person_name(name) else None


def _states_when(text: str) -> bool:
    """Whether a piece of an author field dates something rather than names somebody: an
    update word, a date, or months and numbers alone ("October"; "June Smith" is a name).

    >>> _states_when("Updated Feb"), _states_when("October"), _states_when("June Smith")
    (True, True, False)
    """
    parts = [w.strip(".,") for w in text.split()]
    month = bool(parts) and all(dates.is_month(w) or w.isdigit() for w in parts)
    return bool(month or patterns.word_regex("updated").search(text) or dates.has_date(text))


def _leading_name(text: str) -> str | None:
    """The name-shaped words that open ``text`` when other words follow them ("Erin
    Spain 4 Comments" -> "Erin Spain", "Jane Doe on Jan 22" -> "Jane Doe"). A month or a
    dateline word after the name's first parts starts a date ("Sofia Gonzalez December 3,
    2025", "Katrin Schulz Aktualisiert am 3. Mai 2025").

    >>> _leading_name("Sofia Gonzalez December 3, 2025"), _leading_name("Jan Smith on May 3")
    ('Sofia Gonzalez', 'Jan Smith')
    >>> _leading_name("Katrin Schulz Aktualisiert am 3. Mai 2025")
    'Katrin Schulz'
    """
    parts = text.split()
    low, _ = NAME_PARTS
    dateline = patterns.word_regex("dateline")
    k = 0
    while k < len(parts) and _name_part().match(parts[k]):
        if k >= low and (dates.is_month(parts[k]) or dateline.fullmatch(parts[k])):
            break
        k += 1
    if k == len(parts):
        return None
    name = " ".join(parts[:k])
    return name if _is_person_name(name) else None


# Any fixed day: whether a relative date ("3 hours ago") can be read does not depend on it.
_SOME_DAY = datetime(2000, 1, 1, tzinfo=UTC)


def _readable_date(key: str, parsed: datetime | None) -> bool:
    """Whether a line holds a date that can be read, absolute or relative."""
    return parsed is not None or dates.parse_relative(key, _SOME_DAY) is not None


def find_sections(page: Page) -> Detection:
    """Section tags and breadcrumbs next to the body ("Europe;Ukraine", "News › World"),
    and tags one a line under a label after it ("Temas" / "Valencia"); lifts
    ``sections``."""
    found: list[int] = []
    sections: list[str] = []
    for i in page.header()[-SECTION_WINDOW:] + page.footer()[:SECTION_WINDOW]:
        key = page.keys[i]
        if ends_sentence(key) or len(key) > SECTION_LINE_MAX_CHARS or is_table_row(key):
            continue
        label = _section_label().sub("", key)
        tagged = label != key
        # After a label, commas separate the tags too ("Argomenti: Bologna, Tram").
        separators = _LABELLED_TAG_SEPARATORS if tagged else SECTION_SEPARATORS
        parts = [p for p in separators.split(label) if p]
        tagged = tagged and bool(parts)
        low, high = SECTION_PARTS
        if not tagged and not low <= len(parts) <= high:
            continue
        if all(_is_tag(p, labelled=tagged) for p in parts):
            found.append(i)
            sections.extend(p for p in parts if p.lower() not in patterns.lines("home"))
    for run in _labelled_tag_runs(page):
        found.extend(run)
        sections.extend(page.keys[i] for i in run[1:])
    sections = list(dict.fromkeys(sections))  # a tag both in the breadcrumb and the topics
    return Detection(sorted(found), {"sections": sections} if sections else {})


def _labelled_tag_runs(page: Page) -> list[list[int]]:
    """After the body, a section label alone on its line and the tags right under it,
    one a line ("Temas" / "Puerto de Valencia" / "Infraestructuras"): each run, label
    first. A line another rule removed ends the run: what follows it is other furniture
    (a menu's "Wetter" / "Verkehr" after a block of related links)."""
    footer = page.footer()
    runs = []
    for k, i in enumerate(footer):
        if not _section_label(alone=True).match(page.keys[i]):
            continue
        run = [i]
        for j in footer[k + 1 : k + 1 + TAG_RUN_MAX]:
            if j != run[-1] + 1 or not _is_tag(page.keys[j]):
                break
            if _section_label(alone=True).match(page.keys[j]):
                break
            run.append(j)
        if len(run) > 1:
            runs.append(run)
    return runs


def _is_tag(part: str, labelled: bool = False) -> bool:
    """Whether ``part`` can be a section tag: a few words, not ending a sentence, and
    capitalised unless a label ("Tags:") says the line holds tags ("Tags: DNS, outages").
    """
    n = len(words(part))
    return (
        1 <= n <= TAG_MAX_WORDS
        and (labelled or part[:1].isupper() or part[:1].isdigit())
        and last_char(part) not in ".,"
    )


def find_title(page: Page) -> Detection:
    """The headline: the paragraph equal to a known title, else the longest
    headline-shaped paragraph just before the body that is not a byline ("Par Claire
    Dubois (Lyon, correspondante)") nor, where another is, a picture's caption (the line
    above its credit); lifts ``title``."""
    known = _fold(str(page.known.get("title") or ""))
    if known:
        same = [i for i in page.live() if _fold(page.keys[i]) == known]
        return Detection(same[:1])
    window = page.header()[-TITLE_WINDOW:]
    byline = patterns.word_regex("byline")
    shaped = [
        i
        for i in window
        if is_headline_like(page.keys[i])
        and not is_bullet(page.keys[i])
        and _prefixed_name(page.keys[i], byline) is None
    ]
    if not shaped:
        return Detection()
    uncaptioned = [i for i in shaped if not _above_credit(page, i)]
    best = max(uncaptioned or shaped, key=lambda i: (page.word_counts[i], -i))
    return Detection([best], {"title": page.paragraphs[best]}, {"title": best})


def _above_credit(page: Page, i: int) -> bool:
    """Whether a picture's credit ("Foto: Frank Rumpenhorst / dpa") is the line under
    line ``i``: then ``i`` is the picture's caption, not the headline."""
    return i + 1 < len(page.keys) and bool(_credit().match(page.keys[i + 1]))


def find_byline(page: Page) -> Detection:
    """The author line (``_author_line``), with the role printed on the line under it
    ("Emma Hartley" / "Transport correspondent"), and the author's bio among the page's
    last lines ("Emma Hartley is the paper's transport correspondent. ...", or under an
    "About the author" label); lifts ``author``."""
    found = _author_line(page)
    live = page.live()
    author = found.metadata.get("author") or page.known.get("author")
    extra = _author_box(page, live, str(author or ""))
    if found.indices:
        after = [i for i in live if i > found.indices[-1]][:1]
        extra += [i for i in after if _is_role_line(page.keys[i], page.word_counts[i])]
    if author:
        extra += _author_bio(page, live, str(author))
    if not extra:
        return found
    return replace(found, indices=sorted({*found.indices, *extra}))


# A role under a byline is this short; an author's bio at most this long, among this many
# of the page's last live lines.
ROLE_MAX_WORDS = 5
BIO_MAX_WORDS = 60
BIO_LAST_LINES = 12


def _is_role_line(key: str, n_words: int) -> bool:
    """A journalist's role alone on its line ("Transport correspondent", "Redakteurin
    Politik", "Correspondante à Lyon").

    >>> _is_role_line("Transport correspondent", 2), _is_role_line("Trains were late.", 3)
    (True, False)
    """
    return (
        n_words <= ROLE_MAX_WORDS
        and not ends_sentence(key)
        and patterns.word_regex("role").search(key) is not None
    )


def _author_bio(page: Page, live: Sequence[int], author: str) -> list[int]:
    """Among the page's last live lines, the author's bio: a paragraph that opens with
    the author's name and either a verb of being and a journalist's role ("Emma Hartley
    is the Northern Courier's transport correspondent. She previously ...") or an address
    to reach them ("Marcus Reed covers transportation. Contact him at mreed@...").

    >>> page = Page(["Trains ran late all week, the operator said on Friday.",
    ...              "Emma Hartley is the Courier's transport correspondent."])
    >>> _author_bio(page, page.live(), "Emma Hartley")
    [1]
    """
    found = []
    for i in live[-BIO_LAST_LINES:]:
        key = page.keys[i]
        if not key.startswith(author) or page.word_counts[i] > BIO_MAX_WORDS:
            continue
        rest = key[len(author) :]
        if not rest[:1].isspace():
            continue
        role = _opens_with_being(rest) and patterns.word_regex("role").search(key)
        if role or _CONTACT.search(rest):
            found.append(i)
    return found


# An e-mail address or a social handle: how to reach an author.
_CONTACT = re.compile(r"\w@\w[\w-]*\.\w|(?:^|\s)@\w{2,}")


def _opens_with_being(rest: str) -> bool:
    """Whether the words after an author's name open with a verb of being ("is", "ist",
    "est", ``data/bio_verb.txt``).

    >>> _opens_with_being(" ist Redakteurin im Lokalressort."), _opens_with_being(" said.")
    (True, False)
    """
    stripped = rest.lstrip()
    return stripped != rest and patterns.word_regex("bio_verb").match(stripped) is not None


def _author_box(page: Page, live: Sequence[int], author: str = "") -> list[int]:
    """Among the page's last live lines, an author's box: its label alone on its line
    ("About the author", "Über die Autorin", "Sobre la firma", ``data/author_box.txt``)
    and the bio under it, or the author's name and the bio under that.

    >>> page = Page(["Trains ran late all week, the operator said on Friday.",
    ...              "Über die Autorin", "Jana Becker schreibt seit 2018 über Gemüse."])
    >>> _author_box(page, page.live())
    [1, 2]
    >>> page = Page(["Trains ran late all week.", "Sobre la firma", "Ane Etxeberria",
    ...              "Periodista de la sección de Euskadi."])
    >>> _author_box(page, page.live(), "Ane Etxeberria")
    [1, 2, 3]
    """
    last = live[-BIO_LAST_LINES:]
    found = []
    for k, i in enumerate(last):
        if not patterns.is_whole("author_box", page.keys[i]):
            continue
        found.append(i)
        under = list(last[k + 1 : k + 3])
        if under and author and page.keys[under[0]] == author:
            found.append(under.pop(0))  # the name, then the bio
        if under and page.word_counts[under[0]] <= BIO_MAX_WORDS:
            found.append(under[0])
    return found


def _author_line(page: Page) -> Detection:
    """The author line; lifts ``author``. In order of evidence:

    1. a line equal to the author the source states;
    2. a prefixed byline ("By Jane Doe", "Par Claire Dubois", "Von Katrin Schulz") among
       the header's last lines or the body region's first ones (a standfirst long enough
       to open the body region often stands above the byline);
    3. a bare name in the header ("Jane Doe", "Jane Doe | Gazette") only where its place
       says byline: right under the title, next to a date line, after a lone "By", or with
       a site or role after it. A capitalised menu label ("Top Content", "Le Monde")
       elsewhere is not a name;
    4. a prefixed byline right under the body region's last line, where regional papers
       sign ("Von Sarah Klein").
    """
    prefix = patterns.word_regex("byline")
    header = page.header()[-BYLINE_WINDOW:]
    span = page.body_region()
    opening = [i for i in page.live() if span and span[0] <= i <= span[1]][:BYLINE_WINDOW]
    known = _fold(str(page.known.get("author") or ""))
    if known:
        for i in header + opening:
            if known in _fold(page.keys[i]) and page.word_counts[i] <= BYLINE_MAX_WORDS:
                return Detection([i])
    for i in header + opening:
        name = _prefixed_byline(page, i, prefix)
        if name is not None:
            return Detection([i], {"author": name}, {"author": i})
    for i in header + opening[:BARE_NAME_OPENING]:
        if i not in header and not _byline_place(page, i):
            continue  # in the body's first lines, only a name next to the date is a byline
        # A bare name may end with a full stop, as some papers print it ("Thomas Le Gall."),
        # a company's name too ("Sterling Protective Services, Inc."), which is no author.
        key = page.keys[i]
        if names_a_company(key):
            continue
        key = key.removesuffix(".")
        if page.word_counts[i] > BYLINE_MAX_WORDS or ends_sentence(key) or prefix.match(key):
            continue
        if is_table_row(key):
            continue
        name, suffixed = _name_and_suffix(key)
        if not _is_person_name(name) or _is_phrase(name, page.prose_words):
            continue
        lone_prefix = i > 0 and _is_lone_prefix(page.keys[i - 1], prefix)
        if suffixed or lone_prefix or _byline_place(page, i):
            lines = [i - 1, i] if lone_prefix else [i]
            return Detection(lines, {"author": name}, {"author": i})
    under = span[1] + 1 if span else len(page.keys)
    if under < len(page.keys) and under not in page.removed:
        name = _prefixed_byline(page, under, prefix)
        if name is not None:
            return Detection([under], {"author": name}, {"author": under})
    return Detection()


def _prefixed_byline(page: Page, i: int, prefix: re.Pattern[str]) -> str | None:
    """The person line ``i`` signs with a prefix ("Von Sarah Klein"), or None: a short
    line that ends no sentence and is no table row."""
    key = page.keys[i]
    if page.word_counts[i] > BYLINE_MAX_WORDS or ends_sentence(key) or is_table_row(key):
        return None
    return _prefixed_name(key, prefix)


@cache
def _company_end() -> re.Pattern[str]:
    """A company's legal form at the end of a line (``data/company_form.txt``)."""
    return re.compile(rf"\b(?:{'|'.join(patterns.lines('company_form'))})\.?$", re.IGNORECASE)


def names_a_company(key: str) -> bool:
    """Whether a line ends with a company's legal form ("Solarwerk Nord GmbH",
    "Sterling Protective Services, Inc."): a company's name, no person's.

    >>> names_a_company("Solarwerk Nord GmbH"), names_a_company("Jane Doe, Reuters")
    (True, False)
    """
    return bool(_company_end().search(key))


def _is_phrase(name: str, prose_words: frozenset[str]) -> bool:
    """Whether a capitalised ``name`` is made of words the page's prose writes in lower
    case ("Key Takeaways", "Child Care"): a heading, not a person. A name's particles
    ("Le", "Van", "De") are such words in their language's prose, and do not count.

    >>> _is_phrase("Child Care", frozenset({"care", "the"})), _is_phrase("Jane Doe", frozenset())
    (True, False)
    >>> _is_phrase("Thomas Le Gall", frozenset({"le", "la"}))
    False
    """
    particle = patterns.word_regex("name_particle")
    return any(
        part.lower() in prose_words and not particle.fullmatch(part) for part in name.split()
    )


def _name_and_suffix(text: str) -> tuple[str, bool]:
    """The name at the start of a byline and whether a site, role or date followed it
    ("Jane Doe, Reuters", "Jane Doe | Gazette", "Jane Doe – Updated ...")."""
    text = text.strip(" :,-|")
    name = _BYLINE_PARTS.split(text, maxsplit=1)[0]
    return name, name != text


def _is_lone_prefix(key: str, prefix: re.Pattern[str]) -> bool:
    """A line holding only a byline prefix ("By", "Von"), the name on the next line."""
    m = prefix.match(key)
    return bool(m) and not key[m.end() :].strip(" :,-|")


def _byline_place(page: Page, i: int) -> bool:
    """Whether line ``i`` sits where a bare-name byline does: right under the title, above
    a journalist's role, next to a short line holding a date, or under the title and its
    standfirst and above the date with the place of writing between ("Laura Gómez" /
    "Zaragoza" / "16 mar 2025 - 07:45")."""
    if i > 0 and page.removed.get(i - 1) == "title":
        return True
    after = [i + 1]
    if i + 1 < len(page.paragraphs):
        below, n_below = page.keys[i + 1], page.word_counts[i + 1]
        if _is_role_line(below, n_below):
            return True  # "James Whitaker" / "Transport reporter, Yorkshire"
        if i > 1 and page.removed.get(i - 2) == "title" and _is_place_line(below, n_below):
            after.append(i + 2)  # under the title and its standfirst, the place between
    for j in (i - 1, *after):
        if 0 <= j < len(page.paragraphs) and page.word_counts[j] <= DATELINE_MAX_WORDS:
            if dates.has_date(page.keys[j]):
                return True
    return False


# The place a report was written from, alone on its line under the byline, is this short.
PLACE_MAX_WORDS = 3


def _is_place_line(key: str, n_words: int) -> bool:
    """A place name alone on its line ("Zaragoza", "Den Haag"): a few capitalised words,
    no digit, no sentence end, and not shaped as a person's name (a second author:
    "Cristina Vázquez"), which costs two-word places ("San Sebastián").

    >>> _is_place_line("Zaragoza", 1), _is_place_line("16 mar 2025", 3)
    (True, False)
    >>> _is_place_line("Cristina Vázquez", 2)
    False
    """
    return (
        1 <= n_words <= PLACE_MAX_WORDS
        and key[:1].isupper()
        and not any(c.isdigit() for c in key)
        and not ends_sentence(key)
        and (n_words == 1 or not _is_person_name(key))
    )


def _is_person_name(text: str) -> bool:
    """Two to five capitalised name parts, optionally two names joined by "and"/"&"."""
    for name in re.split(r"\s+(?:and|und|et|y|e|en|&)\s+", text):
        parts = name.split()
        low, high = NAME_PARTS
        if not low <= len(parts) <= high or not all(_name_part().match(p) for p in parts):
            return False
        if not parts[0][:1].isupper() or not parts[-1][:1].isupper():
            return False
    return True


def find_outside_body(page: Page) -> Detection:
    """Everything outside the article's body region (``Page.body_region``): menus,
    footers, teaser lists, link farms around the article."""
    span = page.body_region()
    if span is None:
        return Detection()
    first, last = span
    return Detection([i for i in page.live() if i < first or i > last])
