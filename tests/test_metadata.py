"""Metadata lifted from the text: relative datelines are counted back from the fetch
time, and nothing is invented where the page gives no evidence."""

from __future__ import annotations

import pytest

from cleaners.document import process_document, process_html, validate_sidecar

BODY = (
    "The regional council voted on Tuesday to raise the school budget by four percent, "
    "with most of the money going to teachers' pay and new classrooms.\n\n"
    "Opposition members said the increase did not go far enough, but the budget passed "
    "comfortably after a long debate about the town's growing schools."
)


def _page(dateline: str) -> bytes:
    return f"Council raises school budget\n\n{dateline}\n\n{BODY}".encode()


def test_a_relative_dateline_counts_back_from_the_fetch() -> None:
    sidecar = validate_sidecar({"fetched_at": "2026-11-20T10:30:00Z"})
    doc = process_document(_page("Published 3 hours ago"), "a.txt", sidecar=sidecar)
    assert doc.metadata["published_at"].isoformat() == "2026-11-20T07:30:00+00:00"
    doc = process_document(_page("Aktualisiert vor 2 Tagen"), "b.txt", sidecar=sidecar)
    assert doc.metadata["updated_at"].isoformat() == "2026-11-18T00:00:00+00:00"


def test_a_relative_dateline_without_a_fetch_time_gives_no_date() -> None:
    doc = process_document(_page("Published 3 hours ago"), "a.txt")
    assert doc.metadata.get("published_at") is None
    assert ("Published 3 hours ago", "dateline") in {(t, r) for _, t, r, _ in doc.removed}


def test_a_page_without_author_or_date_gets_none() -> None:
    doc = process_document(_page("Local news"), "c.txt")
    assert doc.metadata.get("author") is None
    assert doc.metadata.get("published_at") is None and doc.metadata.get("updated_at") is None
    assert doc.metadata["title"] == "Council raises school budget"


# (label, a line of page furniture under the headline, field, day): the date a page states
# beside a name, a site or its categories, where no dateline stands alone.
FURNITURE = [
    ("byline run into the date", "By Jane DoePublished: Jan 29, 2025", "published_at",
     "2025-01-29"),
    ("date, name, category", "Dec 26, 2025 • Mahua Das in Project Management", "published_at",
     "2025-12-26"),
    ("posted on, by, comments", "Posted on December 20, 2025 by Jean Aufranc - 5 Comments",
     "published_at", "2025-12-20"),
    ("German byline and site", "Von Katrin Schulz | Stadtanzeiger | 12. März 2025", "published_at",
     "2025-03-12"),
    ("French, with a separator", "Par Claire Dubois · Le Progrès · 3 mars 2025", "published_at",
     "2025-03-03"),
    ("an update only", "By Amanda Furrer | Updated: Dec 19, 2025", "updated_at", "2025-12-19"),
    ("Italian last update", "Ultimo aggiornamento: 14/03/2025 alle 11:15", "updated_at",
     "2025-03-14"),
    ("Spanish last update", "Última actualización: 14/03/2025 - 11:15", "updated_at",
     "2025-03-14"),
    ("German last update", "Zuletzt aktualisiert: 14.03.2025, 11:15 Uhr", "updated_at",
     "2025-03-14"),
    ("French last update", "Dernière mise à jour : 14 mars 2025 à 11h15", "updated_at",
     "2025-03-14"),
    ("Dutch last update", "Laatst bijgewerkt: 14 maart 2025, 11:15", "updated_at",
     "2025-03-14"),
    ("Dutch abbreviated month", "24 mrt. 2025 om 08:15", "published_at", "2025-03-24"),
    ("Austrian January", "3. Jänner 2025, 10:15 Uhr", "published_at", "2025-01-03"),
    ("German abbreviated March", "5. Mrz. 2025", "published_at", "2025-03-05"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "field", "day"), [pytest.param(*c[1:], id=c[0]) for c in FURNITURE]
)
def test_a_date_in_a_line_of_page_furniture_is_lifted(line: str, field: str, day: str) -> None:
    doc = process_document(_page(line), "a.txt")
    assert doc.metadata[field].date().isoformat() == day
    assert doc.metadata["published_at"].date().isoformat() == day  # an update dates the page


@pytest.mark.parametrize(
    "line",
    [
        "The council met by the river on 3 March 2025 to agree the plan.",  # a sentence
        "Average Rating: 4.25 | 112 reviews",  # no date that can be read
    ],
)
def test_a_date_in_body_text_is_not_the_publication_date(line: str) -> None:
    doc = process_document(_page(line), "a.txt")
    assert doc.metadata.get("published_at") is None


