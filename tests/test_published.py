"""The publication-date picker of the text path (``cleaners/published.py``): its shipped
model, the dates it reads, and what it dates on written pages. Datelines as the rules
read them are in ``tests/cases/dateline.json``; on real pages,
``benchmarks/metadata_bench.py``."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from cleaners import published
from cleaners.clean import clean_document
from cleaners.document import process_document
from tests.helpers import PROSE

NAN = math.nan
BODY = PROSE
COLUMN = {name: k for k, name in enumerate(published.FEATURE_NAMES)}


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("Susan December 9, 2024 0 Comments", "2024-12-09"),
        ("December 15, 2025 · 30 min · 6279 words · Ash Vardanian", "2025-12-15"),
        ("Posted on December 20, 2025 by Jean-Luc Aufranc - 5 Comments", "2025-12-20"),
        ("Veröffentlicht am 3. Mai 2025, 14:30 Uhr", "2025-05-03"),
        ("Publié le 12 mars 2025 à 08h15", "2025-03-12"),
        ("Publicado el 26 de diciembre de 2025", "2025-12-26"),
        ("Pubblicato il 7 gennaio 2026", "2026-01-07"),
        ("Gepubliceerd op 14 februari 2026", "2026-02-14"),
        ("Essay - Published: 2025.12.17 | programming", "2025-12-17"),
    ],
)
def test_a_date_in_a_line_of_furniture_is_a_candidate(line: str, day: str) -> None:
    lines = ["Council raises school budget", line, BODY]
    found, x = published.published_features(lines, ["title", None, None], [NAN, 0.3, 0.95], 0)
    assert [(i, when.date().isoformat()) for i, when in found] == [(1, day)]
    assert x[0, COLUMN["from_headline"]] == 1


def test_each_date_of_a_line_is_a_candidate_of_its_own() -> None:
    line = "Published: Mar 8, 2024 · Modified: May 19, 2025 by Jessica Robinson"
    found, x = published.published_features(
        ["Pasta salad", line, BODY], ["title", None, None], [NAN, 0.3, 0.95], 0
    )
    assert [when.date().isoformat() for _, when in found] == ["2024-03-08", "2025-05-19"]
    assert x[:, COLUMN["date_index"]].tolist() == [0, 1]
    # the word before each date: a publication word, then an update word
    assert x[:, COLUMN["dateline_word_before"]].tolist() == [1, 1]
    assert x[:, COLUMN["updated_before"]].tolist() == [0, 1]
    assert x[:, COLUMN["days_after_earliest"]].tolist() == [0, 437]


@pytest.mark.parametrize(
    "line",
    [
        # a paragraph (over 30 words) that mentions a date: what the text is about
        "The council will vote again on March 3, 2026, after the elections in the spring, "
        "and the new budget would take effect in the summer if it passes, the mayor told "
        "reporters outside the town hall on Tuesday.",
        "Published 3 hours ago",  # relative: left to the rules, which need fetched_at
        "Chapter 12",  # no date at all
    ],
)
def test_lines_that_give_no_candidate(line: str) -> None:
    found, _ = published.published_features(
        ["Council raises school budget", line, BODY], ["title", None, None], [NAN, 0.3, 0.95], 0
    )
    assert found == []


def test_a_date_in_a_picture_caption_is_no_candidate() -> None:
    """A caption dates its picture: "mardi 24 novembre 2026" under the photo of a page
    published on the 25th was picked once the models were retrained."""
    lines = [
        "Rennes. La nouvelle passerelle ouvrira au printemps",
        "Publié le 25/11/2026 à 18h12",
        "La passerelle vue depuis le quai Saint-Cyr, mardi 24 novembre 2026. | OUEST-FRANCE",
        BODY,
    ]
    reasons: list[str | None] = ["title", "dateline", "caption", None]
    found, _ = published.published_features(lines, reasons, [NAN, NAN, NAN, 0.95], 0)
    assert [(i, when.date().isoformat()) for i, when in found] == [(1, "2026-11-25")]


def test_dates_deep_in_the_body_are_not_read() -> None:
    """More than ``BELOW`` lines under the body's start and more than ``END_ABOVE``
    above its end: a date the text is about, a table's row."""
    lines = ["Council raises school budget", *[BODY] * 12, "March 9, 2025", *[BODY] * 8]
    reasons: list[str | None] = ["title", *[None] * 21]
    found, _ = published.published_features(lines, reasons, [NAN] * len(lines), 0)
    assert found == []


