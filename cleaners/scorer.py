"""The line scorer: a learned probability that each line of a page is article body, and a
sequence step that keeps the body together.

The rules in ``cleaners.detectors`` remove what they recognise with their own reason codes;
the scorer decides the lines they leave. Every line is described by one row of numbers
(``line_features``): its shape (length, words, case, digits, punctuation, how it ends), its
share of function words (a word list per language, ``data/function_words.txt``, so no
feature depends on English), where it sits in the page, how often it repeats, which rule
removed it, and the same for its neighbours. A gradient-boosted tree ensemble, trained by
``cleaners/train_scorer.py`` on labelled pages and shipped as ``data/line_model.npz``,
turns each row into the log-odds that the line is body. ``body_path`` then picks, over the
lines the rules left, the labelling that agrees best with those log-odds while paying a
price for every switch between body and not-body (a two-state Viterbi pass), so that one
short line inside the article stays and a mid-article link block does not cut the body in
two unless the evidence says so.

Inference is numpy and one compiled loop (``cleaners.kernels``, numba): no learning
library is needed at run time.
"""

from __future__ import annotations

import io
import math
import re
import string
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from cleaners import patterns
from cleaners.page import (
    BODY_LONG_WORDS,
    BODY_MIN_WORDS,
    HEADLINE_MAX_WORDS,
    HEADLINE_MIN_WORDS,
    HEADLINE_NOT_ENDS,
    SENTENCE_ENDS,
    ends_sentence,
    first_char,
    is_body_like,
    is_bullet,
    is_headline_like,
    last_char,
)

MODEL_PATH = Path(__file__).parent / "data" / "line_model.npz"
# Reason codes a rule may give a line, in a fixed order (the model's one-hot columns).
# Kept here rather than imported from cleaners.clean, which imports this module.
RULE_REASONS: tuple[str, ...] = (
    "cookie_banner",
    "share",
    "nav",
    "promo",
    "caption",
    "attribution",
    "dateline",
    "related_link",
    "section",
    "title",
    "byline",
    "duplicate",
)
# Neighbours whose shape each line sees, and the half-widths of the windows it averages.
NEIGHBOUR_OFFSETS: tuple[int, ...] = (-3, -2, -1, 1, 2, 3)
WINDOWS: tuple[int, ...] = (5, 15)

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(f"[{SENTENCE_ENDS}](?=\\s|$)")
_LINK = re.compile(r"https?://|www\.|\S@\S|\.(?:com|org|net)\b", re.IGNORECASE)
# What every match of ``_LINK`` holds, lower-cased (or an "@"): a search of the
# lower-cased line for these literals, case-sensitive, is one fast scan.
_LINK_LITERALS = re.compile(r"http|www\.|\.com|\.org|\.net")
_SEPARATOR_MARKS = "|›»•·/"
_SEPARATOR = re.compile(f"\\s[{_SEPARATOR_MARKS}]\\s")


@cache
def function_words() -> frozenset[str]:
    """The function words of every language in ``data/function_words.txt``."""
    return frozenset(w.lower() for w in patterns.lines("function_words"))


BASE_FEATURES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "mean_word_len",
    "upper_share",
    "digit_share",
    "punct_share",
    "ends_sentence",
    "ends_colon",
    "ends_ellipsis",
    "ends_comma_or_dash",
    "starts_upper",
    "capitalised_share",
    "is_bullet",
    "has_link",
    "has_separator",
    "log_sentences",
    "commas_per_word",
    "function_share",
    "log_repeats",
    "body_like",
    "headline_like",
)
# What a line's neighbours show it: enough to see prose around it or a menu.
NEIGHBOUR_FEATURES: tuple[str, ...] = (
    "log_chars",
    "ends_sentence",
    "function_share",
    "body_like",
    "headline_like",
    "rule_removed",
)
WINDOW_FEATURES: tuple[str, ...] = ("log_words", "body_like", "function_share", "rule_removed")
# Whether the line is a comment section's heading, whether one stands above it, and the
# share of the page's body-like words before the last one above it (``_comment_columns``).
COMMENT_FEATURES: tuple[str, ...] = ("comments_heading", "below_comments", "comments_at")


_REPEATS = BASE_FEATURES.index("log_repeats")
_REASON_INDEX = {r: k for k, r in enumerate(RULE_REASONS)}


def feature_names() -> tuple[str, ...]:
    """The columns of ``line_features``, in order."""
    names = [*BASE_FEATURES, "rule_removed", *(f"rule:{r}" for r in RULE_REASONS)]
    names += ["rel_position", "body_words_before", "len_vs_longest", "log_lines", "in_region"]
    names += list(COMMENT_FEATURES)
    names += [f"{f}@{o:+d}" for o in NEIGHBOUR_OFFSETS for f in NEIGHBOUR_FEATURES]
    names += [f"{f}~{w}" for w in WINDOWS for f in WINDOW_FEATURES]
    return tuple(names)


_ASCII_LETTERS = string.ascii_letters.encode()
_ASCII_UPPER = string.ascii_uppercase.encode()
_ASCII_DIGITS = string.digits.encode()


