"""Metadata lifted from the text: relative datelines are counted back from the fetch
time, and nothing is invented where the page gives no evidence."""

from __future__ import annotations

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
