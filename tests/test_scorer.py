"""The line scorer: the shipped model, its numpy evaluator, the sequence step, the labels
it is trained on, and what ``explain`` shows of it."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import numpy as np
import pytest

from cleaners import scorer
from cleaners.clean import NOT_BODY, CleanSettings, clean_document
from cleaners.train_scorer import label_lines
from tests.helpers import eval_subset

SHARED = Path(__file__).resolve().parents[2] / "shared"
WCXB = SHARED / "eval" / "wcxb-dev"


def test_the_shipped_model_matches_the_features_and_is_small() -> None:
    model = scorer.shipped_model()
    assert model.names == scorer.feature_names()
    assert scorer.MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    assert model.switch_cost >= 0


def _brute_force(logits: list[float], cost: float, threshold: float) -> float:
    """The best labelling's value; when that is the empty labelling and some line gains,
    the best value among labellings with a body (``body_path`` keeps a body then)."""
    best = -math.inf
    paths = list(itertools.product((False, True), repeat=len(logits)))
    empty_best = max(paths, key=lambda p: _value(logits, list(p), cost, threshold))
    if not any(empty_best) and any(g > threshold for g in logits):
        paths = [p for p in paths if any(p)]
    for path in paths:
        gain = sum(g - threshold for g, p in zip(logits, path, strict=True) if p)
        switches = sum(a != b for a, b in itertools.pairwise((False, *path, False)))
        best = max(best, gain - cost * switches)
    return best


def _value(logits: list[float], path: list[bool], cost: float, threshold: float) -> float:
    gain = sum(g - threshold for g, p in zip(logits, path, strict=True) if p)
    return gain - cost * sum(a != b for a, b in itertools.pairwise((False, *path, False)))


@pytest.mark.parametrize("seed", range(40))
def test_body_path_is_the_best_labelling(seed: int) -> None:
    rng = random.Random(seed)
    logits = [rng.uniform(-4, 4) for _ in range(rng.randint(1, 9))]
    cost, threshold = rng.choice([0.0, 0.5, 1.0, 3.0]), rng.choice([-0.5, 0.0, 0.5])
    path = scorer.body_path(np.array(logits), cost, threshold).tolist()
    assert _value(logits, path, cost, threshold) == pytest.approx(
        _brute_force(logits, cost, threshold)
    )


# (log-odds, prose, body) per line: the body run found by ``body_path`` goes on over the
# prose lines after it at log-odds of at least ``PROSE_EDGE_LOGIT``, and no further.
_EDGE_CASES = [
    (
        "a prose paragraph just under the threshold after the body",
        [
            (-3, False, False),
            (2, True, True),
            (2, True, True),
            (-0.5, True, True),
            (-3, False, False),
        ],
    ),
    ("two of them in a row", [(2, True, True), (-0.3, True, True), (-0.6, True, True)]),
    ("NEGATIVE: a short line just under the threshold", [(2, True, True), (-0.3, False, False)]),
    ("NEGATIVE: prose the scorer is sure of", [(2, True, True), (-2.0, True, False)]),
    ("NEGATIVE: prose before the body", [(-0.3, True, False), (2, True, True), (-3, False, False)]),
    (
        "NEGATIVE: prose after a line the body ended on",
        [(2, True, True), (-3, False, False), (-0.3, True, False)],
    ),
]


@pytest.mark.parametrize(("label", "lines"), _EDGE_CASES, ids=[c[0] for c in _EDGE_CASES])
def test_the_body_goes_on_over_prose_after_it(
    label: str, lines: list[tuple[float, bool, bool]]
) -> None:
    logits = np.array([float(x) for x, _, _ in lines])
    rows = np.zeros((len(lines), len(scorer.feature_names())))
    rows[:, scorer.BASE_FEATURES.index("body_like")] = [float(p) for _, p, _ in lines]
    assert scorer.body_lines(logits, rows, 0.5, 0.0).tolist() == [b for _, _, b in lines]


@pytest.mark.parametrize(
    "line",
    [
        "„Wir fühlen uns von der Stadt im Stich gelassen, und das seit vielen Jahren schon.“",
        "»Wir fühlen uns von der Stadt im Stich gelassen, und das seit vielen Jahren schon.«",
        "‚Wir fühlen uns von der Stadt im Stich gelassen, und das seit vielen Jahren schon.‘",
        "“We feel let down by the city, and we have felt that way for many years now.”",
    ],
)
def test_a_sentence_in_german_quotes_reads_as_prose(line: str) -> None:
    """German closing quotes (“ ‘ «) end a sentence as English ones do, and German
    opening ones („ ‚ ») open it: the scorer read such a paragraph as no prose, starting
    with no capital, and the last paragraph of a German page went."""
    shape = dict(zip(scorer.BASE_FEATURES, scorer._line_shape(line), strict=True))
    assert shape["ends_sentence"] == 1.0 and shape["body_like"] == 1.0
    assert shape["starts_upper"] == 1.0


def test_shapes_asked_again_are_the_shapes_counted_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Later passes of cleaning ask for the shapes of the lines still standing, which are
    kept from the first; when the kept shapes are full and cleared in the middle of a
    page, the lines found kept before the clearing keep their rows."""
    monkeypatch.setattr(scorer, "_SHAPES_KEPT", 4)
    scorer._shapes_kept.clear()
    first = ["Home", "News", "The council approved the budget on Monday.", "Sport"]
    second = ["Home", "The council approved the budget on Monday.", "Weather", "Contact us"]
    scorer._shapes(first)
    got = scorer._shapes(second)
    assert got.tobytes() == np.array([scorer._line_shape(t) for t in second]).tobytes()
    assert set(scorer._shapes_kept) == {"Weather", "Contact us"}


