"""The publication-date picker (``cleaners/published.py``) as ``python -m
cleaners.train_scorer`` trains it, after the author picker and into
``cleaners/data/published_model.npz``: like the other pickers, it reads each page as the
first pass of cleaning leaves it, with the line scorer's out-of-fold decisions and the
headline the headline picker chose out-of-fold (``train_title.train_candidate_picker``).
A date is labelled right when it falls on the gold ``publish_date``'s calendar day. The
body-only copies are left out: they hold no page furniture.
"""

from __future__ import annotations

from typing import Any

from cleaners import published
from cleaners.train_title import CandidatePicker


def _falls_on(gold: str, when: Any) -> bool:
    return bool(when.date().isoformat() == gold)


DATE_PICKER = CandidatePicker(
    field="date",
    describe=published.published_features,
    names=published.FEATURE_NAMES,
    min_probability=published.MIN_PROBABILITY,
    gold=lambda page: page.published,
    is_right=_falls_on,
)
