"""The Pelican side of sending: what each build tells ``publish mentions send``.

- ``Status: deleted`` posts are set aside before anything is written (Pelican
  knows no such status: they are read as hidden, then taken out).
- Each build records every post's outgoing links and digest in the store
  (:func:`record`), and which posts were deleted: a file removed, marked
  ``Status: deleted``, or put back to ``Status: draft`` after publication.
- Each deleted post's address gets a tombstone page (W3C Webmention §3.1.5:
  HTML with ``<meta http-equiv="Status" content="410 Gone">``), and
  ``gone.map`` lists those addresses for the web server's 410 rule.

The build never touches the network; sending is a separate command, run
once the site is deployed (the receivers fetch our pages to verify).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from markupsafe import Markup

from causerie.webmentions.send import state as outbox_store
from causerie.webmentions.send.plan import (
    DELETED,
    REPLY_CONTEXT,
    OutboundPost,
    links_in,
    post_digest,
)
from causerie.webmentions.store.mention_store import Store

log = logging.getLogger(__name__)

#: Metadata key given to ``Status: deleted`` posts while Pelican reads them.
_MARK = "causerie_deleted"
#: The nginx map of deleted addresses, written at the output's root.
GONE_MAP = "gone.map"


def mark_deleted(_generator: Any, metadata: dict[str, Any]) -> None:
    """``article_generator_context``: read ``Status: deleted`` as hidden (a
    status Pelican knows, so it is not refused), marked for :func:`set_aside`."""
    if str(metadata.get("status", "")).strip().lower() == DELETED:
        metadata["status"] = "hidden"
        metadata[_MARK] = True


def set_aside(generator: Any) -> None:
    """``article_generator_pretaxonomy``: take deleted posts out of the
    hidden ones, so no page, feed or list shows them."""
    deleted: list[Any] = []
    for attr in ("hidden_articles", "hidden_translations"):
        kept: list[Any] = []
        for post in getattr(generator, attr, []):
            (deleted if getattr(post, _MARK, False) else kept).append(post)
        setattr(generator, attr, kept)
    generator.causerie_deleted = deleted


#: Links of each post's HTML at its URL, from the last build and this one:
#: a process that builds again (publish watch) parses only what changed.
_links_memo: dict[tuple[str, str], tuple[str, ...]] = {}
_links_next: dict[tuple[str, str], tuple[str, ...]] = {}


def outbound(post: Any, url: str, content_dir: str) -> OutboundPost:
    """What sending needs to know of one post of this build."""
    content = str(post.content or "")
    context = [
        str(post.metadata[key]).strip()
        for key in REPLY_CONTEXT
        if str(post.metadata.get(key) or "").strip()
    ]
    found = _links_memo.get((content, url))
    if found is None:
        found = links_in(content, url)
    _links_next[(content, url)] = found
    links = tuple(dict.fromkeys((*context, *found)))
    title = str(Markup(post.title).striptags())
    return OutboundPost(
        url=url,
        source_path=os.path.relpath(post.source_path, content_dir),
        save_as=post.save_as,
        title=title,
        lang=post.lang,
        links=links,
        digest=post_digest(title, content, links),
    )


def record(
    generator: Any, store: Store, site_url: str, published: Iterable[Any]
) -> list[OutboundPost]:
    """Store this build's posts and deletions; return the deleted posts."""
    global _links_memo, _links_next
    content_dir = generator.path
    _links_next = {}
    now_published = [outbound(p, f"{site_url}/{p.url}", content_dir) for p in published]
    deleted = [
        outbound(p, f"{site_url}/{p.url}", content_dir)
        for p in getattr(generator, "causerie_deleted", [])
    ]
    _links_memo = _links_next
    # Put back to draft after publication: withdrawn, so gone. A post that is
    # a draft only because its date is in the future keeps its place.
    withdrawn = {
        os.path.relpath(d.source_path, content_dir)
        for d in (*generator.drafts, *generator.drafts_translations)
        if str(d.metadata.get("status", "")).lower() == "draft"
    }
    moved = {p.source_path for p in now_published}

    def still_there(post: OutboundPost) -> bool:
        # A file that failed to read this time is still there: its post is
        # kept, never announced as deleted because of one bad build.
        return (
            os.path.isfile(os.path.join(content_dir, post.source_path))
            and post.source_path not in withdrawn
            and post.source_path not in moved
        )

    result = outbox_store.record_build(
        store, site_url, now_published, deleted, still_there
    )
    gone = [p for p in result if p.status == DELETED]
    if gone:
        log.info("webmentions: %d deleted post(s) get a tombstone", len(gone))
    return gone


def write_tombstones(
    generator: Any, writer: Any, gone: list[OutboundPost]
) -> list[str]:
    """A tombstone page at each deleted post's address, and ``gone.map``."""
    output = Path(generator.output_path)
    try:
        template = generator.get_template("tombstone")
    except Exception:  # a theme without one: Pelican's error names the file
        log.error(
            "webmentions: the theme has no tombstone.html; deleted posts get a "
            "plain page (copy theme/templates/tombstone.html into your theme)"
        )
        template = None
    written = []
    for post in gone:
        target = (output / post.save_as).resolve()
        if output.resolve() not in target.parents:
            log.warning(
                "webmentions: %s: save_as outside the output, skipped", post.url
            )
            continue
        if template is not None:
            writer.write_file(
                post.save_as,
                template,
                generator.context,
                relative_urls=generator.settings.get("RELATIVE_URLS"),
                url=post.save_as,
                tombstone=post,
                page=post,  # its language for <html lang> (theme_i18n)
            )
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(plain_tombstone(post), encoding="utf-8")
        written.append(post.url)
    (output / GONE_MAP).write_text(gone_map(gone, generator.settings), encoding="utf-8")
    return written


def gone_map(gone: Iterable[OutboundPost], settings: dict[str, Any]) -> str:
    """An nginx ``map`` body: each deleted address (and its index.html) → 1."""
    from urllib.parse import urlsplit

    lines = ["# Deleted posts, answered 410 Gone (see docs/deployment.md)."]
    for post in sorted(gone, key=lambda p: p.url):
        path = urlsplit(post.url).path or "/"
        for variant in dict.fromkeys((path, "/" + post.save_as.lstrip("/"))):
            # nginx map keys are strings: quote, and escape what quoting needs.
            escaped = variant.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'"{escaped}" 1;')
    return "\n".join(lines) + "\n"


def plain_tombstone(post: OutboundPost) -> str:
    import html

    title = html.escape(post.title)
    return (
        '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Status" content="410 Gone">\n'
        f"<title>{title} (deleted)</title>\n</head>\n"
        f"<body><p>This post, “{title}”, has been deleted.</p></body>\n</html>\n"
    )
