"""Train the author picker (``cleaners/author.py``) and write
``cleaners/data/author_model.npz``. Run by ``python -m cleaners.train_scorer`` after the
headline picker: like it, it reads each page as the first pass of cleaning leaves it,
with the line scorer's out-of-fold decisions, and the headline the headline picker chose
out-of-fold. A name is labelled the author when ``author.author_matches`` the gold
author. The body-only copies are left out: they hold no page furniture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cleaners import author, scorer
from cleaners.train_scorer import PageLines
from cleaners.train_title import Rows, first_pass, fit_picker, out_of_fold, print_trade_off


def candidate_rows(
    pages: Sequence[PageLines],
    logits: Sequence[np.ndarray],
    switch_cost: float,
    threshold: float,
    headlines: Sequence[int | None],
) -> list[Rows]:
    """Per page, the lines names were read from, their feature rows and whether each
    name is the gold author's."""
    rows = []
    for page, page_logits, headline in zip(pages, logits, headlines, strict=True):
        reasons, probability = first_pass(page, page_logits, switch_cost, threshold)
        names, x = author.author_features(page.paragraphs, reasons, probability, headline)
        gold = page.author
        y = np.array([bool(gold) and author.author_matches(n, gold) for _, n in names], dtype=bool)
        rows.append(([line for line, _ in names], x, y))
    return rows


def fit_author_model(rows: Sequence[Rows]) -> scorer.TreeEnsemble:
    return fit_picker(rows, author.FEATURE_NAMES)


def cross_validate(pages: Sequence[PageLines], rows: Sequence[Rows], folds: int) -> None:
    """Per page type and probability threshold: the share of pages whose gold names an
    author that get a right one, and of those whose gold names none that get one anyway
    (out-of-fold, grouped by site)."""
    found = out_of_fold(pages, rows, folds, author.FEATURE_NAMES)
    print_trade_off("author", pages, found, lambda p: bool(p.author), author.MIN_PROBABILITY)
