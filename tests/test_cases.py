"""Data-driven cleaner cases: tests/cases/<reason>.json, each case with a label, an input
text, lines that must be removed with that reason, lines that must be kept (negative
cases guard against over-cleaning), and optionally metadata that must be lifted and
reason codes to turn off (``disabled``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaners import clean
from cleaners.clean import REASONS, CleanSettings, clean_document
from cleaners.encoding import repair_text
from cleaners.patterns import match_key
from cleaners.segment import split_paragraphs

CASES = Path(__file__).resolve().parent / "cases"
# Real scrapes of ../shared/eval/wcxb-dev that the passes test cleans twice (about 10 s).
REAL_PAGES_CHECKED = 150


def _load() -> list:
    out = []
    for path in sorted(CASES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            out.append(pytest.param(path.stem, case, id=f"{path.stem}: {case['label']}"))
    return out


def test_every_reason_has_cases() -> None:
    assert {p.stem for p in CASES.glob("*.json")} == set(REASONS)


@pytest.mark.parametrize(("reason", "case"), _load())
def test_case(reason: str, case: dict) -> None:
    paragraphs = split_paragraphs(repair_text(case["input"]).text)
    # A case may turn reasons off: the body-region rule (outside_body) only removes when
    # the line scorer (not_body) is off.
    settings = CleanSettings.from_disabled(case.get("disabled", []))
    result = clean_document(paragraphs, settings=settings)
    removed = {}
    for r in result.removed:
        removed.setdefault(match_key(r.text), r.reason)
    kept = {match_key(t) for _, t in result.kept}
    for line in case["removed"]:
        key = match_key(repair_text(line).text)
        assert removed.get(key) == reason, (
            f"not removed as {reason}: {line!r} (got {removed.get(key)})"
        )
    for line in case["kept"]:
        key = match_key(repair_text(line).text)
        assert key in kept, f"over-cleaned: {line!r} removed as {removed.get(key)}"
    for field, value in case.get("metadata", {}).items():
        got = result.metadata.get(field)
        if hasattr(got, "isoformat"):
            got = got.isoformat()
        assert got == value, f"metadata {field}: {got!r} != {value!r}"


def test_later_passes_skip_the_per_line_detectors_without_changing_anything(
    monkeypatch: pytest.MonkeyPatch, seeds_dir: Path
) -> None:
    """The passes after the first skip the detectors that judge a paragraph alone
    (``clean.PER_LINE``): every paragraph they see passed those in the first pass. With
    every detector run in every pass instead, each case file's page, each seed article and
    150 real pages are cleaned the same."""
    texts = [case.values[1]["input"] for case in _load()]
    texts += [p.read_text("utf-8") for p in sorted(seeds_dir.glob("*.txt"))]
    # Real pages, where the passes after the first have most to do.
    wcxb = seeds_dir.parent / "eval" / "wcxb-dev"
    scrapes = sorted(p for p in wcxb.glob("*.txt") if not p.name.endswith(".gold.txt"))
    texts += [p.read_text("utf-8") for p in scrapes[:REAL_PAGES_CHECKED]]
    pages = [split_paragraphs(repair_text(t).text) for t in texts if t.strip()]
    skipping = [clean_document(p) for p in pages]
    monkeypatch.setattr(clean, "PER_LINE", frozenset())
    every = [clean_document(p) for p in pages]
    assert len(pages) > 50 + REAL_PAGES_CHECKED
    assert skipping == every
    assert any(len(r.removed) for r in every)
