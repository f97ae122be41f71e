"""The Pelican side of webmentions: approved mentions under each post.

The build reads the mention store, never the network (docs/architecture.md:
the build is a pure function of content/, the store, the theme and the
settings):

- ``initialized``: the receiver's addresses for the templates
  (``WEBMENTION_ENDPOINT``, ``COMMENT_FORM_URL``, ``COMMENTS_FEED_ATOM``);
- ``all_generators_finalized`` (after sitebuild has moved scheduled posts to
  the drafts): the store is opened once, the published posts are recorded as
  the targets that may be mentioned, and each post gets its ``comments``,
  ``likes``, ``reposts``, ``bookmarks`` and ``comments_feed``;
- ``article_writer_finalized``: the cached avatars are copied next to the
  pages and the conversation feeds are written (:mod:`causerie.webmentions.site.feeds`).

What the store holds was sanitized where it entered; it is sanitized again
here, on output (sanitized on the way in and again on the way out), since a row may have been
written by an older version, by hand, or by an import: templates get plain
:class:`Comment` objects whose every URL is http(s) and whose HTML went
through the allowlist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import logging
import re
import shutil
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup
from pelican import signals

from causerie import signals as causerie_signals
from causerie.pelican_compat import plugin_enabled
from causerie.webmentions import model
from causerie.webmentions.errors import WebmentionError
from causerie.webmentions.model import Mention
from causerie.webmentions.reviews import rankings_site
from causerie.webmentions.reviews.aggregate import stars_of, superseded
from causerie.webmentions.reviews.optin import takes_reviews
from causerie.webmentions.reviews.site import show_reviews
from causerie.webmentions.sanitize import NOT_XML, clean_html, clean_text, safe_url
from causerie.webmentions.send import state as outbox_store
from causerie.webmentions.send.plan import OutboundPost
from causerie.webmentions.settings import config, var_dir
from causerie.webmentions.site import outbound as outgoing
from causerie.webmentions.site.comments import Comment, Conversation
from causerie.webmentions.site.feeds import FEED_KINDS, FeedSite, Thread, write_feeds
from causerie.webmentions.store import open_store
from causerie.webmentions.store.mention_store import Target

__all__ = [
    "AVATARS_URL_PATH",
    "COMMENTS_FEED",
    "Comment",
    "Conversation",
    "connect_signals",
    "conversation",
    "copy_avatars",
    "safe_avatar_name",
    "text_to_html",
    "to_comment",
]

log = logging.getLogger(__name__)

#: Where the avatars are copied, under the output directory and SITEURL.
AVATARS_URL_PATH = "mentions/avatars"
#: The site-wide conversation feed, and one per post (see :mod:`causerie.webmentions.site.feeds`).
COMMENTS_FEED = "feeds/comments.atom.xml"
POST_FEED = "feeds/comments/{name}.atom.xml"

#: A cached avatar's file name as the worker writes it (sha256 prefix + .png).
#: The stored value is checked against this before it becomes a path or a
#: URL, so a tampered row cannot reach outside var/avatars/ ("../../x").
_AVATAR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,95}\.(?:png|jpg|jpeg|gif|webp)")

#: Limits of the text shown (the store's values were already cut on entry).
NAME_LIMIT = 100
TITLE_LIMIT = 200
#: Kinds shown as faces with a count rather than as comments.
REACTIONS = {"like": "likes", "repost": "reposts", "bookmark": "bookmarks"}
RSVP_VALUES = ("yes", "no", "maybe", "interested")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def safe_avatar_name(name: str | None) -> str | None:
    """``name`` if it is a plain file name of the avatar cache, else None."""
    if name and _AVATAR_NAME.fullmatch(name):
        return name
    return None


def _uid(mention: Mention, host: str) -> str:
    digest = hashlib.sha256(f"{mention.source}\n{mention.target}".encode()).hexdigest()
    # The tag's date must be one on which we held the name (RFC 4151 §2.1):
    # the day the mention was received, which never changes afterwards.
    day = mention.received_at or mention.published or _EPOCH
    return f"tag:{host},{day:%Y-%m-%d}:mention:{digest[:32]}"


def _short_url(url: str) -> str:
    """The host and path of ``url``: the link text of an untitled mention."""
    parts = urlsplit(url)
    text = (parts.hostname or "") + (parts.path if parts.path != "/" else "")
    return text if len(text) <= 60 else text[:59] + "…"


def text_to_html(text: str, limit: int = 5000) -> str:
    """Plain text from outside as escaped paragraphs (no markup survives)."""
    paragraphs = [clean_text(p, limit) for p in text[:limit].split("\n\n")]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)


def to_comment(
    mention: Mention,
    site_url: str,
    avatars: Collection[str],
    tz: dt.tzinfo = dt.UTC,
) -> Comment:
    """The :class:`Comment` shown for ``mention`` (pure).

    ``avatars`` are the file names present in the avatar cache: a mention
    whose avatar is not there is shown without a picture.
    """
    url = safe_url(mention.url) if mention.url else None
    if url is None and mention.origin not in (model.FORM, model.BLOG):
        # A webmention's source is the page that links to us (§3.2.2).
        url = safe_url(mention.source)
    author_url = safe_url(mention.author_url) if mention.author_url else None
    name = NOT_XML.sub("", clean_text(mention.author_name or "", NAME_LIMIT)) or None
    if name is None and (author_url or url):
        name = model.domain_of(author_url or url) or None
    avatar = safe_avatar_name(mention.avatar)
    if avatar not in avatars:
        avatar = None
    photo = f"{site_url}/{AVATARS_URL_PATH}/{avatar}" if avatar else None
    base = url or mention.target
    content = clean_html(mention.content_html, base) if mention.content_html else ""
    if not content.strip() and mention.content_text:
        content = text_to_html(mention.content_text)
    content = NOT_XML.sub("", content)
    title = NOT_XML.sub("", clean_text(mention.title or "", TITLE_LIMIT)) or None
    if mention.kind == "mention" and not title and url:
        title = _short_url(url)
    # received_at is never NULL in the store; the epoch only satisfies types.
    received = mention.received_at or mention.published or _EPOCH
    published = mention.published or received
    rsvp = mention.rsvp if mention.rsvp in RSVP_VALUES else None
    kind = mention.kind if mention.kind in model.KINDS else "mention"
    return Comment(
        id=mention.id,
        kind=kind,
        author_name=name,
        author_url=author_url,
        author_photo=photo,
        url=url,
        published=published.astimezone(tz),
        updated=(mention.updated_at or received).astimezone(tz),
        content_html=content,
        title=title,
        rsvp=rsvp,
        uid=_uid(mention, urlsplit(site_url).hostname or "localhost"),
        avatar_file=avatar,
        **_rating(mention),
    )


def threaded(
    mentions: Sequence[Mention], comments: Sequence[Comment], names: dict[str, str]
) -> list[Comment]:
    """``comments`` (made from ``mentions``, in the same order) with the
    comment each one answers, when that one is shown too, and its blog
    author's name (``names``: registry slug → name) (pure)."""
    shown = {m.source: c for m, c in zip(mentions, comments, strict=True)}
    result = []
    for mention, comment in zip(mentions, comments, strict=True):
        parent = shown.get(mention.reply_to or "")
        author = names.get(mention.blog_author or "")
        if parent is not None or author:
            comment = dataclasses.replace(
                comment,
                answers=parent.id if parent else None,
                answers_name=parent.author_name if parent else None,
                blog_author=author or None,
            )
        result.append(comment)
    return result


