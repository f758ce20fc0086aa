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


def test_one_scan_of_a_page_gives_each_line_its_own_verdicts() -> None:
    """A page is scanned once, its lines joined by line breaks, and each match is placed
    on the line it ends in: every line gets the verdicts it gets alone, entries anchored at
    a line's start or end (``^``, ``$``) included, whatever stands around it."""
    page = [
        "The council met on Monday.",
        "Subscribe to our newsletter for free updates",  # a promo entry anchored at ^
        "Rain is due.",
        "A view of the harbour at dusk. Photo: Jane Doe",  # a caption entry ending in $
        "We use cookies to improve your experience.",
        *_inputs(),
    ]
    entries = patterns.entries_by_line(page)
    assert len(entries) == len(page)
    for name in patterns.SEARCHED:
        rxs = [re.compile(p, re.IGNORECASE) for p in patterns.lines(name)]
        for key, ids in zip(page, entries, strict=True):
            alone = any(rx.search(key) for rx in rxs)
            assert patterns.found_among(name, key, ids) == alone, (name, key)
    assert [
        patterns.found_among("promo", k, e) for k, e in zip(page[:3], entries, strict=False)
    ] == [
        False,
        True,
        False,
    ]


def test_scans_from_many_threads_at_once() -> None:
    """A shared Hyperscan scratch fails under concurrent scans (ScratchInUseError): a
    whole real-page ingest lost 7,771 of 10,000 documents to it before each thread had
    its own."""
    keys = [f"Subscribe to our newsletter number {i} for cookies and photos" for i in range(4000)]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda k: patterns.entries_in(k), keys))
    promo = patterns._search_index().spans["promo"]
    assert all(any(k in promo for k in f) for f in found)


_LOADED = (
    patterns.lines,
    patterns._search_index,
    patterns.entries_in,
    patterns.found_in,
    patterns.whole,
)


@pytest.fixture
def extra_patterns(tmp_path, monkeypatch):
    """A THRESHER_PATTERNS_DIR of the test's own, and a cache folder no other test uses;
    the shipped patterns again afterwards."""
    from cleaners import shared_cache

    folder = tmp_path / "extra"
    folder.mkdir()
    monkeypatch.setenv(patterns.EXTRA_DIR_ENV, str(folder))
    monkeypatch.setenv(shared_cache.CACHE_ENV, str(tmp_path / "cache"))
    for loaded in _LOADED:
        loaded.cache_clear()
    yield folder
    for loaded in _LOADED:
        loaded.cache_clear()


def test_a_users_extra_line_is_matched(extra_patterns) -> None:
    (extra_patterns / "promo.txt").write_text("# our house style\n\\bthe morning brief\\b\n")
    assert patterns.found_in("promo", "Get The Morning Brief in your inbox")
    assert patterns.found_in("promo", "Subscribe to our newsletter")  # the shipped lines too
    assert not patterns.found_in("promo", "The council met in the morning to brief staff.")


def test_an_entry_hyperscan_cannot_compile_is_tried_on_every_paragraph(
    extra_patterns, caplog
) -> None:
    """Never dropped: a pattern Hyperscan refuses even in prefilter mode (here a bounded
    repeat too large for it) is named in a warning and still decides."""
    (extra_patterns / "promo.txt").write_text("weekly digest \\d{0,100000}no\\.\n")
    with caplog.at_level("WARNING", logger="cleaners.patterns"):
        assert patterns.found_in("promo", "Read the weekly digest 12no. today")
    assert "tried on every paragraph" in caplog.text and "weekly digest" in caplog.text
    assert not patterns.found_in("promo", "The weekly digest of council minutes was late.")
    assert patterns.found_in("promo", "Subscribe to our newsletter")


def test_a_cached_database_that_cannot_be_used_is_compiled_again(extra_patterns, tmp_path) -> None:
    """The compiled database is cached on disk; a damaged one (or one built for another
    CPU, in a cache folder machines share) is compiled again, never used."""
    assert patterns.found_in("promo", "Subscribe to our newsletter")
    (cached,) = (tmp_path / "cache").glob("patterns-*/search.hsdb")
    cached.write_bytes(b"\0" * 64)
    for loaded in _LOADED:
        loaded.cache_clear()
    assert patterns.found_in("promo", "Subscribe to our newsletter")
    assert not patterns.found_in("promo", "The council met on Monday.")
