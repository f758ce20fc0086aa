"""Encoding repair: the case file tests/encoding/cases.json, and hypothesis properties.

Each case gives its bytes as ``text`` (encoded with ``encode_as``, UTF-8 by default) or as
``hex``, and expects either ``output`` (with the ``encoding`` chosen and ``fixes`` that
must be recorded), ``unchanged`` (negative cases: same text out, no fix recorded), or an
``error`` code from the document pipeline.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import ftfy.badness
import ftfy.chardata
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from cleaners.document import DocumentError, process_document
from cleaners.encoding import (
    FTFY_CONFIG,
    decode_bytes,
    ftfy_would_act,
    may_be_mojibake,
    normalise_whitespace,
    repair_text,
)

CASES = Path(__file__).resolve().parent / "encoding" / "cases.json"


def _load() -> list:
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    return [pytest.param(c, id=c["label"]) for c in cases]


def _bytes(case: dict) -> bytes:
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    return case["text"].encode(case.get("encode_as", "utf-8"))


@pytest.mark.parametrize("case", _load())
def test_encoding_case(case: dict) -> None:
    data = _bytes(case)
    if "error" in case:
        with pytest.raises(DocumentError) as info:
            process_document(data, "case.txt")
        assert info.value.code == case["error"]
        assert info.value.message  # a reason a user can read
        return
    decoded = decode_bytes(data)
    repaired = repair_text(decoded.text)
    if case.get("unchanged"):
        assert repaired.text == case["text"]
        assert repaired.fixes == []
    else:
        assert repaired.text == case["output"]
        assert set(case.get("fixes", [])) <= set(repaired.fixes), repaired.fixes
    if "encoding" in case:
        assert decoded.encoding == case["encoding"]
    if repaired.text != decoded.text:
        assert repaired.fixes, "text changed but no fix was recorded"


def test_encoding_and_fixes_reach_the_document() -> None:
    data = "Der Bürgermeister sagte: „Wir bauen.“\n\nDas kostet 5\xa0000 €.".encode("cp1252")
    doc = process_document(data, "de.txt")
    assert doc.encoding == "cp1252"
    assert "normalise_whitespace" in doc.encoding_fixes
    assert doc.text.endswith("Das kostet 5 000 €.")


def test_quotes_policy_is_a_setting() -> None:
    from cleaners.clean import CleanSettings

    data = "“We are ready,” she said, and the council agreed unanimously.".encode()
    assert "“" in process_document(data, "q.txt").text
    straight = process_document(data, "q.txt", settings=CleanSettings(uncurl_quotes=True))
    assert straight.text.startswith('"We are ready,"')
    assert "ftfy:uncurl_quotes" in straight.encoding_fixes


# --- properties --------------------------------------------------------------------------

# Any Unicode text a scraper could save: no surrogates (not encodable).
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)

# Characters of already-clean article text: letters, marks, digits, punctuation, symbols
# and plain spaces/newlines in any script; no controls, format characters or odd spaces.
# Latin ligatures ("ﬁ", Dutch "Ĳ") are expanded on purpose (fix_latin_ligatures), and "&"
# could start an entity, so neither counts as already clean.
CLEAN_CHARS = st.characters(
    whitelist_categories=("L", "M", "N", "P", "S"),
    # Ligatures, and the symbols ftfy removes as control characters (U+FFF9-U+FFFC, the
    # object replacement character among them: category So, yet not text).
    blacklist_characters="&"
    + "".join(chr(k) for k in ftfy.chardata.LIGATURES)
    + "".join(chr(k) for k in ftfy.chardata.CONTROL_CHARS),
) | st.sampled_from(" \n")

_FULLWIDTH_OR_KANA = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff61-\uff9f]")

# Noise that encoding repair must take out without touching the words around it.
NOISE = st.sampled_from(
    ["\u00a0", "\u202f", "\u2003", "\u200b", "\u00ad", "\ufeff", "\x07", "\r", "  ", "\t"]
)


def _is_clean(text: str) -> bool:
    """NFC, white space already normalised, nothing ftfy would call mojibake."""
    return (
        unicodedata.normalize("NFC", text) == text
        and normalise_whitespace(text) == text
        and not ftfy.badness.is_bad(text)
        and not _FULLWIDTH_OR_KANA.search(text)
    )


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
@example("cafÃ© â€” 5â‚¬\r\n\u00a0")
@example("ÃƒÂ©\u200b&amp;")
def test_repair_is_idempotent(text: str) -> None:
    once = repair_text(text).text
    twice = repair_text(once)
    assert twice.text == once
    assert twice.fixes == []


@settings(max_examples=300, deadline=None)
@given(st.text(CLEAN_CHARS, max_size=200))
def test_clean_text_is_left_unchanged(text: str) -> None:
    assume(_is_clean(text))
    repaired = repair_text(text)
    assert repaired.text == text
    assert repaired.fixes == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(CLEAN_CHARS, min_size=1, max_size=30), NOISE), max_size=12))
def test_noise_is_removed_and_nothing_else_changes(pieces: list[tuple[str, str]]) -> None:
    """Odd spaces, invisible characters and stray controls go; every word stays in order."""
    words = [w for w, _ in pieces]
    assume(all(_is_clean(w) and w.strip() for w in words))
    noisy = "".join(w + n for w, n in pieces)
    invisible = "\u200b\u00ad\ufeff\x07"
    expected = normalise_whitespace(
        "".join(w + ("" if n in invisible else " " if n != "\r" else "\n") for w, n in pieces)
    )
    # "Â" + NBSP is the mojibake of an NBSP, and "Î" + ZWSP + "¡" joins into the mojibake
    # of "Ρ": those are rightly decoded, so the property covers text that stays clean.
    assume(not ftfy.badness.is_bad(noisy) and not ftfy.badness.is_bad(expected))
    assert repair_text(noisy).text == expected


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
@example("ﬃ ＡＢＣ &eacute; cafÃ©")
def test_repair_invents_no_text(text: str) -> None:
    """Fixes only decode, unescape, compose and fold: the output is never longer than the
    input's compatibility form, and every letter of plain ASCII input survives in order."""
    out = repair_text(text).text
    assert len(out) <= len(unicodedata.normalize("NFKC", text))
    if text.isascii() and "&" not in text:
        letters = re.sub(r"[^A-Za-z0-9]", "", text)
        assert re.sub(r"[^A-Za-z0-9]", "", out) == letters


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]),
)
def test_unicode_encodings_round_trip(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding)).text == text.removeprefix("\ufeff")


