"""The site's and the lists' feeds with what Pelican's leave out:

- **every author** of a post with several (``Authors: A, B``): an
  ``<author>`` each in Atom (RFC 4287 §4.2.1 allows several), a
  ``dc:creator`` each in RSS (Dublin Core), where Pelican writes the first;
- **its conversation** (RFC 4685 §4): a ``link rel="replies"`` to the
  post's conversation feed with ``thr:count`` (the replies in it) and
  ``thr:updated`` (the latest one's date), when the item carries
  ``feed_replies`` (the webmentions plugin sets it on each post).

Extra values ride in feedgenerator's item dict (``add_item(**kwargs)``):
``co_authors`` (names after the first) and ``replies`` (href, count,
updated or None).
"""

from __future__ import annotations

from typing import Any

from feedgenerator import Atom1Feed, Rss201rev2Feed, rfc3339_date

THR = "http://purl.org/syndication/thread/1.0"
DC = "http://purl.org/dc/elements/1.1/"


class ThreadedAtomFeed(Atom1Feed):
    def root_attributes(self) -> dict[str, str]:
        attrs = dict(super().root_attributes())
        attrs["xmlns:thr"] = THR
        return attrs

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        for name in item.get("co_authors") or ():
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        replies = item.get("replies")
        if replies:
            href, count, updated = replies
            attrs = {
                "rel": "replies",
                "type": "application/atom+xml",
                "href": href,
                "thr:count": str(count),
            }
            if updated is not None:
                attrs["thr:updated"] = rfc3339_date(updated)
            handler.addQuickElement("link", "", attrs)


class CoauthoredRssFeed(Rss201rev2Feed):
    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        for name in item.get("co_authors") or ():
            handler.addQuickElement("dc:creator", name, {"xmlns:dc": DC})


def extras(item: Any) -> dict[str, Any]:
    """The extra values of a post (a Pelican content object) for its feed item."""
    authors = [str(a) for a in getattr(item, "authors", None) or []]
    return {
        "co_authors": authors[1:],
        "replies": getattr(item, "feed_replies", None),
    }
