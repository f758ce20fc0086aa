"""The cleaner registry and ``clean_document``: run every detector in a declared order
and return kept paragraphs, removals with reason codes, and lifted metadata, the way
``ftfy.fix_and_explain`` returns what it did."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from cleaners import detectors, scorer
from cleaners.author import pick_author
from cleaners.dedup import MIN_WITHIN_DOC_CHARS, find_repeats
from cleaners.page import Page
from cleaners.published import pick_published
from cleaners.title import pick_title

Detector = Callable[[Page], detectors.Detection]

# Reason code -> detector, in the order they run. Order matters: the header/footer
# shaped rules (title, byline, section) look at what the content rules left standing.
REGISTRY: dict[str, Detector] = {
    "cookie_banner": detectors.find_cookie_banner,
    "share": detectors.find_share_buttons,
    "nav": detectors.find_navigation,
    "promo": detectors.find_promos,
    "caption": detectors.find_captions,
    "attribution": detectors.find_attribution,
    "dateline": detectors.find_dateline,
    "related_link": detectors.find_related_links,
    "section": detectors.find_sections,
    "title": detectors.find_title,
    "byline": detectors.find_byline,
    "outside_body": detectors.find_outside_body,
}
# Detectors whose verdict on a paragraph depends on that paragraph alone (cookie buttons
# count only next to a banner paragraph, which is one of those). A paragraph the first
# pass kept was seen and passed by each of them, so the later passes, over the kept
# paragraphs only, skip them: they would find nothing. Their metadata is the first
# pass's anyway.
PER_LINE: frozenset[str] = frozenset(
    {"cookie_banner", "share", "nav", "promo", "attribution", "dateline"}
)
DUPLICATE = "duplicate"
# Lines the learned line scorer (``cleaners.scorer``) calls not body. While it is on, the
# rules' body-region search (``outside_body``) only informs it; ``--disable not_body``
# brings the rule back as the last word.
NOT_BODY = "not_body"
OUTSIDE_BODY = "outside_body"
REASONS: tuple[str, ...] = (*REGISTRY, DUPLICATE, NOT_BODY)


# Long articles have a few hundred paragraphs; 10,000 is a listing or a dump. Cleaning
# costs about 0.1 ms per paragraph, so the cap also bounds one document's time.
DEFAULT_MAX_PARAGRAPHS = 10_000
# Cleaning holds about 40 bytes per byte of a document at its peak (measured on real
# pages, benchmarks/memory_per_document.py): 10 MB bounds one document near 400 MB. An
# article is well under 1 MB; a bigger "document" is a dump or a listing.
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class CleanSettings:
    """What a user tunes: which reasons are off, the within-document repeat length,
    whether curly quotes are straightened during encoding repair, and the largest
    document (in paragraphs) accepted."""

    disabled: frozenset[str] = frozenset()
    min_repeat_chars: int = MIN_WITHIN_DOC_CHARS
    uncurl_quotes: bool = False
    # A document split into more paragraphs than this is refused (a dump, not an article).
    max_paragraphs: int = DEFAULT_MAX_PARAGRAPHS
    # A document (a file, or one JSONL record) larger than this is refused: it bounds the
    # memory one document takes (files as a whole are bounded by max_file_bytes).
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES

    @classmethod
    def from_disabled(cls, disabled: Iterable[str] = (), **kw: Any) -> CleanSettings:
        unknown = set(disabled) - set(REASONS)
        if unknown:
            raise ValueError(f"unknown reason codes: {sorted(unknown)}; known: {list(REASONS)}")
        return cls(disabled=frozenset(disabled), **kw)


@dataclass(frozen=True)
class Removal:
    position: int
    text: str
    reason: str
    dup_of: int | None = None  # for within-document repeats: position of the first copy


@dataclass
class CleanResult:
    kept: list[tuple[int, str]] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    # Position -> the line scorer's probability that the line is body, for every line it
    # decided on (those the rules kept).
    body_probability: dict[int, float] = field(default_factory=dict)
    # Lifted field -> the position of the line it came from.
    sources: dict[str, int] = field(default_factory=dict)
    # Lifted field -> the probability the learned picker that chose it gave its choice
    # (title, author, published_at; a rule's choice has none).
    confidence: dict[str, float] = field(default_factory=dict)
    # Position -> the features that moved the line scorer's log-odds most
    # (``scorer.why``), for the lines it decided; only when asked (``thresher explain``).
    body_why: dict[int, str] = field(default_factory=dict)


# Passes at most: the first, and further ones over what is left. Almost every page is
# done after the first (the second finds nothing); the line scorer reads context, so a
# line can lose its neighbours in one pass and go in the next, and short chains of that
# need a few more.
MAX_PASSES = 8


def clean_document(
    paragraphs: list[str],
    known: Mapping[str, Any] | None = None,
    settings: CleanSettings = CleanSettings(),
    why: bool = False,
) -> CleanResult:
    """Run the registry, then the line scorer, over one document's paragraphs, then both
    again over what is left until nothing more goes (at most ``MAX_PASSES``). Junk that
    other junk shielded (a stray line that sat between the body and a repeated paragraph)
    is caught, and cleaning the cleaned text changes nothing. Metadata comes from the
    first pass, which saw the whole page; then the learned pickers choose the title, the
    author and the publication date from the first pass's view (``cleaners.title``,
    ``cleaners.author``, ``cleaners.published``), and a page dated only by its update gets
    that day as ``published_at``. With ``why``, each line the line scorer decided also
    gets the features that moved its decision most (``CleanResult.body_why``).

    >>> r = clean_document(["I agree", "We use cookies to improve your experience.",
    ...                     "The council approved the budget on Monday after a long debate.",
    ...                     "Subscribe to our newsletter for more."])
    >>> [x.reason for x in r.removed]
    ['cookie_banner', 'cookie_banner', 'promo']
    >>> [t for _, t in r.kept]
    ['The council approved the budget on Monday after a long debate.']
    """
    scored = NOT_BODY not in settings.disabled
    if scored:  # the body region only informs the scorer
        settings = replace(settings, disabled=settings.disabled | {OUTSIDE_BODY})

    def one_pass(texts: list[str], skip: frozenset[str] = frozenset()) -> CleanResult:
        rules, page = _rules_pass(
            texts, known, replace(settings, disabled=settings.disabled | skip)
        )
        return _score_lines(page, rules, why) if scored else rules

    result = one_pass(list(paragraphs))
    first_reasons, first_probability = _as_lines(len(paragraphs), result)
    for _ in range(MAX_PASSES - 1):
        again = one_pass([t for _, t in result.kept], skip=PER_LINE)
        if not again.removed:
            break
        _merge(result, again)
    headline = _choose_title_and_author(
        paragraphs, first_reasons, first_probability, result, known or {}
    )
    _lift_from_furniture(paragraphs, result, known or {})
    _choose_published(paragraphs, first_reasons, first_probability, headline, result, known or {})
    _date_the_undated(result)
    return result


def _lift_from_furniture(
    paragraphs: list[str], result: CleanResult, known: Mapping[str, Any]
) -> None:
    """A page no dateline dated, or no byline signed, may state its date or author in a
    line of page furniture near the body's start ("By Jane DoePublished: Jan 29, 2025",
    "By Jane Doe" above a table of contents): lift them from there. A field the source
    states, or the rules lifted, stays."""
    meta = result.metadata
    start = result.kept[0][0] if result.kept else len(paragraphs)
    dated = any(meta.get(f) is not None for f in ("published_at", "updated_at"))
    if not dated and not known.get("published_at"):
        found = detectors.dated_metadata_line(paragraphs, start)
        if found is not None:
            name, when, position = found
            meta[name], result.sources[name] = when, position
    if not meta.get("author") and not known.get("author"):
        signed = detectors.byline_near_body(paragraphs, start)
        if signed is not None:
            meta["author"], result.sources["author"] = signed


def _date_the_undated(result: CleanResult) -> None:
    """A page that states only when it was updated ("Updated August 14, 2025") gets that
    day as ``published_at`` too, as htmldate does on the HTML path (its original date
    falls back to the latest one it finds): the best evidence of the page's date there
    is. ``updated_at`` keeps it as well."""
    meta = result.metadata
    if meta.get("published_at") is None and meta.get("updated_at") is not None:
        meta["published_at"] = meta["updated_at"]
        if "updated_at" in result.sources:
            result.sources["published_at"] = result.sources["updated_at"]


def _as_lines(n: int, result: CleanResult) -> tuple[list[str | None], list[float]]:
    """Per line of a pass's input: its reason code (None: kept) and the line scorer's
    probability that it is body (NaN where a rule decided, or the scorer is off)."""
    reasons: list[str | None] = [None] * n
    for r in result.removed:
        reasons[r.position] = r.reason
    probability = [math.nan] * n
    for i, p in result.body_probability.items():
        probability[i] = p
    return reasons, probability


def _choose_title_and_author(
    paragraphs: list[str],
    reasons: list[str | None],
    probability: list[float],
    result: CleanResult,
    known: Mapping[str, Any],
) -> int | None:
    """Lift the headline and the author from the page as the first pass of cleaning left
    it (the view the pickers of ``cleaners.title`` and ``cleaners.author`` were trained
    on), and return the headline's line. A picker's choice replaces the rules'; when it
    names nothing, the rules' choice stays. A field the source states is never
    replaced."""
    picked = pick_title(paragraphs, reasons, probability)
    headline = None if picked is None else picked[0]
    if picked is not None and not known.get("title"):
        _lift(result, "title", paragraphs[picked[0]], picked[0], picked[1])
    if not known.get("author"):
        signed = pick_author(paragraphs, reasons, probability, headline)
        if signed is not None:
            _lift(result, "author", *signed)
    return headline


def _lift(result: CleanResult, name: str, value: Any, line: int, probability: float) -> None:
    """Set a field a picker chose, the line it came from and the picker's probability."""
    result.metadata[name] = value
    result.sources[name] = line
    result.confidence[name] = probability


