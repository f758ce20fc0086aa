"""Bytes to clean Unicode: decoding, mojibake repair, normalisation, white space.

Pure functions, no I/O. ``decode_bytes`` picks the encoding of one file (BOM, then strict
UTF-8, then charset-normalizer's detector); ``repair_text`` runs ftfy and the white-space
fixers and says which fixes changed the text, the way ``ftfy.fix_and_explain`` does.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import ftfy
import hyperscan
from charset_normalizer import from_bytes
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CONTROL_CHARS, HTML_ENTITY_RE, LIGATURES

from cleaners.multiscan import ids_found

# BOMs checked longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Share of C0 control bytes (other than tab, CR, LF, FF) above which bytes are not text.
MAX_CONTROL_SHARE = 0.05
# Control bytes that are not tab, line feed, form feed or carriage return.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
# Share of U+FFFD replacement characters above which a decoding is considered failed.
MAX_REPLACEMENT_SHARE = 0.02

# In Western text read as cp1252, at most this share of letters is non-ASCII and no run
# of more than three non-ASCII letters occurs.
MAX_WESTERN_ACCENT_SHARE = 0.3
_ACCENT_RUN = re.compile(r"[^\x00-\x7f\W\d_]{4,}")

# Space-like characters that are not U+0020: NBSP, narrow NBSP, figure space, en/em and
# other typographic spaces, ideographic space, Ogham space mark.
_ODD_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Zero-width and invisible format characters that carry nothing in article text:
# ZWSP, word joiner, BOM/ZWNBSP, soft hyphen, invisible operators. ZWJ/ZWNJ are kept
# (they shape emoji sequences and Persian/Indic scripts).
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad\u2061-\u2064\u180e]")
# C0/C1 controls other than tab and newline.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE_OR_CONTROL = re.compile(f"{_INVISIBLE.pattern}|{_CONTROLS.pattern}")
_LINE_ENDINGS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACE_RUNS = re.compile("  +")
_BLANK_RUNS = re.compile(r"\n{3,}")

# Fullwidth Latin letters and digits ("ＡＢＣ１２３") and halfwidth katakana ("ｶﾀｶﾅ").
# ftfy's own fix_character_width also narrows fullwidth punctuation, which is correct in
# Chinese and Japanese text ("你好，世界" would lose its ideographic comma), so thresher
# narrows only these two ranges.
_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]+")
_HALFWIDTH_FORMS = re.compile("[\uff10-\uff9f]")

# ftfy settings: quotes are kept as the source wrote them unless the user asks
# (``uncurl_quotes``); unescape_html is on for plain text (entities left in by scrapers).
FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_latin_ligatures=True,
    fix_character_width=False,
    normalization="NFC",
    unescape_html=True,
    explain=True,
)
_FTFY_UNCURL = FTFY_CONFIG._replace(uncurl_quotes=True)


def _char_class(codepoints: set[int]) -> str:
    return "".join(re.escape(chr(c)) for c in sorted(codepoints))


# Every character one of ftfy's fixers (as FTFY_CONFIG runs them) acts on, entities aside
# (ftfy's own HTML_ENTITY_RE, below): C1 controls, ligatures, line breaks other than LF,
# surrogates, ESC (terminal escapes) and the control characters ftfy removes. With none of
# them, text in NFC and no sequence that looks like mojibake, ``ftfy.fix_and_explain``
# returns its input: thresher skips it then.
_FTFY_ACTS_ON = re.compile(
    "[\x1b\r\u2028\u2029\x80-\x9f\ud800-\udfff"
    + _char_class(set(LIGATURES) | set(CONTROL_CHARS))
    + "]"
)


def _unverbose(pattern: str) -> str:
    """A ``re.VERBOSE`` pattern without its comments and insignificant white space."""
    out: list[str] = []
    i, in_class, class_start = 0, False, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]" or class_start
            class_start = False
            out.append(c)
        elif c == "[":
            in_class = class_start = True
            out.append(c)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
        elif c == "#":
            while i < len(pattern) and pattern[i] != "\n":
                i += 1
            continue
        elif not c.isspace():
            out.append(c)
        i += 1
    return "".join(out)


@cache
def _mojibake_database() -> Any:
    """ftfy's badness regex compiled for Hyperscan, loosened so that it matches wherever
    ftfy's matches (``\\s`` and ``\\w`` become any character): 70x faster than the regex,
    and a miss proves ``ftfy.badness.is_bad`` false."""
    loose = _unverbose(BADNESS_RE.pattern).replace(r"\s", ".").replace(r"\w", ".")
    flags = (
        hyperscan.HS_FLAG_UTF8
        | hyperscan.HS_FLAG_UCP
        | hyperscan.HS_FLAG_DOTALL
        | hyperscan.HS_FLAG_SINGLEMATCH
    )
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[loose.encode()], ids=[0], elements=1, flags=[flags])
    return database


def may_be_mojibake(text: str) -> bool:
    """False only when ``ftfy.badness.is_bad(text)`` is False (a fast superset of it).

    >>> may_be_mojibake("Itâ€™s"), may_be_mojibake("Straße, café, “quoted” – ok")
    (True, False)
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return True  # lone surrogates: not UTF-8, and ftfy has work to do
    return bool(ids_found(_mojibake_database(), data))


