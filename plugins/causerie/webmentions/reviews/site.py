"""The Pelican side of reviews: what a post's page and lists show.

Called for each post by the webmentions plugin, with the post's approved
mentions (the build's and ``publish watch``'s fast path's), it sets:

- ``post.review_comments``: the reviews shown (one per reader);
- ``post.rating_aggregate``: a :class:`~.view.Summary` or None;
- ``post.rating_json_ld``: the schema.org JSON-LD (Markup) or None;
- ``post.own_review``: the post's own :class:`~.view.OwnReview` or None.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from causerie.webmentions.model import Mention
from causerie.webmentions.reviews.aggregate import aggregate, current_reviews
from causerie.webmentions.reviews.view import item_type, json_ld, own_review, summary
from causerie.webmentions.site.comments import Comment

log = logging.getLogger(__name__)


def show_reviews(
    post: Any, url: str, mentions: Sequence[Mention], reviews: Sequence[Comment]
) -> None:
    metadata = getattr(post, "metadata", {}) or {}
    where = getattr(post, "source_path", url)
    counted = aggregate(current_reviews(mentions))
    post.review_comments = list(reviews)
    post.rating_totals = counted
    post.rating_aggregate = summary(counted, post.lang) if counted else None
    kind = item_type(metadata.get("itemtype"))
    if kind is None:
        log.warning(
            "%s: Itemtype: %r is not Product or CreativeWork; CreativeWork is used",
            where,
            metadata.get("itemtype"),
        )
        kind = "CreativeWork"
    title = str(Markup(post.title).striptags())
    post.rating_json_ld = (
        Markup(json_ld(kind, title, url, counted, reviews)) if counted else None
    )
    own, why = own_review(metadata, post.lang)
    if why:
        log.warning("%s: %s", where, why)
    post.own_review = own
