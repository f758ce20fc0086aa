"""The run settings users tune, with their defaults, limits and help, in one table.

``SETTINGS`` is the one definition: the CLI's options are made from it, the flow's
parameters carry its defaults and the flow checks every one of them from it (a test holds
the flow's signature and ``prefect.yaml`` to the table), and ``check_settings`` is what
both the CLI (before Prefect starts) and the flow (before the lock is taken or anything
is read) call: a setting out of its range stops the run with one line saying what is
allowed, and nothing is touched.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
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
# On an object store, a run's lock expires this long after the run stops renewing it (a
# killed run); a live run renews it every third of this.
DEFAULT_LOCK_TTL = 120.0


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


@dataclass(frozen=True)
class Setting:
    """One run setting: the flow parameter ``name``, its type, default, allowed range and
    help. The CLI options, the flow's checks and ``prefect.yaml`` (a test holds it and the
    flow's signature to this table) all come from ``SETTINGS``."""

    name: str
    kind: type
    default: Any
    help: str
    limit: Limit | None = None
    flag: str | None = None  # the CLI option; default: --name-with-dashes
    metavar: str | None = None
    # Settings of cleaning itself, which ``thresher explain`` takes too.
    cleaning: bool = False

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ingest_date",
        str,
        None,
        "partition date YYYY-MM-DD (default: today, UTC)",
        metavar="YYYY-MM-DD",
    ),
    Setting("batch_size", int, DEFAULT_BATCH_SIZE, "input files per cleaning task", Limit(1)),
    Setting(
        "disabled_reasons",
        list,
        None,
        f"turn a cleaner off by its reason code (repeatable): {', '.join(REASONS)}",
        flag="--disable",
        metavar="REASON",
        cleaning=True,
    ),
    Setting(
        "uncurl_quotes",
        bool,
        False,
        "straighten curly quotes during encoding repair (default: keep them as written)",
        cleaning=True,
    ),
    Setting(
        "min_dedup_chars",
        int,
        MIN_CROSS_DOC_CHARS,
        "shortest paragraph (normalised characters) deduplicated across documents and runs",
        Limit(1),
    ),
    Setting(
        "near_dup_threshold",
        float,
        NEAR_DUP_THRESHOLD,
        "estimated Jaccard similarity from which documents are flagged as near-duplicates",
        Limit(0, 1, above=True),
    ),
    Setting(
        "max_file_bytes",
        int,
        DEFAULT_MAX_BYTES,
        "largest file accepted, after decompression",
        Limit(1),
    ),
    Setting(
        "max_expansion",
        int,
        DEFAULT_MAX_EXPANSION,
        "largest ratio of decompressed to compressed size for .gz input",
        Limit(1),
    ),
    Setting(
        "max_paragraphs",
        int,
        DEFAULT_MAX_PARAGRAPHS,
        "largest document accepted, in paragraphs",
        Limit(1),
        cleaning=True,
    ),
    Setting(
        "max_document_bytes",
        int,
        DEFAULT_MAX_DOCUMENT_BYTES,
        "largest document (a file, or one JSONL record) accepted, in bytes; bounds one "
        "document's memory",
        Limit(1),
        cleaning=True,
    ),
    Setting(
        "lock_timeout",
        float,
        DEFAULT_LOCK_TIMEOUT,
        "seconds to wait for another ingest on the same CURATED_DIR",
        Limit(0),
        metavar="S",
    ),
    Setting(
        "lock_ttl",
        float,
        DEFAULT_LOCK_TTL,
        "object stores only: seconds after which the lock of a run that stopped renewing it "
        "(killed) expires and another run may take it",
        Limit(1),
        metavar="S",
    ),
    Setting(
        "storage_options",
        dict,
        None,
        "fsspec options for s3:// and other URLs, as a JSON object (an endpoint, a region: "
        "nothing secret; credentials come from the environment)",
        metavar="JSON",
    ),
    Setting(
        "workers",
        int,
        0,
        "clean batches in this many local processes; 1: threads of this one; 0: one per "
        f"core when there are at least {AUTO_WORKERS_FROM} input files",
        Limit(0),
    ),
    Setting(
        "dask_address",
        str,
        None,
        "clean batches on the Dask cluster whose scheduler is at ADDRESS (e.g. "
        "tcp://10.0.0.5:8786), through prefect-dask",
        flag="--dask",
        metavar="ADDRESS",
    ),
    Setting(
        "retry_errors",
        bool,
        False,
        "try again inputs whose same bytes failed on an earlier date (by default they are "
        "counted as still failing, not tried again: after upgrading thresher, say)",
    ),
)
SETTING = {s.name: s for s in SETTINGS}
# Flow parameter -> (type, default, allowed range), for the numeric settings.
NUMERIC: dict[str, tuple[type, float, Limit]] = {
    s.name: (s.kind, s.default, s.limit) for s in SETTINGS if s.limit is not None
}


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A URL's scheme ("s3" of s3://lake/raw).
URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_url(value: str | os.PathLike[str]) -> bool:
    """Whether a RAW_DIR / CURATED_DIR names object storage (a ``file://`` URL is local).

    >>> is_url("s3://lake/raw"), is_url("file:///tmp/raw"), is_url("raw"), is_url(Path("x"))
    (True, False, False, False)
    """
    if not isinstance(value, str):
        return False
    match = URL_SCHEME.match(value)
    return match is not None and match.group(1).lower() != "file"


