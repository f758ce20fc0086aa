"""Hyperscan scanning shared by the cleaners: one scratch space per thread and database.

A Hyperscan scan needs scratch space that no other scan uses at the same time; batches are
cleaned in concurrent threads, and a shared scratch fails with ``ScratchInUseError``.
"""

from __future__ import annotations

import threading
from typing import Any

_THREAD = threading.local()


def scratch_for(database: Any) -> Any:
    """This thread's scratch space for ``database``."""
    spaces: dict[int, Any] | None = getattr(_THREAD, "spaces", None)
    if spaces is None:
        spaces = _THREAD.spaces = {}
    scratch = spaces.get(id(database))
    if scratch is None:
        import hyperscan

        scratch = spaces[id(database)] = hyperscan.Scratch(database)
    return scratch


def matches_found(database: Any, data: bytes) -> list[tuple[int, int]]:
    """(expression id, end offset) of every match in ``data``, in the order Hyperscan
    reports them."""
    found: list[tuple[int, int]] = []

    def on_match(expression_id: int, start: int, end: int, flags: int, context: Any) -> None:
        found.append((expression_id, end))

    database.scan(data, match_event_handler=on_match, scratch=scratch_for(database))
    return found


def ids_found(database: Any, data: bytes) -> list[int]:
    """The ids of the expressions that match ``data``, in the order Hyperscan reports them
    (once each when compiled with ``HS_FLAG_SINGLEMATCH``)."""
    return [expression_id for expression_id, _ in matches_found(database, data)]
