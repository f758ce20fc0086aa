"""The multi-pattern scan behind ``patterns.found_in``: the same verdicts as trying every
entry's regex, from any number of threads at once (batches are cleaned in threads)."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from cleaners import patterns
from tests.helpers import CASES


def _inputs() -> list[str]:
    """Every paragraph of the data-driven case files, as the detectors match them."""
    out = []
    for path in sorted(CASES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            text = case["input"]
            items = text if isinstance(text, list) else text.split("\n\n")
            out.extend(patterns.match_key(p) for p in items if isinstance(p, str))
    return out


@pytest.mark.parametrize("name", patterns.SEARCHED)
def test_found_in_agrees_with_every_entry_tried(name: str) -> None:
    rxs = [re.compile(p, re.IGNORECASE) for p in patterns.lines(name)]
    keys = _inputs()
    assert keys
    for key in keys:
        assert patterns.found_in(name, key) == any(rx.search(key) for rx in rxs), key


def test_scans_from_many_threads_at_once() -> None:
    """A shared Hyperscan scratch fails under concurrent scans (ScratchInUseError): a
    whole real-page ingest lost 7,771 of 10,000 documents to it before each thread had
    its own."""
    keys = [f"Subscribe to our newsletter number {i} for cookies and photos" for i in range(4000)]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda k: patterns.literals_in(k.lower()), keys))
    assert all("newsletter" in f for f in found)
