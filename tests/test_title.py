"""The headline picker of the text path (``cleaners/title.py``): its shipped model, its
candidates and features, and its training. What it picks on written pages is in
``tests/cases/title.json``; on real pages, in ``benchmarks/metadata_bench.py``."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cleaners import author, clean, published, title
from cleaners.scorer import TreeEnsemble
from tests.helpers import eval_subset

SHARED = Path(__file__).resolve().parents[2] / "shared"
WCXB = SHARED / "eval" / "wcxb-dev"
NAN = math.nan
# Prose longer than a headline can be (``title.MAX_WORDS``).
BODY = (
    "The regional council voted on Tuesday to raise the school budget by four percent, "
    "after a long debate about teachers' pay and new classrooms, and the opposition said "
    "that the increase did not go far enough for the schools of the growing town, where "
    "classes are larger every year."
)


@pytest.mark.parametrize(
    ("read", "names", "path"),
    [
        (title.shipped_title_model, title.FEATURE_NAMES, title.TITLE_MODEL_PATH),
        (author.shipped_author_model, author.FEATURE_NAMES, author.AUTHOR_MODEL_PATH),
        (
            published.shipped_published_model,
            published.FEATURE_NAMES,
            published.PUBLISHED_MODEL_PATH,
        ),
    ],
    ids=["title", "author", "date"],
)
def test_each_shipped_picker_model_matches_its_features_and_is_small(
    read: Callable[[], TreeEnsemble], names: tuple[str, ...], path: Path
) -> None:
    """The headline, author and date pickers' model files."""
    model = read()
    assert model.names == names
    assert path.stat().st_size < 1024 * 1024


def test_candidates_are_the_short_lines_around_the_bodys_start() -> None:
    lines = [f"Menu item {k}" for k in range(60)]
    lines += ["Council raises school budget", BODY, "Short line in the body", BODY]
    reasons: list[str | None] = ["nav"] * 60 + [None, None, None, None]
    probability = [NAN] * 60 + [0.4, 0.97, 0.8, 0.97]
    assert len(BODY.split()) > title.MAX_WORDS
    candidates, x = title.title_features(lines, reasons, probability)
    start = 60
    assert candidates[0] == start - title.ABOVE
    assert candidates[-1] == start + 2  # the body's prose lines are too long to be one
    assert start + 1 not in candidates
    assert x.shape == (len(candidates), len(title.FEATURE_NAMES))
    row = x[candidates.index(start)]
    column = {name: k for k, name in enumerate(title.FEATURE_NAMES)}
    assert row[column["offset"]] == 0
    assert row[column["kept"]] == 1
    assert row[column["probability"]] == pytest.approx(0.4)
    assert x[0, column["probability"]] == -1.0  # a rule decided: no probability
    assert x[0, column["reason:nav"]] == 1


COLUMN = {name: k for k, name in enumerate(title.FEATURE_NAMES)}


def test_the_headline_above_the_bodys_longest_run_is_a_candidate() -> None:
    """A stray box the first pass kept far above the body makes it start there; the lines
    above the run of kept lines that holds the most words are candidates too."""
    lines = ["Our newsletter", *[f"Menu item {k}" for k in range(69)]]
    lines += ["Council raises school budget", BODY, BODY]
    reasons: list[str | None] = [None, *["nav"] * 69, "not_body", None, None]
    probability = [0.6, *[NAN] * 69, NAN, 0.97, 0.97]
    assert title.body_start(reasons) == 0
    assert title.main_run(lines, reasons)[0] == 71
    candidates, x = title.title_features(lines, reasons, probability)
    assert 70 in candidates and 71 - title.ABOVE in candidates and 30 not in candidates
    row = x[candidates.index(70)]
    assert row[COLUMN["offset"]] == 70
    assert row[COLUMN["main_offset"]] == -1


def test_the_lines_around_the_title_rules_choice_are_candidates() -> None:
    lines = [BODY, BODY, *[f"Related story {k}" for k in range(100)]]
    lines += ["Council raises school budget", "By Jane Doe"]
    reasons: list[str | None] = [None, None, *["related_link"] * 100, "title", "byline"]
    candidates, x = title.title_features(lines, reasons, [0.9, 0.9, *[NAN] * 102])
    assert 102 in candidates and 99 in candidates and 98 not in candidates
    assert x[candidates.index(102), COLUMN["title_rule_distance"]] == 0
    assert x[candidates.index(99), COLUMN["title_rule_distance"]] == 3
    alone = title.title_features(lines[:2], reasons[:2], [0.9, 0.9])[1]
    assert alone.size == 0  # no candidate there: both lines are prose


def test_a_subheading_has_prose_above_and_a_breadcrumb_ends_with_the_headline() -> None:
    lines = ["Blog / News / Council raises school budget", "Council raises school budget"]
    lines += [BODY, BODY, "What the schools get", BODY]
    reasons: list[str | None] = ["not_body", "not_body", None, None, None, None]
    candidates, x = title.title_features(lines, reasons, [NAN, NAN, 0.9, 0.9, 0.6, 0.9])
    assert candidates == [0, 1, 4]
    assert x[:, COLUMN["ends_line_above"]].tolist() == [0, 1, 0]
    assert x[:, COLUMN["prose_above"]].tolist() == [0, 0, pytest.approx(math.log1p(2))]


