"""Atom Threading Extensions (RFC 4685) for the conversation feeds, as a
feedgen extension: each entry's ``thr:in-reply-to`` (§3).

§3: ``ref`` (required) is the persistent identifier of the resource
answered — for a post, the atom:id of its entry in the site's feeds, which
Pelican makes with feedgenerator's ``get_tag_uri(link, date)``; computed
the same way here so that a reader joins the two. ``href`` is where it can
be read, ``type`` its media type.
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgenerator import get_tag_uri
from lxml import etree

THR = "http://purl.org/syndication/thread/1.0"


def post_ref(url: str, published: Any) -> str:
    """The atom:id Pelican gives the post's entry in the site's feeds."""
    return str(get_tag_uri(url, published))


class ThreadingExtension(BaseExtension):
    """Declares the thr: namespace on the feed."""

    def extend_ns(self) -> dict[str, str]:
        return {"thr": THR}


class ThreadingEntryExtension(BaseEntryExtension):
    """An entry's ``thr:in-reply-to``."""

    def __init__(self) -> None:
        self._reply_to: tuple[str, str, str] | None = None

    def in_reply_to(self, ref: str, href: str, media_type: str = "text/html") -> None:
        self._reply_to = (ref, href, media_type)

    def extend_atom(self, entry: Any) -> Any:
        if self._reply_to is not None:
            ref, href, media_type = self._reply_to
            element = etree.SubElement(entry, f"{{{THR}}}in-reply-to")
            element.set("ref", ref)
            element.set("href", href)
            element.set("type", media_type)
        return entry

    def extend_rss(self, item: Any) -> Any:
        return item