def test_the_compiled_trees_give_what_scikit_learn_gives() -> None:
    sklearn = pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from cleaners.train_scorer import to_ensemble

    assert sklearn
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, len(scorer.feature_names())))
    y = (x[:, 0] + x[:, 3] * x[:, 5] + rng.normal(scale=0.5, size=2000)) > 0
    clf = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, random_state=0)
    clf.fit(x, y)
    ours = to_ensemble(clf, 1.0, 0.0).logits(x)
    np.testing.assert_allclose(ours, clf.decision_function(x), rtol=1e-6, atol=1e-6)


def test_numba_loads_with_the_first_tree_walk_not_with_the_flow() -> None:
    """numba costs a process about 170 MB: the flow's own process, which reads, dedups
    and writes, imports the cleaners without it; the first tree walk brings it in."""
    import subprocess
    import sys

    code = (
        "import sys, flows.ingest, cleaners.document\n"
        "print('numba' in sys.modules)\n"
        "cleaners.document.process_document(b'The council met on Tuesday and voted.', 'a.txt')\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "True"]


def test_the_mean_of_models_gives_the_mean_of_their_log_odds() -> None:
    """The shipped line model is several fitted models as one ensemble
    (``scorer.mean_of``): its log-odds are the mean of theirs, as scikit-learn gives them,
    and its contributions still add up."""
    pytest.importorskip("sklearn")
    from cleaners.train_scorer import fit, to_ensemble

    rng = np.random.default_rng(1)
    x = rng.normal(size=(1500, len(scorer.feature_names())))
    y = (x[:, 0] - x[:, 2] * x[:, 7] + rng.normal(scale=0.5, size=1500)) > 0
    fitted = [fit(x, y, 25, leaves=7 + 8 * k, seed=k, max_features=0.8) for k in range(3)]
    model = scorer.mean_of([to_ensemble(c, 0.0, 0.0) for c in fitted], 0.5, -0.25)
    expected = np.mean([c.decision_function(x) for c in fitted], axis=0)
    np.testing.assert_allclose(model.logits(x), expected, rtol=1e-6, atol=1e-6)
    assert (model.switch_cost, model.threshold_logit) == (0.5, -0.25)
    np.testing.assert_allclose(
        model.contributions(x).sum(axis=1), model.logits(x) - model.baseline, atol=1e-6
    )


def test_contributions_add_up_and_name_what_drives_the_model() -> None:
    """``TreeEnsemble.contributions`` (what ``explain --why`` shows) adds up to each row's
    log-odds less the baseline, gives most weight to the feature the labels depend on
    most, and rests on scikit-learn storing a split node's value unshrunk: times the
    learning rate it lies between its children's (a Hessian-weighted mean of theirs)."""
    pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from cleaners.train_scorer import to_ensemble

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, len(scorer.feature_names())))
    y = (3 * x[:, 2] + x[:, 7] + rng.normal(scale=0.5, size=3000)) > 0
    clf = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7, learning_rate=0.2)
    model = to_ensemble(clf.fit(x, y), 1.0, 0.0)
    assert model.learning_rate == 0.2
    moved = model.contributions(x[:200])
    np.testing.assert_allclose(moved.sum(axis=1), model.logits(x[:200]) - model.baseline)
    assert np.argsort(-np.abs(moved).mean(axis=0))[:2].tolist() == [2, 7]
    own = np.where(model.is_leaf, model.value, model.value * model.learning_rate)
    for t, node in zip(*np.nonzero(~model.is_leaf), strict=True):
        if node == 0:
            continue  # the root's value is not stored (0)
        children = own[t, [model.left[t, node], model.right[t, node]]]
        assert children.min() - 1e-9 <= own[t, node] <= children.max() + 1e-9


