"""Train the publication-date picker (``cleaners/published.py``) and write
``cleaners/data/published_model.npz``. Run by ``python -m cleaners.train_scorer`` after
the author picker: like the other pickers, it reads each page as the first pass of
cleaning leaves it, with the line scorer's out-of-fold decisions and the headline the
headline picker chose out-of-fold. A date is labelled right when it falls on the gold
``publish_date``'s calendar day. The body-only copies are left out: they hold no page
furniture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cleaners import published, scorer
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
    """Per page, the lines dates were read from, their feature rows and whether each date
    falls on the gold day."""
    return rows_after_first_pass(
        pages,
        logits,
        switch_cost,
        threshold,
        headlines,
        published.published_features,
        lambda page, when: bool(page.published) and when.date().isoformat() == page.published,
    )


def fit_published_model(rows: Sequence[Rows]) -> scorer.TreeEnsemble:
    return fit_picker(rows, published.FEATURE_NAMES)


def cross_validate(pages: Sequence[PageLines], rows: Sequence[Rows], folds: int) -> None:
    """Per page type and probability threshold: the share of pages whose gold has a date
    that get the right day, and of those whose gold has none that get a date anyway
    (out-of-fold, grouped by site; the picker alone, without the rules behind it)."""
    found = out_of_fold(pages, rows, folds, published.FEATURE_NAMES)
    print_trade_off("date", pages, found, lambda p: bool(p.published), published.MIN_PROBABILITY)
