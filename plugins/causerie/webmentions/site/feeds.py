"""Conversation feeds: the comments and mentions of the site, and of each post.

Atom (RFC 4287), written with feedgen:

- ``feeds/comments.atom.xml``: every approved reply, mention and RSVP of the
  site, newest first (at most ``FEED_MAX_ITEMS``);
- ``feeds/comments/<slug>[-<lang>].atom.xml``: those of one post. Written for
  **every** published post, even one without comments yet, so that a reader
  can follow a conversation from its start and the link on the post never
  leads nowhere.

Likes, reposts and bookmarks are counted on the page but not put in the
feeds: a feed reader is for what people *said*.

An entry links to the original reply (a form comment, which has no page of
its own, links to its place under the post), its id is a stable ``tag:`` URI
(RFC 4151), its content the sanitized HTML the page shows. The feeds' dates
come from the store and the posts, never from the clock, so a rebuild with
nothing new writes the same files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator

from causerie.catalogs import N_, tr
from causerie.webmentions.reviews.numbers import number
from causerie.webmentions.site.comments import Comment
from causerie.webmentions.site.threading import (
    ThreadingEntryExtension,
    ThreadingExtension,
    post_ref,
)

__all__ = ["FeedSite", "Thread", "entry_title", "post_feed", "site_feed", "write_feeds"]

#: Feed texts in the language of the post (the site's for the site feed);
#: other languages get English. The feed is not rendered by the theme, so
#: its few strings live here rather than in the theme's catalogs.
TEXTS = {
    "reply": N_("{who} replied to “{post}”"),
    "mention": N_("{who} mentioned “{post}”"),
    "rsvp": N_("{who} answered the invitation “{post}”"),
    "review": N_("{who} reviewed “{post}”"),
    "rated": N_("{who} rated “{post}” {rating} out of {best}"),
    "post_feed": N_("Comments on “{post}”"),
    "site_feed": N_("{site} — comments"),
    "someone": N_("Someone"),
}
#: The kinds a feed carries (see the module's docstring).
FEED_KINDS = ("reply", "mention", "rsvp", "review")


@dataclass(frozen=True)
class FeedSite:
    """The site, as the site-wide feed names it."""

    url: str  # SITEURL, without the final slash
    name: str
    lang: str
    feed_path: str  # relative to the output directory and to url
    max_items: int | None = None


@dataclass(frozen=True)
class Thread:
    """One post and what was said about it."""

    url: str  # absolute
    title: str  # plain text
    lang: str
    published: dt.datetime
    feed_path: str
    comments: Sequence[Comment]


def _texts(lang: str) -> dict[str, str]:
    return {key: tr(lang, text) for key, text in TEXTS.items()}


def entry_title(comment: Comment, thread: Thread) -> str:
    """ "Ana replied to “Post”" in the post's language."""
    texts = _texts(thread.lang)
    who = comment.author_name or texts["someone"]
    if comment.kind == "review" and comment.rating is not None:
        # A review's entry carries its rating (issue 15), in its own scale.
        return texts["rated"].format(
            who=who,
            post=thread.title,
            rating=number(comment.rating, thread.lang),
            best=number(comment.rating_best or 5, thread.lang),
        )
    pattern = texts.get(comment.kind, texts["mention"])
    return pattern.format(who=who, post=thread.title)


def _entries(threads: Iterable[Thread]) -> list[tuple[Comment, Thread]]:
    pairs = [(c, t) for t in threads for c in t.comments if c.kind in FEED_KINDS]
    # Newest first; the id breaks ties so the order never depends on the dict
    # order of a query.
    pairs.sort(key=lambda pair: (pair[0].published, pair[0].id), reverse=True)
    return pairs


def _feed(
    feed_id: str, title: str, lang: str, self_url: str, page_url: str, author: str
) -> FeedGenerator:
    fg = FeedGenerator()
    # RFC 4685: every entry says what it answers (thr:in-reply-to).
    fg.register_extension(
        "thr", ThreadingExtension, ThreadingEntryExtension, atom=True, rss=False
    )
    fg.id(feed_id)
    fg.title(title)
    fg.language(lang)
    fg.author({"name": author})
    # feedgen writes the links in the order given; rel=self first.
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=page_url, rel="alternate", type="text/html")
    return fg