def test_a_model_file_without_its_learning_rate_cannot_say_why(tmp_path: Path) -> None:
    from dataclasses import replace

    old = replace(scorer.shipped_model(), learning_rate=math.nan)
    scorer.save_model(tmp_path / "m.npz", old)
    with pytest.raises(ValueError, match="learning rate"):
        scorer.read_model(tmp_path / "m.npz").contributions(np.zeros((1, len(old.names))))


def test_a_saved_model_reads_back_the_same(tmp_path: Path) -> None:
    model = scorer.shipped_model()
    scorer.save_model(tmp_path / "m.npz", model)
    again = scorer.read_model(tmp_path / "m.npz")
    x = np.random.default_rng(1).normal(size=(50, len(model.names)))
    np.testing.assert_allclose(again.logits(x), model.logits(x), rtol=1e-6)


def test_a_model_for_other_features_is_refused(tmp_path: Path) -> None:
    model = scorer.shipped_model()
    np.savez(tmp_path / "m.npz", names=np.array(["log_chars"]), feature=model.feature)
    with pytest.raises(ValueError, match="retrain"):
        scorer.read_model(tmp_path / "m.npz")


def test_labels_need_words_in_the_golds_order() -> None:
    gold = "The council met on Monday. It voted to close the old bridge in March."
    lines = [
        "Skip to content",
        "The council met on Monday.",
        "Bridge",  # one word that occurs in the gold is chance, not body
        "It voted to close the old bridge in March.",
        "Monday March council bridge voted",  # the gold's words, out of order
    ]
    assert label_lines(lines, gold).tolist() == [False, True, False, True, False]


def test_every_decided_line_has_a_probability_and_not_body_is_the_models_word() -> None:
    text = [
        "Home",
        "News",
        "Sport",
        "The regional council met on Tuesday to discuss the budget for next year, and "
        "members voted to raise spending on schools by four percent.",
        "Opposition members said the increase did not go far enough, but the measure "
        "passed comfortably after a debate that lasted most of the afternoon.",
        "The new budget takes effect in January and will be reviewed again in the spring.",
        "About us",
        "Careers",
    ]
    result = clean_document(text)
    assert [t for _, t in result.kept] == text[3:6]
    not_body = [r for r in result.removed if r.reason == NOT_BODY]
    assert not_body, "the menus should go on the scorer's word"
    for r in not_body:
        assert result.body_probability[r.position] < 0.5
    for i, _ in result.kept:
        assert 0.0 <= result.body_probability[i] <= 1.0
    rules_only = clean_document(text, settings=CleanSettings.from_disabled([NOT_BODY]))
    assert not rules_only.body_probability
    assert NOT_BODY not in {r.reason for r in rules_only.removed}


@pytest.mark.skipif(not WCXB.is_dir(), reason="needs ../shared/eval/wcxb-dev")
def test_training_is_deterministic(tmp_path: Path) -> None:
    """Same pages and settings, same model file (a small run: 12 pages, 20 trees)."""
    pytest.importorskip("sklearn")
    from cleaners import train_scorer

    subset = eval_subset(tmp_path, WCXB, 12)
    outs = []
    for k in range(2):
        out = tmp_path / f"model{k}.npz"
        train_scorer.main(["--set", str(subset), "--cv", "0", "--out", str(out), "--trees", "20"])
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


ROOT = Path(__file__).resolve().parents[1]


def _cleaned(text: str) -> tuple[set[str], dict[str, str]]:
    from cleaners.encoding import repair_text
    from cleaners.segment import split_paragraphs

    result = clean_document(split_paragraphs(repair_text(text).text))
    return {t for _, t in result.kept}, {r.text: r.reason for r in result.removed}


