"""Scheduled posts: a post dated in the future waits until its date passes.

Pelican's own WITH_FUTURE_DATES reads the wall clock inside Article.__init__;
we do it here instead so the clock is injectable (``publish build --as-of``,
tests) and every decision in one build uses the same instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


def parse_instant(text: str, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """Parse ``2027-01-01`` or ``2027-01-01T09:00[+01:00]``; naive means ``tz``.

    Raises ValueError with a message that shows the accepted forms.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def is_due(date: dt.datetime, now: dt.datetime) -> bool:
    """True when a post dated ``date`` may be published at ``now``.

    A naive post date is read in ``now``'s timezone (Pelican gives naive dates
    the site TIMEZONE, so in practice both are aware).
    """
    if date.tzinfo is None:
        date = date.replace(tzinfo=now.tzinfo)
    return date <= now
