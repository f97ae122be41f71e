"""The Pelican side of imports: imported posts' HTML sanitized at build time.

An imported post was somebody else's HTML, made into Markdown after the
sanitizer; the build does not rely on that (sanitized on the way in and
again on the way out): once Markdown has made its HTML, it goes through the
same allow-list again. A post is an imported one when its metadata has
``Imported-From``; posts written here are left alone.
"""

from __future__ import annotations

from typing import Any

from causerie.webmentions.sanitize import clean_article_html

#: The metadata key that ties a post to the item it came from.
IMPORTED_FROM = "Imported-From"


def sanitize(content: Any) -> None:
    """``content_object_init``: clean an imported post's HTML before anything
    (summary, feeds, templates) reads it."""
    metadata = getattr(content, "metadata", {}) or {}
    if metadata.get(IMPORTED_FROM.lower()) and getattr(content, "_content", None):
        content._content = clean_article_html(content._content)


def connect_signals() -> None:
    from pelican import signals

    signals.content_object_init.connect(sanitize)
