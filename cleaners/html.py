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

from cleaners.dates import parse_timestamp
from cleaners.encoding import Decoded, UndecodableError, decode_bytes

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
        doc = trafilatura.bare_extraction(
            html,
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
    return Extracted(doc.text or "", meta)


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
