"""Train the headline picker (``cleaners/title.py``) and write
``cleaners/data/title_model.npz``. Run by ``python -m cleaners.train_scorer``, which has
the line scorer's out-of-fold log-odds this needs.

The picker reads the page as the first pass of cleaning leaves it: the rules' reason
codes, and the line scorer's probabilities and body decision. In training those come
from the line scorer's cross-validation (each page's lines scored by a model that saw
no page of its site), so the picker learns from body decisions as good as the ones it
will meet on new sites, not from the shipped scorer's near-perfect ones on its own
training pages. A candidate line is labelled the headline when its token F1 with the
gold title is at least ``TITLE_F1`` (the metadata benchmark's criterion); the body-only
copies of the pages train it too, so that a page that is all body gets no headline
unless its first line is one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from cleaners import scorer, title
from cleaners.train_scorer import PageLines, fit, to_ensemble

TITLE_F1 = 0.8
LEARNING_RATE = 0.05


class TreeSize(NamedTuple):
    trees: int
    leaves: int
    depth: int


# Small trees for the author and date pickers: a few thousand candidates, some hundreds
# of them right.
SMALL = TreeSize(trees=200, leaves=7, depth=4)
# The headline picker has about 25,000 candidate lines and 1,900 headlines to learn from.
# Out of fold (grouped by site) these trees pick the right line on 0.751-0.760 of the
# articles at 3, 5 and 10 folds, the small ones on 0.747-0.751 (1 December).
HEADLINE = TreeSize(trees=300, leaves=15, depth=5)


def first_pass(
    page: PageLines, logits: np.ndarray, switch_cost: float, threshold: float
) -> tuple[list[str | None], list[float]]:
    """Each line's reason code and body probability after cleaning's first pass, as
    ``clean._score_lines`` leaves them: the rules' codes, ``not_body`` for the lines the
    scorer's path leaves out, and the scorer's probability for every line it decided."""
    reasons = list(page.reasons)
    probability = [math.nan] * len(reasons)
    open_lines = [i for i, r in enumerate(reasons) if r is None]
    rows = page.features[open_lines]
    body = scorer.body_lines(logits[open_lines], rows, switch_cost, threshold)
    decided = zip(open_lines, body.tolist(), logits[open_lines].tolist(), strict=True)
    for i, inside, logit in decided:
        probability[i] = 1.0 / (1.0 + math.exp(-logit))
        if not inside:
            reasons[i] = "not_body"
    return reasons, probability


def _is_headline(line: str, gold_title: str) -> bool:
    return bool(gold_title) and title.token_f1(line, gold_title) >= TITLE_F1


# Per page: the candidate lines, their feature rows, whether each is the right one.
Rows = tuple[list[int], np.ndarray, np.ndarray]


def candidate_rows(
    pages: Sequence[PageLines], logits: Sequence[np.ndarray], switch_cost: float, threshold: float
) -> list[Rows]:
    """Per page, the candidate lines, their feature rows and whether each is the gold
    headline."""
    rows = []
    for page, page_logits in zip(pages, logits, strict=True):
        reasons, probability = first_pass(page, page_logits, switch_cost, threshold)
        candidates, x = title.title_features(page.paragraphs, reasons, probability)
        y = np.array([_is_headline(page.paragraphs[i], page.title) for i in candidates], dtype=bool)
        rows.append((candidates, x, y))
    return rows


def fit_picker(
    rows: Sequence[Rows], names: tuple[str, ...], size: TreeSize = SMALL
) -> scorer.TreeEnsemble:
    """Trees that score candidates (``names``: their feature columns)."""
    x = np.vstack([r[1] for r in rows])
    y = np.concatenate([r[2] for r in rows])
    clf = fit(
        x, y, trees=size.trees, leaves=size.leaves, depth=size.depth, learning_rate=LEARNING_RATE
    )
    return to_ensemble(clf, 0.0, 0.0, names=names)


def best_candidate(rows: Rows, logits: np.ndarray) -> tuple[float, bool, int | None]:
    """The probability of the best of a page's candidates (by ``logits``), whether it is
    the right one, and its line (0.0, False, None when the page has no candidate)."""
    candidates, _, y = rows
    if not candidates:
        return 0.0, False, None
    best, p = scorer.best_of(logits)
    return p, bool(y[best]), candidates[best]


# Thresholds whose trade-off the cross-validations print (the pickers' MIN_PROBABILITY).
THRESHOLDS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5)


def out_of_fold_logits(
    pages: Sequence[PageLines],
    rows: Sequence[Rows],
    folds: int,
    names: tuple[str, ...],
    size: TreeSize = SMALL,
) -> list[np.ndarray]:
    """Each page's candidates' log-odds from a picker trained on the folds its site is
    not in (grouped by site as the line scorer's folds are)."""
    from sklearn.model_selection import GroupKFold

    found: list[np.ndarray] = [np.zeros(0)] * len(pages)
    index = np.arange(len(pages))
    groups = [p.domain for p in pages]
    for train, test in GroupKFold(n_splits=folds).split(index, groups=groups):
        model = fit_picker([rows[k] for k in train], names, size)
        for k in test:
            found[k] = model.logits(rows[k][1])
    return found


def out_of_fold(
    pages: Sequence[PageLines],
    rows: Sequence[Rows],
    folds: int,
    names: tuple[str, ...],
    size: TreeSize = SMALL,
) -> list[tuple[float, bool, int | None]]:
    """Each page's ``best_candidate`` out of fold (``out_of_fold_logits``)."""
    logits = out_of_fold_logits(pages, rows, folds, names, size)
    return [best_candidate(r, lg) for r, lg in zip(rows, logits, strict=True)]


@dataclass(frozen=True)
class CandidatePicker:
    """A picker that chooses one of the values its ``describe`` reads from the first
    pass's view and the picked headline (the author among names, the publication date
    among dates): how it is described, where its gold is, and when a value is right."""

    field: str  # "author", "date": what the cross-validation prints
    describe: Callable[..., tuple[list[tuple[int, Any]], np.ndarray]]
    names: tuple[str, ...]  # the feature columns ``describe`` fills
    min_probability: float
    gold: Callable[[PageLines], str]  # the page's gold value ("" when it has none)
    is_right: Callable[[str, Any], bool]  # (gold, candidate value)


def train_candidate_picker(
    picker: CandidatePicker,
    pages: Sequence[PageLines],
    logits: Sequence[np.ndarray],
    switch_cost: float,
    threshold: float,
    headlines: Sequence[int | None],
    folds: int,
) -> scorer.TreeEnsemble:
    """Describe every page's candidates as the first pass of cleaning leaves the page
    (``first_pass``, with the headline picked out of fold), print the picker's
    cross-validated trade-off per page type and threshold (grouped by site), and fit it on
    every page."""
    rows: list[Rows] = []
    for page, page_logits, headline in zip(pages, logits, headlines, strict=True):
        reasons, probability = first_pass(page, page_logits, switch_cost, threshold)
        found, x = picker.describe(page.paragraphs, reasons, probability, headline)
        gold = picker.gold(page)
        y = np.array([bool(gold) and picker.is_right(gold, v) for _, v in found], dtype=bool)
        rows.append(([line for line, _ in found], x, y))
    _print_trade_off(picker, pages, out_of_fold(pages, rows, folds, picker.names))
    return fit_picker(rows, picker.names)


def _print_trade_off(
    picker: CandidatePicker,
    pages: Sequence[PageLines],
    found: Sequence[tuple[float, bool, int | None]],
) -> None:
    """Per page type and probability threshold (every one of ``THRESHOLDS`` for the
    articles, the picker's own for the others): the share of pages with a gold value
    whose picked value is right, and of those without one that get a value anyway."""
    field = picker.field
    by_type: dict[str, list[tuple[bool, float, bool]]] = {}
    for page, (p, ok, _) in zip(pages, found, strict=True):
        by_type.setdefault(page.page_type, []).append((bool(picker.gold(page)), p, ok))
    for page_type, scored in sorted(by_type.items()):
        with_gold = [(p, ok) for has, p, ok in scored if has]
        without = [p for has, p, _ in scored if not has]
        for threshold in THRESHOLDS:
            if page_type != "article" and threshold != picker.min_probability:
                continue
            right = np.mean([ok and p >= threshold for p, ok in with_gold]) if with_gold else 0.0
            given = np.mean([p >= threshold for p in without]) if without else 0.0
            print(
                f"  {field} {page_type}, min probability {threshold}: right {right:.3f} of "
                f"{len(with_gold)} with a gold {field}, one given on {given:.3f} of "
                f"{len(without)} without"
            )


def cross_validate(
    pages: Sequence[PageLines], rows: Sequence[Rows], folds: int
) -> list[int | None]:
    """Out-of-fold accuracy of the picker per page type, on the pages whose gold has a
    title, with the headline chosen as cleaning chooses it (``title.choose_headline``);
    and, per probability threshold, the articles' accuracy of the best line alone
    against how often a line is named on the body-only copies that hold no headline (a
    title made up from a subheading). Returns each page's out-of-fold headline, which
    the author and date pickers are trained with."""
    logits = out_of_fold_logits(pages, rows, folds, title.FEATURE_NAMES, HEADLINE)
    chosen = [
        title.choose_headline(candidates, x, lg)
        for (candidates, x, _), lg in zip(rows, logits, strict=True)
    ]
    right: dict[str, list[bool]] = {}
    with_rule: list[bool] = []
    best: list[tuple[float, bool]] = []
    without: list[float] = []
    for page, row, lg, headline in zip(pages, rows, logits, chosen, strict=True):
        candidates, x, y = row
        if page.title:
            found = headline is not None and bool(y[candidates.index(headline[0])])
            right.setdefault(page.page_type, []).append(found)
        if page.title and page.page_type == "article":
            by_rule = np.flatnonzero(x[:, title.FEATURE_NAMES.index("reason:title")])
            fallback = headline is None and by_rule.size > 0 and bool(y[by_rule[0]])
            with_rule.append(found or fallback)
        p, ok, _ = best_candidate(row, lg)
        if page.title and page.page_type == "article":
            best.append((p, ok))
        if page.page_type == "clean" and not y.any():
            without.append(p)
    for page_type, found in sorted(right.items()):
        print(
            f"  title {page_type}: {len(found)} pages with a gold title, "
            f"out-of-fold right {np.mean(found):.3f}"
        )
    if with_rule:
        print(
            "  title article, with the title rule's line where the picker names none (as "
            f"cleaning does): right {np.mean(with_rule):.3f}"
        )
    for threshold in THRESHOLDS:
        alone = np.mean([ok and p >= threshold for p, ok in best]) if best else 0.0
        named = np.mean([p >= threshold for p in without]) if without else 0.0
        print(
            f"  min probability {threshold}: articles right {alone:.3f} (best line alone), "
            f"a line named on {named:.3f} of {len(without)} body-only copies with no "
            "headline line"
        )
    return [None if headline is None else headline[0] for headline in chosen]
