"""Dates in the reader's language, by Babel's CLDR data (pure).

``format_date(d, "fr")`` gives "jeudi 2 octobre 2008" whatever locales the
machine has installed: Babel ships its own data, unlike ``strftime``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel.dates import format_date as _babel_format_date


def format_date(value: dt.date | dt.datetime, lang: str, fmt: str = "full") -> str:
    """``value`` as text in ``lang``: fmt is full, long, medium, short or a pattern."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return _format_day(day, lang, fmt)


# A post's date is shown on its page, its neighbours', related posts and every
# list it is on: Babel parsed the pattern and looked up the locale each time
# (about 50 µs; a fifth of a post page's rendering).
@lru_cache(maxsize=1 << 16)
def _format_day(day: dt.date, lang: str, fmt: str) -> str:
    return _babel_format_date(day, format=fmt, locale=lang)


def iso_datetime(value: dt.date | dt.datetime) -> str:
    """ISO 8601 for ``<time datetime>`` and ``dt-published``."""
    return value.isoformat()
