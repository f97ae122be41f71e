"""The mention as the store keeps it (pure data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Verification states: waiting in the queue, checked, given up, source gone.
QUEUED, VERIFIED, FAILED, DELETED = "queued", "verified", "failed", "deleted"
#: Moderation states.
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
#: Where a mention came from: a webmention, the comment form, webmention.io's
#: JF2 export, or an old blog's own comments (causerie.importers).
WEBMENTION, FORM, IMPORT, BLOG = "webmention", "form", "import", "blog"
KINDS = ("reply", "like", "repost", "bookmark", "rsvp", "review", "mention")


def domain_of(url: str | None) -> str:
    """The host of ``url``, lower case, without "www." (what policies match)."""
    try:
        host = (urlsplit(url or "").hostname or "").lower()
    except ValueError:  # "http://[" and other broken URLs have no domain
        return ""
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class Mention:
    """One webmention (or form comment) to a post of ours."""

    id: int
    source: str
    target: str
    origin: str
    verification: str
    moderation: str
    kind: str = "mention"
    url: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    author_photo: str | None = None  # the remote URL, as the source gave it
    avatar: str | None = None  # our cached copy: a file name under var/avatars/
    published: dt.datetime | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    rsvp: str | None = None
    reason: str | None = None
    attempts: int = 0
    received_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    #: The host the domain policies judge it by, as the store records it: the
    #: final host after redirects once verified (issue 13 item 2), the
    #: author's website for a form comment; the source's host by default.
    source_domain: str = ""
    #: The moderator who last set ``moderation`` (None: the policy did).
    decided_by: str | None = None
    #: An old blog's comment (origin BLOG): the source of the one it answers,
    #: and the registry slug of the blog's author who wrote it.
    reply_to: str | None = None
    blog_author: str | None = None
    #: A review's checked rating on the scale rating_worst–rating_best
    #: (None: no rating, or refused: rating_note says why).
    rating: float | None = None
    rating_best: float | None = None
    rating_worst: float | None = None
    rating_note: str | None = None

    def __post_init__(self) -> None:
        if not self.source_domain:
            object.__setattr__(self, "source_domain", domain_of(self.source))

    @property
    def visible(self) -> bool:
        """Shown on the site: verified and approved."""
        return self.verification == VERIFIED and self.moderation == APPROVED
