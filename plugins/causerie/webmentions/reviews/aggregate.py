"""What the approved reviews of a post add up to (pure).

- **One voice per reader and post**: of a reader's reviews of one post, only
  the latest counts and is shown. A reader is their website (the h-card's
  URL, or the form's "website" field), else, for the form, the name typed,
  else the host of the source page.
- **The aggregate**: the count, the average on the 1–5 scale (each rating
  brought onto it from its own worst–best scale) and how many gave 1, 2, 3,
  4 and 5 (rounded to the nearest star).
- **Best rated** ranks by a Bayesian average: ``(C·m + Σ ratings) / (C + n)``,
  with ``m`` the mean rating of the whole site and ``C`` the minimum count
  (WEBMENTIONS["reviews_min_count"], 3 by default): a post with one 5 does
  not pass a post with forty 4.6; a post with fewer than C reviews is not
  ranked at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from causerie.webmentions import model
from causerie.webmentions.model import Mention
from causerie.webmentions.reviews.rating import normalise

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def voice(mention: Mention) -> str:
    """Who gave a review, for "one voice per reader and post"."""
    if mention.author_url:
        try:
            parts = urlsplit(mention.author_url.strip())
        except ValueError:
            parts = None
        if parts and parts.hostname:
            path = parts.path.rstrip("/")
            return f"url:{parts.hostname.lower().removeprefix('www.')}{path}"
    if mention.origin == model.FORM:
        return "name:" + " ".join((mention.author_name or "").casefold().split())
    return "site:" + mention.source_domain


def _when(mention: Mention) -> tuple[dt.datetime, int]:
    return (mention.published or mention.received_at or _EPOCH, mention.id)


def current_reviews(mentions: Iterable[Mention]) -> list[Mention]:
    """The reviews among ``mentions`` (visible ones of one or many posts)
    that count: the latest of each reader on each post; oldest first."""
    latest: dict[tuple[str, str], Mention] = {}
    for mention in mentions:
        if mention.kind != "review" or not mention.visible:
            continue
        key = (mention.target, voice(mention))
        held = latest.get(key)
        if held is None or _when(mention) > _when(held):
            latest[key] = mention
    return sorted(latest.values(), key=_when)


def superseded(mentions: Sequence[Mention]) -> set[int]:
    """The ids of visible reviews replaced by a later one of the same reader."""
    kept = {m.id for m in current_reviews(mentions)}
    return {m.id for m in mentions if m.kind == "review" and m.visible} - kept


def stars_of(mention: Mention) -> float | None:
    """A review's rating on the 1–5 scale; None without a (valid) rating."""
    value, best, worst = mention.rating, mention.rating_best, mention.rating_worst
    if value is None or best is None or worst is None or not worst <= value <= best:
        return None  # a row written by hand or an import, never trusted
    if best <= worst:
        return None
    return normalise(value, best, worst)


@dataclass(frozen=True)
class Aggregate:
    """The ratings of one post, on the 1–5 scale."""

    count: int
    average: float
    #: How many gave 1, 2, 3, 4 and 5 stars (rounded to the nearest).
    distribution: tuple[int, int, int, int, int]
    total: float  # the sum of the ratings (for the Bayesian average)
    best: int = 5
    worst: int = 1

    @property
    def rounded(self) -> float:
        """The average to one decimal, as it is shown."""
        return round(self.average + 1e-9, 1)


def aggregate(reviews: Iterable[Mention]) -> Aggregate | None:
    """The aggregate of ``reviews`` (already :func:`current_reviews`);
    None when none of them has a rating."""
    ratings = [s for s in (stars_of(m) for m in reviews) if s is not None]
    if not ratings:
        return None
    counts = [0, 0, 0, 0, 0]
    for rating in ratings:
        # Half up, not Python's half-even: 2.5 stars is shown among the 3s.
        counts[min(4, max(0, int(rating + 0.5) - 1))] += 1
    total = sum(ratings)
    return Aggregate(
        count=len(ratings),
        average=total / len(ratings),
        distribution=(counts[0], counts[1], counts[2], counts[3], counts[4]),
        total=total,
    )


def bayesian(item: Aggregate, prior: float, min_count: int) -> float:
    """The Bayesian average of ``item``: ``prior`` (the site's mean)
    weighed as ``min_count`` reviews."""
    return (min_count * prior + item.total) / (min_count + item.count)
