"""HTML pages to text and page metadata, through trafilatura.

Pure: a decoded HTML string in, the main text (one paragraph per line, as trafilatura
gives it) and the page's own metadata out. Encoding is chosen before this (``decode_html``
reads the page's declared charset), and the same repair, cleaners and dedup as for plain
text run after it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement

from cleaners import dates, detectors, patterns
from cleaners.dates import parse_timestamp
from cleaners.encoding import Decoded, UndecodableError, decode_bytes
from cleaners.title import html_headline

# <meta charset="..."> or <meta http-equiv="Content-Type" content="...; charset=...">,
# looked for in the first bytes of the page, as browsers do.
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.-]+)", re.I)
_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?", re.I)
CHARSET_SNIFF_BYTES = 4096
# htmldate (through trafilatura): the original publication date, with its time of day.
DATE_PARAMS = {
    "original_date": True,
    "extensive_search": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


@dataclass
class Extracted:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    # Field -> where on the page it was read ("the markup", "<h1>", "the line 'By ...'
    # by the headline"), for ``thresher explain``.
    sources: dict[str, str] = field(default_factory=dict)


def decode_html(data: bytes) -> Decoded:
    """Decode a page: a BOM, then its declared charset when the bytes honour it, then the
    same detection as plain text.

    >>> decode_html(b'<meta charset="windows-1252"><p>caf\\xe9</p>')
    Decoded(text='<meta charset="windows-1252"><p>caf\\xe9</p>', encoding='cp1252')
    >>> decode_html('<meta charset="utf-8"><p>é</p>'.encode()).encoding
    'utf-8'
    """
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_bytes(data)
    match = _META_CHARSET.search(data[:CHARSET_SNIFF_BYTES])
    if match:
        try:
            name = codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            name = None
        if name is not None:
            name = "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name
            try:
                return Decoded(data.decode(name), name)
            except UnicodeDecodeError:
                pass  # the declaration is wrong: detect instead
    return decode_bytes(data)


def extract_html(html: str, url: str | None = None) -> Extracted:
    """The main text and metadata of a page. Comments are left out; tables are kept.

    >>> page = ('<html lang="en"><head><title>Bridge reopens | Gazette</title></head><body>'
    ...         '<nav><a href="/">Home</a></nav><article><h1>Bridge reopens</h1>'
    ...         '<p>The Harbour Bridge reopened to traffic on Thursday after six months of '
    ...         'repairs that cost the city 14 million euros, officials said on Thursday.</p>'
    ...         '<p>Engineers replaced the steel bearings under both approach spans and '
    ...         'resurfaced the main deck, which had been closed to cars since May.</p>'
    ...         '</article></body></html>')
    >>> got = extract_html(page)
    >>> got.text.splitlines()[1][:30], got.metadata["title"], got.metadata["language"]
    ('The Harbour Bridge reopened to', 'Bridge reopens', 'en')
    """
    try:
        # Parsed once: the <h1>s are read from the same tree trafilatura extracts from
        # (it works on a copy).
        tree = trafilatura.load_html(html)
        if tree is None:
            return Extracted("", _page_language(html))
        headings, stated = top_headings(tree), stated_titles(tree)
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params=DATE_PARAMS,
        )
    except (ValueError, TypeError, AttributeError) as exc:  # malformed markup
        raise UndecodableError(f"trafilatura could not parse the page: {exc}") from exc
    if doc is None:
        return Extracted("", _page_language(html))
    meta = _page_metadata(doc, html)
    sources = dict.fromkeys(meta, "the markup")
    title = html_headline(stated, headings, meta.get("site"), meta.get("title"))
    if title:
        meta["title"] = title
        sources["title"] = (
            "<h1>"
            if title in headings
            else "the markup"
            if title in stated or not stated
            else "the markup, without the site's name"
        )
    if "author" in meta and not plausible_author(meta["author"]):
        del meta["author"], sources["author"]
    named = detectors.author_in(meta["author"]) if "author" in meta else None
    if named:
        meta["author"] = named
    if title:
        _read_by_the_headline(page_lines(tree), title, meta, sources)
    sources.pop("language", None)  # the language is detected in the text first
    return Extracted(doc.text or "", meta, sources)


def _page_metadata(doc: Any, html: str) -> dict[str, Any]:
    """What trafilatura (and htmldate, through it) read from the page's markup."""
    meta: dict[str, Any] = {}
    for ours, theirs in (("title", "title"), ("author", "author"), ("site", "sitename")):
        value = getattr(doc, theirs, None)
        if isinstance(value, str) and value.strip():
            meta[ours] = value.strip()
    if isinstance(doc.url, str) and doc.url.startswith(("http://", "https://")):
        meta["url"] = doc.url
    if doc.date:
        try:
            when = parse_timestamp(doc.date)
        except (ValueError, OverflowError):
            when = None
        if when is not None and not _year_only(html, when):
            meta["published_at"] = when
    language = doc.language if isinstance(doc.language, str) and doc.language else None
    meta.update({"language": language} if language else _page_language(html))
    return meta