def _character_classes(text: str) -> tuple[int, int, int]:
    """How many characters of ``text`` are letters, upper case and digits (as
    ``str.isalpha``, ``isupper`` and ``isdigit`` count them). ASCII lines, most of them,
    are counted with byte deletions in C rather than a Python call per character.

    >>> _character_classes("Ünïcode 2024 AB"), _character_classes("Plain 2024 AB")
    ((9, 3, 4), (7, 3, 4))
    """
    if text.isascii():
        data = text.encode("ascii")
        n = len(data)
        return (
            n - len(data.translate(None, _ASCII_LETTERS)),
            n - len(data.translate(None, _ASCII_UPPER)),
            n - len(data.translate(None, _ASCII_DIGITS)),
        )
    return (
        sum(map(str.isalpha, text)),
        sum(map(str.isupper, text)),
        sum(map(str.isdigit, text)),
    )


def _has_link(text: str) -> bool:
    """Whether a line holds a link, an address or a domain (``_LINK``), with the regex
    run only on lines that hold one of its literals (most lines hold none).

    >>> _has_link("Mail us: desk@example.org"), _has_link("Visit WWW.Example.COM"), _has_link("Hi.")
    (True, True, False)
    """
    if "@" not in text and not _LINK_LITERALS.search(text.lower()):
        return False
    return bool(_LINK.search(text))


def _line_shape(text: str) -> tuple[float, ...]:
    """The shape of one line (``BASE_FEATURES``, with ``log_repeats`` 0: it depends on the
    page), line by line: what ``_shapes`` counts for many lines at once, and the
    reference it is tested against."""
    fw = function_words()
    n_chars = len(text)
    toks = _WORD.findall(text)
    n_words = len(toks)
    letters, upper, digits = _character_classes(text)
    spaces = text.count(" ")
    punct = n_chars - letters - digits - spaces
    end = last_char(text)
    first = first_char(text)
    capitalised = sum(map(str.isupper, [w[0] for w in toks]))
    function = sum(map(fw.__contains__, map(str.lower, toks)))
    per_word = max(n_words, 1)
    return (
        math.log1p(n_chars),
        math.log1p(n_words),
        (letters + digits) / per_word,
        upper / max(letters, 1),
        digits / max(n_chars, 1),
        punct / max(n_chars, 1),
        float(ends_sentence(text)),
        float(end == ":"),
        float(text.endswith(("…", "..."))),
        float(end in ",-–—|"),
        float(first.isupper()),
        capitalised / per_word,
        float(is_bullet(text)),
        float(_has_link(text)),
        float(bool(_SEPARATOR.search(text))),
        math.log1p(len(_SENTENCE_END.findall(text))),
        text.count(",") / per_word,
        function / per_word,
        0.0,
        float(is_body_like(text)),
        float(is_headline_like(text)),
    )


# The code points ``_class_table`` covers (the planes of every living script and of the
# emoji); a line holding one above them is shaped by ``_line_shape``.
CLASS_TABLE_SIZE = 0x30000
# The bits of ``_class_table``: ``str.isalpha``, ``isupper``, ``isdigit``, a word
# character of ``\\w`` (``isalnum`` or "_"), what joins two runs of word characters into
# one of ``cleaners.page``'s words ("p.m", "O'Neil", "well-known"), white space of
# ``\\s`` (``isspace``), a sentence's end and a separator's mark.
_LETTER, _UPPER, _DIGIT, _WORD_CHAR, _JOINER, _SPACE, _ENDER, _MARK = (1 << k for k in range(8))
# The shapes of about this many lines are kept (``_shapes``): later passes of cleaning
# ask again for the lines still standing.
_SHAPES_KEPT = patterns.CACHE_SIZE
_shapes_kept: dict[str, np.ndarray] = {}
# Over lines joined by line breaks: the literals of a link, and the breaks that place them.
_LINK_LITERAL_OR_BREAK = re.compile(_LINK_LITERALS.pattern + r"|@|\n")


@cache
def _class_table() -> np.ndarray:
    """Per code point below ``CLASS_TABLE_SIZE``, as bits: whether it is a letter, upper
    case, a digit, a word character, a joiner of words, white space, a sentence's end,
    a separator's mark."""
    chars = "".join(map(chr, range(CLASS_TABLE_SIZE)))
    table = np.zeros(CLASS_TABLE_SIZE, dtype=np.uint8)
    for bit, test in (
        (_LETTER, str.isalpha),
        (_UPPER, str.isupper),
        (_DIGIT, str.isdigit),
        (_WORD_CHAR, lambda c: c.isalnum() or c == "_"),
        (_JOINER, "'’.-".__contains__),
        (_SPACE, str.isspace),
        (_ENDER, SENTENCE_ENDS.__contains__),
        (_MARK, _SEPARATOR_MARKS.__contains__),
    ):
        table[np.fromiter(map(test, chars), dtype=bool, count=CLASS_TABLE_SIZE)] |= bit
    return table