@pytest.mark.parametrize(
    "credited",
    [
        "Crowds outside the town hall on Tuesday. /Jane Doe/Agency",
        "The new bridge at dusk Credit: City archive",
        "Photo: The council chamber",
    ],
)
def test_a_credited_caption_is_never_the_headline(credited: str) -> None:
    """Even repeated next to itself, as a gallery repeats it, and right above the body."""
    lines = ["Council raises school budget", "By Jane Doe", credited, credited, BODY]
    reasons: list[str | None] = ["title", "byline", "caption", "caption", None]
    candidates, _ = title.title_features(lines, reasons, [NAN, NAN, NAN, NAN, 0.95])
    assert candidates == [0]


def test_a_byline_is_never_the_headline() -> None:
    """A line the byline rule removed is no candidate, however it is worded ("Eine
    Reportage von Hannah Vogt" under a short headline); the same line kept is one."""
    lines = ["Der Harz wird wieder grün", "Eine Reportage von Hannah Vogt", BODY]
    probability = [NAN, NAN, 0.95]
    assert title.title_features(lines, ["title", "byline", None], probability)[0] == [0]
    assert title.title_features(lines, ["title", None, None], probability)[0] == [0, 1]


def test_the_title_rule_passes_over_a_caption_above_a_pictures_credit() -> None:
    """The rule takes the longest headline-shaped line before the body; a picture's
    caption between the byline and the body, above its credit, is longer than the
    headline but is not it. With no other line shaped like a headline, the line above a
    credit stays the rule's choice."""
    header = [
        "Wirtschaft",
        "Baugenehmigungen auf dem tiefsten Stand seit 2010",
        "Die Zahl der genehmigten Wohnungen ist erneut gesunken. Die Branche warnt.",
        "Eine Analyse von Sabine Wendt",
        "12.03.2025, 06.00 Uhr",
        "Link kopieren",
        "Baustelle in Frankfurt am Main: Weniger Projekte als geplant",
        "Foto: Frank Rumpenhorst / dpa",
    ]
    body = [
        "Im Jahr 2024 haben die Behörden den Bau von rund 216.000 Wohnungen genehmigt. Das "
        "waren knapp 17 Prozent weniger als im Vorjahr, teilte das Bundesamt mit.",
        "Als Gründe nennen Fachleute die gestiegenen Zinsen und die hohen Baukosten. Viele "
        "Projekte rechnen sich für Investoren derzeit schlicht nicht.",
    ]
    reasons = clean.rule_reasons_and_region([*header, *body])[0]
    assert reasons[1] == "title" and reasons[6] is None and reasons[7] == "caption"
    alone = ["Baugenehmigungen auf dem tiefsten Stand", "Foto: Frank Rumpenhorst / dpa"]
    assert clean.rule_reasons_and_region([*alone, *body])[0][0] == "title"


def test_no_candidate_means_no_title() -> None:
    assert title.title_features([BODY, BODY], [None, None], [0.9, 0.9])[0] == []
    assert title.pick_title([BODY, BODY], [None, None], [0.9, 0.9]) is None
    assert title.pick_title([], [], []) is None


def test_the_rules_only_body_decision_counts_as_the_scorers() -> None:
    lines = ["Home", "Council raises school budget", BODY]
    by_scorer = title.title_features(lines, ["not_body", None, None], [NAN, 0.5, 0.9])[1]
    by_rule = title.title_features(lines, ["outside_body", None, None], [NAN, 0.5, 0.9])[1]
    np.testing.assert_array_equal(by_scorer, by_rule)


@pytest.mark.skipif(not WCXB.is_dir(), reason="needs ../shared/eval/wcxb-dev")
def test_title_training_is_deterministic(tmp_path: Path) -> None:
    """Same pages and settings, same headline, author and date models (a small run: 12 pages,
    2 folds; every output goes to the test's folder, never over the shipped models)."""
    pytest.importorskip("sklearn")
    from cleaners import train_scorer

    subset = eval_subset(tmp_path, WCXB, 12)
    from cleaners import author, published, scorer

    shipped = [
        scorer.MODEL_PATH,
        title.TITLE_MODEL_PATH,
        author.AUTHOR_MODEL_PATH,
        published.PUBLISHED_MODEL_PATH,
    ]
    before = [path.read_bytes() for path in shipped]
    outs = []
    for k in range(2):
        out, title_out = tmp_path / f"line{k}.npz", tmp_path / f"title{k}.npz"
        author_out, published_out = tmp_path / f"author{k}.npz", tmp_path / f"date{k}.npz"
        train_scorer.main(
            ["--set", str(subset), "--cv", "2", "--trees", "20", "--out", str(out)]
            + ["--title-out", str(title_out), "--author-out", str(author_out)]
            + ["--published-out", str(published_out)]
        )
        outs.append(title_out.read_bytes() + author_out.read_bytes() + published_out.read_bytes())
    assert outs[0] == outs[1]
    assert title.scorer.read_model(tmp_path / "title0.npz", title.FEATURE_NAMES).names
    assert [path.read_bytes() for path in shipped] == before
