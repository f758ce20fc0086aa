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
from cleaners.train_title import (
    Rows,
    fit_picker,
    out_of_fold,
    print_trade_off,
    rows_after_first_pass,
)


def candidate_rows(
    pages: Sequence[PageLines],
    logits: Sequence[np.ndarray],
    switch_cost: float,
    threshold: float,
    headlines: Sequence[int | None],
) -> list[Rows]:
    """Per page, the lines names were read from, their feature rows and whether each
    name is the gold author's."""
    return rows_after_first_pass(
        pages,
        logits,
        switch_cost,
        threshold,
        headlines,
        author.author_features,
        lambda page, name: bool(page.author) and author.author_matches(name, page.author),
    )


def fit_author_model(rows: Sequence[Rows]) -> scorer.TreeEnsemble:
    return fit_picker(rows, author.FEATURE_NAMES)


def cross_validate(pages: Sequence[PageLines], rows: Sequence[Rows], folds: int) -> None:
    """Per page type and probability threshold: the share of pages whose gold names an
    author that get a right one, and of those whose gold names none that get one anyway
    (out-of-fold, grouped by site)."""
    found = out_of_fold(pages, rows, folds, author.FEATURE_NAMES)
    print_trade_off("author", pages, found, lambda p: bool(p.author), author.MIN_PROBABILITY)