def _add(fg: FeedGenerator, comment: Comment, thread: Thread) -> None:
    entry = fg.add_entry(order="append")
    entry.id(comment.uid)
    entry.title(entry_title(comment, thread))
    # A form comment has no page of its own: it links to its place on ours.
    # One link only: feedgen 1.0 writes an entry's links without their rel
    # (entry.py reuses the name `link` for the XML element), so a second one,
    # rel="related" to the post, would come out as a second alternate, which
    # RFC 4287 §4.1.1 forbids.
    entry.link(
        href=comment.url or f"{thread.url}#comment-{comment.id}", rel="alternate"
    )
    author = {"name": comment.author_name or _texts(thread.lang)["someone"]}
    if comment.author_url:
        author["uri"] = comment.author_url
    entry.author(author)
    entry.published(comment.published)
    entry.updated(max(comment.updated, comment.published))
    # What the comment answers: the post (the store keeps no comment-to-
    # comment link yet, so a reply to a reply is shown as one to the post).
    entry.thr.in_reply_to(post_ref(thread.url, thread.published), thread.url)
    if comment.content_html:
        entry.content(comment.content_html, type="html")
    elif comment.title:
        entry.content(comment.title, type="text")


def _updated(
    entries: Sequence[tuple[Comment, Thread]], fallback: dt.datetime
) -> dt.datetime:
    return max((max(c.updated, c.published) for c, _t in entries), default=fallback)


def post_feed(thread: Thread, site: FeedSite) -> FeedGenerator:
    """The conversation feed of one post."""
    entries = _entries([thread])
    fg = _feed(
        f"{site.url}/{thread.feed_path}",
        _texts(thread.lang)["post_feed"].format(post=thread.title),
        thread.lang,
        f"{site.url}/{thread.feed_path}",
        f"{thread.url}#comments",
        site.name,
    )
    fg.updated(_updated(entries, thread.published))
    for comment, _thread in entries[: site.max_items]:
        _add(fg, comment, thread)
    return fg


def site_feed(threads: Sequence[Thread], site: FeedSite) -> FeedGenerator:
    """The conversation feed of the whole site."""
    entries = _entries(threads)
    fg = _feed(
        f"{site.url}/{site.feed_path}",
        _texts(site.lang)["site_feed"].format(site=site.name),
        site.lang,
        f"{site.url}/{site.feed_path}",
        f"{site.url}/",
        site.name,
    )
    newest_post = max((t.published for t in threads), default=None)
    fg.updated(_updated(entries, newest_post or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)))
    for comment, thread in entries[: site.max_items]:
        _add(fg, comment, thread)
    return fg


def _write(fg: FeedGenerator, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fg.atom_str(pretty=True))


def write_feeds(
    output: Path,
    site: FeedSite,
    threads: Sequence[Thread],
    unchanged: Callable[..., bool] | None = None,
    only: set[str] | None = None,
    later: Callable[[str, Callable[[], None]], None] | None = None,
) -> list[Path]:
    """Write the site's and every post's conversation feed; return their paths.

    ``unchanged(relpath, *inputs)`` (an incremental build's) says when the
    output already holds a feed made from the same inputs: it is skipped.
    With ``only`` (post URLs), the site's feed and those posts' feeds only.
    ``later(path, write)``, if given, is asked to write each feed (the build's
    writer, which writes every page and feed at once, on every core).
    """
    written = []
    path = output / site.feed_path
    if unchanged is None or not unchanged(site.feed_path, site, tuple(threads)):
        _write_feed(later, path, site_feed, threads, site)
    written.append(path)
    for thread in threads:
        if only is not None and thread.url not in only:
            continue
        path = output / thread.feed_path
        if unchanged is None or not unchanged(thread.feed_path, site, thread):
            _write_feed(later, path, post_feed, thread, site)
        written.append(path)
    return written


def _write_feed(
    later: Callable[[str, Callable[[], None]], None] | None,
    path: Path,
    make: Callable[..., FeedGenerator],
    *inputs: Any,
) -> None:
    def write() -> None:
        _write(make(*inputs), path)

    if later is None:
        write()
    else:
        later(str(path), write)