# Characters that make up mojibake (Latin-1/cp1252/MacRoman/cp1251/cp1253 readings of
# UTF-8), entities, controls, white space and plain letters: where ftfy's fixers act.
MOJIBAKE_PRONE = st.sampled_from(
    [chr(c) for c in range(0x80, 0x100)]
    + list("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ√≈∂≠вЂГРСВβΟΓΞā×²³°µ»")
    + list("abcXYZ019.,;:!?#& \n\t\r\x0b\x1b[\u2028\u200b\ufeff\ufb01\u0301")
    + ["&amp;", "&eacute;", "&#233;", "Ã©", "â€™", "Ã "]
)
_SEED_LINES = sorted(
    {
        line
        for path in (Path(__file__).parent.parent.parent / "shared" / "seeds").rglob("*.txt")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    }
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(MOJIBAKE_PRONE, max_size=16).map("".join))
@example("Itâ€™s")
@example("voilÃ le travail")
@example("ГўВЂВњquotedГўВЂВќ ok")
def test_skipping_ftfy_is_safe(text: str) -> None:
    """repair_text skips ftfy when ``ftfy_would_act`` says it has nothing to do: that must
    never be wrong (the Hyperscan test is a superset of ftfy's badness regex)."""
    assert not ftfy.badness.is_bad(text) or may_be_mojibake(text)
    if not ftfy_would_act(text):
        assert ftfy.fix_and_explain(text, config=FTFY_CONFIG).text == text


def test_skipping_ftfy_is_safe_on_every_seed_line() -> None:
    assert _SEED_LINES
    for line in _SEED_LINES:
        assert not ftfy.badness.is_bad(line) or may_be_mojibake(line), line
        if not ftfy_would_act(line):
            assert ftfy.fix_and_explain(line, config=FTFY_CONFIG).text == line, line


@settings(max_examples=1000, deadline=None)
@given(st.lists(MOJIBAKE_PRONE | NOISE, max_size=16).map("".join))
def test_repair_output_is_nfc_and_stable(text: str) -> None:
    out = repair_text(text).text
    assert unicodedata.is_normalized("NFC", out)
    assert repair_text(out).text == out
