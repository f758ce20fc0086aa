"""The four seed articles against their hand-labelled gold, strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners.document import process_document
from tests.gold import gold_misses

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


@pytest.mark.parametrize("gold", sorted(SEEDS.glob("*.gold.json")), ids=lambda p: p.stem)
def test_seed_matches_gold(gold: Path, seeds_dir: Path) -> None:
    raw = gold.with_name(gold.name.replace(".gold.json", ".txt"))
    doc = process_document(raw.read_bytes(), raw.name)
    assert gold_misses(gold, doc.text, doc.metadata) == []


def test_there_are_four_seeds(seeds_dir: Path) -> None:
    assert len(list(seeds_dir.glob("*.gold.json"))) == 4