def local_path(value: str | os.PathLike[str]) -> Path:
    """A local folder from a plain path or a ``file://`` URL.

    >>> local_path("file:///tmp/raw"), local_path("curated")
    (PosixPath('/tmp/raw'), PosixPath('curated'))
    """
    text = os.fspath(value)
    return Path(text[len("file://") :] if text.lower().startswith("file://") else text)


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


# Option names that hold a credential (nested dicts such as client_kwargs are searched).
_SECRET_NAME = re.compile(
    r"^(key|secret|token|password|passwd|sas)$|secret|token|password|credential|"
    r"account_key|connection_string|sas_",
    re.IGNORECASE,
)
SECRETS_FROM = (
    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for S3, or "
    "THRESHER_STORAGE_OPTIONS (a JSON object) for any file system"
)


def secret_options(options: dict[str, Any], prefix: str = "") -> list[str]:
    """Names of the options (nested too) that hold a credential.

    >>> secret_options({"endpoint_url": "x", "client_kwargs": {"aws_secret_access_key": "s"}})
    ['client_kwargs.aws_secret_access_key']
    >>> secret_options({"key": "AKIA", "anon": False, "region_name": "eu-west-1"})
    ['key']
    """
    found = []
    for name, value in options.items():
        if isinstance(value, dict):
            found += secret_options(value, f"{prefix}{name}.")
        elif _SECRET_NAME.search(str(name)) and value not in (None, "", False):
            found.append(prefix + str(name))
    return found


def storage_options_problems(options: Any) -> list[str]:
    """What is wrong with a ``storage_options`` setting: not a JSON object, or holding a
    credential (Prefect stores a flow run's parameters and shows them in its UI)."""
    if not isinstance(options, dict):
        return [f"storage_options must be a JSON object, got {type(options).__name__}"]
    secrets = secret_options(options)
    if secrets:
        return [
            f"storage_options holds credentials ({', '.join(secrets)}), and a setting is "
            f"stored with the flow run; give them through the environment: {SECRETS_FROM}"
        ]
    return []


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
        elif name == "storage_options" and value is not None:
            problems.extend(storage_options_problems(value))
        elif name == "disabled_reasons":
            unknown = sorted(set(value or ()) - set(REASONS))
            if unknown:
                problems.append(
                    f"unknown reason code(s) {', '.join(unknown)}; known: {', '.join(REASONS)}"
                )
    if problems:
        raise SettingsError("; ".join(problems))
