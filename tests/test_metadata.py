"""Metadata lifted from the text: relative datelines are counted back from the fetch
time, and nothing is invented where the page gives no evidence."""

from __future__ import annotations

import pytest

from cleaners.document import process_document, validate_sidecar

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
