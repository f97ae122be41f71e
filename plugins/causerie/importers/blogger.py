"""Blogger's Atom export, in both its shapes, as a stream of events (pure).

- **Classic** ("Back up content" before 2020, ``blog-MM-DD-YYYY.xml``): every
  entry says what it is with a category of scheme
  ``http://schemas.google.com/g/2005#kind`` (``…kind#post``, ``#page``,
  ``#comment``; ``#settings`` and ``#template`` are skipped). A comment names
  its post with ``thr:in-reply-to ref=…`` (RFC 4685 §3) and the comment it
  answers with a ``link rel="related"`` to that comment's feed URL. Labels are
  categories of scheme ``http://www.blogger.com/atom/ns#``; a draft has
  ``app:control/app:draft`` = yes.
- **Takeout** (``Takeout/Blogger/Blogs/NAME/feed.atom``, namespace
  ``http://schemas.google.com/blogger/2018``): ``blogger:type`` is POST, PAGE
  or COMMENT, ``blogger:status`` LIVE, DRAFT, SCHEDULED, SOFT_TRASHED (and,
  for comments, PENDING / SPAM_COMMENT / DELETED), a comment's
  ``blogger:parent`` is its post's id (or the comment it answers, when that
  is a comment id), ``blogger:filename`` the old path (``/2008/10/x.html``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from . import model
from .xmlsafe import Stream, children, local, ns, parse_date, syntax_problem, text

ATOM = "http://www.w3.org/2005/Atom"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
LABEL_SCHEME = "http://www.blogger.com/atom/ns#"
TAKEOUT = "http://schemas.google.com/blogger/2018"
THREAD = "http://purl.org/syndication/thread/1.0"
_KIND = re.compile(r"kind#(\w+)$")
#: A post or comment id: "tag:blogger.com,1999:blog-123.post-456" → "456".
_ID = re.compile(r"(?:post|page)-(\d+)$")
#: The comment a reply answers, in classic exports: ".../comments/default/789".
_RELATED = re.compile(r"/comments/default/(\d+)$")
#: Blogger's address for anonymous and deleted profiles: not an address.
NOREPLY = "noreply@blogger.com"


def short_id(value: str) -> str:
    match = _ID.search(value or "")
    return match.group(1) if match else (value or "").strip()


def _link(entry: Any, rel: str) -> str:
    for link in children(entry, "link"):
        if link.get("rel") == rel and link.get("href"):
            return str(link.get("href"))
    return ""


def _author(entry: Any) -> tuple[str, str | None, str | None, str]:
    """(name, e-mail, profile URL, Takeout author type) of an entry."""
    for author in children(entry, "author"):
        email = text(author, "email") or None
        if email == NOREPLY:
            email = None
        return (
            text(author, "name"),
            email,
            text(author, "uri") or None,
            text(author, "type", TAKEOUT),
        )
    return "", None, None, ""


def _content(entry: Any) -> str:
    for el in children(entry, "content"):
        if el.get("type") == "xhtml":
            return "".join(etree.tostring(c, encoding="unicode") for c in el)
        return el.text or ""
    for el in children(entry, "summary"):
        return el.text or ""
    return ""


def _kind(entry: Any) -> str:
    takeout = text(entry, "type", TAKEOUT)
    if takeout:
        return takeout.lower()
    for cat in children(entry, "category"):
        if cat.get("scheme") == KIND_SCHEME:
            match = _KIND.search(cat.get("term") or "")
            if match:
                return match.group(1)
    return ""


def _labels(entry: Any) -> tuple[str, ...]:
    labels = []
    for cat in children(entry, "category"):
        scheme = cat.get("scheme") or ""
        if scheme == KIND_SCHEME:
            continue
        if scheme == LABEL_SCHEME or scheme.startswith("tag:blogger.com") or not scheme:
            term = (cat.get("term") or "").strip()
            if term:
                labels.append(term)
    return tuple(dict.fromkeys(labels))


def _is_draft(entry: Any) -> bool:
    status = text(entry, "status", TAKEOUT).upper()
    if status:
        return status != "LIVE"
    for control in children(entry, "control"):
        if text(control, "draft").lower() == "yes":
            return True
    return False


def _comment_status(entry: Any) -> str:
    status = text(entry, "status", TAKEOUT).upper()
    if not status or status == "LIVE":
        return model.APPROVED
    if status in ("PENDING", "DRAFT"):
        return model.HELD
    return model.SPAM  # SPAM_COMMENT, DELETED, SOFT_TRASHED


def _old_urls(entry: Any, base: str) -> tuple[str, ...]:
    urls = []
    filename = text(entry, "filename", TAKEOUT)
    if filename:
        urls.append(base.rstrip("/") + "/" + filename.lstrip("/") if base else filename)
    alternate = _link(entry, "alternate")
    if alternate:
        urls.append(alternate)
    return tuple(dict.fromkeys(urls))


def _slug_of(urls: tuple[str, ...]) -> str | None:
    for url in urls:
        match = re.search(r"/([^/?#]+)\.html(?:$|[?#])", url)
        if match:
            return match.group(1)
    return None


def events(path: Path) -> Iterator[model.Event]:
    """Everything in a Blogger export at ``path``, in the file's order.

    Comments come as their own :class:`~.model.Comment` events (their
    post may be later in the file); a problem with one entry is a
    :class:`~.model.Problem` and the reading goes on.
    """
    stream = Stream(path)
    base, title, feed_id = "", "", ""
    blog_sent = False
    comment_ids: dict[str, str] = {}  # comment id → its post's id
    index = 0
    try:
        for el in stream:
            if stream.root != "feed" or ns(stream.container.tag) != ATOM:
                raise_root(path)
            name = local(el.tag)
            if name == "id" and not feed_id:
                feed_id = (el.text or "").strip()
            if name == "title" and not title:
                title = (el.text or "").strip()
            elif name == "link" and el.get("rel") == "alternate" and not base:
                base = (el.get("href") or "").rstrip("/")
            if name != "entry":
                continue
            if not blog_sent:
                blog_sent = True
                yield model.Blog("blogger", title, base, id=feed_id)
            index += 1
            try:
                found = _entry(el, base, index, comment_ids)
            except Exception as exc:  # one odd entry, never the whole import
                found = [
                    model.Problem(
                        f"entry {index} (line {el.sourceline})",
                        f"cannot be read ({type(exc).__name__}: {str(exc)[:200]}): skipped",
                    )
                ]
            yield from found
    except etree.XMLSyntaxError as exc:
        yield model.Problem(
            path.name, syntax_problem(path, exc, stream.line), fatal=True
        )
    if not blog_sent:
        yield model.Blog("blogger", title, base, id=feed_id)


def raise_root(path: Path) -> None:
    from .errors import ExportError

    raise ExportError(
        f"{path}: not a Blogger export (its root is not an Atom <feed>); for WordPress "
        "use `publish import wordpress`, for another feed `publish import feed`"
    )


def _entry(
    entry: Any, base: str, index: int, comment_ids: dict[str, str]
) -> list[model.Event]:
    kind = _kind(entry)
    raw_id = text(entry, "id")
    key = short_id(raw_id)
    where = f"entry {index} ({kind or 'no kind'} {key})"
    if kind in ("settings", "template", "layout", ""):
        return []  # the blog's settings and theme: nothing to import
    # Whether a blog author wrote a comment is decided by the importer, by
    # their name, profile or e-mail: the export's author types do not say.
    name, email, uri, _type = _author(entry)
    date = parse_date(text(entry, "published")) or parse_date(
        text(entry, "created", TAKEOUT)
    )
    if kind == "comment":
        parent = text(entry, "parent", TAKEOUT)
        post_key, parent_key = "", None
        if parent:
            parent = short_id(parent)
            if parent in comment_ids:
                # An answer to an earlier comment: its post is that one's.
                parent_key, post_key = parent, comment_ids[parent]
            else:
                post_key = parent
        in_reply_to = [c for c in entry if local(c.tag) == "in-reply-to"]
        if in_reply_to:
            post_key = short_id(in_reply_to[0].get("ref") or "")
        related = _RELATED.search(_link(entry, "related"))
        if related:
            parent_key = related.group(1)
        in_reply = text(entry, "inReplyTo", TAKEOUT)
        if in_reply:
            parent_key = short_id(in_reply)
        if not post_key:
            return [
                model.Problem(
                    where,
                    "a comment that names no post (no thr:in-reply-to or "
                    "blogger:parent): skipped",
                )
            ]
        comment_ids[key] = post_key
        comment = model.Comment(
            key=key,
            post_key=post_key,
            author_name=name,
            html=_content(entry),
            date=date,
            status=_comment_status(entry),
            parent_key=parent_key if parent_key != key else None,
            author_email=email,
            author_url=uri,
            url=_link(entry, "alternate") or None,
        )
        return [comment]
    if kind not in ("post", "page"):
        return [
            model.Problem(
                where,
                f"an entry of kind {kind!r}, which is not a post, page or "
                "comment: skipped",
            )
        ]
    urls = _old_urls(entry, base)
    found: list[model.Event] = []
    if name:
        found.append(model.Author(uri or name, name, email, uri))
    item = model.Item(
        key=key,
        kind=kind,
        title=text(entry, "title"),
        html=_content(entry),
        date=date,
        slug=_slug_of(urls),
        draft=_is_draft(entry),
        author_key=uri or name or None,
        tags=_labels(entry),
        old_urls=urls,
    )
    return [*found, item]
