"""The author picker (``cleaners/author.py``) as ``python -m cleaners.train_scorer``
trains it, after the headline picker and into ``cleaners/data/author_model.npz``: like
it, it reads each page as the first pass of cleaning leaves it, with the line scorer's
out-of-fold decisions, and the headline the headline picker chose out-of-fold
(``train_title.train_candidate_picker``). A name is labelled the author when
``author.author_matches`` the gold author. The body-only copies are left out: they hold
no page furniture.
"""

from __future__ import annotations

from typing import Any

from cleaners import author
from cleaners.train_title import CandidatePicker


def _names_the_author(gold: str, name: Any) -> bool:
    return author.author_matches(name, gold)


AUTHOR_PICKER = CandidatePicker(
    field="author",
    describe=author.author_features,
    names=author.FEATURE_NAMES,
    min_probability=author.MIN_PROBABILITY,
    gold=lambda page: page.author,
    is_right=_names_the_author,
)