def _rating(mention: Mention) -> dict[str, Any]:
    """A review's rating and text for the Comment: only a rating that holds
    on its scale (the store's row is checked again, as the HTML is)."""
    if mention.kind != "review":
        return {}
    text = clean_text(mention.content_text or "", 500) or None
    if stars_of(mention) is None:
        return {"content_text": text}
    return {
        "rating": mention.rating,
        "rating_best": mention.rating_best,
        "rating_worst": mention.rating_worst,
        "content_text": text,
    }


def conversation(comments: Iterable[Comment]) -> Conversation:
    """Sort ``comments`` (oldest first) into what a post shows."""
    result = Conversation()
    for comment in sorted(comments, key=lambda c: (c.published, c.id)):
        bucket = REACTIONS.get(comment.kind)
        getattr(result, bucket or "comments").append(comment)
        if comment.kind == "review":
            result.reviews.append(comment)
    return result


# --- the Pelican adapter -------------------------------------------------------


def _plain(title: str) -> str:
    """A post title as text (Pelican gives HTML: entities, maybe markup)."""
    return str(Markup(title).striptags())


def _aware(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _published_posts(generator: Any) -> list[Any]:
    # Hidden posts are written too (reachable by their URL, just unlisted):
    # they may be mentioned. Drafts and scheduled posts are not written.
    return [
        post
        for attr in (
            "articles",
            "translations",
            "hidden_articles",
            "hidden_translations",
        )
        for post in getattr(generator, attr, [])
    ]


def _feed_names(posts: Sequence[Any], default_lang: str) -> dict[int, str]:
    """feeds/comments/<slug>[-<lang>]: a post's feed name, as its URL is named
    (a translation, or a post not in DEFAULT_LANG, gets its language), made
    unique with the year if two posts share a slug in different years."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.date, p.source_path)):
        suffix = f"-{post.lang}" if post.lang != default_lang else ""
        name = f"{post.slug}{suffix}"
        if name in taken:
            name = f"{post.slug}-{post.date:%Y}{suffix}"
        taken.add(name)
        names[id(post)] = name
    return names


def _target(post: Any, url: str, settings: dict[str, Any], tz: dt.tzinfo) -> Target:
    email = None
    registry = settings.get("AUTHOR_REGISTRY")
    authors = getattr(post, "authors", None) or []
    if registry is not None and authors:
        card = registry.find(authors[0].name)
        email = card.email if card else None
    return Target(
        url=url,
        title=_plain(post.title),
        author_email=email,
        lang=post.lang,
        published=_aware(post.date, tz),
        reviews=takes_reviews(post, config(settings).reviews),
    )


@dataclass
class _Build:
    """What the writer stage needs from the reading stage of one build."""

    site: FeedSite
    avatar_dir: Path
    threads: list[Thread]
    gone: list[OutboundPost]


def _enabled(settings: dict[str, Any]) -> bool:
    """Whether this build lists the plugin. Pelican's signals are global and
    never disconnected: once one build of a process (tests, ``publish serve``)
    loaded the plugin, every later build would run it, listed or not."""
    return plugin_enabled(settings, "causerie.webmentions")


def _site_url(settings: dict[str, Any]) -> str:
    site_url = str(settings.get("SITEURL") or "").rstrip("/")
    if urlsplit(site_url).scheme not in ("http", "https"):
        raise WebmentionError(
            f"webmentions: SITEURL {site_url!r} is not an absolute http(s) URL; "
            "mentions are matched to posts by their absolute address: set SITEURL "
            "in pelicanconf.py (or CAUSERIE_SITEURL for publishconf.py)"
        )
    return site_url


def _initialized(pelican: Any) -> None:
    if not _enabled(pelican.settings):
        return
    # Fail early, before any file is read.
    cfg = config(pelican.settings)
    _site_url(pelican.settings)
    pelican.settings["WEBMENTION_ENDPOINT"] = cfg.endpoint
    pelican.settings["COMMENT_FORM_URL"] = cfg.service_url.rstrip("/") + "/comment"
    pelican.settings["COMMENTS_FEED_ATOM"] = COMMENTS_FEED
    if rankings_site.enabled(pelican.settings):
        pelican.settings["RANKINGS_URLS"] = rankings_site.urls(pelican.settings)


def _collect(generators: list[Any]) -> None:
    for generator in generators:
        is_articles = hasattr(generator, "articles") and hasattr(generator, "drafts")
        if is_articles and _enabled(generator.settings):
            _attach(generator)


def _attach(generator: Any) -> None:
    settings = generator.settings
    site_url = _site_url(settings)
    tz = ZoneInfo(settings.get("TIMEZONE") or "UTC")
    posts = _published_posts(generator)
    urls = {id(p): f"{site_url}/{p.url}" for p in posts}
    store = open_store(settings)  # once per build, not per post
    try:
        store.replace_targets(
            site_url, [_target(p, urls[id(p)], settings, tz) for p in posts]
        )
        gone = outgoing.record(generator, store, site_url, posts)
        visible = store.visible()
    finally:
        store.engine.dispose()
    avatar_dir = Path(var_dir(settings)) / "avatars"
    names = _feed_names(posts, settings.get("DEFAULT_LANG", "en"))
    talk = _Talk(
        site_url,
        tz,
        avatar_dir,
        _cached_avatars(avatar_dir),
        authors=_author_names(settings),
        review_categories=config(settings).reviews,
    )
    threads = []
    shown = 0
    for post in posts:
        post.comments_feed = POST_FEED.format(name=names[id(post)])
        thread = talk.attach(post, urls[id(post)], visible)
        shown += len(thread.comments)
        threads.append(thread)
    log.info("webmentions: %d mention(s) shown under %d post(s)", shown, len(posts))
    site = FeedSite(
        url=site_url,
        name=_plain(settings.get("SITENAME", site_url)),
        lang=settings.get("DEFAULT_LANG", "en"),
        feed_path=COMMENTS_FEED,
        max_items=settings.get("FEED_MAX_ITEMS"),
    )
    generator.webmentions_build = _Build(
        site=site, avatar_dir=avatar_dir, threads=threads, gone=gone
    )
    # What refresh_comments() needs to update these posts without a build.
    _last[id(generator)] = _Last(talk, site, threads, {urls[id(p)]: p for p in posts})


def _author_names(settings: dict[str, Any]) -> dict[str, str]:
    """Registry slug → name (the authors' answers imported from an old
    blog), from the registry causerie.authoring loaded; {} without it."""
    registry = settings.get("AUTHOR_REGISTRY") or ()
    return {a.slug: a.name for a in registry}


def _cached_avatars(avatar_dir: Path) -> set[str]:
    if not avatar_dir.is_dir():
        return set()
    return {p.name for p in avatar_dir.iterdir() if p.is_file()}


@dataclass
class _Talk:
    """How a build turns stored mentions into a post's conversation."""

    site_url: str
    tz: ZoneInfo
    avatar_dir: Path
    cached: set[str]
    #: Registry slug → name, for imported comments by the blog's authors.
    authors: dict[str, str] = field(default_factory=dict)
    review_categories: tuple[str, ...] = ()

    def attach(self, post: Any, url: str, visible: dict[str, list[Mention]]) -> Thread:
        """Set ``post``'s comments, likes, reposts and bookmarks; its thread."""
        mentions = visible.get(url, [])
        # One voice per reader: a review replaced by the same reader's
        # later one is neither shown nor counted (reviews.aggregate).
        replaced = superseded(mentions)
        mentions = [m for m in mentions if m.id not in replaced]
        comments = [
            to_comment(m, self.site_url, self.cached, self.tz) for m in mentions
        ]
        if any(m.reply_to or m.blog_author for m in mentions):
            comments = threaded(mentions, comments, self.authors)
        talk = conversation(comments)
        post.comments = talk.comments
        post.likes = talk.likes
        post.reposts = talk.reposts
        post.bookmarks = talk.bookmarks
        # The form's rating (issue 15): the same rule as the store's target.
        post.takes_reviews = takes_reviews(post, self.review_categories)
        show_reviews(post, url, mentions, talk.reviews)
        # The post's entry in the site's feeds links its conversation feed
        # with the count of what it holds (RFC 4685 §4; sitebuild writes it).
        said = [c for c in comments if c.kind in FEED_KINDS]
        post.feed_replies = (
            f"{self.site_url}/{post.comments_feed}",
            len(said),
            max((max(c.updated, c.published) for c in said), default=None),
        )
        return Thread(
            url=url,
            title=_plain(post.title),
            lang=post.lang,
            published=_aware(post.date, self.tz),
            feed_path=post.comments_feed,
            comments=tuple(comments),
        )


@dataclass
class _Last:
    """The last build's conversations (for :func:`refresh_comments`)."""

    talk: _Talk
    site: FeedSite
    threads: list[Thread]
    posts: dict[str, Any]  # by absolute URL


def refresh_comments(
    generator: Any,
    targets: Iterable[str],
    staging: Path,
    unchanged: Callable[..., bool] | None = None,
) -> list[Any]:
    """Mentions of ``targets`` changed in the store since the last build
    (publish watch): give their posts their new conversation, write their
    feeds, the site's comments feed and new avatars into ``staging``; return
    the posts changed (their pages are the caller's to render). Raises
    LookupError when a target is not a post of the last build."""
    last = _last.get(id(generator))
    if last is None:
        raise LookupError("no build to refresh")
    targets = set(targets)
    posts = {url: last.posts[url] for url in targets if url in last.posts}
    if len(posts) != len(targets):
        raise LookupError("a mention of a page the last build did not publish")
    store = open_store(generator.settings)
    try:
        visible = store.visible()
    finally:
        store.engine.dispose()
    last.talk.cached = _cached_avatars(last.talk.avatar_dir)
    changed: list[Thread] = []
    for index, thread in enumerate(last.threads):
        post = posts.get(thread.url)
        if post is not None:
            last.threads[index] = last.talk.attach(post, thread.url, visible)
            changed.append(last.threads[index])
    copy_avatars(changed, last.talk.avatar_dir, staging)
    write_feeds(
        staging, last.site, last.threads, unchanged, only={t.url for t in changed}
    )
    return list(posts.values())


#: The last build's conversations, by generator.
_last: dict[int, _Last] = {}


def copy_avatars(threads: Iterable[Thread], source: Path, output: Path) -> int:
    """Copy the avatars shown in ``threads`` from the cache into the site."""
    wanted = {c.avatar_file for t in threads for c in t.comments if c.avatar_file}
    target = output / AVATARS_URL_PATH
    copied = 0
    for name in sorted(wanted):
        # safe_avatar_name() already refused separators; this is the second lock.
        path = source / name
        if path.parent != source or path.is_symlink() or not path.is_file():
            continue
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / name)
        copied += 1
    return copied