def test_the_last_paragraph_after_a_link_block_stays() -> None:
    """The audit case of the rules-only cleaning (outside_body dropped it)."""
    sample = (ROOT / "raw" / "2026-11-20" / "harbour-bridge.txt").read_text(encoding="utf-8")
    kept, _ = _cleaned(sample)
    line = "The council said a smaller footbridge nearby would close in January for similar work."
    assert line in kept


@pytest.mark.parametrize("label", ["French", "Italian", "Spanish", "Dutch", "NEGATIVE: German"])
def test_the_footer_after_the_body_goes(label: str) -> None:
    """On a short page the scorer keeps the footer links right after the last body
    paragraph (the price of training on body-only pages, so that the last paragraph of
    clean text stays); the footer words of every language the lists cover go by the
    navigation rule."""
    import json

    case = next(
        c
        for c in json.loads((ROOT / "tests" / "cases" / "not_body.json").read_text())
        if c["label"].startswith(label)
    )
    kept, removed = _cleaned(case["input"])
    footer = case["input"].split("\n")[-3:]  # the page's last three lines
    assert {removed.get(line) for line in footer} == {"nav"}, footer
    assert set(case["kept"]) <= kept


# The audit lines inside a short article: the sign-up prompts go by the promo
# rule, a one-line teaser labelled "Read more:" by the related-links rule.
_AUDIT_PAGE = """Library extends opening hours for students

The city library will stay open until 10pm on weekdays from next month, the council \
announced on Monday, after a petition signed by more than 3,000 students.

{junk}

The extension will cost around £120,000 a year, mostly for two additional staff members, \
and will be reviewed after twelve months.

Weekend opening hours will not change. Students said the longer evenings would help \
during the exam period, when study spaces are hard to find."""


_TEASER = "Read more: How climate change is reshaping Britain's coastal railways"


@pytest.mark.parametrize(
    "junk",
    [
        _TEASER,
        "Enter your email address",
        "Thank you for signing up!",
        "Click here to subscribe to our print edition – just £3 a week.",
    ],
)
def test_in_body_junk_from_the_audit_goes(junk: str) -> None:
    kept, _ = _cleaned(_AUDIT_PAGE.format(junk=junk))
    assert junk not in kept
    assert len(kept) == 3  # and the body stays


# (label, line, is a comment section's heading): the headings the "comments" columns read.
COMMENT_HEADINGS = [
    ("English count", "3 Comments", True),
    ("English prompt", "Leave a Reply", True),
    ("English thoughts", "12 thoughts on “Why the bus is late”", True),
    ("German count", "8 Kommentare", True),
    ("German prompt", "Schreibe einen Kommentar", True),
    ("French", "Laisser un commentaire", True),
    ("Spanish count", "Comentarios (4)", True),
    ("Italian", "Lascia un commento", True),
    ("Dutch", "12 reacties", True),
    ("a sentence about comments", "Comments from residents were mostly positive.", False),
    ("a German sentence", "Die Kommentare der Leser waren überwiegend positiv.", False),
    ("a heading naming comments", "Comments on the draft budget", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "heading"), [pytest.param(*c[1:], id=c[0]) for c in COMMENT_HEADINGS]
)
def test_a_comment_sections_heading_is_told_from_prose(line: str, heading: bool) -> None:
    lines = ["The council approved the budget on Monday after a long debate.", line, "Nice."]
    assert scorer.comment_headings(lines).tolist() == [False, heading, False]


def test_the_comment_columns_say_where_the_last_heading_stands() -> None:
    lines = [
        "Comments",  # a link under the headline: no prose above it
        "The council approved the budget on Monday after a long debate in the chamber.",
        "Members said the increase for schools was overdue and voted for it.",
        "2 Comments",  # the comment section, after all the prose
        "Great piece, thanks!",
    ]
    x = scorer.line_features(lines, [None] * len(lines), [True] * len(lines))
    names = scorer.feature_names()
    heading, below, at = (x[:, names.index(f)] for f in scorer.COMMENT_FEATURES)
    assert heading.tolist() == [1, 0, 0, 1, 0]
    assert below.tolist() == [0, 1, 1, 1, 1]
    assert at[0] == -1 and at[1] == at[2] == at[3] == 0.0
    assert at[4] == pytest.approx(x[3, names.index("body_words_before")]) and at[4] > 0.5
