"""Sending webmentions, the pure part: which links a post has, what changed
since the last build, and which (source, target) pairs are due.

The sender's duties are §3.1 of the W3C Webmention Recommendation: notify the
pages a post links to when it is published (§3.1.1), again on every update,
to the current *and the previously linked* targets (§3.1.4), and once more
when it is deleted (§3.1.5). An unchanged post is not sent again. No I/O here:
:mod:`causerie.webmentions.send.state` reads and writes the state, :mod:`causerie.webmentions.send.sender` the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from lxml import etree

from causerie.webmentions.model import domain_of

#: A post is published (sent for), deleted (its tombstone is served and its
#: deletion sent), or held: still in content/ but not published by the latest
#: build (rescheduled, or read once with a future --as-of), so neither.
PUBLISHED, DELETED, HELD = "published", "deleted", "held"
#: The digest every deleted post has: a deletion is sent once, and a post that
#: comes back gets a new digest, so its targets hear of it again.
DELETED_DIGEST = "deleted"

#: Outcomes of one send. "refused" is the receiver's 4xx; "no-endpoint", a
#: target that does not take webmentions; "retry", a transient failure due
#: again later; "failed", a permanent one (a private endpoint, garbage…);
#: "error", a fault of ours (the run then exits non-zero).
SENT, REFUSED, NO_ENDPOINT, RETRY, FAILED, ERROR = (
    "sent",
    "refused",
    "no-endpoint",
    "retry",
    "failed",
    "error",
)
REMOTE_OUTCOMES = frozenset({SENT, REFUSED, NO_ENDPOINT, RETRY, FAILED})

#: Metadata that makes a post a reply, like, repost or bookmark of someone
#: else's page (marked up u-in-reply-to… by the theme): sent like a link.
REPLY_CONTEXT = ("in-reply-to", "like-of", "repost-of", "bookmark-of")


@dataclass(frozen=True)
class OutboundPost:
    """One of our posts as a build saw it."""

    url: str
    source_path: str  # relative to the content directory
    save_as: str  # where its page is written, relative to the output
    title: str
    lang: str | None
    links: tuple[str, ...]
    digest: str
    status: str = PUBLISHED
    deleted_at: dt.datetime | None = None


@dataclass(frozen=True)
class SentRecord:
    """What happened the last time (source, target) was sent."""

    source: str
    target: str
    digest: str
    status: str
    endpoint: str | None = None
    http_status: int | None = None
    location: str | None = None
    reason: str | None = None
    attempts: int = 0
    sent_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None


@dataclass(frozen=True)
class Job:
    """A webmention to send: our ``source`` mentions ``target``."""

    source: str
    target: str
    digest: str
    deleted: bool = False
    #: Earlier runs that failed transiently for this same digest.
    attempts: int = 0


def links_in(html: str, base: str) -> tuple[str, ...]:
    """The http(s) links of a post's content (its e-content), in order, once.

    Only ``<a href>``: the pages the post talks about, not the images it
    shows. Relative links are resolved against the post's URL.
    """
    found: dict[str, None] = {}
    for href in _hrefs(html):
        href = href.strip()
        if not href or href.startswith("#"):
            continue
        url = urljoin(base, href)
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            continue
        if scheme in ("http", "https"):
            found.setdefault(url)
    return tuple(found)


#: libxml2's HTML parser, as BeautifulSoup(html, "lxml") uses it, without
#: building BeautifulSoup's tree: a build reads every post's links, and the
#: soup cost 2.5 ms a post (5 s at 2,000 posts) for what lxml does in 0.3.
_HTML_PARSER = etree.HTMLParser(encoding="utf-8", recover=True)


def _hrefs(html: str) -> list[str]:
    """The href of every ``<a>`` of ``html``, in document order."""
    if not html or not html.strip():
        return []
    # Bytes: lxml refuses a str that declares its encoding (<?xml ...?>).
    root = etree.fromstring(html.encode("utf-8"), _HTML_PARSER)
    if root is None:
        return []
    return [str(a.get("href")) for a in root.iter("a") if a.get("href") is not None]


def post_digest(title: str, content_html: str, links: Sequence[str]) -> str:
    """Changes whenever what a receiver would show of the post changes."""
    hashed = hashlib.sha256()
    for part in (title, content_html, *links):
        hashed.update(part.encode("utf-8"))
        hashed.update(b"\0")
    return hashed.hexdigest()


def same_site(url: str, site_url: str) -> bool:
    """Whether ``url`` is on our own site (same host, any scheme)."""
    return domain_of(url) == domain_of(site_url) and bool(domain_of(url))


def reconcile(
    previous: Mapping[str, OutboundPost],
    published: Iterable[OutboundPost],
    deleted: Iterable[OutboundPost],
    still_there: Callable[[OutboundPost], bool],
    now: dt.datetime,
) -> list[OutboundPost]:
    """The posts to store after a build: this build's, plus what became of
    the previous build's posts that this build did not publish.

    A previous post is deleted when it is marked ``Status: deleted`` (in
    ``deleted``) or ``still_there`` says its file is gone or withdrawn;
    otherwise (a file that failed to read, a post rescheduled) it is held, its
    digest kept, so one broken file never sends deletion notices, and its
    return unchanged sends nothing. A deleted post keeps its last links: they
    are the targets its deletion is sent to.
    """
    result = {post.url: post for post in published}
    for post in deleted:
        if post.url in result:
            continue
        before = previous.get(post.url)
        links = tuple(dict.fromkeys((*(before.links if before else ()), *post.links)))
        when = before.deleted_at if before and before.status == DELETED else None
        result[post.url] = replace(
            post,
            links=links,
            digest=DELETED_DIGEST,
            status=DELETED,
            deleted_at=when or now,
        )
    for url, before in previous.items():
        if url in result:
            continue
        if before.status == DELETED:
            result[url] = before
        elif still_there(before):
            result[url] = replace(before, status=HELD)
        else:
            result[url] = replace(
                before, status=DELETED, digest=DELETED_DIGEST, deleted_at=now
            )
    return sorted(result.values(), key=lambda p: p.url)


def plan(
    posts: Iterable[OutboundPost],
    records: Iterable[SentRecord],
    now: dt.datetime,
    keep: Callable[[str], bool] = lambda _target: True,
) -> list[Job]:
    """The webmentions due: for each post, its links and every target sent to
    before (§3.1.4-5), unless already handled for the post's current digest.

    A transient failure is due again once its ``next_attempt_at`` passes.
    ``keep`` filters targets (own site, skipped domains). A held post is
    left alone.
    """
    by_source: dict[str, dict[str, SentRecord]] = {}
    for record in records:
        by_source.setdefault(record.source, {})[record.target] = record
    jobs = []
    for post in posts:
        if post.status == HELD:
            continue
        sent = by_source.get(post.url, {})
        deleted = post.status == DELETED
        for target in dict.fromkeys((*post.links, *sorted(sent))):
            if target == post.url or not keep(target):
                continue
            last = sent.get(target)
            if last is None or last.digest != post.digest:
                jobs.append(Job(post.url, target, post.digest, deleted))
            elif last.status == RETRY and (
                last.next_attempt_at is None or last.next_attempt_at <= now
            ):
                jobs.append(Job(post.url, target, post.digest, deleted, last.attempts))
    return jobs
