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
from cleaners.train_title import THRESHOLDS, Rows, first_pass, fit_picker, out_of_fold


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
    by_type: dict[str, list[tuple[bool, float, bool]]] = {}
    for page, (p, ok, _) in zip(pages, found, strict=True):
        by_type.setdefault(page.page_type, []).append((bool(page.author), p, ok))
    for page_type, scored in sorted(by_type.items()):
        signed = [(p, ok) for has, p, ok in scored if has]
        unsigned = [p for has, p, _ in scored if not has]
        for threshold in THRESHOLDS:
            if page_type != "article" and threshold != author.MIN_PROBABILITY:
                continue
            right = np.mean([ok and p >= threshold for p, ok in signed]) if signed else 0.0
            given = np.mean([p >= threshold for p in unsigned]) if unsigned else 0.0
            print(
                f"  author {page_type}, min probability {threshold}: right {right:.3f} of "
                f"{len(signed)} with a gold author, one given on {given:.3f} of {len(unsigned)} "
                "without"
            )