def ftfy_would_act(text: str) -> bool:
    """Whether ``ftfy.fix_and_explain`` with FTFY_CONFIG could change ``text``.

    >>> ftfy_would_act("Plain text, “quoted”, café."), ftfy_would_act("Tom &amp; Jerry")
    (False, True)
    """
    return (
        _FTFY_ACTS_ON.search(text) is not None
        or ("&" in text and HTML_ENTITY_RE.search(text) is not None)
        or not unicodedata.is_normalized("NFC", text)
        or may_be_mojibake(text)
    )


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can recognise."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


@dataclass
class Repaired:
    text: str
    fixes: list[str] = field(default_factory=list)


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    if not sample:
        return False
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # NUL bytes without a BOM: binary, or BOM-less UTF-16 (even/odd NUL pattern).
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if max(even, odd) < 0.3 * (len(sample) / 2) or min(even, odd) > 0.05 * len(sample):
            return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > MAX_CONTROL_SHARE * len(sample) and b"\x00" not in sample[1::2]


def decode_bytes(data: bytes) -> Decoded:
    """Decode one file's bytes, choosing the encoding: BOM, strict UTF-8, then detection.

    >>> decode_bytes("café".encode("utf-8")).encoding
    'utf-8'
    >>> decode_bytes("café €5".encode("cp1252"))
    Decoded(text='café €5', encoding='cp1252')
    >>> decode_bytes("Stadtrat beschließt „neue“ Radwege".encode("cp1252")).encoding
    'cp1252'
    >>> decode_bytes(codecs.BOM_UTF16_LE + "hi".encode("utf-16-le")).text
    'hi'
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(name), name)
            except UnicodeDecodeError as exc:
                msg = f"bytes start with a {name} BOM but do not decode: {exc}"
                raise UndecodableError(msg) from exc
    if _looks_binary(data):
        raise UndecodableError("binary content (NUL or control bytes), not text")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    western = _as_western(data)
    if western is not None:
        return Decoded(western, "cp1252")
    best = from_bytes(data[:262144]).best()
    if best is not None:
        name = _prefer_superset(best.encoding)
        text = data.decode(name, errors="replace")
        if text.count("\ufffd") <= MAX_REPLACEMENT_SHARE * max(1, len(text)):
            return Decoded(text, name)
    # Latin-1 decodes anything; accept it only when the result reads as text.
    text = data.decode("cp1252", errors="replace")
    if text.count("\ufffd") <= MAX_REPLACEMENT_SHARE * max(1, len(text)):
        return Decoded(text, "cp1252")
    raise UndecodableError("no encoding decodes these bytes to text")


def _as_western(data: bytes) -> str | None:
    """The cp1252 reading of bytes that are not UTF-8, when it reads as Western text.

    Detectors cannot tell short Western text from other single-byte code pages (they read
    "café €5" as Cyrillic cp1125), yet cp1252 is by far the commonest legacy encoding of
    scraped pages. Accept it when it decodes strictly and its non-ASCII letters stand
    alone inside ASCII words ("café", "Straße"); text in another script read as cp1252
    gives whole words of accented letters ("Ïðèâåò"), and goes to the detector.

    >>> _as_western("Preis: 5 € für Straße".encode("cp1252"))
    'Preis: 5 € für Straße'
    >>> _as_western("Привет, как дела".encode("cp1251")) is None
    True
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = [c for c in text if c.isalpha()]
    foreign = [c for c in letters if ord(c) > 127]
    if not letters or len(foreign) > MAX_WESTERN_ACCENT_SHARE * len(letters):
        return None
    if _ACCENT_RUN.search(text):
        return None
    return text


def _prefer_superset(name: str) -> str:
    """Latin-1 and ASCII detections are read as cp1252, their superset in practice.

    >>> _prefer_superset("latin_1")
    'cp1252'
    """
    n = name.lower().replace("-", "_")
    return "cp1252" if n in {"latin_1", "iso8859_1", "ascii", "iso_8859_1"} else name


def strip_invisible(text: str) -> str:
    """Remove zero-width, soft-hyphen and control characters.

    >>> strip_invisible("a\\u200bb\\u00adc\\x07d")
    'abcd'
    """
    if not _INVISIBLE_OR_CONTROL.search(text):
        return text
    return _CONTROLS.sub("", _INVISIBLE.sub("", text))