def _page_with_contents(byline: str) -> bytes:
    """A byline above a table of contents: further from the body than the byline rule's
    window reaches."""
    contents = [
        f"Step {n}: {topic}"
        for n, topic in enumerate(
            ["Plan", "Measure", "Cut", "Sand", "Prime", "Paint", "Dry", "Varnish", "Fit"], start=1
        )
    ]
    return "\n\n".join(["How to build a bookshelf", byline, "Contents", *contents, BODY]).encode()


@pytest.mark.parametrize(
    ("byline", "author"),
    [
        ("By Ramon Berenguer", "Ramon Berenguer"),
        ("Written by Philip Stefanov", "Philip Stefanov"),
        ("Von Katrin Schulz | Stadtanzeiger", "Katrin Schulz"),
        ("By the numbers", None),  # a prefix, but no name after it
    ],
)
def test_a_byline_above_a_table_of_contents_signs_the_page(byline: str, author: str | None) -> None:
    doc = process_document(_page_with_contents(byline), "a.txt")
    assert doc.metadata.get("author") == author


# (label, <title>, og:title, the page's <h1>s, og:site_name, the title expected): an
# HTML page's headline is its <h1> that agrees with a title its metadata states; a
# site-wide <h1> (the site's name, a slogan) is not taken, and without an agreeing <h1>
# the stated title loses the site's name.
HTML_TITLES = [
    (
        "h1 without the site suffix",
        "Bridge reopens after repairs | Gazette",
        "Bridge reopens after repairs | Gazette",
        ["Bridge reopens after repairs"],
        "Gazette",
        "Bridge reopens after repairs",
    ),
    (
        "h1 worded apart from the SEO title",
        "Bridge Repairs 2026: Everything You Need to Know",
        "Bridge Repairs 2026: Everything You Need to Know",
        ["Harbour bridge repairs 2026: what changes for drivers"],
        None,
        "Harbour bridge repairs 2026: what changes for drivers",
    ),
    (
        "site-name h1 above the headline",
        "Bridge reopens after repairs – Gazette",
        None,
        ["Gazette", "Bridge reopens after repairs"],
        "Gazette",
        "Bridge reopens after repairs",
    ),
    (
        "slogan h1 only: title kept, site name dropped",
        "Bridge reopens after repairs | Gazette",
        None,
        ["Local news you can trust"],
        "Gazette",
        "Bridge reopens after repairs",
    ),
    (
        "no h1, no site name",
        "Bridge reopens after repairs - Part 2",
        None,
        [],
        None,
        "Bridge reopens after repairs - Part 2",
    ),
    (
        "German page, site name first",
        "Gazette | Brücke nach Reparatur wieder offen",
        "Gazette | Brücke nach Reparatur wieder offen",
        ["Brücke nach Reparatur wieder offen"],
        "Gazette",
        "Brücke nach Reparatur wieder offen",
    ),
]


def _html_page(title: str, og_title: str | None, headings: list[str], site: str | None) -> str:
    """A page whose last <h1> heads the article and the others sit in its header."""
    meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    meta += f'<meta property="og:title" content="{og_title}">' if og_title else ""
    header = "".join(f"<h1>{h}</h1>" for h in headings[:-1])
    headline = "".join(f"<h1>{h}</h1>" for h in headings[-1:])
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY.split("\n\n"))
    return (
        f"<html><head><title>{title}</title>{meta}</head><body><header>{header}</header>"
        f"<article>{headline}{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("title", "og_title", "headings", "site", "expected"),
    [case[1:] for case in HTML_TITLES],
    ids=[case[0] for case in HTML_TITLES],
)
def test_an_html_page_is_titled_by_its_headline(
    title: str, og_title: str | None, headings: list[str], site: str | None, expected: str
) -> None:
    doc = process_html(_html_page(title, og_title, headings, site), "page.html")
    assert doc.metadata["title"] == expected