def _write(generator: Any, writer: Any = None) -> None:
    build: _Build | None = getattr(generator, "webmentions_build", None)
    if build is None:
        return
    output = Path(generator.output_path)
    copy_avatars(build.threads, build.avatar_dir, output)
    if writer is not None:
        outgoing.write_tombstones(generator, writer, build.gone)
    # Causerie's writer, in an incremental build, knows which feeds are
    # already in the output as they would be written (sitebuild.writer).
    plan = getattr(writer, "plan", None)
    unchanged = plan.unchanged if plan is not None else None
    later = getattr(writer, "later", None)
    for path in write_feeds(output, build.site, build.threads, unchanged, later=later):
        signals.feed_written.send(str(path), context=generator.context, feed=None)
    last = _last.get(id(generator))
    if last is not None and rankings_site.enabled(generator.settings):
        for path in rankings_site.write(
            generator, last.posts.values(), output, build.site.url
        ):
            signals.feed_written.send(str(path), context=generator.context, feed=None)
    del generator.webmentions_build


def _mark_deleted(generator: Any, metadata: dict[str, Any]) -> None:
    if _enabled(generator.settings):
        outgoing.mark_deleted(generator, metadata)


def _set_aside(generator: Any) -> None:
    if _enabled(generator.settings):
        outgoing.set_aside(generator)


