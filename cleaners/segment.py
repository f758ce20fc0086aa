"""Split clean text into paragraphs, unwrapping hard-wrapped lines first.

Scrapers save one of two shapes: one paragraph per line (blank lines optional), or text
hard-wrapped at a fixed width with paragraphs between blank lines. A block (lines between
blank lines) is treated as hard-wrapped when its lines obey the greedy-wrap property: each
line broke because the next word would not have fitted in the block's width. Runs of
headlines, menus and one-sentence-per-line articles do not obey it, so their lines stay
separate paragraphs, which is what every rule downstream needs.
"""

from __future__ import annotations

import re

# Widths outside this range are not a fixed-width wrap (menus are narrower, paragraphs
# saved one per line are wider).
MIN_WRAP_WIDTH = 30
MAX_WRAP_WIDTH = 140
# Share of a block's non-final lines that must obey the greedy-wrap property.
MIN_WRAPPED_SHARE = 0.8
# Share of a document's lines that must fit the wrap width for it to be hard-wrapped at
# all (a few long URLs may stick out).
MIN_FITTING_SHARE = 0.9
# A wrapped line this much shorter than the width ends its paragraph when it also ends a
# sentence.
SHORT_LINE_SHARE = 0.75

_TERMINAL = re.compile(r"[.!?:;…。！？][\"'”’»)\]]*$")


def _first_word(line: str) -> str:
    return line.split(" ", 1)[0]


def _broke_for_width(line: str, next_line: str, width: int) -> bool:
    return len(line) + 1 + len(_first_word(next_line)) > width


def wrap_width(lines: list[str]) -> int | None:
    """The width a document was hard-wrapped at, or None when it was not wrapped.

    A wrapped file wraps every block at one width, so the width is a property of the
    whole document, not of a block (two long repeated captions are not a wrapped block).

    >>> wrap_width(["a" * 60, "b" * 72, "c" * 20])
    72
    >>> wrap_width(["a" * 300, "b" * 250]) is None
    True
    """
    if not lines:
        return None
    fitting = [len(line) for line in lines if len(line) <= MAX_WRAP_WIDTH]
    if len(fitting) < MIN_FITTING_SHARE * len(lines):
        return None
    width = max(fitting)
    return width if width >= MIN_WRAP_WIDTH else None


def is_hard_wrapped(lines: list[str], width: int) -> bool:
    """Whether a block's lines are one or more paragraphs wrapped at ``width``.

    >>> is_hard_wrapped(["The quick brown fox jumps over the lazy", "dog and runs far away."], 40)
    True
    >>> is_hard_wrapped(["Ukraine: one killed after strike on Kyiv", "Putin claims war"], 60)
    False
    """
    if len(lines) < 2:
        return False
    pairs = list(zip(lines, lines[1:], strict=False))
    broke = sum(1 for a, b in pairs if _broke_for_width(a, b, width))
    return broke >= MIN_WRAPPED_SHARE * len(pairs)


def unwrap_block(lines: list[str], width: int) -> list[str]:
    """Join a hard-wrapped block's lines into paragraphs.

    A line ends a paragraph where it did not break for width and ends a sentence.

    >>> unwrap_block(["One two three four five six", "seven eight.", "Nine ten eleven"], 27)
    ['One two three four five six seven eight.', 'Nine ten eleven']
    """
    paragraphs: list[str] = []
    current: list[str] = []
    for i, line in enumerate(lines):
        current.append(line)
        last = i == len(lines) - 1
        ends_paragraph = (
            not last
            and not _broke_for_width(line, lines[i + 1], width)
            and len(line) < SHORT_LINE_SHARE * width
            and bool(_TERMINAL.search(line))
        )
        if last or ends_paragraph:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def split_paragraphs(text: str) -> list[str]:
    """Split normalised text into paragraphs: blank lines separate blocks; within a block,
    hard-wrapped lines are joined and other lines stay paragraphs of their own.

    >>> split_paragraphs("Title\\n\\nBody line one.\\nBody line two.")
    ['Title', 'Body line one.', 'Body line two.']
    """
    blocks = [
        [line.strip() for line in block.split("\n") if line.strip()]
        for block in re.split(r"\n\s*\n", text)
    ]
    width = wrap_width([line for lines in blocks for line in lines])
    paragraphs: list[str] = []
    for lines in blocks:
        if width is not None and is_hard_wrapped(lines, width):
            paragraphs.extend(unwrap_block(lines, width))
        else:
            paragraphs.extend(lines)
    return paragraphs