def _choose_published(
    paragraphs: list[str],
    reasons: list[str | None],
    probability: list[float],
    headline: int | None,
    result: CleanResult,
    known: Mapping[str, Any],
) -> None:
    """Lift the publication date from the first pass's view (``cleaners.published``),
    after the rules and the furniture lines have had their say: the picker's date
    replaces their ``published_at``; an ``updated_at`` they read stays. A date the source
    states is never replaced, and one after the source's ``fetched_at`` is never picked."""
    if known.get("published_at"):
        return
    fetched = known.get("fetched_at")
    dated = pick_published(
        paragraphs,
        reasons,
        probability,
        headline,
        fetched if isinstance(fetched, datetime) else None,
    )
    if dated is not None:
        _lift(result, "published_at", *dated)


def rule_reasons_and_region(
    paragraphs: list[str],
    known: Mapping[str, Any] | None = None,
    settings: CleanSettings = CleanSettings(),
) -> tuple[list[str | None], list[bool]]:
    """What the line scorer is told about the rules in the first pass of cleaning: the
    reason code each line was removed for (None if kept; ``outside_body`` is never one),
    and whether each line lies in the body region the rules' search finds among the lines
    they kept."""
    rules_only = replace(settings, disabled=settings.disabled | {OUTSIDE_BODY, NOT_BODY})
    return _reasons_and_region(_rules_pass(list(paragraphs), known, rules_only)[1])