def _edited(generator: Any, posts: list[Any]) -> None:
    """A post took a new body without a build (publish watch's fast path):
    store its new links, as the build would, for ``mentions send``."""
    if not _enabled(generator.settings):
        return
    published = {id(p) for p in _published_posts(generator)}
    posts = [p for p in posts if id(p) in published]
    if not posts:
        return
    site_url = _site_url(generator.settings)
    store = open_store(generator.settings)
    try:
        outbox_store.record_published(
            store,
            site_url,
            [
                outgoing.outbound(p, f"{site_url}/{p.url}", generator.path)
                for p in posts
            ],
        )
    finally:
        store.engine.dispose()


def _comments_changed(
    generator: Any, targets: set[str], staging: Path, unchanged: Any
) -> list[Any]:
    if not _enabled(generator.settings):
        return []
    changed = refresh_comments(generator, targets, staging, unchanged)
    _rankings_again(generator, staging)
    return changed


def _rankings_again(generator: Any, staging: Path) -> None:
    """An approval may move a post in the rankings: write them again."""
    last = _last.get(id(generator))
    if last is not None and rankings_site.enabled(generator.settings):
        rankings_site.write(generator, last.posts.values(), staging, last.site.url)


def _post_added(generator: Any, post: Any, staging: Path, unchanged: Any) -> bool:
    """A post published without a build (publish watch): what the build
    gives each post (a target for mentions, its outgoing links, its
    conversation and feed), and the site's comments feed written again."""
    if not _enabled(generator.settings):
        return True
    last = _last.get(id(generator))
    if last is None:
        raise LookupError("no build to add the post to")
    settings = generator.settings
    site_url = _site_url(settings)
    url = f"{site_url}/{post.url}"
    # _feed_names() names posts oldest first: the newest takes its slug,
    # or its slug and year when that name is taken.
    suffix = f"-{post.lang}" if post.lang != settings.get("DEFAULT_LANG", "en") else ""
    taken = {t.feed_path for t in last.threads}
    feed = POST_FEED.format(name=f"{post.slug}{suffix}")
    if feed in taken:
        feed = POST_FEED.format(name=f"{post.slug}-{post.date:%Y}{suffix}")
    post.comments_feed = feed
    store = open_store(settings)
    try:
        store.put_targets([_target(post, url, settings, last.talk.tz)])
        outbox_store.record_published(
            store, site_url, [outgoing.outbound(post, url, generator.path)]
        )
        visible = store.visible()
    finally:
        store.engine.dispose()
    thread = last.talk.attach(post, url, visible)
    last.threads.insert(0, thread)  # the build lists the newest post first
    last.posts[url] = post
    copy_avatars([thread], last.talk.avatar_dir, staging)
    write_feeds(staging, last.site, last.threads, unchanged, only={url})
    _rankings_again(generator, staging)
    return True


def connect_signals() -> None:
    signals.article_generator_context.connect(_mark_deleted)
    signals.article_generator_pretaxonomy.connect(_set_aside)
    signals.initialized.connect(_initialized)
    signals.all_generators_finalized.connect(_collect)
    signals.article_writer_finalized.connect(_write)
    # Causerie's own signals (causerie.signals), sent by publish watch's fast path.
    causerie_signals.posts_edited.connect(
        lambda generator, posts: _edited(generator, posts), weak=False
    )
    causerie_signals.comments_changed.connect(_comments_changed, weak=False)
    causerie_signals.post_added.connect(_post_added, weak=False)
