"""Rankings (pure): the most discussed and the best rated posts, per language.

- **Most discussed**: approved replies, mentions, RSVPs and reviews (one per
  reader), over the last ``window`` days before the build's "now", and of
  all time. Likes, reposts and bookmarks are reactions, not discussion.
- **Best rated**: the Bayesian average of :mod:`.aggregate` — the site's
  mean rating in that language weighed as ``min_count`` reviews — among the
  posts with at least ``min_count`` rated reviews.

Ties are broken by the post's date (newer first), then its URL, so that two
builds of the same data write the same pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from causerie.webmentions.reviews.aggregate import Aggregate, bayesian
from causerie.webmentions.reviews.numbers import decimal
from causerie.webmentions.site.comments import Comment

DISCUSSION = frozenset({"reply", "mention", "rsvp", "review"})
WINDOW_DAYS = 30
LIMIT = 10


@dataclass(frozen=True)
class Candidate:
    """A post as the rankings see it."""

    url: str
    title: str
    lang: str
    published: dt.datetime
    comments: Sequence[Comment]
    totals: Aggregate | None


@dataclass(frozen=True)
class Ranked:
    url: str
    title: str
    published: dt.datetime
    count: int  # what was said (most discussed) or rated reviews (best rated)
    score: float | None = None  # the Bayesian average (best rated)
    average: float | None = None  # the plain average (best rated)
    shown: str | None = None  # the average as the language writes it: "4,3"


@dataclass(frozen=True)
class Rankings:
    lang: str
    recent: tuple[Ranked, ...]
    all_time: tuple[Ranked, ...]
    best: tuple[Ranked, ...]
    min_count: int
    window_days: int
    prior: float | None  # the language's mean rating


def _order(item: Ranked) -> tuple[float, float, float, str]:
    primary = item.score if item.score is not None else float(item.count)
    return (-primary, -item.count, -item.published.timestamp(), item.url)


def rank(
    posts: Iterable[Candidate],
    now: dt.datetime,
    min_count: int,
    window_days: int = WINDOW_DAYS,
    limit: int = LIMIT,
) -> dict[str, Rankings]:
    """The rankings of ``posts``, by language."""
    since = now - dt.timedelta(days=window_days)
    by_lang: dict[str, list[Candidate]] = {}
    for post in posts:
        by_lang.setdefault(post.lang, []).append(post)
    result = {}
    for lang, group in sorted(by_lang.items()):
        recent, all_time, rated = [], [], []
        for post in group:
            said = [c for c in post.comments if c.kind in DISCUSSION]
            late = [c for c in said if since <= c.published <= now]
            if said:
                all_time.append(Ranked(post.url, post.title, post.published, len(said)))
            if late:
                recent.append(Ranked(post.url, post.title, post.published, len(late)))
            if post.totals is not None:
                rated.append(post)
        ratings = sum(p.totals.count for p in rated if p.totals)
        prior = (
            sum(p.totals.total for p in rated if p.totals) / ratings
            if ratings
            else None
        )
        best = [
            Ranked(
                p.url,
                p.title,
                p.published,
                p.totals.count,
                score=round(bayesian(p.totals, prior, min_count), 3),
                average=p.totals.rounded,
                shown=decimal(p.totals.average, lang),
            )
            for p in rated
            if p.totals and prior is not None and p.totals.count >= min_count
        ]
        result[lang] = Rankings(
            lang=lang,
            recent=tuple(sorted(recent, key=_order)[:limit]),
            all_time=tuple(sorted(all_time, key=_order)[:limit]),
            best=tuple(sorted(best, key=_order)[:limit]),
            min_count=min_count,
            window_days=window_days,
            prior=prior,
        )
    return result
