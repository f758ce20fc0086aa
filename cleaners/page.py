"""A document's paragraphs as the detectors see them, with the small text features
every rule shares (word counts, sentence ends, headline and body shapes)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cleaners.patterns import match_key

# A paragraph counts as article body when it has at least this many words and ends a
# sentence (or is very long); the header is what comes before the first such paragraph.
BODY_MIN_WORDS = 12
BODY_LONG_WORDS = 40
# Headline-shaped paragraphs: a few words, no sentence end.
HEADLINE_MIN_WORDS = 3
HEADLINE_MAX_WORDS = 25

_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
_CLOSERS = "\"')]}»”’›"
_BULLET = re.compile(r"^\s*([-*•·▪●◦–]|\d{1,2}[.)]|[a-z][.)])\s")


def words(key: str) -> list[str]:
    """The words of a paragraph.

    >>> words("It's 5 p.m. in New-York!")
    ["It's", '5', 'p.m', 'in', 'New-York']
    """
    return _WORD.findall(key)


def last_char(key: str) -> str:
    """The last character that is not a closing quote or bracket.

    >>> last_char('He said "yes."')
    '.'
    """
    stripped = key.rstrip().rstrip(_CLOSERS)
    return stripped[-1] if stripped else ""


def ends_sentence(key: str) -> bool:
    """Whether a paragraph ends like a sentence (., !, ?, …, or a closing quote after one).

    >>> ends_sentence("It was late.”"), ends_sentence("Putin claims war made Russia ‘stronger’")
    (True, False)
    """
    return last_char(key) in ".!?…。！？"


def is_bullet(key: str) -> bool:
    """Whether a paragraph is a list item (``- x``, ``• x``, ``1. x``).

    >>> is_bullet("- two eggs"), is_bullet("1) Preheat the oven"), is_bullet("Hello")
    (True, True, False)
    """
    return bool(_BULLET.match(key))


def is_headline_like(key: str) -> bool:
    """A heading-shaped paragraph: a few words, starting with a capital, digit or quote,
    not ending a sentence (``?`` and ``!`` count as headline ends) and not a list item.

    >>> is_headline_like("Putin claims war in Ukraine has made Russia 'much stronger'")
    True
    >>> is_headline_like("He left early."), is_headline_like("- Eggs and milk for the cake")
    (False, False)
    """
    n = len(words(key))
    if not HEADLINE_MIN_WORDS <= n <= HEADLINE_MAX_WORDS or is_bullet(key):
        return False
    first = key.lstrip("\"'‘“«(")[:1]
    if not (first.isupper() or first.isdigit()):
        return False
    return last_char(key) not in ".,;:…"


def is_body_like(key: str) -> bool:
    """A paragraph that reads as article prose.

    >>> is_body_like("The embassy said it would reopen on Thursday after a review of the threat.")
    True
    >>> is_body_like("Most popular")
    False
    """
    n = len(words(key))
    return n >= BODY_LONG_WORDS or (n >= BODY_MIN_WORDS and ends_sentence(key))


@dataclass
class Page:
    """One document's paragraphs and what the detectors have decided so far."""

    paragraphs: list[str]
    removed: dict[int, str] = field(default_factory=dict)
    # Metadata the source already states (sidecar, page metadata): detectors use it to
    # recognise a title or author line even where its shape would not give it away.
    known: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def keys(self) -> list[str]:
        return [match_key(p) for p in self.paragraphs]

    @cached_property
    def word_counts(self) -> list[int]:
        return [len(words(k)) for k in self.keys]

    @cached_property
    def body_like(self) -> list[bool]:
        return [is_body_like(k) for k in self.keys]

    def live(self) -> list[int]:
        """Indices not yet removed, in order."""
        return [i for i in range(len(self.paragraphs)) if i not in self.removed]

    def body_span(self) -> tuple[int, int] | None:
        """First and last live body-like paragraph, or None when there is no body."""
        body = [i for i in self.live() if self.body_like[i]]
        return (body[0], body[-1]) if body else None

    def header(self) -> list[int]:
        """Live paragraphs before the first body-like one."""
        span = self.body_span()
        end = span[0] if span else len(self.paragraphs)
        return [i for i in self.live() if i < end]

    def footer(self) -> list[int]:
        """Live paragraphs after the last body-like one."""
        span = self.body_span()
        start = span[1] if span else -1
        return [i for i in self.live() if i > start]
