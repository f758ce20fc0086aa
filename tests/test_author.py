"""The author picker of the text path (``cleaners/author.py``): its shipped model, the
names it reads, and what it signs on written pages. Bylines as the rules read them are in
``tests/cases/byline.json``; on real pages, ``benchmarks/metadata_bench.py``."""

from __future__ import annotations

import math

import pytest

from cleaners import author
from cleaners.clean import clean_document
from cleaners.segment import split_paragraphs
from tests.helpers import PROSE

NAN = math.nan
BODY = PROSE
COLUMN = {name: k for k, name in enumerate(author.FEATURE_NAMES)}


@pytest.mark.parametrize(
    ("line", "name", "way"),
    [
        ("By Jane Doe", "Jane Doe", "prefixed"),
        ("Von Katrin Schulz, Berlin", "Katrin Schulz", "prefixed"),
        ("Jane Doe | Senior Editor", "Jane Doe", "bare"),
        ("Dec 26, 2025 • Mahua Das in Project Management", "Mahua Das", "beside_date"),
        # parts a scrape glued together are set apart before a name is read
        ("ByShivya Nath 12th February 2025", "Shivya Nath", "prefixed"),
        ("By Rebecca NorrisPublished: Jun 25, 2025", "Rebecca Norris", "prefixed"),
        ("Von Katrin SchulzAktualisiert am 3. Mai 2025", "Katrin Schulz", "prefixed"),
        # the date right after the name, no separator between them
        ("Dakota Hebert July 3, 2025", "Dakota Hebert", "before_date"),
        ("Patrick Clarke Published 10:19am 19 December 2025", "Patrick Clarke", "before_date"),
        ("Claire Dubois 12 mars 2025", "Claire Dubois", "before_date"),
        # a byline prefix inside a dated line
        ("Published on December 2nd, 2025 by Chen Zhao", "Chen Zhao", "prefixed_inside"),
        (
            "Publicado el 3 de mayo de 2025 por Lucía Fernández",
            "Lucía Fernández",
            "prefixed_inside",
        ),
    ],
)
def test_each_way_of_reading_a_name(line: str, name: str, way: str) -> None:
    lines = ["Council raises school budget", line, BODY]
    names, x = author.author_features(lines, ["title", None, None], [NAN, 0.3, 0.95], 0)
    assert (1, name) in names
    row = x[names.index((1, name))]
    assert row[COLUMN[f"read:{way}"]] == 1
    assert row[COLUMN["from_headline"]] == 1


@pytest.mark.parametrize(
    "line",
    [
        "Updates July 3, 2025",  # one capitalised word before the date is no name
        "Shop by Department",  # a prefix inside a line with no date
        "Subscribe to our newsletter by May 3, 2025 for the early rate.",  # a sentence
        "The report was written by Human Rights Watch and published on May 3, 2025.",
        "Solarwerk Nord GmbH",  # a company's legal form: a press release's issuer
        "Sterling Protective Services, Inc.",
    ],
)
def test_lines_that_hold_no_name(line: str) -> None:
    names, _ = author.author_features(
        ["Council raises school budget", line, BODY], ["title", None, None], [NAN, 0.3, 0.95], 0
    )
    assert names == []


def test_a_name_under_a_lone_prefix() -> None:
    lines = ["Council raises school budget", "Written by", "Jane Doe", BODY]
    names, x = author.author_features(lines, ["title", None, None, None], [NAN] * 4, 0)
    assert (1, "Jane Doe") in names
    assert x[names.index((1, "Jane Doe")), COLUMN["read:under_lone_prefix"]] == 1


def test_a_byline_under_a_long_article_is_a_candidate() -> None:
    """A "Written by" box under the body, far below its start: read, with where it sits
    against the end of the body's longest run; a name deep in the body is not."""
    lines = ["Council raises school budget", *[BODY] * 30, "Written by Jane Doe", "Home"]
    reasons: list[str | None] = ["title", *[None] * 30, "not_body", "nav"]
    names, x = author.author_features(lines, reasons, [NAN, *[0.95] * 30, 0.2, NAN], 0)
    assert names == [(31, "Jane Doe")]
    assert x[0, COLUMN["from_end"]] == 1
    assert x[0, COLUMN["main_offset"]] == 30
    middle = [*lines[:16], "Jane Doe", *lines[16:31]]
    names, _ = author.author_features(middle, ["title", *[None] * 31], [NAN, *[0.95] * 31], 0)
    assert names == []  # 15 lines into the body and 15 above its end


def test_a_line_the_byline_rule_removed_is_read_wherever_it_is() -> None:
    lines = [BODY, BODY, *[f"Menu item {k}" for k in range(80)], "By Jane Doe", "Home"]
    reasons: list[str | None] = [None, None, *["nav"] * 80, "byline", "nav"]
    names, _ = author.author_features(lines, reasons, [0.9, 0.9, *[NAN] * 82], None)
    assert names == [(82, "Jane Doe")]


def test_prose_is_not_read_for_names() -> None:
    names, _ = author.author_features([BODY, BODY], [None, None], [0.9, 0.9], None)
    assert names == []
    assert author.pick_author([BODY, BODY], [None, None], [0.9, 0.9], None) is None


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Von Katrin Schulz", "Katrin Schulz"),
        ("Par Claire Dubois", "Claire Dubois"),
        ("Por Ana García", "Ana García"),
        ("Door Jan de Vries", "Jan de Vries"),
    ],
)
def test_a_byline_under_the_headline_signs_the_page(byline: str, expected: str) -> None:
    page = "\n\n".join(["Home", "Council raises school budget", byline, "21.11.2026", BODY, BODY])
    result = clean_document(split_paragraphs(page))
    assert result.metadata.get("author") == expected


def test_a_menu_of_capitalised_labels_signs_nothing() -> None:
    """Name-shaped menu entries ("Child Care", "Top Content") are not authors."""
    menu = ["Child Care", "Top Content", "Health Topics", "Family Life", "Contact Us"]
    page = "\n\n".join([*menu, "Council raises school budget", BODY, BODY])
    result = clean_document(split_paragraphs(page))
    assert result.metadata.get("author") is None


@pytest.mark.parametrize(
    ("got", "gold", "right"),
    [
        ("Dylan Bailey", "Dylan Bailey, MS, RD, FAND", True),
        ("Heba Ledwon", "Rui Ma, Heba Ledwon & Suparn Patra", True),
        ("Scratch Culinary", "Andrew King", False),
        (None, "Andrew King", False),
    ],
)
def test_author_matches_any_name_of_the_gold(got: str | None, gold: str, right: bool) -> None:
    assert author.author_matches(got, gold) is right