def test_a_date_under_the_body_is_read_with_where_it_sits() -> None:
    """A "Posted on" line under the article, far below the start; the picker knows it
    sits after the end of the body's longest run (a comment's date sits there too)."""
    lines = ["Council raises school budget", *[BODY] * 20, "Posted on March 9, 2025", "Home"]
    reasons: list[str | None] = ["title", *[None] * 20, "not_body", "nav"]
    found, x = published.published_features(lines, reasons, [NAN] * len(lines), 0)
    assert [(i, when.date().isoformat()) for i, when in found] == [(21, "2025-03-09")]
    assert x[0, COLUMN["from_end"]] == 1
    assert x[0, COLUMN["main_offset"]] == 20


def test_a_line_the_dateline_rule_removed_is_read_wherever_it_is() -> None:
    lines = [BODY, BODY, *[f"Menu item {k}" for k in range(80)], "March 9, 2025", "Home"]
    reasons: list[str | None] = [None, None, *["nav"] * 80, "dateline", "nav"]
    found, _ = published.published_features(lines, reasons, [0.9, 0.9, *[NAN] * 82], None)
    assert [i for i, _ in found] == [82]


def test_a_page_with_no_date_gets_none() -> None:
    result = clean_document(["Council raises school budget", "By Jane Doe", BODY, BODY + " Yes."])
    assert result.metadata.get("published_at") is None


def test_a_stated_date_is_never_replaced() -> None:
    text = "Council raises school budget\n\nPublished March 3, 2025\n\n" + BODY
    stated = datetime(2025, 1, 2, tzinfo=UTC)
    doc = process_document(text.encode(), "budget.txt", sidecar={"published_at": stated})
    assert doc.metadata["published_at"] == stated
    assert "published_at" not in doc.metadata_lines
    picked = process_document(text.encode(), "budget.txt")
    assert picked.metadata["published_at"].date().isoformat() == "2025-03-03"
    assert picked.metadata_lines["published_at"] == 1


def test_a_date_after_the_fetch_is_never_the_publication_date() -> None:
    text = (
        "Council raises school budget\n\nNext meeting: March 3, 2027 | Town Hall\n\n"
        "Published November 18, 2026\n\n" + BODY
    )
    fetched = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    doc = process_document(text.encode(), "budget.txt", sidecar={"fetched_at": fetched})
    assert doc.metadata["published_at"].date().isoformat() == "2026-11-18"
    # without a fetch time there is nothing to hold the meeting's date against
    lines = ["Council raises school budget", "Next meeting: March 3, 2027 | Town Hall", BODY]
    found, _ = published.published_features(lines, ["title", None, None], [NAN, 0.3, 0.95], 0)
    assert [when.year for _, when in found] == [2027]
    assert (
        published.pick_published(lines, ["title", None, None], [NAN, 0.3, 0.95], 0, fetched) is None
    )


@pytest.mark.parametrize(
    ("elsewhere", "dateline", "day"),
    [
        ("Comment posted 12/19/2025", "8/1/2025", "2025-08-01"),  # the page writes month first
        ("Kommentar vom 19.12.2025", "08.01.2025", "2025-01-08"),  # day first
        ("", "8/1/2025", "2025-01-08"),  # no evidence: day first, as most of the world
    ],
)
def test_a_numeric_date_is_read_in_the_order_the_page_writes(
    elsewhere: str, dateline: str, day: str
) -> None:
    lines = ["Council raises school budget", "By Jane Doe", dateline, BODY, BODY + " Yes."]
    if elsewhere:
        lines.append(elsewhere)
    doc = process_document("\n\n".join(lines).encode(), "budget.txt")
    assert doc.metadata["published_at"].date().isoformat() == day