def _matches_per_line(pattern: re.Pattern[str], text: str, lines: int) -> np.ndarray:
    """How many matches of ``pattern`` (which also matches a line break, and nothing
    across one) each of the lines joined by line breaks in ``text`` holds.

    >>> _matches_per_line(_LINK_LITERAL_OR_BREAK, "www.a.org\\nNo\\na@b", 3).tolist()
    [2, 0, 1]
    """
    found = pattern.findall(text)
    breaks = np.fromiter(map("\n".__eq__, found), dtype=bool, count=len(found))
    return np.bincount(np.cumsum(breaks)[~breaks], minlength=lines)


def _sum_per_line(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The sums of ``flags`` (a value, or a row, per character of lines each ended by a
    line break) over each line; ``starts`` holds each line's first character (a line runs
    to the next one's, its break included, so that none is empty).

    >>> _sum_per_line(np.array([1, 1, 0, 1, 0]), np.array([0, 3])).tolist()
    [2, 1]
    """
    return np.add.reduceat(flags, starts, axis=0, dtype=np.int64)


def _log1p(counts: np.ndarray) -> np.ndarray:
    """``math.log1p`` of each count (numpy's may differ in the last bit, and the trees
    were fitted on ``math``'s)."""
    return np.fromiter(map(math.log1p, counts.tolist()), dtype=np.float64, count=len(counts))


def _shapes(lines: Sequence[str]) -> np.ndarray:
    """``_line_shape`` of every line, one row each, counted over all the lines at once
    (``_count_shapes``). A line whose shape was asked for lately is not counted again.

    >>> lines = ["Home", "The council approved the budget on Monday.", "„Nein“, sagt sie."]
    >>> bool((_shapes(lines) == np.array([_line_shape(t) for t in lines])).all())
    True
    """
    rows = np.empty((len(lines), len(BASE_FEATURES)))
    new: list[int] = []
    for k, t in enumerate(lines):
        kept = _shapes_kept.get(t)
        if kept is None:
            new.append(k)
        else:
            rows[k] = kept
    if new:
        texts = [lines[k] for k in new]
        counted = _count_shapes(texts)
        rows[new] = counted
        if len(_shapes_kept) + len(texts) > _SHAPES_KEPT:
            _shapes_kept.clear()
        _shapes_kept.update(zip(texts, counted, strict=True))
    return rows


def _shaped_apart(lines: list[str], alone: np.ndarray) -> np.ndarray:
    """``_count_shapes`` of ``lines``, those ``alone`` marks shaped by ``_line_shape``."""
    out = np.empty((len(lines), len(BASE_FEATURES)))
    out[alone] = [_line_shape(lines[k]) for k in np.flatnonzero(alone)]
    out[~alone] = _count_shapes([t for t, a in zip(lines, alone.tolist(), strict=True) if not a])
    return out


def _count_shapes(lines: list[str]) -> np.ndarray:
    """``_line_shape`` of each line, counted over all of them joined by line breaks: the
    characters' classes looked up in a table (``_class_table``) and summed per line, one
    scan of each pattern, rather than a few Python calls per line. A line that holds a
    line break (never one of a segmented page) or a code point past the table is shaped
    alone."""
    broken = np.fromiter(("\n" in t for t in lines), dtype=bool, count=len(lines))
    if broken.any():  # never a line of a segmented page
        return _shaped_apart(lines, broken)
    m = len(lines)
    out = np.zeros((m, len(BASE_FEATURES)))
    if not m:
        return out
    text = "\n".join(lines) + "\n"
    n_chars = np.fromiter(map(len, lines), dtype=np.int64, count=m)
    starts = np.concatenate([[0], np.cumsum(n_chars[:-1] + 1)])
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if points.max(initial=0) >= CLASS_TABLE_SIZE:
        return _shaped_apart(lines, _sum_per_line(points >= CLASS_TABLE_SIZE, starts) > 0)
    classes = _class_table()[points]
    word = classes & _WORD_CHAR > 0
    # A word (a run of word characters) starts where one follows none.
    word_start = word.copy()
    word_start[1:] &= ~word[:-1]
    # ``cleaners.page``'s words: runs joined by an apostrophe, a full stop or a hyphen.
    joins = np.zeros(len(points), dtype=bool)
    joins[1:-1] = (classes[1:-1] & _JOINER > 0) & word[:-2] & word[2:]
    upper_char = classes & _UPPER > 0
    # ``_SENTENCE_END``: an end before white space (a line's end is a break); and
    # ``_SEPARATOR``: a mark between white space within the line.
    space = classes & _SPACE > 0
    sentence_end = np.zeros(len(points), dtype=bool)
    sentence_end[:-1] = (classes[:-1] & _ENDER > 0) & space[1:]
    inner_space = space & (points != ord("\n"))
    separator = np.zeros(len(points), dtype=bool)
    separator[1:-1] = (classes[1:-1] & _MARK > 0) & inner_space[:-2] & inner_space[2:]
    columns = np.stack(
        [
            classes & _LETTER > 0,
            upper_char,
            classes & _DIGIT > 0,
            word_start,
            word_start & upper_char,
            joins,
            points == ord(" "),
            points == ord(","),
            sentence_end,
            separator,
        ],
        axis=1,
    )
    counts = _sum_per_line(columns, starts)
    letters, upper, digits, n_words, capitalised, joined, spaces, commas = counts.T[:8]
    sentences, separators = counts.T[8:]
    page_words = n_words - joined
    # The function words, by the line each word starts on.
    fw = function_words()
    ascii_text = text.isascii()
    tokens = _WORD.findall(text.lower() if ascii_text else text)
    lowered = tokens if ascii_text else map(str.lower, tokens)
    is_function = np.fromiter(map(fw.__contains__, lowered), dtype=bool, count=len(tokens))
    line_of_word = np.searchsorted(starts, np.flatnonzero(word_start), side="right") - 1
    function = np.bincount(line_of_word[is_function], minlength=m)
    may_link = _matches_per_line(_LINK_LITERAL_OR_BREAK, text.lower(), m).tolist()

    # How each line ends and starts, quotes and brackets aside ("" for a line of them
    # alone, as ``last_char`` and ``first_char`` give, and tested as they test it).
    ends = list(map(last_char, lines))
    firsts = list(map(first_char, lines))

    def where(test: Callable[[str], bool], values: list[str]) -> np.ndarray:
        return np.fromiter(map(test, values), dtype=bool, count=m)

    sentence = where(SENTENCE_ENDS.__contains__, ends)
    ellipsis = where(lambda t: t.endswith(("…", "...")), lines)
    starts_upper = where(str.isupper, firsts)
    bullet = where(is_bullet, lines)
    # ``is_body_like`` and ``is_headline_like``, from the words ``word_count`` counts.
    teaser = ellipsis & (page_words < BODY_LONG_WORDS * 2)
    long_enough = (page_words >= BODY_LONG_WORDS) | ((page_words >= BODY_MIN_WORDS) & sentence)
    heading_words = (page_words >= HEADLINE_MIN_WORDS) & (page_words <= HEADLINE_MAX_WORDS)
    capital_or_digit = starts_upper | where(str.isdigit, firsts)
    headline_end = where(lambda e: e not in HEADLINE_NOT_ENDS, ends)
    per_word = np.maximum(n_words, 1)
    shape = {
        "log_chars": _log1p(n_chars),
        "log_words": _log1p(n_words),
        "mean_word_len": (letters + digits) / per_word,
        "upper_share": upper / np.maximum(letters, 1),
        "digit_share": digits / np.maximum(n_chars, 1),
        "punct_share": (n_chars - letters - digits - spaces) / np.maximum(n_chars, 1),
        "ends_sentence": sentence,
        "ends_colon": where(":".__eq__, ends),
        "ends_ellipsis": ellipsis,
        "ends_comma_or_dash": where(",-–—|".__contains__, ends),
        "starts_upper": starts_upper,
        "capitalised_share": capitalised / per_word,
        "is_bullet": bullet,
        "has_link": [n > 0 and _has_link(t) for n, t in zip(may_link, lines, strict=True)],
        "has_separator": separators > 0,
        "log_sentences": _log1p(sentences),
        "commas_per_word": commas / per_word,
        "function_share": function / per_word,
        "body_like": ~teaser & long_enough,
        "headline_like": heading_words & ~bullet & capital_or_digit & headline_end,
    }
    for k, name in enumerate(BASE_FEATURES):
        if name != "log_repeats":  # it depends on the page: 0 here
            out[:, k] = shape[name]
    return out


def _shift_into(out: np.ndarray, columns: np.ndarray, offset: int) -> None:
    """Write ``columns`` moved so that row i holds row i+offset's values into ``out``
    (rows past the ends keep what ``out`` holds).

    >>> out = np.full((3, 1), -1.0)
    >>> _shift_into(out, np.array([[1.0], [2.0], [3.0]]), 1)
    >>> out.ravel().tolist()
    [2.0, 3.0, -1.0]
    """
    if offset > 0:
        out[:-offset] = columns[offset:]
    elif offset < 0:
        out[-offset:] = columns[:offset]
    else:
        out[:] = columns


def _window_means(columns: np.ndarray, half: int) -> np.ndarray:
    """The mean of each column over rows i-half..i+half (clipped at the ends).

    >>> _window_means(np.array([[1.0], [2.0], [6.0]]), 1).ravel().tolist()
    [1.5, 3.0, 4.0]
    """
    n = len(columns)
    padded = np.zeros((n + 1, columns.shape[1]))
    np.cumsum(columns, axis=0, out=padded[1:])
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    return (padded[hi] - padded[lo]) / (hi - lo)[:, None]


@cache
def _comments_heading() -> re.Pattern[str]:
    """A comment section's heading alone on its line (``data/comments_heading.txt``),
    matched over a page's lines joined by line breaks."""
    body = "|".join(f"(?:{p})" for p in patterns.lines("comments_heading"))
    return re.compile(rf"^[^\w\n]*(?:{body})[^\w\n]*$", re.IGNORECASE | re.MULTILINE)


def comment_headings(lines: Sequence[str]) -> np.ndarray:
    """Which lines are a comment section's heading ("Comments", "12 Kommentare", "Leave
    a Reply"): one scan of the page.

    >>> comment_headings(["The vote passed.", "3 Comments", "Great piece!"]).tolist()
    [False, True, False]
    """
    heads = np.zeros(len(lines), dtype=bool)
    if not lines:
        return heads
    starts = np.cumsum([0] + [len(t) + 1 for t in lines[:-1]])
    text = "\n".join(t.replace("\n", " ") for t in lines)  # a line per line, whatever it holds
    found = [m.start() for m in _comments_heading().finditer(text)]
    heads[np.searchsorted(starts, found, side="right") - 1] = True
    return heads


def _comment_columns(lines: Sequence[str], body_before: np.ndarray, out: np.ndarray) -> None:
    """The "comments" columns: whether the line is a comment section's heading, whether
    one stands above it, and how much of the page's body-like words lie before the last
    such heading above it (-1 when none does). A heading is not a rule's removal: on the
    articles of wcxb-dev one stands above as many body words as junk ones (a "Comments"
    link under the headline, a "Discussion" subheading); where it stands in the body's
    words tells the two apart."""
    heads = comment_headings(lines)
    out[:, 0] = heads
    last = np.maximum.accumulate(np.where(heads, np.arange(len(lines)), -1))
    above = np.concatenate([[-1], last[:-1]])
    out[:, 1] = above >= 0
    out[:, 2] = np.where(above >= 0, body_before[np.maximum(above, 0)], -1.0)


def _column_slices() -> dict[str, slice]:
    """Where each group of ``feature_names()`` sits in a row."""
    sizes = {
        "base": len(BASE_FEATURES),
        "rule_removed": 1,
        "rules": len(RULE_REASONS),
        "position": 5,
        "comments": len(COMMENT_FEATURES),
        "neighbours": len(NEIGHBOUR_OFFSETS) * len(NEIGHBOUR_FEATURES),
        "windows": len(WINDOWS) * len(WINDOW_FEATURES),
    }
    out, start = {}, 0
    for name, size in sizes.items():
        out[name] = slice(start, start + size)
        start += size
    assert start == len(feature_names())
    return out


_COLUMNS = _column_slices()
# ``line_features`` appends the rule column after the base ones it takes for both groups.
assert NEIGHBOUR_FEATURES[-1] == WINDOW_FEATURES[-1] == "rule_removed"
_NEIGHBOUR_BASE = [BASE_FEATURES.index(f) for f in NEIGHBOUR_FEATURES if f != "rule_removed"]
_WINDOW_BASE = [BASE_FEATURES.index(f) for f in WINDOW_FEATURES if f != "rule_removed"]


def line_features(
    paragraphs: Sequence[str],
    rule_reasons: Sequence[str | None],
    in_region: Sequence[bool],
) -> np.ndarray:
    """One row per line (columns: ``feature_names()``).

    ``rule_reasons`` holds the reason code a rule gave each line (None when no rule
    claimed it); ``in_region`` whether the line lies in the rules' body region
    (``Page.body_region``).

    >>> x = line_features(["Home", "The council approved the budget on Monday."],
    ...                   [None, None], [False, True])
    >>> x.shape == (2, len(feature_names()))
    True
    """
    n = len(paragraphs)
    x = np.zeros((n, len(feature_names())))
    base = x[:, _COLUMNS["base"]]
    base[:] = _shapes(paragraphs)
    counts = Counter(paragraphs)
    base[:, _REPEATS] = np.log([counts[p] for p in paragraphs])
    col = {name: base[:, k] for k, name in enumerate(BASE_FEATURES)}
    rules = x[:, _COLUMNS["rules"]]
    hits = [(i, _REASON_INDEX[r]) for i, r in enumerate(rule_reasons) if r in _REASON_INDEX]
    if hits:
        rows, columns = zip(*hits, strict=True)
        rules[list(rows), list(columns)] = 1.0
    removed = x[:, _COLUMNS["rule_removed"]]
    removed[:, 0] = rules.max(axis=1) if n else 0.0

    body_words = col["body_like"] * np.expm1(col["log_words"])
    total_body = body_words.sum()
    before = np.cumsum(body_words) - body_words
    chars = np.expm1(col["log_chars"])
    position = x[:, _COLUMNS["position"]]
    position[:, 0] = np.arange(n) / max(n - 1, 1)
    position[:, 1] = before / total_body if total_body else 0.0
    position[:, 2] = chars / max(chars.max(initial=0.0), 1.0)
    position[:, 3] = math.log1p(n)
    position[:, 4] = np.asarray(in_region, dtype=np.float64)
    _comment_columns(paragraphs, position[:, 1], x[:, _COLUMNS["comments"]])

    # The neighbour and window columns are the base columns they name, with
    # ``rule_removed`` last in both lists.
    near = np.concatenate([base[:, _NEIGHBOUR_BASE], removed], axis=1)
    neighbours = x[:, _COLUMNS["neighbours"]]
    neighbours[:] = -1.0  # past the page's ends
    width = near.shape[1]
    for k, offset in enumerate(NEIGHBOUR_OFFSETS):
        _shift_into(neighbours[:, k * width : (k + 1) * width], near, offset)
    around = np.concatenate([base[:, _WINDOW_BASE], removed], axis=1)
    windows = x[:, _COLUMNS["windows"]]
    width = around.shape[1]
    for k, half in enumerate(WINDOWS):
        windows[:, k * width : (k + 1) * width] = _window_means(around, half) if n else 0.0
    return x


def mean_of(
    models: Sequence[TreeEnsemble], switch_cost: float, threshold_logit: float
) -> TreeEnsemble:
    """One ensemble whose log-odds are the mean of ``models``' (fitted on the same
    columns with the same learning rate): their trees side by side, padded to the widest,
    leaf and node values divided by their number.

    >>> m = shipped_model()
    >>> x = line_features(["Home", "The council approved the budget on Monday."],
    ...                   [None, None], [False, True])
    >>> bool(np.allclose(mean_of([m, m], 0.5, 0.0).logits(x), m.logits(x)))
    True
    """
    width = max(m.feature.shape[1] for m in models)

    def stacked(name: str, fill: float) -> np.ndarray:
        arrays = [getattr(m, name) for m in models]
        return np.concatenate(
            [np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=fill) for a in arrays]
        )

    first = models[0]
    return TreeEnsemble(
        feature=stacked("feature", 0),
        threshold=stacked("threshold", 0.0),
        left=stacked("left", 0),
        right=stacked("right", 0),
        value=stacked("value", 0.0) / len(models),
        is_leaf=stacked("is_leaf", True),
        baseline=float(np.mean([m.baseline for m in models])),
        depth=max(m.depth for m in models),
        names=first.names,
        switch_cost=switch_cost,
        threshold_logit=threshold_logit,
        learning_rate=first.learning_rate,
    )


def best_of(logits: np.ndarray) -> tuple[int, float]:
    """The index of the highest log-odds and its probability (at least one value).

    >>> best_of(np.array([-1.0, 0.0, -3.0]))
    (1, 0.5)
    """
    best = int(np.argmax(logits))
    return best, 1.0 / (1.0 + math.exp(-float(logits[best])))


@dataclass(frozen=True)
class TreeEnsemble:
    """Gradient-boosted trees as padded arrays, one row per tree: a node's feature,
    threshold (go left when the value is <= it), children and leaf value. Evaluated level
    by level for every line and tree at once."""

    feature: np.ndarray  # (trees, nodes) int
    threshold: np.ndarray  # (trees, nodes) float
    left: np.ndarray  # (trees, nodes) int
    right: np.ndarray  # (trees, nodes) int
    value: np.ndarray  # (trees, nodes) float
    is_leaf: np.ndarray  # (trees, nodes) bool
    baseline: float
    depth: int  # levels of nodes, the root's included
    names: tuple[str, ...]
    switch_cost: float  # log-odds paid for each switch between body and not-body
    threshold_logit: float  # log-odds above which a line is body
    # The boosting's shrinkage. scikit-learn stores a split node's value unshrunk (the
    # leaves are shrunk), so the node's own prediction is learning_rate * value; NaN in a
    # file written before it was saved (``contributions`` then cannot say why).
    learning_rate: float = math.nan

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Why each row of ``x`` gets its log-odds: per feature, the sum over the trees of
        how much each split on that feature moved the row's prediction (the value of the
        child it went to less the split node's own; a root's is 0, as scikit-learn stores
        it, the gradients' mean). The contributions add up to ``logits(x) - baseline``.

        >>> m = shipped_model()
        >>> x = line_features(["Home", "The council approved the budget on Monday."],
        ...                   [None, None], [False, True])
        >>> bool(np.allclose(m.contributions(x).sum(axis=1), m.logits(x) - m.baseline))
        True
        """
        if math.isnan(self.learning_rate):
            raise ValueError("the model file holds no learning rate: retrain it")
        own = np.where(self.is_leaf, self.value, self.value * self.learning_rate)
        n, trees = x.shape[0], self.feature.shape[0]
        out = np.zeros((n, x.shape[1]))
        rows = np.repeat(np.arange(n), trees)
        tree = np.tile(np.arange(trees), n)
        node = np.zeros(n * trees, dtype=np.intp)
        for _ in range(self.depth - 1):
            split = ~self.is_leaf[tree, node]
            feature = self.feature[tree, node]
            went_right = x[rows, feature] > self.threshold[tree, node]
            child = np.where(went_right, self.right[tree, node], self.left[tree, node])
            moved = np.where(split, own[tree, child] - own[tree, node], 0.0)
            np.add.at(out, (rows, feature), moved)
            node = np.where(split, child, node)
        return out

    def best_row(self, x: np.ndarray) -> tuple[int, float]:
        """The row of ``x`` with the highest log-odds and its probability (a picker's
        choice among candidates; ``x`` has at least one row)."""
        return best_of(self.logits(x))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The log-odds that each row of ``x`` is body (``kernels.tree_sum``)."""
        if x.shape[0] == 0:
            return np.zeros(0)
        # Imported on first use: numba costs a process about 170 MB, which a process that
        # only orchestrates, reads or writes (the flow's own) need not pay.
        from cleaners.kernels import tree_sum

        left, feature, threshold, value, roots = self._flat
        rows = np.ascontiguousarray(x, dtype=np.float64)
        steps = self.depth - 1  # the splits on the longest path
        return self.baseline + tree_sum(left, feature, threshold, value, roots, rows, steps)

    @cached_property
    def _flat(self) -> tuple[np.ndarray, ...]:
        """The trees renumbered breadth first into flat arrays, tree after tree, so that
        each split's right child directly follows its left one: (left child, feature,
        threshold, leaf value, roots). A leaf is its own left child with a NaN threshold
        (never passed), so a walk needs no leaf test. Values and thresholds are float64,
        as scikit-learn compares them, so the trees give what they gave in training."""
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        value: list[float] = []
        roots: list[int] = []
        for t in range(self.feature.shape[0]):
            base = len(feature)
            roots.append(base)
            order, k = [0], 0
            while k < len(order):  # breadth first: children are appended in pairs
                node = order[k]
                k += 1
                if not self.is_leaf[t, node]:
                    order += [int(self.left[t, node]), int(self.right[t, node])]
            place = {node: base + j for j, node in enumerate(order)}
            for node in order:
                leaf = bool(self.is_leaf[t, node])
                feature.append(0 if leaf else int(self.feature[t, node]))
                threshold.append(math.nan if leaf else float(self.threshold[t, node]))
                left.append(place[node] if leaf else place[int(self.left[t, node])])
                value.append(float(self.value[t, node]))
        return (
            np.array(left, dtype=np.int64),
            np.array(feature, dtype=np.int64),
            np.array(threshold, dtype=np.float64),
            np.array(value, dtype=np.float64),
            np.array(roots, dtype=np.int64),
        )


def save_model(path: Path, model: TreeEnsemble) -> None:
    """Write a model as one ``.npz`` (arrays only, no pickle), byte for byte the same for
    the same model: entries in a fixed order with a fixed timestamp."""
    arrays = {
        "feature": model.feature.astype(np.int16),
        "threshold": model.threshold.astype(np.float64),
        "left": model.left.astype(np.int16),
        "right": model.right.astype(np.int16),
        "value": model.value.astype(np.float32),
        "is_leaf": model.is_leaf,
        "baseline": np.float64(model.baseline),
        "depth": np.int64(model.depth),
        "names": np.array(model.names),
        "switch_cost": np.float64(model.switch_cost),
        "threshold_logit": np.float64(model.threshold_logit),
        "learning_rate": np.float64(model.learning_rate),
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(entry, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)


def read_model(path: Path, expected: Sequence[str] | None = None) -> TreeEnsemble:
    """A model written by ``save_model``, checked against the feature names the code
    computes (``expected``; the line scorer's by default)."""
    with np.load(path, allow_pickle=False) as z:
        names = tuple(str(s) for s in z["names"])
        if names != tuple(feature_names() if expected is None else expected):
            raise ValueError(
                f"{path} was trained on other features than this code computes; "
                "retrain it with python -m cleaners.train_scorer"
            )
        return TreeEnsemble(
            feature=z["feature"].astype(np.intp),
            threshold=z["threshold"].astype(np.float64),
            left=z["left"].astype(np.intp),
            right=z["right"].astype(np.intp),
            value=z["value"].astype(np.float64),
            is_leaf=z["is_leaf"].astype(bool),
            baseline=float(z["baseline"]),
            depth=int(z["depth"]),
            names=names,
            switch_cost=float(z["switch_cost"]),
            threshold_logit=float(z["threshold_logit"]),
            learning_rate=float(z["learning_rate"]) if "learning_rate" in z else math.nan,
        )


@cache
def shipped_model() -> TreeEnsemble:
    """The model shipped in ``data/line_model.npz`` (read once per process)."""
    return read_model(MODEL_PATH)


def decide(
    model: TreeEnsemble,
    paragraphs: Sequence[str],
    reasons: Sequence[str | None],
    in_region: Sequence[bool],
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """The lines the scorer decides on (those no rule removed), whether each is body,
    their log-odds of being body and their feature rows. Every line is described (the
    lines rules removed are context), only the open ones are scored."""
    open_lines = [i for i, r in enumerate(reasons) if r is None]
    x = line_features(paragraphs, reasons, in_region)[open_lines]
    logits = model.logits(x)
    body = body_lines(logits, x, model.switch_cost, model.threshold_logit)
    return open_lines, body, logits, x


# How many features ``why`` names: the ones that moved the log-odds most.
WHY_FEATURES = 3


def why(model: TreeEnsemble, x: np.ndarray) -> list[str]:
    """Per row of ``x``, the features that moved its log-odds most, with how far
    (``contributions``): "rel_position -2.1, ends_sentence@+1 -0.8, log_words +0.6".
    ``@-1``/``@+1``: the line before/after; ``~5``: the mean over 5 lines each side.

    >>> m = shipped_model()
    >>> x = line_features(["Home", "News", "The council approved the budget on Monday.",
    ...                    "Contact"], [None] * 4, [False, False, True, False])
    >>> [len(reason.split(", ")) for reason in why(m, x)]
    [3, 3, 3, 3]
    """
    out = []
    for row in model.contributions(x):
        top = np.argsort(-np.abs(row), kind="stable")[:WHY_FEATURES]
        out.append(", ".join(f"{model.names[k]} {row[k]:+.1f}" for k in top))
    return out


# A prose paragraph right after the body, with only lines the rules removed between them,
# continues the body unless the scorer is fairly sure it does not: log-odds above this
# (probability 0.3) are enough there. The last paragraph of an article under a related-links
# block or a paywall box sat just under the threshold on pages written for the tests
# (probability 0.43-0.48); out of fold on wcxb-dev (the lines' log-odds from models that
# never saw their site) every page type's F1 stays or gains up to 0.002 but products'
# (-0.001): articles 0.9103 -> 0.9105 at -0.6 to -1.2 (unchanged at -0.4).
PROSE_EDGE_LOGIT = -0.85
_BODY_LIKE = BASE_FEATURES.index("body_like")


def body_lines(
    logits: np.ndarray, rows: np.ndarray, switch_cost: float, threshold: float
) -> np.ndarray:
    """Which lines are body, given their log-odds and their ``line_features`` rows:
    ``body_path``, then each body run extended over the prose lines (``body_like``) that
    follow it at log-odds of at least ``PROSE_EDGE_LOGIT``. Ingest, training and the
    title picker's first-pass view all decode with it.

    >>> rows = np.zeros((6, len(feature_names())))
    >>> rows[[1, 2, 3, 5], _BODY_LIKE] = 1.0
    >>> body_lines(np.array([-3.0, 2.0, 2.0, -0.3, -0.3, -3.0]), rows, 0.5, 0.0).tolist()
    [False, True, True, True, False, False]
    """
    body = body_path(logits, switch_cost, threshold)
    prose = rows[:, _BODY_LIKE] > 0.5
    for k in range(1, len(body)):
        if body[k - 1] and not body[k] and prose[k] and logits[k] >= PROSE_EDGE_LOGIT:
            body[k] = True
    return body


def body_path(logits: np.ndarray, switch_cost: float, threshold: float = 0.0) -> np.ndarray:
    """The body/not-body labelling of a sequence of lines that maximises the sum of the
    log-odds (less ``threshold``) of the lines called body, less ``switch_cost`` for each
    change between the two: a two-state Viterbi pass. The page starts and ends outside the
    body, so a body run pays for its entry and exit too.

    >>> body_path(np.array([-3.0, 2.0, -0.5, 2.0, -3.0]), switch_cost=1.0).tolist()
    [False, True, True, True, False]
    >>> body_path(np.array([-3.0, 3.0, -4.0, 3.0, -3.0]), switch_cost=1.0).tolist()
    [False, True, False, True, False]

    When no labelling with a body beats the empty one but some line gains, the best
    single run is the body (``_best_run``):

    >>> body_path(np.array([-3.0, 0.3, 0.2]), switch_cost=0.5).tolist()
    [False, True, True]
    """
    n = len(logits)
    if n == 0:
        return np.zeros(0, dtype=bool)
    gain = (logits - threshold).tolist()
    # best score so far ending outside / inside the body, and where each came from
    out_score, in_score = 0.0, -switch_cost
    from_in_to_out = [False] * n  # best "outside at i" came from "inside at i-1"
    from_out_to_in = [False] * n  # best "inside at i" came from "outside at i-1"
    for i in range(n):
        stay_out, enter = out_score, out_score - switch_cost
        stay_in, leave = in_score, in_score - switch_cost
        if i == 0:
            enter, stay_in = -switch_cost, -math.inf
        from_in_to_out[i] = leave > stay_out
        from_out_to_in[i] = enter > stay_in
        out_score = max(stay_out, leave)
        in_score = max(stay_in, enter) + gain[i]
    inside = in_score - switch_cost > out_score
    path = [False] * n
    for i in range(n - 1, -1, -1):
        path[i] = inside
        inside = not from_out_to_in[i] if inside else from_in_to_out[i]
    if not any(path):
        run = _best_run(gain)
        if run is not None:
            path[run[0] : run[1] + 1] = [True] * (run[1] + 1 - run[0])
    return np.array(path, dtype=bool)


def _best_run(gain: list[float]) -> tuple[int, int] | None:
    """The first and last index of the run of lines with the largest positive sum of
    gains, or None when no line gains (Kadane's scan).

    A short page's body may not pay for its entry and exit: two paragraphs at log-odds
    0.3 each lose to 2 x the switch cost, and the page would keep nothing. A page whose
    lines the scorer leans towards calling body has a body, so when the best labelling
    is empty the best single run is kept: the best labelling with any body at all (with
    the empty one optimal, a second run never pays).

    >>> _best_run([-1.0, 0.3, 0.2, -0.1, 0.4, -2.0]), _best_run([-1.0, -0.5])
    ((1, 4), None)
    """
    best, span = 0.0, None
    total, first = 0.0, 0
    for i, g in enumerate(gain):
        if total <= 0.0:
            total, first = g, i
        else:
            total += g
        if total > best:
            best, span = total, (first, i)
    return span
