"""The command line's view of a run as it goes: a progress bar (rate and time left) on a
terminal, one line per batch otherwise, nothing with ``--quiet``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from flows import ingest


@contextmanager
def shown(quiet: bool = False, stream: TextIO | None = None) -> Iterator[None]:
    """Show the progress of the ``ingest`` runs inside this block on ``stream``
    (standard error by default)."""
    stream = stream or sys.stderr
    if quiet:
        yield
        return
    if stream.isatty():
        with _bar(stream) as hook:
            ingest.progress_hook = hook
            try:
                yield
            finally:
                ingest.progress_hook = None
        return
    ingest.progress_hook = _lines(stream)
    try:
        yield
    finally:
        ingest.progress_hook = None


@contextmanager
def _bar(stream: TextIO) -> Iterator[ingest.Progress]:
    progress = Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("batches, {task.fields[documents]} documents, {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=False,
    )
    tasks: dict[str, int] = {}
    elapsed = _clock()

    def hook(phase: str, done: int, total: int, documents: int) -> None:
        seconds = elapsed()
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total, documents=0, rate="")
        progress.update(
            tasks[phase],
            completed=done,
            documents=documents,
            rate=f"{documents / seconds:.0f} docs/s" if phase == "cleaning" else "",
        )

    with progress:
        yield hook


def _clock() -> Callable[[], float]:
    """Seconds since its first call: the run's first batch, not Prefect's start."""
    started: list[float] = []

    def elapsed() -> float:
        if not started:
            started.append(time.monotonic())
        return max(time.monotonic() - started[0], 1e-9)

    return elapsed


def _lines(stream: TextIO) -> ingest.Progress:
    elapsed = _clock()

    def hook(phase: str, done: int, total: int, documents: int) -> None:
        seconds = elapsed()
        if done == 0:
            return
        print(
            f"{phase}: batch {done}/{total}, {documents} documents "
            f"({documents / seconds:.0f} docs/s, {seconds:.0f} s)",
            file=stream,
            flush=True,
        )

    return hook
