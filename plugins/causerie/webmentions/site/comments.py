"""A mention as the site shows it (pure data): what the templates and the
conversation feeds read, made by :func:`causerie.webmentions.site.render.to_comment`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from causerie.webmentions.reviews.numbers import number, stars_text


@dataclass(frozen=True)
class Comment:
    """A reply, mention or reaction as the templates and feeds see it.

    Every URL is absolute http(s) or None, ``author_photo`` is our own copy
    of the avatar (never the remote picture), ``content_html`` is sanitized.
    """

    id: int
    kind: str
    author_name: str | None
    author_url: str | None
    author_photo: str | None
    url: str | None
    published: dt.datetime
    updated: dt.datetime
    content_html: str
    title: str | None
    rsvp: str | None
    #: A stable tag: URI (RFC 4151) for the feeds: the same mention keeps it
    #: across builds, databases and re-imports (it hangs on source + target).
    uid: str
    avatar_file: str | None = None
    #: An old blog's threading (causerie.importers): the comment this one
    #: answers, when it is shown too, and the name of the blog's author
    #: who wrote this one.
    answers: int | None = None
    answers_name: str | None = None
    blog_author: str | None = None
    #: A review's rating on its own scale (None: not a review, no rating,
    #: or one refused), and the text of a review for its JSON-LD.
    rating: float | None = None
    rating_best: float | None = None
    rating_worst: float | None = None
    content_text: str | None = None

    def stars(self) -> str:
        """A review's rating as stars on 1–5 ("" without a rating)."""
        if self.rating is None or self.rating_best is None or self.rating_worst is None:
            return ""
        span = self.rating_best - self.rating_worst
        return stars_text(1 + 4 * (self.rating - self.rating_worst) / span)

    def shown(self, value: float | None, lang: str) -> str:
        """A rating value as ``lang`` writes it ("4,5" in French)."""
        return "" if value is None else number(value, lang)


@dataclass
class Conversation:
    """What a post shows: comments (replies, mentions, RSVPs) and reactions."""

    comments: list[Comment] = field(default_factory=list)
    likes: list[Comment] = field(default_factory=list)
    reposts: list[Comment] = field(default_factory=list)
    bookmarks: list[Comment] = field(default_factory=list)
    #: The reviews among ``comments`` (issue 15).
    reviews: list[Comment] = field(default_factory=list)
