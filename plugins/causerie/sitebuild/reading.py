"""Reading time of a post's HTML (pure)."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


WORD = re.compile(r"\w+(?:[’'-]\w+)*")


def word_count(html: str) -> int:
    """Words in the text of ``html`` (markup, entities and attributes ignored)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return len(WORD.findall(" ".join(parser.parts)))


def reading_minutes(html: str, words_per_minute: int = 230) -> int:
    """Whole minutes to read ``html``, at least 1."""
    return minutes_for(word_count(html), words_per_minute)


def minutes_for(words: int, words_per_minute: int = 230) -> int:
    """Whole minutes to read ``words`` words, at least 1."""
    return max(1, math.ceil(words / words_per_minute))