def _read_by_the_headline(
    lines: list[str], headline: str, meta: dict[str, Any], sources: dict[str, str]
) -> None:
    """Settle the author and date with what the page shows by its ``headline`` among its
    rendered ``lines``: a byline signs a page the markup names no author for, and the
    date shown there wins over the markup's when they fall on other days (the markup's
    is often when the page was modified, a copyright year, a date in a script)."""
    at = next((i for i, line in enumerate(lines) if line == headline), None)
    if at is None:
        return
    if "author" not in meta:
        signed = detectors.byline_near_body(lines, at + 1)
        if signed is not None:
            meta["author"], sources["author"] = signed[0], _by_the_headline(lines[signed[1]])
    shown = detectors.date_near_headline(lines, at)
    stated = meta.get("published_at")
    if shown is not None and (stated is None or stated.date() != shown[0].date()):
        meta["published_at"], sources["published_at"] = shown[0], _by_the_headline(lines[shown[1]])


def _by_the_headline(line: str) -> str:
    shown = line if len(line) <= 60 else line[:59] + "…"
    return f"the line {shown!r} by the headline"


def plausible_author(author: str) -> bool:
    """Whether an author trafilatura read from the markup can be one: not a byline prefix
    alone ("Written By"), an update line ("Updated January"), a copyright line, or a
    month's name alone ("Dec", "August": a piece of the date, in any language of
    ``data/months.json``).

    >>> [plausible_author(a) for a in ("Jane Doe", "Written By", "Updated January", "© 2025")]
    [True, False, False, False]
    >>> plausible_author("Dec"), plausible_author("März")
    (False, False)
    """
    key = patterns.match_key(author)
    prefixed = patterns.word_regex("byline").match(key)
    lone = prefixed is not None and not key[prefixed.end() :].strip(" :")
    month = dates.is_month(key)
    return not (lone or month or patterns.word_regex("updated").match(key) or "©" in author)


# Elements that start a line of the rendered page, and those whose text is not shown.
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 "
    "h3 h4 h5 h6 header li main nav ol p section table td th time tr ul".split()
)
_UNSHOWN = frozenset("button head iframe noscript script select style svg template".split())


def page_lines(tree: HtmlElement) -> list[str]:
    """The page's visible text as lines, one per block element (as a browser lays it
    out, roughly): what a plain-text scrape of the whole page would hold.

    >>> from lxml.html import fromstring
    >>> page_lines(fromstring("<div><h1>Bridge <b>reopens</b></h1><script>x()</script>"
    ...                       "<p>By <a>Jane Doe</a></p><p>Text.</p></div>"))
    ['Bridge reopens', 'By Jane Doe', 'Text.']
    """
    lines: list[str] = []
    current: list[str] = []
    hidden = 0

    def end_line() -> None:
        line = " ".join("".join(current).split())
        if line:
            lines.append(line)
        current.clear()

    for event, element in etree.iterwalk(tree, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _UNSHOWN:
            hidden += 1 if event == "start" else -1
            if event == "end" and not hidden and element.tail:
                current.append(element.tail)
            continue
        if hidden:
            continue
        if tag in _BLOCKS:
            end_line()
        if event == "start":
            current.append(element.text or "" if tag else "")
        elif element.tail:
            current.append(element.tail)
    end_line()
    return lines


def top_headings(tree: HtmlElement) -> list[str]:
    """The text of every ``<h1>`` of a parsed page, white space collapsed, in page order.

    >>> from lxml.html import fromstring
    >>> top_headings(fromstring("<div><h1>Site</h1><h1> Bridge <b>reopens</b></h1></div>"))
    ['Site', 'Bridge reopens']
    """
    return [" ".join(h.text_content().split()) for h in tree.iter("h1")]


def stated_titles(tree: HtmlElement) -> list[str]:
    """The titles a page's metadata states: its ``og:title``, then its ``<title>``.

    >>> from lxml.html import fromstring
    >>> stated_titles(fromstring('<html><head><title>A | Site</title>'
    ...                          '<meta property="og:title" content="A"></head></html>'))
    ['A', 'A | Site']
    """
    og = [str(v) for v in tree.xpath("//meta[@property='og:title']/@content")[:1]]
    title = [" ".join(t.text_content().split()) for t in tree.iter("title")][:1]
    return [t for t in og + title if t.strip()]


def _year_only(html: str, when: datetime) -> bool:
    """Whether a 1 January midnight date came from a bare year: htmldate's extensive
    search turns "© 2026" or "2019" in a footer into 2026-01-01. A real date (the page's
    metadata, a dated URL, a time element) is found by the precise search too; a date
    that only the extensive search finds, on 1 January at midnight, is not evidence of a
    publication day, and the field stays empty rather than invented."""
    if (when.month, when.day, when.hour, when.minute, when.second) != (1, 1, 0, 0, 0):
        return False
    precise = find_date(html, **{**DATE_PARAMS, "extensive_search": False})
    return not (isinstance(precise, str) and precise[:10] == when.date().isoformat())


def _page_language(html: str) -> dict[str, Any]:
    match = _HTML_LANG.search(html[: CHARSET_SNIFF_BYTES * 4])
    return {"language": match.group(1).lower()} if match else {}
