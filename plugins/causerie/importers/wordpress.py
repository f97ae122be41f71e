"""WordPress's export (WXR, "Tools → Export"), as a stream of events (pure).

WXR is RSS 2.0 with WordPress's namespace ``http://wordpress.org/export/1.x/``
(1.0 to 1.2 are read alike). The channel holds the blog's URL
(``wp:base_site_url``), its authors (``wp:author``) and terms; each ``item``
is a post, page, attachment or something not imported (menu items,
revisions, custom types), with its comments inside it
(``wp:comment``: ``wp:comment_approved`` is 1, 0 for pending, ``spam`` or
``trash``; ``wp:comment_parent`` the comment it answers, 0 for none;
``wp:comment_user_id`` non-zero when a user of the blog wrote it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from . import model
from .errors import ExportError
from .xmlsafe import Stream, children, local, ns, parse_date, syntax_problem, text

WP = "http://wordpress.org/export/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
EXCERPT_LOCAL = "encoded"
#: wp:status of what is published, and of what is kept as a draft.
PUBLISHED = ("publish", "future", "private")
DRAFTS = ("draft", "pending", "auto-draft")
COMMENT_STATUS = {
    "1": model.APPROVED,
    "approve": model.APPROVED,
    "0": model.HELD,
    "hold": model.HELD,
}


#: Blocks WordPress's wpautop leaves alone (it wraps everything else in <p>).
_BLOCK = re.compile(
    r"^\s*<(?:p|h[1-6]|ul|ol|li|dl|blockquote|pre|div|table|figure|hr|address|form|section)\b",
    re.I,
)
#: [caption id="…" align="…" width="300"]<img …> The caption[/caption].
_CAPTION = re.compile(
    r"\[(?:wp_)?caption[^\]]*\](.*?)\[/(?:wp_)?caption\]", re.S | re.I
)
#: Shortcodes of WordPress itself that are no text: [gallery ids="1,2"],
#: [embed]…[/embed], [audio …], [video …], [playlist …].
_SHORTCODE = re.compile(
    r"\[(gallery|embed|audio|video|playlist)\b[^\]]*\](?:(.*?)\[/\1\])?", re.S | re.I
)


def autop(text: str) -> str:
    """WordPress's post_content as the blog showed it (pure).

    WordPress stores a post as typed in its editor: paragraphs separated by
    blank lines, line breaks as newlines, and shortcodes; it adds the <p>
    and <br> when it shows the post (wpautop). A [caption] becomes a
    figure; the media shortcodes are dropped, the URL of an [embed] kept
    as a link.
    """

    def caption(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        image, _, words = inner.rpartition(">")
        if not image:
            return f"<p>{inner}</p>"
        return f"<figure>{image}><figcaption>{words.strip()}</figcaption></figure>"

    def shortcode(match: re.Match[str]) -> str:
        inner = (match.group(2) or "").strip()
        if match.group(1).lower() == "embed" and inner.startswith("http"):
            return f'<p><a href="{inner}">{inner}</a></p>'
        return ""

    text = _SHORTCODE.sub(shortcode, _CAPTION.sub(caption, text.replace("\r\n", "\n")))
    # A block tag on its own line is a paragraph of its own, as in wpautop.
    text = re.sub(
        r"(</(?:ul|ol|dl|h[1-6]|table|figure|blockquote|pre|div)>)[ \t]*\n",
        r"\1\n\n",
        text,
        flags=re.I,
    )
    text = re.sub(
        r"\n([ \t]*<(?:ul|ol|dl|h[1-6]|table|figure|blockquote|pre|div|hr)\b)",
        r"\n\n\1",
        text,
        flags=re.I,
    )
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        if not chunk.strip():
            continue
        if _BLOCK.match(chunk):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + chunk.strip().replace("\n", "<br>\n") + "</p>")
    return "\n".join(blocks)


def _wp(el: Any, name: str) -> str:
    return text(el, name, WP)


def _encoded(el: Any, namespace_part: str) -> str:
    for child in el:
        if local(child.tag) == "encoded" and namespace_part in ns(child.tag):
            return child.text or ""
    return ""


def _terms(item: Any, domain: str) -> tuple[str, ...]:
    found = []
    for cat in children(item, "category"):
        if (cat.get("domain") or "category") == domain:
            term = (cat.text or "").strip()
            if term and term != "Uncategorized":
                found.append(term)
    return tuple(dict.fromkeys(found))


def _comments(
    item: Any, post_key: str
) -> tuple[tuple[model.Comment, ...], list[model.Problem]]:
    comments, problems = [], []
    for el in children(item, "comment"):
        key = _wp(el, "comment_id")
        kind = _wp(el, "comment_type")
        if kind in ("pingback", "trackback"):
            # Pings are links from other blogs, of another era (no text of
            # their own); the store's webmentions take their place.
            problems.append(
                model.Problem(
                    f"comment {key} of post {post_key}",
                    f"a {kind}: not imported",
                    by_design=True,
                )
            )
            continue
        approved = _wp(el, "comment_approved")
        status = COMMENT_STATUS.get(approved, model.SPAM)
        parent = _wp(el, "comment_parent")
        user = _wp(el, "comment_user_id")
        comments.append(
            model.Comment(
                key=key,
                post_key=post_key,
                author_name=_wp(el, "comment_author"),
                html=_wp(el, "comment_content"),
                date=parse_date(_wp(el, "comment_date_gmt"))
                or parse_date(_wp(el, "comment_date")),
                status=status,
                parent_key=parent if parent not in ("", "0") else None,
                author_email=_wp(el, "comment_author_email") or None,
                author_url=_wp(el, "comment_author_url") or None,
                by_blog_author=user not in ("", "0"),
            )
        )
    return tuple(comments), problems


def _item(item: Any, base: str, index: int) -> list[model.Event]:
    kind = _wp(item, "post_type") or "post"
    key = _wp(item, "post_id")
    where = f"item {index} ({kind} {key or '?'})"
    if not key:
        return [model.Problem(where, "an item without wp:post_id: skipped")]
    if kind == "attachment":
        url = _wp(item, "attachment_url")
        if not url:
            return [
                model.Problem(where, "an attachment without wp:attachment_url: skipped")
            ]
        parent = _wp(item, "post_parent")
        return [
            model.Attachment(
                key,
                url,
                parent if parent not in ("", "0") else None,
                text(item, "link") or None,
            )
        ]
    if kind not in ("post", "page"):
        return []  # menus, revisions, custom post types: not content
    status = _wp(item, "status")
    if status in ("trash", "inherit"):
        return [
            model.Problem(where, f"status {status!r}: not imported", by_design=True)
        ]
    comments, problems = _comments(item, key)
    old = []
    link = text(item, "link")
    if link:
        old.append(link)
    guid = text(item, "guid")
    if guid and guid != link:
        old.append(guid)
    if base:
        old.append(f"{base}/?{'page_id' if kind == 'page' else 'p'}={key}")
    # post_date_gmt is "0000-00-00 00:00:00" for a draft, and its pubDate
    # "…30 Nov -0001…" (WordPress formats the zero date): neither is a date.
    date = parse_date(_wp(item, "post_date_gmt"))
    pub = text(item, "pubDate")
    if date is None and status not in DRAFTS and "-0001" not in pub:
        date = parse_date(pub)
    if date is None:
        # post_date is the blog's local time, zone unknown: read as UTC.
        date = parse_date(_wp(item, "post_date"))
    return [
        *problems,
        model.Item(
            key=key,
            kind=kind,
            title=text(item, "title"),
            html=autop(_encoded(item, "purl.org/rss/1.0/modules/content")),
            date=date,
            slug=_wp(item, "post_name") or None,
            draft=status not in PUBLISHED,
            author_key=text(item, "creator") or None,
            categories=_terms(item, "category"),
            tags=_terms(item, "post_tag"),
            summary=_encoded(item, "/excerpt/").strip() or None,
            old_urls=tuple(dict.fromkeys(old)),
            comments=comments,
        ),
    ]


def _author(el: Any) -> model.Author:
    login = _wp(el, "author_login")
    name = _wp(el, "author_display_name") or " ".join(
        p for p in (_wp(el, "author_first_name"), _wp(el, "author_last_name")) if p
    )
    return model.Author(login or name, name or login, _wp(el, "author_email") or None)


def events(path: Path) -> Iterator[model.Event]:
    """Everything in the WXR file at ``path``, item by item."""
    stream = Stream(path)
    base, blog_sent, index, title, lang = "", False, 0, "", None
    try:
        for el in stream:
            if stream.root != "rss":
                raise ExportError(
                    f"{path}: not a WordPress export (its root is <{stream.root}>, not "
                    "<rss>); export it from Tools → Export in WordPress, or use "
                    "`publish import blogger` / `publish import feed`"
                )
            name = local(el.tag)
            is_wp = ns(el.tag).startswith(WP)
            if name == "item":
                if not blog_sent:
                    blog_sent = True
                    yield model.Blog("wordpress", title, base, lang)
                index += 1
                try:
                    yield from _item(el, base, index)
                except Exception as exc:  # one odd item, never the whole import
                    yield model.Problem(
                        f"item {index} (line {el.sourceline})",
                        f"cannot be read ({type(exc).__name__}: {str(exc)[:200]}): skipped",
                    )
            elif name == "author" and is_wp:
                yield _author(el)
            elif name == "title" and not ns(el.tag):
                title = (el.text or "").strip()
            elif name == "language" and not ns(el.tag):
                lang = (el.text or "").strip().split("-")[0] or None
            elif name == "base_blog_url" and is_wp:
                # Where the posts are (base_site_url is WordPress itself, maybe
                # in a sub-folder).
                base = (el.text or "").strip().rstrip("/") or base
            elif name == "link" and not ns(el.tag) and not base:
                base = (el.text or "").strip().rstrip("/")
        if not blog_sent:
            yield model.Blog("wordpress", title, base, lang)
        if index == 0 and stream.root == "rss" and not base:
            yield model.Problem(
                path.name,
                "no item and no wp:base_site_url: is it a WordPress export?",
            )
    except etree.XMLSyntaxError as exc:
        yield model.Problem(
            path.name, syntax_problem(path, exc, stream.line), fatal=True
        )