def _reasons_and_region(page: Page) -> tuple[list[str | None], list[bool]]:
    """Per line of a page the rules went over: its reason code (None if kept), and
    whether it lies in the body region of the lines they kept."""
    n = len(page.paragraphs)
    reasons: list[str | None] = [page.removed.get(i) for i in range(n)]
    span = page.body_region()
    first, last = span if span else (n, -1)
    return reasons, [first <= i <= last for i in range(n)]


def _score_lines(page: Page, result: CleanResult, why: bool = False) -> CleanResult:
    """Remove, as ``not_body``, the lines the rules kept that the line scorer and its
    sequence step place outside the body (with ``why``, say which features moved each
    decision most)."""
    if not result.kept:
        return result
    model = scorer.shipped_model()
    paragraphs = page.paragraphs
    reasons, region = _reasons_and_region(page)
    open_lines, body, logits, x = scorer.decide(model, paragraphs, reasons, region)
    kept: list[tuple[int, str]] = []
    removed = list(result.removed)
    for i, inside in zip(open_lines, body.tolist(), strict=True):
        if inside:
            kept.append((i, paragraphs[i]))
        else:
            removed.append(Removal(i, paragraphs[i], NOT_BODY))
    removed.sort(key=lambda r: r.position)
    probability = 1.0 / (1.0 + np.exp(-logits))
    return CleanResult(
        kept=kept,
        removed=removed,
        metadata=result.metadata,
        body_probability=dict(zip(open_lines, probability.tolist(), strict=True)),
        sources=result.sources,
        body_why=dict(zip(open_lines, scorer.why(model, x), strict=True)) if why else {},
    )


def _merge(result: CleanResult, again: CleanResult) -> None:
    """Fold a later pass over ``result``'s kept paragraphs into ``result``."""
    positions = [i for i, _ in result.kept]
    result.removed.extend(
        Removal(
            positions[r.position],
            r.text,
            r.reason,
            None if r.dup_of is None else positions[r.dup_of],
        )
        for r in again.removed
    )
    result.removed.sort(key=lambda r: r.position)
    result.kept = [(positions[i], t) for i, t in again.kept]
    # A line's probability is the one of the last pass that decided on it.
    result.body_probability.update((positions[i], p) for i, p in again.body_probability.items())
    result.body_why.update((positions[i], w) for i, w in again.body_why.items())


def _rules_pass(
    paragraphs: list[str], known: Mapping[str, Any] | None, settings: CleanSettings
) -> tuple[CleanResult, Page]:
    """One pass of the registry and the repeat finder; the page holds every removal."""
    page = Page(paragraphs, known=dict(known or {}))
    metadata: dict[str, Any] = {}
    sources: dict[str, int] = {}
    for reason, detector in REGISTRY.items():
        if reason in settings.disabled:
            continue
        found = detector(page)
        for i in found.indices:
            page.removed.setdefault(i, reason)
        for key, value in found.metadata.items():
            if key not in metadata:
                metadata[key] = value
                if key in found.sources:
                    sources[key] = found.sources[key]
    dup_of: dict[int, int] = {}
    if DUPLICATE not in settings.disabled:
        live = page.live()
        repeats = find_repeats([page.paragraphs[i] for i in live], settings.min_repeat_chars)
        for j, first in repeats.items():
            page.removed[live[j]] = DUPLICATE
            dup_of[live[j]] = live[first]
    result = CleanResult(metadata=metadata, sources=sources)
    for i, text in enumerate(page.paragraphs):
        if i in page.removed:
            result.removed.append(Removal(i, text, page.removed[i], dup_of.get(i)))
        else:
            result.kept.append((i, text))
    return result, page
