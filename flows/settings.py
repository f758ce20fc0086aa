"""The run settings users tune, with their defaults and limits, in one place.

The CLI options, the flow's parameters and ``prefect.yaml`` take their defaults from
here, and ``check_settings`` is what both the CLI (before Prefect starts) and the flow
(before the lock is taken or anything is read) call: a setting out of its range stops
the run with one line saying what is allowed, and nothing is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from cleaners.clean import DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_PARAGRAPHS, REASONS
from cleaners.dedup import MIN_CROSS_DOC_CHARS, NEAR_DUP_THRESHOLD

DEFAULT_BATCH_SIZE = 500
# Files larger than this (decompressed) are refused with a clear error.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# A compressed file may expand to at most this many times its size (text gzips 3-10x),
# except that anything may expand to 1 MB (flows.sources.EXPANSION_FLOOR_BYTES).
DEFAULT_MAX_EXPANSION = 100
# workers = 0 (the default) means: one worker process per core when the run has at least
# this many input files (worker start-up, about 10 s, is then a small share), else the
# threads of the flow process.
AUTO_WORKERS_FROM = 2_000
# How long a run waits for another run on the same curated folder to finish.
DEFAULT_LOCK_TIMEOUT = 600.0


class SettingsError(ValueError):
    """A setting out of its allowed range; the message says what is allowed."""


@dataclass(frozen=True)
class Limit:
    """The allowed range of a numeric setting (``None``: unbounded on that side);
    ``above`` makes the lower bound exclusive."""

    low: float | None
    high: float | None = None
    above: bool = False

    def allows(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        low = "" if self.low is None else f"{'>' if self.above else '>='} {self.low:g}"
        high = "" if self.high is None else f"<= {self.high:g}"
        return " and ".join(p for p in (low, high) if p)


# Flow parameter -> (type, default, allowed range).
NUMERIC: dict[str, tuple[type, float, Limit]] = {
    "batch_size": (int, DEFAULT_BATCH_SIZE, Limit(1)),
    "max_file_bytes": (int, DEFAULT_MAX_BYTES, Limit(1)),
    "max_expansion": (int, DEFAULT_MAX_EXPANSION, Limit(1)),
    "max_paragraphs": (int, DEFAULT_MAX_PARAGRAPHS, Limit(1)),
    "max_document_bytes": (int, DEFAULT_MAX_DOCUMENT_BYTES, Limit(1)),
    "min_dedup_chars": (int, MIN_CROSS_DOC_CHARS, Limit(1)),
    "near_dup_threshold": (float, NEAR_DUP_THRESHOLD, Limit(0, 1, above=True)),
    "lock_timeout": (float, DEFAULT_LOCK_TIMEOUT, Limit(0)),
    "workers": (int, 0, Limit(0)),
}

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def canonical_date(value: str) -> str:
    """An ingest date, accepted only in its one canonical form ``YYYY-MM-DD`` (so one day
    never gets two partitions).

    >>> canonical_date("2026-11-22")
    '2026-11-22'
    >>> canonical_date("20261122")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flows.settings.SettingsError: ingest_date must be ... written YYYY-MM-DD, got '20261122'
    """
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise SettingsError(
            f"ingest_date must be a calendar date written YYYY-MM-DD, got {value!r}"
        )
    try:
        date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"ingest_date {value!r} is not a calendar date") from None
    return value


def workers_for(requested: int, inputs: int, cores: int | None) -> int:
    """Worker processes for a run: ``requested`` if given (>= 1); for 0, one per core
    when there are at least ``AUTO_WORKERS_FROM`` inputs, else 1 (threads).

    >>> workers_for(0, 10_000, 2), workers_for(0, 50, 2), workers_for(3, 50, 2)
    (2, 1, 3)
    """
    if requested >= 1:
        return requested
    return max(1, cores or 1) if inputs >= AUTO_WORKERS_FROM else 1


def check_settings(**values: Any) -> None:
    """Raise ``SettingsError`` naming every setting given out of its range: numbers in
    ``NUMERIC``, ``ingest_date`` (canonical, or None for today), ``disabled_reasons``
    (known reason codes).

    >>> check_settings(batch_size=500, near_dup_threshold=0.7)
    >>> check_settings(batch_size=-1)
    Traceback (most recent call last):
    ...
    flows.settings.SettingsError: batch_size must be an integer >= 1, got -1
    """
    problems = []
    for name, value in values.items():
        if name in NUMERIC:
            kind, _, limit = NUMERIC[name]
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if (
                not numeric
                or (kind is int and not isinstance(value, int))
                or not limit.allows(value)
            ):
                what = "an integer" if kind is int else "a number"
                problems.append(f"{name} must be {what} {limit.describe()}, got {value!r}")
        elif name == "ingest_date" and value is not None:
            try:
                canonical_date(value)
            except SettingsError as exc:
                problems.append(str(exc))
        elif name == "disabled_reasons":
            unknown = sorted(set(value or ()) - set(REASONS))
            if unknown:
                problems.append(
                    f"unknown reason code(s) {', '.join(unknown)}; known: {', '.join(REASONS)}"
                )
    if problems:
        raise SettingsError("; ".join(problems))