def normalise_whitespace(text: str) -> str:
    """Unify line endings, turn odd spaces into plain spaces, trim lines, fold blank runs.

    >>> normalise_whitespace("a\\u00a0 b  \\r\\nc\\r\\n\\r\\n\\r\\n\\r\\nd ")
    'a b\\nc\\n\\nd'
    """
    # Each substitution runs only when a plain substring test finds its trigger: Python's
    # regex engine scans these classes at well under 100 MB/s, ``in`` at memory speed.
    if "\r" in text or "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = _LINE_ENDINGS.sub("\n", text)
    text = _ODD_SPACES.sub(" ", text)
    if "\t" in text:
        text = text.replace("\t", " ")
    if "  " in text:
        text = _SPACE_RUNS.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def fix_latin_width(text: str) -> str:
    """Narrow fullwidth Latin letters and digits; widen halfwidth katakana.

    >>> fix_latin_width("ＮＨＫ１")
    'NHK1'
    >>> fix_latin_width("ｶﾞｲﾄﾞ")
    'ガイド'
    >>> fix_latin_width("你好，世界。")
    '你好，世界。'
    """
    if not _HALFWIDTH_FORMS.search(text):
        return text
    text = _FULLWIDTH_ALNUM.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return _HALFWIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


# Removing an invisible or control character can bring two halves of a mojibake sequence
# together ("\x81Àµ"), so the fixers run again until the text stops changing.
MAX_REPAIR_PASSES = 4


def repair_text(text: str, *, uncurl_quotes: bool = False) -> Repaired:
    """Run every fixer and record the name of each one that changed the text.

    Curly quotes are kept as written unless ``uncurl_quotes`` asks for straight ones.
    The fixers are repeated until the text is stable, so repair is idempotent.

    >>> r = repair_text("Itâ€™s\\u00a0here\\r\\n")
    >>> r.text, r.fixes
    ('It’s here', ['ftfy:decode_inconsistent_utf8', 'ftfy:fix_line_breaks', 'normalise_whitespace'])
    >>> repair_text("“Hi”", uncurl_quotes=True)
    Repaired(text='"Hi"', fixes=['ftfy:uncurl_quotes'])
    """
    fixes: dict[str, None] = {}
    run_ftfy = uncurl_quotes or ftfy_would_act(text)
    for _ in range(MAX_REPAIR_PASSES):
        fixed = _repair_once(text, run_ftfy, uncurl_quotes, fixes)
        if fixed == text:
            break
        text = fixed
        run_ftfy = uncurl_quotes or ftfy_would_act(text)
        if not run_ftfy:
            # Nothing left for ftfy, and our own steps are idempotent: another pass
            # would change nothing.
            break
    return Repaired(text, list(fixes))


def _repair_once(text: str, run_ftfy: bool, uncurl_quotes: bool, fixes: dict[str, None]) -> str:
    """One pass of every fixer; ftfy only when ``run_ftfy`` (it has something to do):
    over the whole text first (the other lines are evidence that one is mojibake), then
    over each line that still holds something for it (``_ftfy_by_line``)."""
    fixed = text
    if run_ftfy:
        config = _FTFY_UNCURL if uncurl_quotes else FTFY_CONFIG
        fixed, explanation = ftfy.fix_and_explain(text, config=config)
        if fixed != text:
            names = [f"ftfy:{_step_name(step)}" for step in explanation or []]
            fixes.update(dict.fromkeys(names or ["ftfy:normalize"]))
        fixed = _ftfy_by_line(fixed, uncurl_quotes, fixes)
    steps = (
        ("fix_latin_width", fix_latin_width),
        ("nfc", _nfc),
        ("strip_invisible", strip_invisible),
        ("normalise_whitespace", normalise_whitespace),
    )
    for name, step in steps:
        after = step(fixed)
        if after != fixed:
            fixes[name] = None
        fixed = after
    return fixed


def _ftfy_by_line(text: str, uncurl_quotes: bool, fixes: dict[str, None]) -> str:
    r"""ftfy over each line on its own, as ``ftfy.fix_text`` goes over a text. Over the
    whole text, whether a line reads as mojibake depends on the lines around it: one that
    does only alone ("‡ßß" beside a "‘") would be repaired once cleaning removed its
    neighbours, and cleaning the cleaned text would change it. Lines ftfy has nothing to
    do on are skipped.

    >>> fixes: dict[str, None] = {}
    >>> _ftfy_by_line("\u2018\n\n\u2021\u00df\u00df", False, fixes), list(fixes)
    ('‘\n\n১', ['ftfy:fix_encoding'])
    """
    config = _FTFY_UNCURL if uncurl_quotes else FTFY_CONFIG
    out = []
    for line in _LINES.findall(text):  # each with its "\n", as ftfy.fix_text splits
        if uncurl_quotes or ftfy_would_act(line):
            fixed, explanation = ftfy.fix_and_explain(line, config=config)
            if fixed != line:
                names = [f"ftfy:{_step_name(step)}" for step in explanation or []]
                fixes.update(dict.fromkeys(names or ["ftfy:normalize"]))
            line = fixed
        out.append(line)
    return "".join(out)


_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _step_name(step: ftfy.ExplanationStep) -> str:
    if step.action in ("encode", "decode", "transcode"):
        return "fix_encoding"
    return step.parameter
