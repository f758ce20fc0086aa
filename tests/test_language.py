"""Language detection: the labelled cases in tests/language/cases.json (210 paragraphs in
seven languages written for this suite, texts too short to tell, mixed texts), and which
source of a document's language wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaners import shared_cache
from cleaners.document import process_document, process_html
from cleaners.language import _identifier, detect_language

HERE = Path(__file__).resolve().parent
CASES = json.loads((HERE / "language" / "cases.json").read_text(encoding="utf-8"))["cases"]
ROOT = HERE.parent


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_language_case(case: dict) -> None:
    assert detect_language(case["input"]) == case["expected"]


def test_the_labelled_set_covers_six_languages_and_two_hundred_texts() -> None:
    languages = {c["expected"] for c in CASES if c["expected"]}
    assert len(languages) >= 6
    assert sum(1 for c in CASES if c["expected"]) >= 200


def test_the_compiled_walk_scores_as_py3langid_does() -> None:
    """The identifier walks py3langid's automaton in compiled code; py3langid's own walk
    (a Python loop) over the same model gives the same scores, bit for bit, on every
    labelled text and on texts with no feature at all."""
    from py3langid.langid import LanguageIdentifier

    identifier = _identifier()
    assert identifier is not None
    texts = [c["input"] for c in CASES] + ["", "\x00\x01", "€ 5", GERMAN]
    for text in texts:
        encoded = identifier._encode(text)
        ours = identifier._raw_score(encoded)
        theirs = LanguageIdentifier._raw_score(identifier, encoded)
        assert ours.dtype == theirs.dtype and ours.tobytes() == theirs.tobytes(), text


GERMAN = (
    "Der Gemeinderat hat am Montag nach einer langen Debatte den neuen Haushalt "
    "beschlossen, der vor allem mehr Geld für Schulen und Straßen vorsieht.\n\n"
    "Die Opposition kritisierte, dass für den Nahverkehr kaum zusätzliche Mittel "
    "eingeplant seien, und kündigte weitere Anträge an."
)


def test_a_text_without_sidecar_gets_its_detected_language() -> None:
    doc = process_document(GERMAN.encode(), "rat.txt")
    assert doc.metadata["language"] == "de"


def test_the_german_sample_is_detected() -> None:
    sample = ROOT / "raw" / "2026-11-20" / "radwege-de.txt"
    assert process_document(sample.read_bytes(), sample.name).metadata["language"] == "de"


def test_a_sidecar_language_wins_and_is_stored_as_its_primary_code() -> None:
    doc = process_document(GERMAN.encode(), "rat.txt", sidecar={"language": "de-CH"})
    assert doc.metadata["language"] == "de"
    # The source's word is kept even when the text looks otherwise.
    doc = process_document(GERMAN.encode(), "rat.txt", sidecar={"language": "en-GB"})
    assert doc.metadata["language"] == "en"


def test_too_little_text_has_no_language() -> None:
    doc = process_document(b"Closed on Monday.", "note.txt")
    assert "language" not in doc.metadata


def _html(lang: str, body: str) -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        f'<html lang="{lang}"><head><title>Rat</title></head><body><article>'
        f"<h1>Haushalt beschlossen</h1>{paras}</article></body></html>"
    ).encode()


def test_a_page_declaring_the_wrong_lang_gets_its_texts_language() -> None:
    # Templates often declare one lang for every page of a site.
    assert process_html(_html("en", GERMAN), "rat.html").metadata["language"] == "de"


def test_a_page_whose_text_is_too_short_keeps_its_declared_lang() -> None:
    doc = process_html(_html("fr-FR", "Ouvert demain."), "court.html")
    assert doc.metadata["language"] == "fr"


def test_a_model_that_cannot_be_read_costs_the_language_not_the_document(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    import py3langid.langid

    from cleaners import language

    monkeypatch.setenv(shared_cache.CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setattr(py3langid.langid, "MODEL_FILE", "data/no-such-model.npz.xz")
    language._identifier.cache_clear()
    try:
        doc = process_document(GERMAN.encode(), "rat.txt")
        assert "language" not in doc.metadata and doc.text
        assert "language detection is off" in caplog.text
    finally:
        language._identifier.cache_clear()  # the real model again for the other tests


def test_the_unpacked_model_is_cached_whole_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import py3langid.langid

    from cleaners import language

    monkeypatch.setenv(shared_cache.CACHE_ENV, str(tmp_path))
    language._identifier.cache_clear()
    try:
        assert detect_language(GERMAN) == "de"
        (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            f"{name}.npy" for name in language._ARRAYS
        )
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging
        # A later process maps the cache: the packed model is no longer read.
        monkeypatch.setattr(py3langid.langid, "MODEL_FILE", "data/no-such-model.npz.xz")
        language._identifier.cache_clear()
        assert detect_language(GERMAN) == "de"
    finally:
        language._identifier.cache_clear()


def test_a_cache_that_cannot_be_written_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cleaners import language

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setenv(shared_cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(language.np, "save", full_disk)
    language._identifier.cache_clear()
    try:
        assert detect_language(GERMAN) == "de"  # unpacked in memory all the same
        assert list(tmp_path.iterdir()) == []  # no staging folder, no partial cache
    finally:
        language._identifier.cache_clear()
