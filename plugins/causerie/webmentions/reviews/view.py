"""How reviews are shown (pure): the aggregate in the post's language, its
stars, schema.org JSON-LD, and a post's own rating (``Rating:`` metadata).

The JSON-LD follows schema.org: an ``AggregateRating`` (ratingValue,
ratingCount, reviewCount, bestRating, worstRating) and the individual
``Review``s (author, datePublished, reviewBody, reviewRating) on the item
the post declares with ``Itemtype:`` — ``Product`` (a product post) or
``CreativeWork`` (anything else, the default). Both types take
``aggregateRating`` and ``review`` (schema.org/Product, /CreativeWork);
a Product must have a ``name``, which the post's title gives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from causerie.webmentions.reviews.aggregate import Aggregate
from causerie.webmentions.reviews.numbers import decimal, number, stars_text
from causerie.webmentions.reviews.rating import Rating, read_rating
from causerie.webmentions.sanitize import clean_text, safe_url
from causerie.webmentions.site.comments import Comment

ITEM_TYPES = ("CreativeWork", "Product")
#: Individual reviews in the JSON-LD: the latest ones, the page stays light.
JSON_LD_REVIEWS = 50
REVIEW_BODY = 500


@dataclass(frozen=True)
class Summary:
    """A post's aggregate as the theme shows it."""

    average: float  # 1–5, one decimal
    shown: str  # the average as the post's language writes it: "4,3"
    count: int  # reviews with a rating
    stars: str  # "★★★★☆"
    #: (stars, count, percent of the count), 5 stars first.
    distribution: tuple[tuple[int, int, int], ...]
    best: int = 5
    worst: int = 1


def summary(item: Aggregate, lang: str) -> Summary:
    rows = tuple(
        (
            n,
            item.distribution[n - 1],
            round(100 * item.distribution[n - 1] / item.count),
        )
        for n in range(5, 0, -1)
    )
    return Summary(
        average=item.rounded,
        shown=decimal(item.average, lang),
        count=item.count,
        stars=stars_text(item.average),
        distribution=rows,
    )


def item_type(value: Any) -> str | None:
    """The schema.org type a post's ``Itemtype:`` names; None if unknown."""
    text = str(value or "CreativeWork").strip()
    for name in ITEM_TYPES:
        if text.casefold() == name.casefold():
            return name
    return None


def _script_safe(data: Any) -> str:
    """JSON for a <script type="application/ld+json">: "<", ">" and "&"
    escaped, so no text of a reader's can close the element (HTML §4.12.1.3)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_ld(
    kind: str,
    name: str,
    url: str,
    item: Aggregate,
    reviews: Sequence[Comment],
) -> str:
    """The schema.org item with its AggregateRating and Reviews, as JSON."""
    listed = [c for c in reviews if c.rating is not None][-JSON_LD_REVIEWS:]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": kind,
        "name": name,
        "url": url,
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": item.rounded,
            "bestRating": item.best,
            "worstRating": item.worst,
            "ratingCount": item.count,
            "reviewCount": len(reviews),
        },
    }
    if listed:
        data["review"] = [_review(c) for c in listed]
    return _script_safe(data)


def _review(c: Comment) -> dict[str, Any]:
    author: dict[str, Any] = {"@type": "Person", "name": c.author_name or "?"}
    if c.author_url:
        author["url"] = c.author_url
    review: dict[str, Any] = {
        "@type": "Review",
        "author": author,
        "datePublished": c.published.date().isoformat(),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": c.rating,
            "bestRating": c.rating_best,
            "worstRating": c.rating_worst,
        },
    }
    body = clean_text(c.content_text or "", REVIEW_BODY)
    if body:
        review["reviewBody"] = body
    return review


@dataclass(frozen=True)
class OwnReview:
    """The post reviews something itself (``Rating:`` metadata): shown as
    an h-review with its rating and, when given, the item reviewed."""

    rating: float
    best: float
    worst: float
    stars: str
    item_name: str | None
    item_url: str | None
    lang: str = "en"

    def shown(self, value: float) -> str:
        """``value`` as the post's language writes it: 4,5 in French."""
        return number(value, self.lang)


def own_review(
    metadata: dict[str, Any], lang: str = "en"
) -> tuple[OwnReview | None, str | None]:
    """The post's own review from its metadata, or why its ``Rating:`` is
    refused (the caller logs it with the file's path)."""
    raw = metadata.get("rating")
    if raw is None or not str(raw).strip():
        return None, None
    rating: Rating | None = read_rating(
        str(raw),
        _text(metadata.get("rating-best")),
        _text(metadata.get("rating-worst")),
    )
    if rating is None or rating.value is None:
        why = rating.note if rating else "empty"
        return None, f"Rating: {why}; write it as 4, 4/5 or 8/10"
    url = _text(metadata.get("reviewed-url"))
    return (
        OwnReview(
            rating=rating.value,
            best=rating.best,
            worst=rating.worst,
            stars=stars_text(rating.stars() or 1.0),
            item_name=clean_text(_text(metadata.get("reviewed")) or "", 200) or None,
            item_url=safe_url(url) if url else None,
            lang=lang,
        ),
        None,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