# (label, the markup between the headline and the article's text, what trafilatura reads
# as the author from the markup or None, the author expected): where the markup names no
# author, the byline under the headline does; a prefix alone, an update line or a
# copyright line is no author; and with no byline there is none.
HTML_AUTHORS = [
    (
        "byline under the headline",
        "<div><span>By</span> <a>Erin Spain</a> 4 Comments</div>",
        None,
        "Erin Spain",
    ),
    ("prefix and name on two lines", "<p>Written by</p><p>Jane Doe</p>", None, "Jane Doe"),
    (
        "name, role and date",
        "<p>By Jane Doe ⋅ Senior Editor ⋅ Updated May 6, 2025</p>",
        None,
        "Jane Doe",
    ),
    ("German byline", "<p>Von Katrin Schulz</p><time>3. März 2025</time>", None, "Katrin Schulz"),
    ("the markup's author wins", "<p>By Jane Doe</p>", "John Roe", "John Roe"),
    (
        "the name in a wordy markup author",
        "<p>Local news</p>",
        "This post was written by Jane Doe; Head; Community Development",
        "Jane Doe",
    ),
    (
        "a team in the markup stays as it is",
        "<p>Local news</p>",
        "The Currency editors",
        "The Currency editors",
    ),
    (
        "a name beside the date, in a part of its own",
        "<p>Dec 26, 2025 • Mahua Das in Project Management</p>",
        None,
        "Mahua Das",
    ),
    (
        "Spanish: a name beside the date",
        "<p>26 de diciembre de 2025 · Lucía Ortega en Cultura</p>",
        None,
        "Lucía Ortega",
    ),
    (
        "the markup's name before when it was updated",
        "<p>Local news</p>",
        "Rasmus Barslund Founder; Lead Reviewer Updated Feb",
        "Rasmus Barslund Founder",
    ),
    ("no byline: no author", "<p>Shop by Department</p><p>Local news</p>", None, None),
    (
        "a category beside the date is no author",
        "<p>Dec 26, 2025 • Project Management</p>",
        None,
        None,
    ),
    ("a prefix alone in the markup is no author", "<p>Local news</p>", "Written By", None),
    ("an update line in the markup is no author", "<p>Local news</p>", "Updated January", None),
    # trafilatura reads the author element; a lone month there is a piece of the date
    ("a month as the author element is no author", '<span class="author">Dec</span>', None, None),
]


def _headlined_page(meta: str, furniture: str) -> str:
    """A page with ``meta`` in its head and ``furniture`` under its headline."""
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY.split("\n\n"))
    return (
        f"<html><head><title>Council raises school budget</title>{meta}</head><body>"
        f"<header><h1>Council raises school budget</h1>{furniture}</header>"
        f"<article>{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("furniture", "markup_author", "expected"),
    [case[1:] for case in HTML_AUTHORS],
    ids=[case[0] for case in HTML_AUTHORS],
)
def test_an_html_page_is_signed_by_its_byline(
    furniture: str, markup_author: str | None, expected: str | None
) -> None:
    meta = f'<meta name="author" content="{markup_author}">' if markup_author else ""
    doc = process_html(_headlined_page(meta, furniture), "page.html")
    assert doc.metadata.get("author") == expected
    if expected and not markup_author:  # explain names the line it was read from
        assert doc.metadata_sources["author"].endswith("by the headline")


# (label, the markup's publication date or None, the lines under the headline, the day
# expected or None): the date the page shows by its headline wins over the markup's; an
# update line does not; and a page that shows and states no date gets none.
HTML_DATES = [
    ("the shown date wins", "2026-03-11", "<p>By Jane Doe</p><p>Dec 26, 2025</p>", "2025-12-26"),
    (
        "year first, as some sites write it",
        None,
        "<p>Essay - Published: 2025.12.17</p>",
        "2025-12-17",
    ),
    ("an update line does not", "2025-12-01", "<p>Updated January 8, 2026</p>", "2025-12-01"),
    (
        "nor a date under an update's label",
        "2025-12-01",
        "<p>By Jane Doe</p><p>Last updated on</p><p>January 8, 2026</p>",
        "2025-12-01",
    ),
    ("the markup's date when none is shown", "2025-12-01", "<p>By Jane Doe</p>", "2025-12-01"),
    ("no date shown or stated: none", None, "<p>Local news</p>", None),
]


@pytest.mark.parametrize(
    ("stated", "furniture", "expected"),
    [case[1:] for case in HTML_DATES],
    ids=[case[0] for case in HTML_DATES],
)
def test_an_html_page_is_dated_by_the_date_it_shows(
    stated: str | None, furniture: str, expected: str | None
) -> None:
    meta = f'<meta property="article:published_time" content="{stated}">' if stated else ""
    when = process_html(_headlined_page(meta, furniture), "page.html").metadata.get("published_at")
    assert (when.date().isoformat() if when else None) == expected
